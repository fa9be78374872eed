"""The ``replay`` backend: completions read from a file instead of a model.

For outputs made elsewhere — the official pipeline's output, another tool's, or a previous
mathif run — so that they go through the same store, scoring and reports as a live run.

The file is read by :mod:`mathif.responses`, the reader ``mathif score`` uses: the same
fields, and the same matching of lines to items (by key, then question, then position). A
line carrying an ``error`` replays that error. A (key, sample) the file lacks becomes an error
completion, never an empty answer.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mathif.generation.protocol import Completion, OnComplete, Request, as_int
from mathif.responses import Response, match_responses

if TYPE_CHECKING:
    from mathif.data import Item


def read_replay(
    path: str | os.PathLike[str], items: Sequence[Item], *, phase: str = "main"
) -> dict[tuple[str, int], Response]:
    """Map ``(item key, sample)`` to the recorded response, for the items of ``items`` (a
    :class:`~mathif.data.Dataset`, whose unfiltered items also count for matching by
    position). Lines with a ``phase`` field (mathif's ``completions.jsonl``) count only for
    that phase."""
    return {(e.item.key, e.index): e.response
            for e in match_responses(path, items, phase=phase, complete=False)}


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
            elif entry.error is not None:
                on_complete(Completion.failed(request, f"replayed error: {entry.error}"))
            else:
                on_complete(Completion(
                    key=request.key, sample=request.sample, phase=request.phase,
                    text=entry.text, reasoning=entry.reasoning,
                    finish_reason=entry.usage.finish_reason,
                    prompt_tokens=as_int(entry.usage.prompt_tokens),
                    completion_tokens=as_int(entry.usage.completion_tokens),
                    latency_s=0.0, seed=request.seed,
                ))

    def close(self) -> None:
        pass
