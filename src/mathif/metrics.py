"""Aggregate verdicts into the benchmark's numbers (SPEC §5).

Item-level values average over an item's samples first; the headline numbers are micro
averages over items, in percent. Responses that failed to generate are left out and counted.

Every rate comes with a 95% bootstrap interval over items (:mod:`mathif.stats`), because with
420 items a difference of a few points between two models can be sampling noise. The layout of
the result is the ``metrics`` part of ``results.json``, documented in ``docs/results-schema.md``
and versioned by :data:`SCHEMA_VERSION`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import fmean, median
from typing import Any

from mathif import constraints, stats
from mathif.data import COUNT_NAMES, SOURCES, Item
from mathif.scoring import Verdict

ROUND = 4
# Version of the results.json layout (docs/results-schema.md). Bump on a change that breaks
# readers (a key removed, renamed or re-typed); adding keys keeps the version.
SCHEMA_VERSION = 1
# The paper plots HAcc against reasoning length in six quantile bins of reasoning tokens.
REASONING_BINS = 6


def pct(value: float | None) -> float | None:
    return None if value is None else round(100.0 * value, ROUND)


@dataclass(frozen=True)
class CISettings:
    """How intervals are computed; written into results.json so a number can be re-derived."""

    n_boot: int = stats.DEFAULT_N_BOOT
    seed: int = stats.DEFAULT_SEED
    level: float = stats.DEFAULT_LEVEL

    def describe(self) -> dict[str, Any]:
        return {
            "method": "percentile bootstrap over items (an item's samples resampled together)",
            "level": self.level,
            "n_boot": self.n_boot,
            "seed": self.seed,
        }


def _ci(values: Sequence[Sequence[float]] | Sequence[float],
        settings: CISettings | None, *, pooled: bool = False) -> list[float] | None:
    """``[low, high]`` in percent for per-item values (a float, or a list per sample).

    ``pooled``: the statistic is the mean over all values rather than over item means.
    """
    if settings is None or not values:
        return None
    per_item = [v if isinstance(v, Sequence) else [v] for v in values]
    method = stats.bootstrap_pooled_ci if pooled else stats.bootstrap_ci
    interval = method(per_item, n_boot=settings.n_boot, seed=settings.seed,
                      level=settings.level)
    return [pct(interval.low), pct(interval.high)]  # type: ignore[list-item]


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


def summary(scores: Sequence[ItemScore], ci: CISettings | None = None) -> dict[str, Any]:
    """HAcc, SAcc and (when graded) correctness over ``scores``, in percent.

    With ``ci``, each rate gets a ``*_ci`` key holding its ``[low, high]`` interval.
    """
    row: dict[str, Any] = {
        "n_items": len(scores),
        "hacc": pct(_mean([s.hard for s in scores])),
        "sacc": pct(_mean([s.soft for s in scores])),
    }
    if ci is not None:
        row["hacc_ci"] = _ci([s.hard for s in scores], ci)
        row["sacc_ci"] = _ci([s.soft for s in scores], ci)
    if scores and all(s.correct is not None for s in scores):
        row["correct"] = pct(_mean([s.correct for s in scores]))  # type: ignore[misc]
        if ci is not None:
            row["correct_ci"] = _ci([float(s.correct or 0.0) for s in scores], ci)
    return row


def _group(
    scores: Sequence[ItemScore],
    key: Callable[[ItemScore], str],
    order: Sequence[str],
    ci: CISettings | None = None,
) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[ItemScore]] = defaultdict(list)
    for s in scores:
        groups[key(s)].append(s)
    names = [n for n in order if n in groups] + sorted(set(groups) - set(order))
    return {name: summary(groups[name], ci) for name in names}


def _rates_by(
    scores: Sequence[ItemScore], label: Callable[[str], str]
) -> tuple[dict[str, list[float]], dict[str, list[list[float]]]]:
    """Pass rates per label: one entry per constraint instance, and grouped per item.

    The per-item grouping is what the interval resamples: two instances of one category in one
    item are not independent evidence.
    """
    rates: dict[str, list[float]] = defaultdict(list)
    per_item: dict[str, list[list[float]]] = defaultdict(list)
    for s in scores:
        mine: dict[str, list[float]] = defaultdict(list)
        for name, rate in zip(s.item.constraint_name, s.follow, strict=True):
            rates[label(name)].append(rate)
            mine[label(name)].append(rate)
        for lab, values in mine.items():
            per_item[lab].append(values)
    return rates, per_item


def by_constraint(
    scores: Sequence[ItemScore], ci: CISettings | None = None
) -> dict[str, dict[str, Any]]:
    """Pass rate per constraint type: the mean over every instance of that type."""
    rates, per_item = _rates_by(scores, lambda name: name)
    order = [c for c in constraints.CONSTRAINT_IDS if c in rates]
    out: dict[str, dict[str, Any]] = {}
    for name in order:
        out[name] = {
            "category": constraints.category(name),
            "n": len(rates[name]),
            "pass_rate": pct(fmean(rates[name])),
        }
        if ci is not None:
            out[name]["pass_rate_ci"] = _ci(per_item[name], ci, pooled=True)
    return out


def by_category(
    scores: Sequence[ItemScore], ci: CISettings | None = None
) -> dict[str, dict[str, Any]]:
    rates, per_item = _rates_by(scores, constraints.category)
    order = ("length", "lexical", "format", "affix")
    out: dict[str, dict[str, Any]] = {}
    for cat in order:
        if cat not in rates:
            continue
        out[cat] = {"n": len(rates[cat]), "pass_rate": pct(fmean(rates[cat]))}
        if ci is not None:
            out[cat]["pass_rate_ci"] = _ci(per_item[cat], ci, pooled=True)
    return out


def quadrants(scores: Sequence[ItemScore]) -> dict[str, float] | None:
    if not scores or any(s.quadrants is None for s in scores):
        return None
    return {q: pct(fmean(s.quadrants[q] for s in scores)) for q in QUADRANTS}  # type: ignore[index,misc]


def quadrants_ci(scores: Sequence[ItemScore], ci: CISettings) -> dict[str, Any] | None:
    if not scores or any(s.quadrants is None for s in scores):
        return None
    return {q: _ci([s.quadrants[q] for s in scores], ci) for q in QUADRANTS}  # type: ignore[index]


def _words(text: str) -> int:
    return len(text.split())


LENGTH_UNITS = ("reasoning_tokens", "completion_tokens_apportioned", "words")


def _int_field(meta: Mapping[str, Any] | None, name: str) -> int | None:
    value = None if meta is None else meta.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def sample_lengths(
    verdicts: Sequence[Verdict], generation: Sequence[Mapping[str, Any] | None] | None = None
) -> tuple[str, list[tuple[float, float] | None]]:
    """Reasoning and answer length of each sample, in the best unit every sample offers.

    Units, best first: the server's ``reasoning_tokens`` (answer = completion minus reasoning);
    ``completion_tokens`` split between reasoning and answer in proportion to their characters;
    whitespace-separated words (when no token counts were recorded, e.g. scored files).
    An output cut off by the length limit before ``</think>`` has no separate answer (SPEC §3
    scores all of it); for lengths it counts as reasoning, because the model never stopped
    thinking. Quantile bins only use ranks, so any of these units bins almost the same way.
    Errored samples get ``None``.
    """
    metas: list[Mapping[str, Any] | None] = (
        list(generation) if generation is not None else [None] * len(verdicts)
    )
    if len(metas) != len(verdicts):
        raise ValueError("generation metadata must be aligned with the verdicts")
    scored = [(v, m) for v, m in zip(verdicts, metas, strict=True) if v.scored]
    if scored and all(_int_field(m, "reasoning_tokens") is not None
                      and _int_field(m, "completion_tokens") is not None for _, m in scored):
        unit = "reasoning_tokens"
    elif scored and all(_int_field(m, "completion_tokens") is not None for _, m in scored):
        unit = "completion_tokens_apportioned"
    else:
        unit = "words"
    out: list[tuple[float, float] | None] = []
    for v, m in zip(verdicts, metas, strict=True):
        if not v.scored:
            out.append(None)
            continue
        reasoning, answer = v.reasoning, v.answer
        if not reasoning and m is not None and m.get("finish_reason") == "length":
            reasoning, answer = answer, ""
        if unit == "reasoning_tokens":
            r = float(_int_field(m, "reasoning_tokens") or 0)
            out.append((r, max(0.0, float(_int_field(m, "completion_tokens") or 0) - r)))
        elif unit == "completion_tokens_apportioned":
            total = float(_int_field(m, "completion_tokens") or 0)
            chars = len(reasoning) + len(answer)
            r = round(total * len(reasoning) / chars) if chars else 0.0
            out.append((float(r), total - r))
        else:
            out.append((float(_words(reasoning)), float(_words(answer))))
    return unit, out


def _describe(values: Sequence[float]) -> dict[str, Any] | None:
    if not values:
        return None
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return {
        "n": len(values),
        "mean": round(fmean(values), 2),
        "median": median(ordered),
        "p90": p90,
        "min": ordered[0],
        "max": ordered[-1],
    }


def by_reasoning_length(
    pairs: Sequence[tuple[Item, Verdict]],
    lengths: Sequence[tuple[float, float] | None],
    ci: CISettings | None = None,
    bins: int = REASONING_BINS,
) -> list[dict[str, Any]]:
    """HAcc (and SAcc, correctness) in quantile bins of reasoning length, over samples.

    Samples are ranked by length (ties kept in input order) and cut into ``bins`` groups of
    equal size, so bins stay equal even when many lengths tie. Intervals resample items within
    a bin.
    """
    ranked = sorted(
        ((ln[0], i) for i, ln in enumerate(lengths) if ln is not None), key=lambda t: t[0]
    )
    if not ranked:
        return []
    n_bins = min(bins, len(ranked))
    out = []
    for b in range(n_bins):
        chunk = ranked[b * len(ranked) // n_bins:(b + 1) * len(ranked) // n_bins]
        members = [pairs[i] for _, i in chunk]
        hard: dict[str, list[float]] = defaultdict(list)
        for item, v in members:
            hard[item.key].append(float(v.hard))
        row: dict[str, Any] = {
            "bin": b + 1,
            "min": chunk[0][0],
            "max": chunk[-1][0],
            "n_samples": len(chunk),
            "hacc": pct(fmean(float(v.hard) for _, v in members)),
            "sacc": pct(fmean(v.soft for _, v in members)),
        }
        if ci is not None:
            row["hacc_ci"] = _ci(list(hard.values()), ci, pooled=True)
        graded = [v.correct for _, v in members]
        if all(c is not None for c in graded):
            row["correct"] = pct(fmean(float(c) for c in graded))  # type: ignore[arg-type]
        out.append(row)
    return out


def _generation_stats(
    verdicts: Sequence[Verdict], generation: Sequence[Mapping[str, Any] | None] | None
) -> dict[str, Any]:
    """Truncation rate, error messages and usage: why a run's numbers may be off."""
    errors = Counter(
        (v.error or "").strip().splitlines()[0][:160] if (v.error or "").strip() else "error"
        for v in verdicts
        if not v.scored
    )
    out: dict[str, Any] = {"errors": dict(errors.most_common())}
    metas = list(generation) if generation is not None else []
    scored_metas = [m for v, m in zip(verdicts, metas, strict=False) if v.scored and m]
    reasons = [m.get("finish_reason") for m in scored_metas if m.get("finish_reason")]
    out["truncation"] = None
    if reasons:
        n_length = sum(1 for r in reasons if r == "length")
        out["truncation"] = {
            "n_with_finish_reason": len(reasons),
            "n_length": n_length,
            "rate": pct(n_length / len(reasons)),
            "finish_reasons": dict(Counter(str(r) for r in reasons).most_common()),
        }
    usage: dict[str, Any] = {}
    for name in ("prompt_tokens", "completion_tokens", "reasoning_tokens", "latency_s"):
        values = [float(m[name]) for m in scored_metas
                  if isinstance(m.get(name), (int, float)) and not isinstance(m.get(name), bool)]
        if values:
            usage[name] = {"total": round(sum(values), 2), "mean": round(fmean(values), 2)}
    out["usage"] = usage
    return out


def relative_diff(with_constraints: float | None, without: float | None) -> float | None:
    """The paper's Diff column: (w/ - w/o) / w/o x 100."""
    if with_constraints is None or without is None or without == 0:
        return None
    return round((with_constraints - without) / without * 100.0, ROUND)


def aggregate(
    pairs: Sequence[tuple[Item, Verdict]],
    control: Sequence[tuple[Item, Verdict]] | None = None,
    *,
    generation: Sequence[Mapping[str, Any] | None] | None = None,
    ci: CISettings | None = CISettings(),
) -> dict[str, Any]:
    """All metrics of a run (the ``metrics`` part of ``results.json``).

    ``generation`` is optional per-sample metadata aligned with ``pairs`` (the output records'
    ``finish_reason``, ``completion_tokens``, ``reasoning_tokens``, ``prompt_tokens``,
    ``latency_s``): with it the result has truncation, usage and token-based lengths.
    ``ci=None`` leaves the intervals out (faster, e.g. for RL rewards).
    """
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
        "overall": summary(scores, ci),
        "by_source": _group(scores, lambda s: s.item.source, SOURCES, ci),
        "by_count": _group(scores, lambda s: s.item.count_name, COUNT_NAMES, ci),
        "by_constraint": by_constraint(scores, ci),
        "by_category": by_category(scores, ci),
    }
    if ci is not None:
        result["ci"] = ci.describe()
    if any(s.n_samples > 1 for s in scores):
        result["overall"]["any_sample_hacc"] = pct(_mean([float(s.any_hard) for s in scores]))
        if ci is not None:
            result["overall"]["any_sample_hacc_ci"] = _ci([float(s.any_hard) for s in scores],
                                                          ci)
    quads = quadrants(scores)
    if quads is not None:
        result["quadrants"] = quads
        if ci is not None:
            result["quadrants_ci"] = quadrants_ci(scores, ci)
    verdicts = [v for _, v in pairs]
    unit, lengths = sample_lengths(verdicts, generation)
    reasoning_lengths = [ln[0] for ln in lengths if ln is not None]
    answer_lengths = [ln[1] for ln in lengths if ln is not None]
    result["lengths"] = {
        "unit": unit,
        "reasoning": _describe(reasoning_lengths),
        "answer": _describe(answer_lengths),
    }
    result["by_reasoning_length"] = by_reasoning_length(pairs, lengths, ci)
    result.update(_generation_stats(verdicts, generation))
    if control is not None:
        control_scores = item_scores(control)
        control_summary = summary(control_scores, ci)
        base = control_summary.get("correct")
        result["control"] = {
            "n_items": len(control_scores),
            "n_errors": sum(1 for _, v in control if not v.scored),
            "correct": base,
            "by_source": {
                k: v.get("correct")
                for k, v in _group(control_scores, lambda s: s.item.source,
                                   SOURCES).items()
            },
        }
        result["overall"]["correct_without_constraints"] = base
        result["overall"]["diff_percent"] = relative_diff(
            result["overall"].get("correct"), base
        )
        if ci is not None:
            result["control"]["correct_ci"] = control_summary.get("correct_ci")
    if "correct" in result["overall"]:
        result["correctness"] = _correctness(scores, control, ci)
    return result


def _correctness(
    scores: Sequence[ItemScore],
    control: Sequence[tuple[Item, Verdict]] | None,
    ci: CISettings | None,
) -> dict[str, Any]:
    """Correctness with and without constraints, and their paired difference.

    The paired difference (w/ minus w/o, in points, on the items both runs have) is what tells
    whether constraints cost accuracy: it cancels the difficulty of the items.
    """
    with_c = {s.item.key: [float(s.correct)] for s in scores if s.correct is not None}
    out: dict[str, Any] = {
        "with_constraints": pct(_mean([v[0] for v in with_c.values()])),
        "with_constraints_ci": _ci(list(with_c.values()), ci),
    }
    if control is None:
        return out
    control_scores = [s for s in item_scores(control) if s.correct is not None]
    without = {s.item.key: [float(s.correct or 0.0)] for s in control_scores}
    out["without_constraints"] = pct(_mean([v[0] for v in without.values()]))
    out["without_constraints_ci"] = _ci(list(without.values()), ci)
    out["diff_percent"] = relative_diff(out["with_constraints"], out["without_constraints"])
    if ci is not None and any(k in without for k in with_c):
        paired = stats.paired_difference(with_c, without, n_boot=ci.n_boot, seed=ci.seed,
                                         level=ci.level).scaled(100.0, ROUND)
        out["paired_difference"] = {
            "difference": paired.estimate,
            "ci": paired.as_list(),
            "n_common": paired.n_common,
            "p_value": round(paired.p_value, ROUND),
        }
    return out
