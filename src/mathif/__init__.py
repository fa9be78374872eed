"""mathif: does a reasoning model still do what it is told while it solves math?

The public API is small:

- :func:`load` — the MathIF items (Hub, folder or file), validated and checksummed;
- :func:`score` — verdicts and metrics for model responses;
- :func:`evaluate` — generate with a model, then score (needs a backend extra);
- :func:`build` — MathIF-style sets from any math problems (training data).

>>> import mathif
>>> items = mathif.load()                                  # doctest: +SKIP
>>> result = mathif.score(items, responses)                # doctest: +SKIP
>>> result.metrics.overall.hacc                           # doctest: +SKIP
27.86
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mathif.lazy import lazy_attributes
from mathif.version import __version__

if TYPE_CHECKING:
    from mathif.builder import build
    from mathif.data import Dataset, Item, load
    from mathif.errors import InputError, MathIFError
    from mathif.evaluation import RunConfig, evaluate
    from mathif.prompts import build_prompt
    from mathif.responses import Response
    from mathif.results import Results
    from mathif.run import ScoreResult, score, score_file
    from mathif.samples import Sample, Verdict
    from mathif.split import answer_part, split_output

# The public names and the module that defines each. They are imported on first use, so that
# ``import mathif`` (and every ``mathif`` command, which imports a submodule) loads only what
# it needs: scoring a file does not load the generation backends or the set builder.
_HOME = {
    "build": "mathif.builder",
    "Dataset": "mathif.data",
    "Item": "mathif.data",
    "load": "mathif.data",
    "InputError": "mathif.errors",
    "MathIFError": "mathif.errors",
    "RunConfig": "mathif.evaluation",
    "evaluate": "mathif.evaluation",
    "build_prompt": "mathif.prompts",
    "Response": "mathif.responses",
    "Results": "mathif.results",
    "ScoreResult": "mathif.run",
    "score": "mathif.run",
    "score_file": "mathif.run",
    "Sample": "mathif.samples",
    "Verdict": "mathif.samples",
    "answer_part": "mathif.split",
    "split_output": "mathif.split",
}


__getattr__, __dir__ = lazy_attributes(__name__, _HOME)

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
    "build",
    "build_prompt",
    "evaluate",
    "load",
    "score",
    "score_file",
    "split_output",
]
