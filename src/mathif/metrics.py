"""Aggregate verdicts into the benchmark's numbers (SPEC §5).

Item-level values average over an item's samples first; the headline numbers are micro
averages over items, in percent. Responses that failed to generate are left out and counted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from statistics import fmean
from typing import Any

from mathif import constraints
from mathif.data import COUNT_NAMES, SOURCES, Item
from mathif.scoring import Verdict

ROUND = 4


def pct(value: float | None) -> float | None:
    return None if value is None else round(100.0 * value, ROUND)


@dataclass(frozen=True)
class ItemScore:
    """One item's values averaged over its scored samples."""

    item: Item
    n_samples: int
    hard: float
    soft: float
    follow: tuple[float, ...]  # pass rate per constraint instance
    correct: float | None
    any_hard: bool
    quadrants: dict[str, float] | None


QUADRANTS = ("correct_followed", "correct_not_followed", "wrong_followed", "wrong_not_followed")


def _quadrant(v: Verdict) -> str:
    if v.correct:
        return "correct_followed" if v.hard else "correct_not_followed"
    return "wrong_followed" if v.hard else "wrong_not_followed"


def item_scores(pairs: Iterable[tuple[Item, Verdict]]) -> list[ItemScore]:
    """Group verdicts by item (first-seen order) and average over samples."""
    grouped: dict[str, tuple[Item, list[Verdict]]] = {}
    for item, verdict in pairs:
        grouped.setdefault(item.key, (item, []))[1].append(verdict)
    out = []
    for item, verdicts in grouped.values():
        scored = [v for v in verdicts if v.scored]
        if not scored:
            continue
        graded = [v for v in scored if v.correct is not None]
        quadrants = None
        correct = None
        if graded and len(graded) == len(scored):
            correct = fmean(float(v.correct) for v in graded)  # type: ignore[arg-type]
            quadrants = {q: fmean(float(_quadrant(v) == q) for v in graded) for q in QUADRANTS}
        out.append(
            ItemScore(
                item=item,
                n_samples=len(scored),
                hard=fmean(float(v.hard) for v in scored),
                soft=fmean(v.soft for v in scored),
                follow=tuple(
                    fmean(float(v.follow[i]) for v in scored) for i in range(item.n_constraints)
                ),
                correct=correct,
                any_hard=any(v.hard for v in scored),
                quadrants=quadrants,
            )
        )
    return out


def _mean(values: Sequence[float]) -> float | None:
    return fmean(values) if values else None


def summary(scores: Sequence[ItemScore]) -> dict[str, Any]:
    """HAcc, SAcc and (when graded) correctness over ``scores``, in percent."""
    row: dict[str, Any] = {
        "n_items": len(scores),
        "hacc": pct(_mean([s.hard for s in scores])),
        "sacc": pct(_mean([s.soft for s in scores])),
    }
    if scores and all(s.correct is not None for s in scores):
        row["correct"] = pct(_mean([s.correct for s in scores]))  # type: ignore[misc]
    return row


def _group(
    scores: Sequence[ItemScore], key: Callable[[ItemScore], str], order: Sequence[str]
) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[ItemScore]] = defaultdict(list)
    for s in scores:
        groups[key(s)].append(s)
    names = [n for n in order if n in groups] + sorted(set(groups) - set(order))
    return {name: summary(groups[name]) for name in names}


def by_constraint(scores: Sequence[ItemScore]) -> dict[str, dict[str, Any]]:
    """Pass rate per constraint type: the mean over every instance of that type."""
    rates: dict[str, list[float]] = defaultdict(list)
    for s in scores:
        for name, rate in zip(s.item.constraint_name, s.follow, strict=True):
            rates[name].append(rate)
    order = [c for c in constraints.CONSTRAINT_IDS if c in rates]
    return {
        name: {
            "category": constraints.category(name),
            "n": len(rates[name]),
            "pass_rate": pct(fmean(rates[name])),
        }
        for name in order
    }


def by_category(scores: Sequence[ItemScore]) -> dict[str, dict[str, Any]]:
    rates: dict[str, list[float]] = defaultdict(list)
    for s in scores:
        for name, rate in zip(s.item.constraint_name, s.follow, strict=True):
            rates[constraints.category(name)].append(rate)
    order = ("length", "lexical", "format", "affix")
    return {
        cat: {"n": len(rates[cat]), "pass_rate": pct(fmean(rates[cat]))}
        for cat in order
        if cat in rates
    }


def quadrants(scores: Sequence[ItemScore]) -> dict[str, float] | None:
    if not scores or any(s.quadrants is None for s in scores):
        return None
    return {q: pct(fmean(s.quadrants[q] for s in scores)) for q in QUADRANTS}  # type: ignore[index,misc]


def relative_diff(with_constraints: float | None, without: float | None) -> float | None:
    """The paper's Diff column: (w/ - w/o) / w/o x 100."""
    if with_constraints is None or without is None or without == 0:
        return None
    return round((with_constraints - without) / without * 100.0, ROUND)


def aggregate(
    pairs: Sequence[tuple[Item, Verdict]],
    control: Sequence[tuple[Item, Verdict]] | None = None,
) -> dict[str, Any]:
    """All metrics of a run (the ``metrics`` part of ``results.json``)."""
    scores = item_scores(pairs)
    n_errors = sum(1 for _, v in pairs if not v.scored)
    result: dict[str, Any] = {
        "n_items": len(scores),
        "n_responses": sum(1 for _, v in pairs if v.scored),
        "n_errors": n_errors,
        "items_without_response": len({i.key for i, _ in pairs}) - len(scores),
        "samples_per_item": {
            "min": min((s.n_samples for s in scores), default=0),
            "max": max((s.n_samples for s in scores), default=0),
        },
        "overall": summary(scores),
        "by_source": _group(scores, lambda s: s.item.source, SOURCES),
        "by_count": _group(scores, lambda s: s.item.count_name, COUNT_NAMES),
        "by_constraint": by_constraint(scores),
        "by_category": by_category(scores),
    }
    if any(s.n_samples > 1 for s in scores):
        result["overall"]["any_sample_hacc"] = pct(_mean([float(s.any_hard) for s in scores]))
    quads = quadrants(scores)
    if quads is not None:
        result["quadrants"] = quads
    if control is not None:
        control_scores = item_scores(control)
        control_summary = summary(control_scores)
        base = control_summary.get("correct")
        result["control"] = {
            "n_items": len(control_scores),
            "n_errors": sum(1 for _, v in control if not v.scored),
            "correct": base,
            "by_source": {
                k: v.get("correct")
                for k, v in _group(control_scores, lambda s: s.item.source, SOURCES).items()
            },
        }
        result["overall"]["correct_without_constraints"] = base
        result["overall"]["diff_percent"] = relative_diff(
            result["overall"].get("correct"), base
        )
    return result
