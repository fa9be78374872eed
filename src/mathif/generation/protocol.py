"""What flows through generation: requests in, completions out, and the backend contract.

A backend turns :class:`Request` values into :class:`Completion` values and hands each one to
a callback *as soon as it is finished*, so that the run store can persist it before the next
one arrives: a run that dies loses at most the completions still in flight. A backend never
raises for one failed request; it reports a completion with ``error`` set (a failure is never
an empty answer). It raises only when nothing can work (a model that does not load, a server
that refuses the API key).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from mathif.errors import InputError, MathIFError
from mathif.options import (
    NON_NEGATIVE_FLOAT,
    POSITIVE_INT,
    PROBABILITY,
    check_fields,
    option,
)
from mathif.split import split_output

PHASES = ("main", "control")


class BackendError(MathIFError):
    """A failure that stops the whole run: nothing would succeed if we kept going."""


@dataclass(frozen=True)
class Sampling:
    """Decoding settings. The defaults are the paper's (SPEC §2)."""

    temperature: float = option(1.0, help="default 1.0 (paper)", kind=NON_NEGATIVE_FLOAT,
                                output=True)
    top_p: float = option(0.95, help="default 0.95 (paper)", kind=PROBABILITY, output=True)
    max_tokens: int = option(16384, help="max new tokens (default 16384, as in the paper)",
                             kind=POSITIVE_INT, output=True)

    def __post_init__(self) -> None:
        check_fields(self)

    def to_dict(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "top_p": self.top_p,
                "max_tokens": self.max_tokens}


@dataclass(frozen=True)
class Message:
    """One chat message."""

    role: str
    content: str

    def to_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True)
class Piece:
    """A stretch of an assistant turn that is already written (see :attr:`Request.prefix`).

    ``ids`` are its token ids when they are known exactly (a local engine generated them);
    ``None`` means "tokenise ``text``" (inserted text, or text from a server).
    """

    text: str
    ids: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Request:
    """One generation to do: the sample ``sample`` of item ``key`` in run phase ``phase``.

    ``phase`` is ``"main"`` (the prompt with constraints) or ``"control"`` (the same question
    without them); backends copy it into the completion as it is (the probe driver uses it to
    route continuations). ``seed`` is the per-(item, sample) seed from :func:`derive_seed`, or
    ``None`` for unseeded sampling.

    The continuation primitive (:class:`ContinuingBackend` only; the plain benchmark leaves
    both empty): ``prefix`` is assistant text already written, which the model continues
    (the prompt is the chat rendered for generation followed by the pieces, no end-of-turn in
    between); ``stop`` are strings that end the generation, kept at the end of the text.
    """

    key: str
    sample: int
    messages: tuple[Message, ...]
    sampling: Sampling = field(default_factory=Sampling)
    seed: int | None = None
    phase: str = "main"
    prefix: tuple[Piece, ...] = ()
    stop: tuple[str, ...] = ()

    @property
    def id(self) -> tuple[str, str, int]:
        """The resume key of this request: ``(phase, key, sample)``."""
        return (self.phase, self.key, self.sample)

    def chat(self) -> list[dict[str, str]]:
        return [m.to_dict() for m in self.messages]


@dataclass(frozen=True)
class Completion:
    """What a backend produced for one request.

    ``text`` is the raw model output (or the message ``content`` of an OpenAI-compatible
    server); ``reasoning`` is the separate reasoning field such servers may return, ``None``
    when the reasoning (if any) is inside ``text``. ``error`` is set when the request failed;
    then ``text`` is empty and must not be scored.

    Two facts about the text are kept for the run's summary: ``null_content`` marks a server
    reply that had reasoning but no content (a reasoning cut off before its end: an empty
    answer, kept on purpose), and ``replaced_surrogates`` counts lone surrogates replaced with
    U+FFFD (see :mod:`mathif.jsonl`).
    """

    key: str
    sample: int
    text: str
    phase: str = "main"
    reasoning: str | None = None
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_s: float | None = None
    seed: int | None = None
    error: str | None = None
    attempts: int = 1
    null_content: bool = False
    replaced_surrogates: int = 0
    # Continuations and probes only (absent from the records of the plain benchmark):
    # ``token_ids`` the generated ids when exactly known, ``stop_reason`` the stop string
    # that ended the text (which ends with it), ``stop_tokens`` how many trailing ids spell
    # it, ``reasoning_tokens`` generated tokens up to the end of the reasoning, ``phases``
    # one record per generation step of a probe (see :mod:`mathif.probes`).
    token_ids: tuple[int, ...] | None = None
    stop_reason: str | None = None
    stop_tokens: int | None = None
    reasoning_tokens: int | None = None
    phases: tuple[dict[str, Any], ...] = ()

    @property
    def id(self) -> tuple[str, str, int]:
        return (self.phase, self.key, self.sample)

    @property
    def ok(self) -> bool:
        return self.error is None

    @classmethod
    def failed(cls, request: Request, error: str, *, latency_s: float | None = None,
               attempts: int = 1) -> Completion:
        return cls(key=request.key, sample=request.sample, text="", phase=request.phase,
                   seed=request.seed, latency_s=latency_s, error=error, attempts=attempts)

    def to_record(self) -> dict[str, Any]:
        """The stored form (a line of ``completions.jsonl``): the fields plus the answer part
        that will be scored."""
        answer = split_output(self.text, self.reasoning)[1] if self.ok else None
        latency = self.latency_s
        return {
            "phase": self.phase,
            "key": self.key,
            "sample": self.sample,
            "seed": self.seed,
            "text": self.text,
            "reasoning": self.reasoning,
            "answer_part": answer,
            "finish_reason": self.finish_reason,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "latency_s": latency if latency is None or math.isfinite(latency) else None,
            "attempts": self.attempts,
            "error": self.error,
            "null_content": self.null_content,
            "replaced_surrogates": self.replaced_surrogates,
            **self._probe_fields(),
        }

    def _probe_fields(self) -> dict[str, Any]:
        """The fields of a probe's transcript (none for the plain benchmark, whose records
        stay as they were). Token ids are not stored here: the step log keeps them."""
        out: dict[str, Any] = {}
        if self.reasoning_tokens is not None:
            out["reasoning_tokens"] = self.reasoning_tokens
        if self.phases:
            out["phases"] = [dict(p) for p in self.phases]
        return out

    @classmethod
    def from_record(cls, record: Any, *, file: str, line: int, replaced: int = 0) -> Completion:
        """Rebuild a completion from a stored line, checking every field's type.

        ``replaced``: lone surrogates replaced while reading this line, added to the stored
        count.
        """

        def fail(message: str, fld: str | None = None) -> InputError:
            return InputError(message, file=file, line=line, field=fld)

        if not isinstance(record, dict):
            raise fail("expected a JSON object")
        phase, key, sample = record.get("phase"), record.get("key"), record.get("sample")
        if not isinstance(phase, str):
            raise fail("expected a string", "phase")
        if not isinstance(key, str):
            raise fail("expected a string", "key")
        sample = as_int(sample)
        if sample is None or sample < 0:
            raise fail("expected a non-negative integer", "sample")
        text = record.get("text")
        if not isinstance(text, str):
            raise fail("expected a string", "text")
        error = record.get("error")
        if error is not None and not isinstance(error, str):
            raise fail("expected a string or null", "error")
        latency = record.get("latency_s")
        return cls(
            key=key,
            sample=sample,
            text=text,
            phase=phase,
            reasoning=as_str(record.get("reasoning")),
            finish_reason=as_str(record.get("finish_reason")),
            prompt_tokens=as_int(record.get("prompt_tokens")),
            completion_tokens=as_int(record.get("completion_tokens")),
            latency_s=float(latency) if isinstance(latency, (int, float)) else None,
            seed=as_int(record.get("seed")),
            error=error,
            attempts=as_int(record.get("attempts")) or 1,
            null_content=record.get("null_content") is True,
            replaced_surrogates=max(0, as_int(record.get("replaced_surrogates")) or 0) + replaced,
            reasoning_tokens=as_int(record.get("reasoning_tokens")),
            phases=tuple(p for p in record.get("phases") or () if isinstance(p, dict))
            if isinstance(record.get("phases"), list) else (),
        )


OnComplete = Callable[[Completion], None]


@runtime_checkable
class Backend(Protocol):
    """The contract every engine implements (vllm, hf, openai, replay, or your own).

    ``generate`` must call ``on_complete`` exactly once per request, in any order, as each
    finishes, never from two threads at once (the run store appends without locking).
    ``describe`` returns facts for the run manifest (engine version, chat-template hash...);
    a ``chat_template_sha256`` entry is checked on resume.
    """

    name: str

    def describe(self) -> dict[str, Any]: ...

    def generate(self, requests: Sequence[Request], on_complete: OnComplete) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class ContinuingBackend(Backend, Protocol):
    """A backend that honours :attr:`Request.prefix` and :attr:`Request.stop`: the probes
    (:mod:`mathif.probes`) run on these only.

    ``check_continuation`` raises :class:`BackendError` when this model or server cannot
    continue an assistant turn at ``marker`` (a model without think tags, a server without
    continuation); ``request`` is the run's first request, for a preflight. ``decode`` turns
    token ids into text, or returns ``None`` when the backend has no token ids.
    """

    def check_continuation(self, marker: str, request: Request) -> None: ...

    def decode(self, ids: Sequence[int]) -> str | None: ...


def derive_seed(seed: int | None, key: str, sample: int) -> int | None:
    """The seed of sample ``sample`` of item ``key`` in a run seeded with ``seed``.

    A hash, not ``seed + index``: it does not depend on which items were selected, in which
    order, or what was already generated, so a resumed or filtered run asks for exactly the
    same seeds. 31 bits, because some servers reject larger values.
    """
    if seed is None:
        return None
    digest = hashlib.sha256(f"mathif\0{seed}\0{key}\0{sample}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & 0x7FFFFFFF


def step_seed(seed: int | None, key: str, sample: int, step: int) -> int | None:
    """The seed of generation step ``step`` of a multi-phase transcript.

    Step 0 has the sample's own seed (:func:`derive_seed`), so a probe's first phase is what
    the plain benchmark would generate up to its first stop; each later step draws afresh.
    """
    if seed is None or step == 0:
        return derive_seed(seed, key, sample)
    digest = hashlib.sha256(f"mathif-step\0{seed}\0{key}\0{sample}\0{step}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & 0x7FFFFFFF


def as_int(value: Any) -> int | None:
    """An integer field of untrusted input, or ``None`` when it is not a plain integer."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def as_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None

