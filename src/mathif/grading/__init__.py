"""Math correctness grading for MathIF.

Two graders share one API:

- ``"mathif"`` (default): is the answer mathematically the gold answer?  Robust to the
  forms that constraint-obeying outputs take (``\\BOXED{42}``, no commas, other languages).
- ``"reference"``: the benchmark's official verdict (VeRL ``prime_math``), reproduced
  step by step so published numbers can be matched - without executing model text.

Importing this package is cheap: sympy and math-verify are only imported inside the
worker processes that need them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mathif.grading.api import (
        Grade,
        clear_cache,
        extract_answer,
        grade,
        grade_many,
    )
    from mathif.grading.workers import warm_up

GRADERS: tuple[str, ...] = ("mathif", "reference")
# The hard time limit of one grading call, in seconds: the one default every caller uses.
DEFAULT_TIMEOUT = 5.0

__all__ = ["DEFAULT_TIMEOUT", "GRADERS", "Grade", "clear_cache", "extract_answer", "grade",
           "grade_many", "warm_up"]


def __getattr__(name: str) -> Any:
    """The API's names, imported on first use: a grading worker process (and the parent that
    starts one early) loads ``mathif.grading.workers`` without the graders themselves."""
    if name not in __all__:
        raise AttributeError(f"module 'mathif.grading' has no attribute {name!r}")
    home = "mathif.grading.workers" if name == "warm_up" else "mathif.grading.api"
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value
