"""The openai backend's continuation primitive (probes only), in two modes.

- ``completions`` (default): ``POST /completions`` with the chat rendered here by the model's
  own template (``add_generation_prompt=True``), followed by the assistant text so far. This is
  exactly what the local engines feed the model, and works with any server that has the
  legacy completions endpoint (vLLM, SGLang, ``transformers serve``, llama.cpp).
- ``chat``: ``POST /chat/completions`` with the text so far as a final assistant message,
  ``continue_final_message: true`` and ``add_generation_prompt: false`` (vLLM's server). The
  message starts with what the generation prompt opens the turn with (``<think>\n`` in
  reasoning templates), so that the server renders exactly the generation prompt followed by
  the text. Many reasoning models' templates rewrite a final assistant message (Qwen3 puts an
  empty think block before it, DeepSeek-R1 drops everything before ``</think>``), so this mode
  is refused unless the template renders it that way, which is checked here first.

Both modes need the model's tokenizer here (``--tokenizer``, default ``--model``): to render
the chat, and to check the first request. That check is a preflight, sent before any work:
one continuation of one token whose prompt length the server must report as ours. A server
without the endpoint, one that refuses the fields, one that ignores ``continue_final_message``
(its prompt is then longer: a new assistant turn) or one that adds tokens to the prompt stops
the run there, with what to change, before the budget is spent.

Stop strings: a server either keeps the stop string in the text (``transformers serve``) or
reports it in ``stop_reason`` (vLLM); either way the text we keep ends with it. A server that
strips it silently looks like a model that ended its turn.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from mathif import jsonl
from mathif.generation.chat import render_text
from mathif.generation.continuation import check_marker, first_stop, prefix_text
from mathif.generation.protocol import (
    BackendError,
    Completion,
    Piece,
    Request,
    Sampling,
    as_int,
)

if TYPE_CHECKING:
    from mathif.generation.openai import OpenAIBackend

MODES = ("completions", "chat")
PREFLIGHT_PREFIX = "Let me"
log = logging.getLogger(__name__)


class Continuing:
    """Continuation requests of one :class:`~mathif.generation.openai.OpenAIBackend`."""

    def __init__(self, backend: OpenAIBackend) -> None:
        if backend.continuation not in MODES:
            raise ValueError(f"unknown continuation mode {backend.continuation!r}; choose from "
                             f"{', '.join(MODES)}")
        self.backend = backend
        self.mode = backend.continuation

    # --- the tokenizer and the rendered prompt -------------------------------------------

    def tokenizer(self) -> Any:
        b = self.backend
        if b.local_tokenizer is None:
            name = b.tokenizer_name or b.model
            try:
                from transformers import AutoTokenizer
            except ImportError as exc:
                raise BackendError(
                    "the probes render the chat here with the model's tokenizer: pip install "
                    "'mathif[hf]' (transformers)") from exc
            try:
                b.local_tokenizer = AutoTokenizer.from_pretrained(name)
            except Exception as exc:
                raise BackendError(
                    f"cannot load the tokenizer {name!r} (the probes render the chat here with "
                    f"the model's own template): {exc}; give --tokenizer NAME_OR_PATH") from exc
        return b.local_tokenizer

    def prompt(self, request: Request) -> str:
        """The chat rendered for generation (cached per chat) followed by the prefix."""
        b = self.backend
        rendered = b.rendered_prompts.get(request.messages)
        if rendered is None:
            rendered = render_text(self.tokenizer(), request.chat(), b.chat_template_kwargs)
            b.rendered_prompts[request.messages] = rendered
        return rendered + prefix_text(request.prefix)

    # --- requests and replies ------------------------------------------------------------

    def url(self, chat_url: str) -> str:
        if self.mode == "chat":
            return chat_url
        return chat_url.removesuffix("/chat/completions") + "/completions"

    def body(self, request: Request) -> dict[str, Any]:
        b = self.backend
        s = request.sampling
        body: dict[str, Any] = {"model": b.model, "max_tokens": s.max_tokens,
                                "temperature": s.temperature, "top_p": s.top_p}
        if self.mode == "completions":
            body["prompt"] = self.prompt(request)
        else:
            messages = request.chat()
            if request.prefix:
                messages.append({"role": "assistant",
                                 "content": b.chat_opening + prefix_text(request.prefix)})
                body.update(continue_final_message=True, add_generation_prompt=False)
            body["messages"] = messages
            if b.chat_template_kwargs:
                body["chat_template_kwargs"] = dict(b.chat_template_kwargs)
        if request.stop:
            body["stop"] = list(request.stop)
        if request.seed is not None:
            body["seed"] = request.seed
        body.update(b.extra_body)
        return {k: v for k, v in body.items() if v is not None}

    def outcome(self, request: Request, raw: bytes, attempt: int,
                started: float) -> Completion | tuple[str, float | None]:
        """A 200 reply: the completion, or (like a bad chat reply) an error to retry."""
        import time

        try:
            data, replaced = jsonl.parse(raw)
            text, finish, stop_reason, usage, reasoning = self._parse(data)
        except ValueError as exc:
            detail = exc.describe() if isinstance(exc, jsonl.JSONLineError) else str(exc)
            return f"unreadable reply: {' '.join(detail.split())[:300]}", None
        if reasoning:
            return Completion.failed(
                request, "the server split the reasoning out of the text (a reasoning "
                "parser): the probes continue the raw text; serve without --reasoning-parser",
                attempts=attempt + 1)
        stop = None
        hit = first_stop(text, request.stop)
        if hit is not None:  # kept by the server (or a stop it did not honour): cut there
            text, stop = text[:hit[0]], hit[1]
            finish = "stop"
        elif isinstance(stop_reason, str) and stop_reason in request.stop:
            text, stop = text + stop_reason, stop_reason  # reported, not kept: put it back
        return Completion(
            key=request.key, sample=request.sample, phase=request.phase, text=text,
            finish_reason=finish, prompt_tokens=as_int(usage.get("prompt_tokens")),
            completion_tokens=as_int(usage.get("completion_tokens")),
            latency_s=time.perf_counter() - started, seed=request.seed,
            attempts=attempt + 1, replaced_surrogates=replaced, stop_reason=stop,
        )

    def _parse(self, data: Any) -> tuple[str, str | None, Any, dict[str, Any], str | None]:
        if not isinstance(data, dict):
            raise ValueError("the reply is not a JSON object")
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise ValueError("the reply has no choices")
        choice = choices[0]
        reasoning = None
        if self.mode == "completions":
            text = choice.get("text")
        else:
            message = choice.get("message")
            if not isinstance(message, dict):
                raise ValueError("the reply's choice has no message")
            text = message.get("content")
            for name in ("reasoning_content", "reasoning"):
                if isinstance(message.get(name), str) and message[name]:
                    reasoning = message[name]
        if not isinstance(text, str):
            raise ValueError(f"the reply has no text ({type(text).__name__})")
        finish = choice.get("finish_reason")
        usage = data.get("usage")
        return (text, finish if isinstance(finish, str) else None, choice.get("stop_reason"),
                usage if isinstance(usage, dict) else {}, reasoning)

    # --- the preflight -------------------------------------------------------------------

    def check(self, marker: str, request: Request) -> None:
        """Refuse a model without ``marker`` and a server that cannot continue, with one
        request of one token (see the module docstring)."""
        tokenizer = self.tokenizer()
        check_marker(tokenizer, marker, self.backend.model)
        if self.mode == "chat":
            self._check_template(request)
        probe = replace(request, prefix=(Piece(PREFLIGHT_PREFIX),), stop=(marker,),
                        sampling=Sampling(temperature=request.sampling.temperature,
                                          top_p=request.sampling.top_p, max_tokens=1),
                        phase="preflight")
        expected = len(tokenizer(self.prompt(probe), add_special_tokens=False)["input_ids"])
        got: list[Completion] = []
        where = (f"{self.url(self.backend.endpoints[0].url)} (--continuation {self.mode})")
        try:
            self.backend.generate([probe], got.append)
        except BackendError as exc:
            raise BackendError(f"the server cannot continue an assistant turn: {where}: "
                               f"{exc}") from None
        reply = got[0]
        if not reply.ok:
            raise BackendError(
                f"the server cannot continue an assistant turn: {where} answered the first "
                f"request with {reply.error}" + self._hint())
        if reply.prompt_tokens is None:
            log.warning("the server reports no prompt tokens: cannot check that it continues "
                        "the text as given")
        elif reply.prompt_tokens != expected:
            raise BackendError(
                f"the server does not continue the text as given: {where} counted "
                f"{reply.prompt_tokens} prompt tokens for a continuation of {expected}"
                + self._hint(reply.prompt_tokens - expected))

    def _hint(self, extra: int | None = None) -> str:
        if self.mode == "chat":
            return ("; it ignores or refuses continue_final_message (vLLM's server has it): "
                    "use --continuation completions")
        if extra is not None and 0 < extra <= 2:
            return ("; it adds special tokens to the prompt (a BOS token?): with vLLM, pass "
                    "--extra-body '{\"add_special_tokens\": false}'")
        return "; the probes need the /completions endpoint (or --continuation chat on vLLM)"

    def _check_template(self, request: Request) -> None:
        """Chat mode works when a continued final assistant message, starting with what the
        generation prompt opens the turn with, renders as the generation prompt followed by
        the text: found and checked here with the model's template."""
        tokenizer = self.tokenizer()
        kwargs = dict(self.backend.chat_template_kwargs)
        chat = request.chat()

        def continued(content: str) -> str:
            text = tokenizer.apply_chat_template(
                [*chat, {"role": "assistant", "content": content}], tokenize=False,
                add_generation_prompt=False, continue_final_message=True, **kwargs)
            return str(text)

        try:
            prompt = render_text(tokenizer, chat, kwargs)
            head = continued("\u00a7")[:-1]  # the rendering up to a message's content
            opening = prompt[len(head):] if prompt.startswith(head) else ""
            ok = continued(opening + PREFLIGHT_PREFIX) == prompt + PREFLIGHT_PREFIX
        except Exception as exc:
            raise BackendError(f"--continuation chat: the chat template cannot continue an "
                               f"assistant message ({exc}); use --continuation completions"
                               ) from None
        self.backend.chat_opening = opening
        if not ok:
            raise BackendError(
                "--continuation chat: this model's chat template does not render a final "
                "assistant message as the continuation of the generation prompt (reasoning "
                "templates often rewrite it), so the server would not continue the turn the "
                "model began; use --continuation completions")
