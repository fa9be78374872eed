"""Build MathIF-style training and evaluation sets: constraints attached to any math problems.

>>> built = mathif.build("problems.jsonl", scheme="balanced", seed=0,   # doctest: +SKIP
...                      split=(0.8, 0.1, 0.1))
>>> built.write("my-set")                                               # doctest: +SKIP

``mathif build`` is the same on the command line. The modules: :mod:`.problems` (reading the
input), :mod:`.overlap` (contamination with MathIF), :mod:`.compose` (the schemes, the
conflict table, the argument ranges), :mod:`.feasible` (can one answer satisfy an item?),
:mod:`.sets` (the steps, the output files).
"""

from __future__ import annotations

from mathif.builder.compose import CONFLICTS, SCHEMES
from mathif.builder.sets import OVERLAP_MODES, SPLIT_NAMES, BuildResult, build

__all__ = ["CONFLICTS", "OVERLAP_MODES", "SCHEMES", "SPLIT_NAMES", "BuildResult", "build"]
