"""Verdicts: one pure decision per (item, response), then correctness from a grader.

A response is the model's raw output (split into reasoning and answer part here, SPEC §3), or a
:class:`~mathif.responses.Response` carrying a separate reasoning field or a generation error.
A response that failed to generate is never scored as an empty answer: it gets no verdict, and
the metrics leave it out (and count it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from mathif import constraints
from mathif.data import Item
from mathif.grading import DEFAULT_TIMEOUT, grade_many
from mathif.grading.api import grading_session
from mathif.responses import Response
from mathif.samples import Sample, Verdict
from mathif.split import split_output

__all__ = ["REASONING_MEANINGFUL", "Response", "Sample", "Verdict", "follow_constraints",
           "grade_samples", "judge", "judge_and_grade", "judge_sample", "reasoning_text"]

# The constraints whose check means something on a reasoning trace: properties the whole text
# can have (its language, its letter case, its commas). The others are about the final
# answer's length, layout or edges (word limits, bullets, sections, highlights, quotes, start
# and end), or are met or broken just by quoting the instruction while reasoning about it
# (keywords to include, forbidden words), which reasoning traces do all the time.
REASONING_MEANINGFUL = frozenset({
    "language:response_language",
    "change_case:english_capital",
    "change_case:english_lowercase",
    "change_case:capital_word_frequency",
    "punctuation:no_comma",
})


def follow_constraints(item: Item, answer_part: str) -> list[bool]:
    """One verdict per constraint of ``item``, in the item's order.

    An empty or whitespace answer part fails every constraint (SPEC §3): a model that said
    nothing did not follow anything, even constraints that an empty text would satisfy.
    """
    if not answer_part.strip():
        return [False] * item.n_constraints
    return constraints.check_all(item.constraint_name, answer_part, item.constraint_args)


def reasoning_text(response: Response) -> str:
    """The reasoning a response holds: the text before the end of thinking, or all of it when
    the reasoning never ended (a truncated output: the model never stopped thinking)."""
    reasoning, answer = split_output(response.text, response.reasoning)
    if response.reasoning is None and "</think>" not in response.text:
        return answer
    return reasoning


def judge(item: Item, response: str | Response, *, scope: str = "answer") -> Verdict | None:
    """Instruction-following verdict for one response; ``None`` for a generation error.

    The verdict is always the benchmark's, on the answer part. ``scope`` ``"reasoning"`` or
    ``"both"`` also checks the constraints on the reasoning (``reasoning_follow``).
    """
    if isinstance(response, str):
        response = Response(response)
    if response.error is not None:
        return None
    reasoning, answer = split_output(response.text, response.reasoning)
    follow = follow_constraints(item, answer)
    inside = None
    if scope != "answer":
        inside = tuple(follow_constraints(item, reasoning_text(response)))
    return Verdict(
        follow=tuple(follow),
        hard=all(follow),
        soft=sum(follow) / len(follow),
        answer_part=answer,
        reasoning=reasoning,
        reasoning_follow=inside,
    )


def judge_sample(sample: Sample, *, scope: str = "answer") -> Sample:
    """``sample`` with its verdict."""
    return replace(sample, verdict=judge(sample.item, sample.response, scope=scope))


def judge_and_grade(
    samples: Sequence[Sample],
    *,
    grader: str,
    timeout: float = DEFAULT_TIMEOUT,
    workers: int | None = None,
    progress: bool = False,
    scope: str = "answer",
) -> list[Sample]:
    """:func:`judge_sample` and :func:`grade_samples` in one pass: each answer goes to the
    grader as soon as its verdict is in, so the answers that need a worker process are decided
    there while the next samples are judged. The same samples as the two steps one after
    the other."""
    total = sum(1 for s in samples if s.response.error is None)
    judged: list[Sample] = []
    graded_at: list[int] = []  # positions in ``judged`` of the samples sent to the grader
    with grading_session(grader, total, timeout=timeout, workers=workers,
                         progress=progress) as session:
        for sample in samples:
            sample = judge_sample(sample, scope=scope)
            judged.append(sample)
            verdict, item = sample.verdict, sample.item
            if verdict is not None:
                session.add(len(graded_at), verdict.answer_part, item.answer, item.source,
                            item.question)
                graded_at.append(len(judged) - 1)
    for position, grade in zip(graded_at, session.grades(), strict=True):
        judged[position] = replace(judged[position], grade=grade)
    return judged


def grade_samples(
    samples: Sequence[Sample],
    *,
    grader: str,
    timeout: float = DEFAULT_TIMEOUT,
    workers: int | None = None,
    progress: bool = False,
) -> list[Sample]:
    """Add correctness to judged samples (those with a generation error stay ungraded)."""
    todo = [(i, s, s.verdict) for i, s in enumerate(samples) if s.verdict is not None]
    grades = grade_many(
        [(v.answer_part, s.item.answer, s.item.source, s.item.question) for _, s, v in todo],
        grader=grader,
        timeout=timeout,
        workers=workers,
        progress=progress,
    )
    out = list(samples)
    for (i, s, _), g in zip(todo, grades, strict=True):
        out[i] = replace(s, grade=g)
    return out
