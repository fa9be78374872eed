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
           "grade_samples", "judge", "judge_and_grade", "judge_sample", "judge_samples",
           "reasoning_text"]

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


# (follow, reasoning_follow) of one response: the part of a verdict that costs time.
Checks = tuple[tuple[bool, ...], tuple[bool, ...] | None]


def _checks(item: Item, response: Response, answer: str, scope: str) -> Checks:
    follow = tuple(follow_constraints(item, answer))
    inside = None
    if scope != "answer":
        inside = tuple(follow_constraints(item, reasoning_text(response)))
    return follow, inside


def _verdict(parts: tuple[str, str], checks: Checks) -> Verdict:
    reasoning, answer = parts
    follow, inside = checks
    return Verdict(
        follow=follow,
        hard=all(follow),
        soft=sum(follow) / len(follow),
        answer_part=answer,
        reasoning=reasoning,
        reasoning_follow=inside,
    )


def judge(item: Item, response: str | Response, *, scope: str = "answer") -> Verdict | None:
    """Instruction-following verdict for one response; ``None`` for a generation error.

    The verdict is always the benchmark's, on the answer part. ``scope`` ``"reasoning"`` or
    ``"both"`` also checks the constraints on the reasoning (``reasoning_follow``).
    """
    if isinstance(response, str):
        response = Response(response)
    if response.error is not None:
        return None
    parts = split_output(response.text, response.reasoning)
    return _verdict(parts, _checks(item, response, parts[1], scope))


def judge_sample(sample: Sample, *, scope: str = "answer") -> Sample:
    """``sample`` with its verdict."""
    return replace(sample, verdict=judge(sample.item, sample.response, scope=scope))


def judge_samples(samples: Sequence[Sample], *, scope: str = "answer") -> list[Sample]:
    """:func:`judge_sample` for each of ``samples``."""
    return [judge_sample(s, scope=scope) for s in samples]


def judge_and_grade(
    samples: Sequence[Sample],
    *,
    grader: str,
    timeout: float = DEFAULT_TIMEOUT,
    workers: int | None = None,
    progress: bool = False,
    scope: str = "answer",
) -> list[Sample]:
    """:func:`judge_samples` and :func:`grade_samples` in one pass, the same samples as the
    two steps one after the other: every answer goes to the grader first, so that those
    that need a worker process start there at once and are decided while the constraints
    are checked."""
    parts = [split_output(s.response.text, s.response.reasoning)
             if s.response.error is None else None for s in samples]
    graded_at = [i for i, p in enumerate(parts) if p is not None]
    with grading_session(grader, len(graded_at), timeout=timeout, workers=workers,
                         progress=progress) as session:
        for n, i in enumerate(graded_at):
            answer, item = parts[i][1], samples[i].item  # type: ignore[index]
            session.add(n, answer, item.answer, item.source, item.question)
        judged = [sample if p is None else replace(
            sample, verdict=_verdict(p, _checks(sample.item, sample.response, p[1], scope)))
            for sample, p in zip(samples, parts, strict=True)]
    for i, grade in zip(graded_at, session.grades(), strict=True):
        judged[i] = replace(judged[i], grade=grade)
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
