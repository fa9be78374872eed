"""MathIF as an lm-evaluation-harness task, scored by mathif.

The task configs live in the ``tasks`` folder beside this module::

    lm_eval --model local-chat-completions --apply_chat_template --log_samples \\
        --model_args model=NAME,base_url=http://HOST:PORT/v1/chat/completions \\
        --include_path "$(python -m mathif.integrations.lm_eval --path)" \\
        --tasks mathif --output_path out/

Tasks: ``mathif`` (the 420 items), ``mathif_<source>`` (gsm8k, math500, minerva, olympiad,
aime) and ``mathif_<count>`` (single, double, triple), the groups ``mathif_by_source`` and
``mathif_by_count`` (their subtasks plus the overall numbers, weighted by size), and
``mathif_control`` (the prompt without constraints: correctness only, the paper's
"w/o constraint" column). The documents come from :func:`mathif.load` (``MATHIF_DATA``, else
the Hub; ``--metadata '{"data": "PATH"}'`` names another origin and
``--metadata '{"grader": "reference"}'`` chooses the official grader). The user message is the
paper's prompt (``--apply_chat_template`` sends it as a chat message; without it the prompt is
sent as plain text), the decoding defaults are the paper's (``--gen_kwargs`` overrides them).

Per sample, :func:`process_results` returns ``hacc``, ``sacc`` and ``correct`` (0 or 1, 0-1 for
sacc; their means are the benchmark's HAcc, SAcc and correctness as fractions) and ``follow``
(one verdict per constraint, in the order of the document's ``constraint_name``; its aggregate
is the share of all constraints followed). These are mathif's own verdicts: the text lm-eval
hands over is split as SPEC §3 says, checked and graded by the code ``mathif score`` runs.

Nothing here imports lm-eval; ``datasets`` (one of its dependencies) is imported when the
documents are built.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mathif.integrations.verdicts import (
    DEFAULT_GRADER,
    check_grader,
    item_fields,
    item_of,
    load_items,
    score_response,
)
from mathif.responses import Response

TASKS_DIR = Path(__file__).resolve().parent / "tasks"

__all__ = ["TASKS_DIR", "follow_rate", "load_docs", "process_control_results",
           "process_results", "tasks_path"]


def tasks_path() -> str:
    """The folder to give ``lm_eval --include_path``."""
    return str(TASKS_DIR)


def load_docs(
    *,
    data: str | None = None,
    grader: str = DEFAULT_GRADER,
    sources: Sequence[str] | str | None = None,
    counts: Sequence[int | str] | int | str | None = None,
    constraints: bool = True,
    template: str = "paper",
    **_lm_eval: Any,
) -> dict[str, Any]:
    """The task's documents, as lm-eval's ``custom_dataset`` hook wants them.

    lm-eval calls it with the task's ``metadata`` (``--metadata`` from the command line, plus
    entries such as ``version`` that are not ours, hence ``**_lm_eval``) and its
    ``dataset_kwargs`` (the subtasks' ``sources``/``counts``, the control's ``constraints``).
    """
    import datasets

    check_grader(grader)
    docs = [{**item_fields(item, constraints=constraints, template=template), "grader": grader}
            for item in load_items(data, sources=sources, counts=counts)]
    if not docs:
        raise ValueError("no MathIF items are selected")
    return {"test": datasets.Dataset.from_list(docs)}


def _text(results: Sequence[Any]) -> str:
    """The generation lm-eval hands over (a null generation is an empty answer)."""
    first = results[0] if results else None
    return first if isinstance(first, str) else ""


def process_results(doc: dict[str, Any], results: Sequence[Any]) -> dict[str, Any]:
    """mathif's verdict of one generation: ``hacc``, ``sacc``, ``correct`` and ``follow``."""
    grader = doc.get("grader") or DEFAULT_GRADER
    sample = score_response(item_of(doc), Response(_text(results)), grader=grader)
    return {
        "hacc": float(sample.hard),
        "sacc": float(sample.soft),
        "correct": float(bool(sample.correct)),
        "follow": [bool(f) for f in sample.follow],
    }


def process_control_results(doc: dict[str, Any], results: Sequence[Any]) -> dict[str, Any]:
    """The control run (no constraints in the prompt) is scored on correctness only."""
    grader = doc.get("grader") or DEFAULT_GRADER
    sample = score_response(item_of(doc), Response(_text(results)), grader=grader)
    return {"correct": float(bool(sample.correct))}


def follow_rate(values: Sequence[Sequence[bool]]) -> float:
    """The aggregate of ``follow``: the share of all constraints followed (each constraint
    counts once, so an item with three weighs three times one with one)."""
    flat = [bool(v) for verdicts in values for v in verdicts]
    return sum(flat) / len(flat) if flat else 0.0
