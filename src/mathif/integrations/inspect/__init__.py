"""MathIF as an Inspect task, scored by mathif.

Installed with mathif, the task is registered (entry point ``inspect_ai``)::

    inspect eval mathif/mathif --model openai-api/local/NAME      # LOCAL_BASE_URL=...
    inspect eval mathif/mathif -T sources=aime -T counts=2,3 -T grader=reference
    inspect eval mathif/mathif -T constraints=false                # the "w/o constraint" run

Samples come from :func:`mathif.load` (``-T data=PATH``, else ``MATHIF_DATA``, else the
Hub), one per item, with the item's key as the sample id; the user message is the paper's
prompt (without the constraint text for ``constraints=false``); decoding defaults to the
paper's (temperature 1.0, top_p 0.95, 16,384 new tokens; ``--temperature`` and
``--max-tokens`` override them).

The scorer gives ``hacc``, ``sacc`` and ``correct`` per sample (their means are HAcc, SAcc and
correctness as fractions), the answer part as the score's answer and explanation, and the
per-constraint verdicts, the extracted answer and the grader's reason as metadata. The
response is what the provider returned: when it separated the reasoning (reasoning blocks),
the text is the answer part as is; otherwise the text is split as SPEC §3 says. The control
run (``constraints=false``) is scored on correctness only.
"""

from __future__ import annotations

import threading
from typing import Any

import anyio
from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ChatMessageUser, GenerateConfig, ModelOutput
from inspect_ai.scorer import Score, Scorer, Target, mean, scorer, stderr
from inspect_ai.solver import TaskState, generate

from mathif.harness_logs import inspect_content
from mathif.integrations.verdicts import (
    DEFAULT_GRADER,
    check_grader,
    item_fields,
    item_of,
    load_items,
    score_response,
)
from mathif.responses import Response
from mathif.samples import Sample as MathIFSample

__all__ = ["mathif", "mathif_control_scorer", "mathif_scorer", "response_of"]

# The paper's decoding (SPEC §2).
PAPER_CONFIG = GenerateConfig(temperature=1.0, top_p=0.95, max_tokens=16384)
# Verdicts are computed one at a time, off the event loop: checking and grading are CPU work
# (grading may wait on its worker process for seconds), and one at a time keeps them
# deterministic whatever the concurrency of generation.
_ONE_AT_A_TIME = threading.Lock()


def _samples(data: str | None, sources: Any, counts: Any, constraints: bool,
             template: str) -> list[Sample]:
    out = []
    for item in load_items(data, sources=sources, counts=counts):
        fields = item_fields(item, constraints=constraints, template=template)
        out.append(Sample(input=[ChatMessageUser(content=fields["prompt"])],
                          target=item.answer, id=item.key, metadata=fields))
    return out


@task
def mathif(
    data: str | None = None,
    sources: str | list[str] | None = None,
    counts: str | int | list[int | str] | None = None,
    grader: str = DEFAULT_GRADER,
    constraints: bool = True,
    template: str = "paper",
) -> Task:
    """MathIF: instruction following while solving math, scored by mathif.

    Args:
        data: where the items come from (a folder of the 15 files, one JSONL file, ``hub``);
            default ``MATHIF_DATA``, else the Hugging Face Hub.
        sources: keep these sources (gsm8k, math500, minerva, olympiad, aime).
        counts: keep items with these numbers of constraints (1-3 or single/double/triple).
        grader: ``mathif`` (default) or ``reference`` (the official verdicts).
        constraints: ``False`` is the control run: the prompt without the constraint text,
            scored on correctness only.
        template: ``paper`` (the exact official prompt) or ``spaced``.
    """
    check_grader(grader)
    samples = _samples(data, sources, counts, constraints, template)
    name = "mathif" if constraints else "mathif_control"
    return Task(
        dataset=MemoryDataset(samples, name=name),
        solver=generate(),
        scorer=mathif_scorer(grader) if constraints else mathif_control_scorer(grader),
        config=PAPER_CONFIG,
        version=1,
    )


def response_of(output: ModelOutput) -> Response:
    """The model's response as mathif scores it (see :func:`mathif.harness_logs.
    inspect_content`, which reads a logged sample the same way)."""
    if not output.choices:
        return Response("", error=output.error or "no model output")
    content = output.choices[0].message.model_dump(mode="json").get("content")
    text, reasoning = inspect_content(content)
    return Response(text, reasoning=reasoning)


async def _verdict(state: TaskState, grader: str) -> MathIFSample:
    item = item_of(state.metadata)
    response = response_of(state.output)

    def judge() -> MathIFSample:
        with _ONE_AT_A_TIME:
            return score_response(item, response, grader=grader)

    return await anyio.to_thread.run_sync(judge)


def _metadata(sample: MathIFSample) -> dict[str, Any]:
    grade = sample.grade
    return {
        "key": sample.key,
        "follow": list(sample.follow),
        "constraints": [{"id": name, "followed": followed} for name, followed
                        in zip(sample.item.constraint_name, sample.follow, strict=False)],
        "extracted_answer": grade.extracted_answer if grade else None,
        "grade_reason": grade.reason if grade else None,
        "grader": grade.grader if grade else None,
        "error": sample.error,
    }


@scorer(metrics={"hacc": [mean(), stderr()], "sacc": [mean(), stderr()],
                 "correct": [mean(), stderr()]})
def mathif_scorer(grader: str = DEFAULT_GRADER) -> Scorer:
    """mathif's verdict: hard and soft instruction following, and correctness."""
    check_grader(grader)

    async def score(state: TaskState, target: Target) -> Score:
        sample = await _verdict(state, grader)
        return Score(
            value={"hacc": float(sample.hard), "sacc": float(sample.soft),
                   "correct": float(bool(sample.correct))},
            answer=sample.answer_part,
            explanation=sample.answer_part,
            metadata=_metadata(sample),
        )

    return score


@scorer(metrics={"correct": [mean(), stderr()]})
def mathif_control_scorer(grader: str = DEFAULT_GRADER) -> Scorer:
    """The control run's verdict: correctness only (the constraints were not asked for)."""
    check_grader(grader)

    async def score(state: TaskState, target: Target) -> Score:
        sample = await _verdict(state, grader)
        return Score(value={"correct": float(bool(sample.correct))},
                     answer=sample.answer_part, explanation=sample.answer_part,
                     metadata=_metadata(sample))

    return score
