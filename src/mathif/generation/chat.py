"""Chat messages and their rendering with the model's own chat template (SPEC §2).

The user message comes from :func:`mathif.prompts.build_prompt`; there is no system prompt
unless one is asked for. Local engines (hf, vllm) render it here with
``add_generation_prompt=True`` and the chat-template arguments of the run (for instance
``enable_thinking``); servers render it themselves from the same messages.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mathif.generation.protocol import BackendError, Message
from mathif.prompts import build_prompt

if TYPE_CHECKING:
    from mathif.data import Item


def build_messages(
    item: Item,
    *,
    template: str = "paper",
    constraints: bool = True,
    system_prompt: str | None = None,
) -> tuple[Message, ...]:
    """The chat for ``item``: an optional system message, then the benchmark's user message."""
    user = Message("user", build_prompt(item, template=template, constraints=constraints))
    if system_prompt is None:
        return (user,)
    return (Message("system", system_prompt), user)


def template_sha256(tokenizer: Any) -> str | None:
    """Fingerprint of the tokenizer's chat template, recorded in the run manifest."""
    template = getattr(tokenizer, "chat_template", None)
    if isinstance(template, dict):  # named templates
        template = "\n".join(f"{k}\n{v}" for k, v in sorted(template.items()))
    if not isinstance(template, str):
        return None
    return hashlib.sha256(template.encode()).hexdigest()


def render_ids(
    tokenizer: Any,
    messages: Sequence[Mapping[str, str]],
    template_kwargs: Mapping[str, Any] | None = None,
) -> list[int]:
    """Token ids of the chat rendered for generation.

    The template text is tokenised without adding special tokens: a template that wants a
    BOS token writes it itself, and adding another would change the prompt.
    """
    if getattr(tokenizer, "chat_template", None) is None:
        raise BackendError(
            "the model's tokenizer has no chat template: MathIF renders prompts with the "
            "model's own template (SPEC §2); use a chat/instruct model or give the tokenizer "
            "a template"
        )
    text = tokenizer.apply_chat_template(
        list(messages), tokenize=False, add_generation_prompt=True, **dict(template_kwargs or {})
    )
    if not isinstance(text, str):
        raise BackendError(f"apply_chat_template returned {type(text).__name__}, not text")
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    return [int(i) for i in ids]
