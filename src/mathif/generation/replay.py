"""The ``replay`` backend: completions read from a file instead of a model.

For outputs made elsewhere — the official pipeline's output, another tool's, or a previous
mathif run — so that they go through the same store, scoring and reports as a live run.

A line is matched to an item by, in order: its ``key`` field (mathif's own files); its
``question`` text (all MathIF questions are distinct, SPEC §1); else its position, when the
file has exactly one line per selected item. Its samples are, in order of preference: a
``sample`` index plus ``response``/``text`` (one line per sample, as in mathif's
``samples.jsonl`` or ``completions.jsonl``), or a list in ``output``/``responses``, or a
single ``response``. A separate ``reasoning`` string is kept as such; a line carrying an
``error`` replays that error. A (key, sample) the file lacks becomes an error completion,
never an empty answer.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mathif.data import read_jsonl
from mathif.errors import InputError
from mathif.generation.protocol import Completion, OnComplete, Request, as_int, as_str

if TYPE_CHECKING:
    from mathif.data import Item

Entry = dict[str, Any]


def _samples_of(record: dict[str, Any], *, file: str, line: int) -> dict[int, Entry]:
    """The samples one line holds, by sample index."""
    reasoning = as_str(record.get("reasoning"))
    extra = {
        "finish_reason": as_str(record.get("finish_reason")),
        "prompt_tokens": as_int(record.get("prompt_tokens")),
        "completion_tokens": as_int(record.get("completion_tokens")),
    }
    error = record.get("error")
    if isinstance(error, str) and error:
        return {as_int(record.get("sample")) or 0: {"error": error}}
    sample = as_int(record.get("sample"))
    for name in ("response", "text"):
        value = record.get(name)
        if isinstance(value, str) and sample is not None:
            return {sample: {"text": value, "reasoning": reasoning, **extra}}
    for name in ("output", "responses", "response", "text"):
        value = record.get(name)
        if isinstance(value, str):
            return {0: {"text": value, "reasoning": reasoning, **extra}}
        if isinstance(value, list):
            if not all(isinstance(v, str) for v in value):
                raise InputError("expected a list of strings", file=file, line=line, field=name)
            return {i: {"text": v, "reasoning": None} for i, v in enumerate(value)}
    raise InputError("no response: give 'response', 'text', 'output' or 'responses'",
                     file=file, line=line)


def read_replay(
    path: str | os.PathLike[str], items: Sequence[Item], *, phase: str = "main"
) -> dict[tuple[str, int], Entry]:
    """Map ``(item key, sample)`` to the recorded response for every line of ``path``.

    Lines with a ``phase`` field (mathif's ``completions.jsonl``) count only for that phase.
    """
    path = Path(path)
    by_key = {item.key: item for item in items}
    by_question = {item.question: item for item in items}
    lines = list(read_jsonl(path))
    positional = len(lines) == len(items)
    table: dict[tuple[str, int], Entry] = {}
    for position, (index, record) in enumerate(lines):
        line = index + 1
        if isinstance(record, str):
            record = {"response": record}
        if not isinstance(record, dict):
            raise InputError(f"expected a JSON object, got {type(record).__name__}",
                             file=str(path), line=line)
        if record.get("phase", phase) != phase:
            continue
        key = record.get("key")
        item = by_key.get(key) if isinstance(key, str) else None
        if item is None and isinstance(record.get("question"), str):
            item = by_question.get(record["question"])
        if item is None and positional and not isinstance(key, str) and \
                not isinstance(record.get("question"), str):
            item = items[position]
        if item is None:
            continue  # an item that is not selected in this run
        for sample, entry in _samples_of(record, file=str(path), line=line).items():
            table.setdefault((item.key, sample), entry)
    return table


class ReplayBackend:
    """Serves recorded responses; ``control_path`` holds those of the control run."""

    name = "replay"

    def __init__(self, path: str | os.PathLike[str], items: Sequence[Item], *,
                 control_path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path)
        self.control_path = Path(control_path) if control_path else None
        self.tables = {"main": read_replay(self.path, items)}
        if self.control_path is not None:
            self.tables["control"] = read_replay(self.control_path, items, phase="control")

    def describe(self) -> dict[str, Any]:
        return {
            "engine": "replay",
            "file": str(self.path),
            "control_file": str(self.control_path) if self.control_path else None,
            "chat_template_sha256": None,
        }

    def generate(self, requests: Sequence[Request], on_complete: OnComplete) -> None:
        for request in requests:
            table = self.tables.get(request.phase)
            entry = table.get((request.key, request.sample)) if table is not None else None
            if entry is None:
                source = self.path if request.phase == "main" else self.control_path
                on_complete(Completion.failed(
                    request, f"replay: {source or 'no --control-responses file'} has no "
                    f"response for {request.key} sample {request.sample}"))
            elif "error" in entry:
                on_complete(Completion.failed(request, f"replayed error: {entry['error']}"))
            else:
                on_complete(Completion(
                    key=request.key, sample=request.sample, phase=request.phase,
                    text=entry["text"], reasoning=entry.get("reasoning"),
                    finish_reason=entry.get("finish_reason"),
                    prompt_tokens=entry.get("prompt_tokens"),
                    completion_tokens=entry.get("completion_tokens"),
                    latency_s=0.0, seed=request.seed,
                ))

    def close(self) -> None:
        pass
