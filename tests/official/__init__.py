"""The official scorer in its pinned environment, as a test oracle.

``official()`` returns a client of ``tests/official/scorer.py`` running in the reference venv
that ``.ci/refenv.sh`` builds (``$MATHIF_REFENV``, default ``.ci/cache/refenv``), or skips the
calling test with the reason when that venv is absent. Golden tests hard-code verdicts that were
established with it; conformance tests compare mathif with it live on generated corpora.
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).resolve().parent / "scorer.py"


def refenv_python() -> Path | None:
    root = Path(os.environ.get("MATHIF_REFENV", REPO / ".ci" / "cache" / "refenv"))
    python = root / "bin" / "python"
    return python if python.is_file() else None


class Official:
    """A long-lived scorer process; requests are batches (one JSON line each way)."""

    def __init__(self, python: Path) -> None:
        self._proc = subprocess.Popen(
            [str(python), str(SCRIPT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True, encoding="utf-8",
        )
        self._lock = threading.Lock()

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            assert self._proc.stdin is not None and self._proc.stdout is not None
            self._proc.stdin.write(json.dumps(request) + "\n")
            self._proc.stdin.flush()
            line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError("the official scorer process died")
        reply: dict[str, Any] = json.loads(line)
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply

    def _batch(self, op: str, field: str, cases: Sequence[Any]) -> list[Any]:
        return list(self._ask({"op": op, field: list(cases)})["results"])

    def score(self, pairs: Sequence[tuple[str, str]]) -> list[bool | None]:
        """``compute_score(answer_part, gold)[0]`` per pair (None: it raised)."""
        return self._batch("score", "pairs", [list(p) for p in pairs])

    def check(self, cases: Sequence[tuple[str, Any, str]]) -> list[bool | None]:
        """The official constraint verdict per (constraint id, args, answer part)."""
        return self._batch("check", "cases", [list(c) for c in cases])

    def split(self, raws: Sequence[str]) -> list[str]:
        return self._batch("split", "raws", raws)

    def latex(self, texts: Sequence[str]) -> list[str | None]:
        """pylatexenc 2.10's ``LatexNodes2Text().latex_to_text`` per text."""
        return self._batch("latex", "texts", texts)

    def close(self) -> None:
        if self._proc.stdin:
            self._proc.stdin.close()
        self._proc.wait(timeout=10)
        if self._proc.stdout:
            self._proc.stdout.close()


_SHARED: Official | None = None


def official() -> Official:
    """The shared oracle process (started once per test session), or skip."""
    global _SHARED
    python = refenv_python()
    if python is None:
        pytest.skip("the pinned reference environment is absent (build it with "
                    "`bash .ci/refenv.sh`, or point MATHIF_REFENV at one)")
    if _SHARED is None:
        _SHARED = Official(python)
        atexit.register(_SHARED.close)  # end the process with the session, not after it
    return _SHARED
