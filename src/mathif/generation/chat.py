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

from mathif.generation.protocol import BackendError, Message, Request
from mathif.prompts import build_prompt, system_text

if TYPE_CHECKING:
    from mathif.data import Item


def build_messages(
    item: Item,
    *,
    template: str = "paper",
    constraints: bool = True,
    system_prompt: str | None = None,
) -> tuple[Message, ...]:
    """The chat for ``item``: an optional system message, then the benchmark's user message.

    The ``system`` template puts the constraints in the system message (after
    ``system_prompt`` when there is one, separated by a blank line).
    """
    user = Message("user", build_prompt(item, template=template, constraints=constraints))
    placed = system_text(item, template=template, constraints=constraints)
    system = "\n\n".join(p for p in (system_prompt, placed) if p is not None) or None
    if system is None and system_prompt is None:
        return (user,)
    return (Message("system", system if system is not None else ""), user)


def template_sha256(tokenizer: Any) -> str | None:
    """Fingerprint of the tokenizer's chat template, recorded in the run manifest."""
    template = getattr(tokenizer, "chat_template", None)
    if isinstance(template, dict):  # named templates
        template = "\n".join(f"{k}\n{v}" for k, v in sorted(template.items()))
    if not isinstance(template, str):
        return None
    return hashlib.sha256(template.encode()).hexdigest()


def _render_text(tokenizer: Any, messages: Sequence[Mapping[str, str]],
                 template_kwargs: Mapping[str, Any] | None) -> str:
    text = tokenizer.apply_chat_template(
        list(messages), tokenize=False, add_generation_prompt=True, **dict(template_kwargs or {})
    )
    if not isinstance(text, str):
        raise BackendError(f"apply_chat_template returned {type(text).__name__}, not text")
    return text


def render_text(tokenizer: Any, messages: Sequence[Mapping[str, str]],
                template_kwargs: Mapping[str, Any] | None = None) -> str:
    """One chat rendered for generation, as text (for servers that take a prompt text)."""
    return _render_text(tokenizer, messages, template_kwargs)


def render_many(
    tokenizer: Any,
    chats: Sequence[Sequence[Mapping[str, str]]],
    template_kwargs: Mapping[str, Any] | None = None,
) -> list[list[int] | Exception]:
    """Token ids of each chat rendered for generation, or the error that chat raised.

    The template text is tokenised without adding special tokens: a template that wants a
    BOS token writes it itself, and adding another would change the prompt. All texts go to
    the tokenizer in one batch call, which a fast tokenizer spreads over the CPU cores.
    """
    if getattr(tokenizer, "chat_template", None) is None:
        raise BackendError(
            "the model's tokenizer has no chat template: MathIF renders prompts with the "
            "model's own template (SPEC §2); use a chat/instruct model or give the tokenizer "
            "a template"
        )
    texts: list[str | Exception] = []
    for chat in chats:
        try:
            texts.append(_render_text(tokenizer, chat, template_kwargs))
        except BackendError:
            raise
        except Exception as exc:  # a template that fails on this one message
            texts.append(exc)
    good = [t for t in texts if isinstance(t, str)]
    encoded = iter(tokenizer(good, add_special_tokens=False)["input_ids"] if good else [])
    return [[int(i) for i in next(encoded)] if isinstance(t, str) else t for t in texts]


def render_ids(
    tokenizer: Any,
    messages: Sequence[Mapping[str, str]],
    template_kwargs: Mapping[str, Any] | None = None,
) -> list[int]:
    """Token ids of one chat rendered for generation (see :func:`render_many`)."""
    (ids,) = render_many(tokenizer, [messages], template_kwargs)
    if isinstance(ids, Exception):
        raise ids
    return ids


def render_requests(
    tokenizer: Any,
    requests: Sequence[Request],
    template_kwargs: Mapping[str, Any] | None = None,
) -> dict[tuple[Message, ...], list[int] | Exception]:
    """Token ids for the chat of every request, rendered once per distinct chat (the samples
    of an item, and an item's repeats, share theirs)."""
    unique = list(dict.fromkeys(r.messages for r in requests))
    chats = [[m.to_dict() for m in messages] for messages in unique]
    return dict(zip(unique, render_many(tokenizer, chats, template_kwargs), strict=True))
