"""The step log of a probe's run folder: ``phases.jsonl``, one line per finished phase.

Each line is one generation step of one transcript ``(phase, key, sample)``: what the model
wrote (``text``, with its token ids when a local engine knows them exactly), how it stopped,
its tokens, and how the probe edited the transcript after it (``dropped``: the trailing text
left out, the marker; ``inserted``: the text put after it). A transcript's text is therefore
``sum(text - dropped + inserted)`` over its steps, and ``completions.jsonl`` gets one line, the
whole transcript, once its last step is done.

The log has the run store's crash semantics (each line written whole with one ``write``; a torn
last line from a kill is dropped when the log is opened; the lines are flushed to disk in the
background): a run killed in the middle of a phase resumes from the last finished step of
each transcript, losing only the requests that were in flight. Only successful steps are
written; a failed step fails its transcript (an error in ``completions.jsonl``, retried from
its last step on the next run).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mathif import jsonl
from mathif.errors import InputError
from mathif.generation.protocol import Piece, as_int, as_str

# The run store's reader and background flusher: one crash semantics for both logs.
from mathif.generation.store import JsonlAppender, _read_lines

STEPS_NAME = "phases.jsonl"
TranscriptId = tuple[str, str, int]


@dataclass(frozen=True)
class Step:
    """One finished phase of one transcript (a line of ``phases.jsonl``).

    ``closed``: after this step the reasoning is over (the marker is in the transcript), so
    the next step is the answer; ``final``: the transcript is complete after it. ``request``
    fingerprints the request that produced it (the runs of a sweep share identical ones).
    """

    phase: str
    key: str
    sample: int
    step: int
    text: str
    finish_reason: str | None
    stop_reason: str | None
    completion_tokens: int | None
    prompt_tokens: int | None = None
    latency_s: float | None = None
    seed: int | None = None
    token_ids: tuple[int, ...] | None = None
    stop_tokens: int | None = None
    dropped: str = ""
    inserted: str = ""
    closed: bool = False
    final: bool = False
    request: str = ""

    @property
    def id(self) -> TranscriptId:
        return (self.phase, self.key, self.sample)

    @property
    def kept_text(self) -> str:
        """The generated text that stays in the transcript."""
        return self.text[: len(self.text) - len(self.dropped)] if self.dropped else self.text

    def pieces(self) -> list[Piece]:
        """This step's part of the transcript, as continuation pieces (token ids kept when
        they are exact, also with the marker dropped when it is whole tokens)."""
        ids = self.token_ids
        if self.dropped:
            if ids is not None and self.stop_tokens and self.dropped == self.stop_reason:
                ids = ids[: len(ids) - self.stop_tokens]
            else:
                ids = None
        out = [Piece(self.kept_text, ids)] if self.kept_text or ids else []
        if self.inserted:
            out.append(Piece(self.inserted))
        return out

    def summary(self) -> dict[str, Any]:
        """What ``completions.jsonl`` keeps of this step (no token ids)."""
        return {"step": self.step, "generated": self.text, "dropped": self.dropped,
                "inserted": self.inserted, "tokens": self.completion_tokens,
                "finish_reason": self.finish_reason, "stop_reason": self.stop_reason}

    def to_record(self) -> dict[str, Any]:
        return {
            "phase": self.phase, "key": self.key, "sample": self.sample, "step": self.step,
            "text": self.text, "dropped": self.dropped, "inserted": self.inserted,
            "closed": self.closed, "final": self.final,
            "finish_reason": self.finish_reason, "stop_reason": self.stop_reason,
            "completion_tokens": self.completion_tokens, "prompt_tokens": self.prompt_tokens,
            "latency_s": self.latency_s, "seed": self.seed,
            "token_ids": list(self.token_ids) if self.token_ids is not None else None,
            "stop_tokens": self.stop_tokens, "request": self.request,
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any], *, file: str, line: int) -> Step:
        def need(name: str, kind: type) -> Any:
            value = record.get(name)
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise InputError(f"expected {kind.__name__}", file=file, line=line, field=name)
            return value

        ids = record.get("token_ids")
        if ids is not None and not (isinstance(ids, list) and all(
                isinstance(i, int) and not isinstance(i, bool) for i in ids)):
            raise InputError("expected a list of integers or null", file=file, line=line,
                             field="token_ids")
        latency = record.get("latency_s")
        step = cls(
            phase=need("phase", str), key=need("key", str), sample=need("sample", int),
            step=need("step", int), text=need("text", str),
            finish_reason=as_str(record.get("finish_reason")),
            stop_reason=as_str(record.get("stop_reason")),
            completion_tokens=as_int(record.get("completion_tokens")),
            prompt_tokens=as_int(record.get("prompt_tokens")),
            latency_s=float(latency) if isinstance(latency, (int, float))
            and not isinstance(latency, bool) else None,
            seed=as_int(record.get("seed")),
            token_ids=tuple(ids) if ids is not None else None,
            stop_tokens=as_int(record.get("stop_tokens")),
            dropped=as_str(record.get("dropped")) or "",
            inserted=as_str(record.get("inserted")) or "",
            closed=record.get("closed") is True, final=record.get("final") is True,
            request=as_str(record.get("request")) or "",
        )
        if step.sample < 0 or step.step < 0:
            raise InputError("negative sample or step", file=file, line=line)
        if not step.text.endswith(step.dropped):
            raise InputError("'dropped' is not the end of 'text'", file=file, line=line,
                             field="dropped")
        return step


class StepLog:
    """The open step log of a run folder (opened while its :class:`RunStore` holds the lock).

    Reading keeps, per transcript, the first line of each step (a step is written once; a
    second copy could only come from a hand-edited file) and only the steps that follow each
    other from step 0.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.path = Path(root) / STEPS_NAME
        self._steps: dict[TranscriptId, dict[int, Step]] = {}
        self.dropped_bytes = 0
        if self.path.exists():
            records, good_end, total = _read_lines(self.path)
            if good_end < total:
                with self.path.open("r+b") as handle:
                    handle.truncate(good_end)
                    handle.flush()
                    os.fsync(handle.fileno())
                self.dropped_bytes = total - good_end
            for number, record, _ in records:
                step = Step.from_record(record, file=str(self.path), line=number)
                self._steps.setdefault(step.id, {}).setdefault(step.step, step)
        self._log = JsonlAppender(self.path, "step log")

    def steps(self, transcript: TranscriptId) -> list[Step]:
        """The finished steps of a transcript, in order, up to the first missing one."""
        held = self._steps.get(transcript, {})
        out: list[Step] = []
        while len(out) in held:
            out.append(held[len(out)])
        return out

    def by_request(self) -> Iterator[Step]:
        for steps in self._steps.values():
            yield from steps.values()

    def append(self, step: Step) -> None:
        self._log.check_open()
        if step.step in self._steps.get(step.id, {}):
            return
        self._log.write({**step.to_record(),
                         "time": datetime.now(timezone.utc).isoformat(timespec="seconds")})
        self._steps.setdefault(step.id, {})[step.step] = step

    def close(self) -> None:
        self._log.close()


def read_steps(root: str | os.PathLike[str]) -> list[Step]:
    """The steps of a run folder, read only (no repair), in file order: for inspection."""
    path = Path(root) / STEPS_NAME
    if not path.exists():
        return []
    records, _, _ = _read_lines(path)
    return [Step.from_record(r, file=str(path), line=n) for n, r, _ in records]


def clean(text: str) -> str:
    """Text without lone surrogates (which cannot be written as UTF-8)."""
    return jsonl.scrub_text(text)[0]
