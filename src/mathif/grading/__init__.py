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

from typing import TYPE_CHECKING

from mathif.lazy import lazy_attributes

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


# The API's names, imported on first use: a grading worker process (and the parent that
# starts one early) loads ``mathif.grading.workers`` without the graders themselves.
_HOME = {name: "mathif.grading.api" for name in
         ("Grade", "clear_cache", "extract_answer", "grade", "grade_many")}
_HOME["warm_up"] = "mathif.grading.workers"

__getattr__, __dir__ = lazy_attributes(__name__, _HOME)
