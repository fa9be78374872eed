"""Verdicts: one pure decision per (item, response), then aggregated by :mod:`mathif.metrics`.

A response is the model's raw output (split into reasoning and answer part here, SPEC §3), or a
:class:`Response` carrying a separate reasoning field or a generation error. A response that
failed to generate is never scored as an empty answer: its verdict records the error and the
metrics leave it out (and count it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from mathif import constraints
from mathif.data import Item
from mathif.split import split_output


@dataclass(frozen=True)
class Response:
    """One model output for one item and sample."""

    text: str
    reasoning: str | None = None
    error: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    """The decision for one response: constraints followed and, when graded, correctness."""

    key: str
    sample: int
    follow: tuple[bool, ...]
    hard: bool
    soft: float
    answer: str
    reasoning: str = ""
    correct: bool | None = None
    extracted_answer: str | None = None
    grader: str | None = None
    grade_reason: str | None = None
    error: str | None = None

    @property
    def scored(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["follow"] = list(self.follow)
        return data


def follow_constraints(item: Item, answer: str) -> list[bool]:
    """One verdict per constraint of ``item``, in the item's order.

    An empty or whitespace answer part fails every constraint (SPEC §3): a model that said
    nothing did not follow anything, even constraints that an empty text would satisfy.
    """
    if not answer.strip():
        return [False] * item.n_constraints
    return constraints.check_all(item.constraint_name, item.constraint_args, answer)


def judge(item: Item, response: str | Response, sample: int = 0) -> Verdict:
    """Instruction-following verdict for one response (correctness is added by grading)."""
    if isinstance(response, str):
        response = Response(response)
    if response.error is not None:
        return Verdict(item.key, sample, (), False, 0.0, "", "", error=response.error)
    reasoning, answer = split_output(response.text, response.reasoning)
    follow = follow_constraints(item, answer)
    return Verdict(
        key=item.key,
        sample=sample,
        follow=tuple(follow),
        hard=all(follow),
        soft=sum(follow) / len(follow),
        answer=answer,
        reasoning=reasoning,
    )


def _as_samples(value: Any, where: str) -> list[str | Response]:
    if isinstance(value, (str, Response)):
        return [value]
    if isinstance(value, Sequence) and all(isinstance(v, (str, Response)) for v in value):
        if not value:
            raise ValueError(f"{where}: no responses")
        return list(value)
    raise TypeError(f"{where}: expected a string, a Response or a list of them, "
                    f"got {type(value).__name__}")


def align(
    items: Sequence[Item], responses: Sequence[Any] | Mapping[str, Any]
) -> list[tuple[Item, list[str | Response]]]:
    """Pair each item with its samples. ``responses`` is aligned with ``items`` or keyed."""
    if isinstance(responses, Mapping):
        by_key = {item.key: item for item in items}
        unknown = [k for k in responses if k not in by_key]
        if unknown:
            raise KeyError(f"responses for unknown item keys: {unknown[:5]}")
        return [(by_key[k], _as_samples(v, k)) for k, v in responses.items()]
    if len(responses) != len(items):
        raise ValueError(f"{len(responses)} responses for {len(items)} items")
    return [(item, _as_samples(value, item.key)) for item, value in zip(items, responses,
                                                                        strict=True)]


def attach_grades(
    pairs: Sequence[tuple[Item, Verdict]],
    *,
    grader: str,
    timeout: float = 5.0,
    workers: int | None = None,
    progress: bool = False,
) -> list[Verdict]:
    """Add correctness to verdicts (those with a generation error stay ungraded)."""
    from dataclasses import replace

    from mathif.grading import grade_many

    todo = [(i, item, v) for i, (item, v) in enumerate(pairs) if v.scored]
    grades = grade_many(
        [(v.answer, item.answer, item.source) for _, item, v in todo],
        grader=grader,
        timeout=timeout,
        workers=workers,
        progress=progress,
    )
    out = [v for _, v in pairs]
    for (i, _, v), g in zip(todo, grades, strict=True):
        out[i] = replace(
            v,
            correct=g.correct,
            extracted_answer=g.extracted_answer,
            grader=g.grader,
            grade_reason=g.reason,
        )
    return out
