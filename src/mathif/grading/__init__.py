"""Math correctness grading for MathIF.

Two graders share one API:

- ``"mathif"`` (default): is the answer mathematically the gold answer?  Robust to the
  forms that constraint-obeying outputs take (``\\BOXED{42}``, no commas, other languages).
- ``"reference"``: the benchmark's official verdict (VeRL ``prime_math``), reproduced
  step by step so published numbers can be matched - without executing model text.

Importing this package is cheap: sympy and math-verify are only imported inside the
worker processes that need them.
"""

from mathif.grading.api import (
    DEFAULT_TIMEOUT,
    GRADERS,
    Grade,
    clear_cache,
    extract_answer,
    grade,
    grade_many,
    warm_up,
)

__all__ = ["DEFAULT_TIMEOUT", "GRADERS", "Grade", "clear_cache", "extract_answer", "grade",
           "grade_many", "warm_up"]
