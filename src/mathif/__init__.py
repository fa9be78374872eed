"""mathif: does a reasoning model still do what it is told while it solves math?

The public API is small:

- :func:`load` — the MathIF items (Hub, folder or file), validated and checksummed;
- :func:`score` — verdicts and metrics for model responses;
- :func:`evaluate` — generate with a model, then score (needs a backend extra).

>>> import mathif
>>> items = mathif.load()                                  # doctest: +SKIP
>>> result = mathif.score(items, responses)                # doctest: +SKIP
>>> result.metrics.overall.hacc                           # doctest: +SKIP
27.86
"""

from __future__ import annotations

from mathif.data import Dataset, Item, load
from mathif.errors import InputError, MathIFError
from mathif.evaluation import RunConfig, evaluate
from mathif.prompts import build_prompt
from mathif.responses import Response
from mathif.results import Results
from mathif.run import ScoreResult, score, score_file
from mathif.samples import Sample, Verdict
from mathif.split import answer_part, split_output
from mathif.version import __version__

__all__ = [
    "Dataset",
    "InputError",
    "Item",
    "MathIFError",
    "Response",
    "Results",
    "RunConfig",
    "Sample",
    "ScoreResult",
    "Verdict",
    "__version__",
    "answer_part",
    "build_prompt",
    "evaluate",
    "load",
    "score",
    "score_file",
    "split_output",
]
