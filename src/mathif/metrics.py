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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from statistics import fmean, median

from mathif import constraints, stats
from mathif.data import COUNT_NAMES, SOURCES, Item
from mathif.responses import Number, Usage
from mathif.results import (
    GRADE_OUTCOMES,
    QUADRANTS,
    SCHEMA_VERSION,
    CISettings,
    Control,
    Correctness,
    GradeCounts,
    Grading,
    Interval,
    Lengths,
    LengthStats,
    Metrics,
    Overall,
    PairedDiff,
    PassRate,
    QuadrantIntervals,
    Quadrants,
    Rates,
    ReasoningBin,
    ReasoningScope,
    SamplesPerItem,
    Total,
    Truncation,
)
from mathif.samples import Sample

__all__ = ["QUADRANTS", "SCHEMA_VERSION", "CISettings", "ItemScore", "Metrics", "aggregate",
           "item_scores", "relative_diff", "sample_lengths"]

ROUND = 4
DEFAULT_CI = CISettings()
# The paper plots HAcc against reasoning length in six quantile bins of reasoning tokens.
REASONING_BINS = 6
LENGTH_BINNINGS = ("quantile", "equal-width")


def pct(value: float) -> float:
    return round(100.0 * value, ROUND)


def pct_or_none(value: float | None) -> float | None:
    return None if value is None else pct(value)


def _ci(values: Sequence[Sequence[float]] | Sequence[float],
        settings: CISettings | None, *, pooled: bool = False) -> Interval | None:
    """``(low, high)`` in percent for per-item values (a float, or a list per sample).

    ``pooled``: the statistic is the mean over all values rather than over item means.
    """
    if settings is None or not values:
        return None
    per_item = [v if isinstance(v, Sequence) else [v] for v in values]
    method = stats.bootstrap_pooled_ci if pooled else stats.bootstrap_ci
    interval = method(per_item, n_boot=settings.n_boot, seed=settings.seed,
                      level=settings.level)
    return (pct(interval.low), pct(interval.high))


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
    quadrants: tuple[float, float, float, float] | None  # in QUADRANTS order


def _quadrant(v: Sample) -> str:
    if v.correct:
        return "correct_followed" if v.hard else "correct_not_followed"
    return "wrong_followed" if v.hard else "wrong_not_followed"


def item_scores(samples: Iterable[Sample]) -> list[ItemScore]:
    """Group samples by item (first-seen order) and average over them."""
    grouped: dict[str, tuple[Item, list[Sample]]] = {}
    for sample in samples:
        grouped.setdefault(sample.key, (sample.item, []))[1].append(sample)
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
            q0, q1, q2, q3 = (fmean(float(_quadrant(v) == q) for v in graded) for q in QUADRANTS)
            quadrants = (q0, q1, q2, q3)
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


def summary(scores: Sequence[ItemScore], ci: CISettings | None = None) -> Rates:
    """HAcc, SAcc and (when graded) correctness over ``scores``, in percent.

    With ``ci``, each rate gets its ``(low, high)`` interval.
    """
    correct = None
    correct_ci = None
    if scores and all(s.correct is not None for s in scores):
        correct = pct(fmean(float(s.correct or 0.0) for s in scores))
        correct_ci = _ci([float(s.correct or 0.0) for s in scores], ci)
    return Rates(
        n_items=len(scores),
        hacc=pct_or_none(_mean([s.hard for s in scores])),
        sacc=pct_or_none(_mean([s.soft for s in scores])),
        hacc_ci=_ci([s.hard for s in scores], ci),
        sacc_ci=_ci([s.soft for s in scores], ci),
        correct=correct,
        correct_ci=correct_ci,
    )


def _group(
    scores: Sequence[ItemScore],
    key: Callable[[ItemScore], str],
    order: Sequence[str],
    ci: CISettings | None = None,
) -> dict[str, Rates]:
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
) -> dict[str, PassRate]:
    """Pass rate per constraint type: the mean over every instance of that type."""
    rates, per_item = _rates_by(scores, lambda name: name)
    order = [c for c in constraints.CONSTRAINT_IDS if c in rates]
    return {
        name: PassRate(n=len(rates[name]), pass_rate=pct(fmean(rates[name])),
                       pass_rate_ci=_ci(per_item[name], ci, pooled=True),
                       category=constraints.category(name))
        for name in order
    }


def by_category(
    scores: Sequence[ItemScore], ci: CISettings | None = None
) -> dict[str, PassRate]:
    rates, per_item = _rates_by(scores, constraints.category)
    order = ("length", "lexical", "format", "affix")
    return {
        cat: PassRate(n=len(rates[cat]), pass_rate=pct(fmean(rates[cat])),
                      pass_rate_ci=_ci(per_item[cat], ci, pooled=True))
        for cat in order
        if cat in rates
    }


def _item_quadrants(scores: Sequence[ItemScore]) -> list[tuple[float, float, float, float]]:
    """Each item's quadrant shares; empty unless every item was graded."""
    quads = [s.quadrants for s in scores]
    return [q for q in quads if q is not None] if None not in quads else []


def quadrants(scores: Sequence[ItemScore]) -> Quadrants | None:
    per_item = _item_quadrants(scores)
    if not per_item:
        return None
    return Quadrants(*(pct(fmean(q[i] for q in per_item)) for i in range(len(QUADRANTS))))


def quadrants_ci(scores: Sequence[ItemScore], ci: CISettings) -> QuadrantIntervals | None:
    per_item = _item_quadrants(scores)
    if not per_item:
        return None
    return QuadrantIntervals(*(_ci([q[i] for q in per_item], ci) for i in range(len(QUADRANTS))))


def _words(text: str) -> int:
    return len(text.split())


def _whole(value: Number | None) -> int | None:
    """A token count that is a whole number (as recorded in JSON), else ``None``."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def sample_lengths(samples: Sequence[Sample]) -> tuple[str, list[tuple[float, float] | None]]:
    """Reasoning and answer length of each sample, in the best unit every sample offers.

    Units, best first: the server's ``reasoning_tokens`` (answer = completion minus reasoning);
    ``completion_tokens`` split between reasoning and answer in proportion to their characters;
    whitespace-separated words (when no token counts were recorded, e.g. scored files).
    An output cut off by the length limit before ``</think>`` has no separate answer (SPEC §3
    scores all of it); for lengths it counts as reasoning, because the model never stopped
    thinking. Quantile bins only use ranks, so any of these units bins almost the same way.
    Errored samples get ``None``.
    """
    scored = [s.response.usage for s in samples if s.scored]
    if scored and all(_whole(u.reasoning_tokens) is not None
                      and _whole(u.completion_tokens) is not None for u in scored):
        unit = "reasoning_tokens"
    elif scored and all(_whole(u.completion_tokens) is not None for u in scored):
        unit = "completion_tokens_apportioned"
    else:
        unit = "words"
    out: list[tuple[float, float] | None] = []
    for s in samples:
        if not s.scored:
            out.append(None)
            continue
        m = s.response.usage
        reasoning, answer = s.reasoning, s.answer_part
        if not reasoning and m.finish_reason == "length":
            reasoning, answer = answer, ""
        if unit == "reasoning_tokens":
            r = float(_whole(m.reasoning_tokens) or 0)
            out.append((r, max(0.0, float(_whole(m.completion_tokens) or 0) - r)))
        elif unit == "completion_tokens_apportioned":
            total = float(_whole(m.completion_tokens) or 0)
            chars = len(reasoning) + len(answer)
            r = round(total * len(reasoning) / chars) if chars else 0.0
            out.append((float(r), total - r))
        else:
            out.append((float(_words(reasoning)), float(_words(answer))))
    return unit, out


def _describe(values: Sequence[float]) -> LengthStats | None:
    if not values:
        return None
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return LengthStats(n=len(values), mean=round(fmean(values), 2), median=median(ordered),
                       p90=p90, min=ordered[0], max=ordered[-1])


def by_reasoning_length(
    samples: Sequence[Sample],
    lengths: Sequence[tuple[float, float] | None],
    ci: CISettings | None = None,
    bins: int = REASONING_BINS,
    binning: str = "quantile",
) -> list[ReasoningBin]:
    """HAcc, SAcc (and correctness) in bins of reasoning length, over samples.

    ``quantile`` (the default, as the paper): samples are ranked by length (ties kept in input
    order) and cut into ``bins`` groups of equal size, so bins stay equal even when many
    lengths tie. ``equal-width``: ``bins`` equal stretches of length from the shortest to the
    longest (a bin may then be empty: no rates). Intervals resample items within a bin.
    """
    if binning not in LENGTH_BINNINGS:
        raise ValueError(f"binning must be one of {', '.join(LENGTH_BINNINGS)}")
    ranked = sorted(
        ((ln[0], i) for i, ln in enumerate(lengths) if ln is not None), key=lambda t: t[0]
    )
    if not ranked:
        return []
    chunks: list[tuple[list[tuple[float, int]], tuple[float, float] | None]]
    if binning == "quantile":
        n_bins = min(bins, len(ranked))
        chunks = [(ranked[b * len(ranked) // n_bins:(b + 1) * len(ranked) // n_bins], None)
                  for b in range(n_bins)]
    else:
        chunks = list(_equal_width(ranked, bins))
    return [_length_bin(b + 1, chunk, edges, samples, ci)
            for b, (chunk, edges) in enumerate(chunks)]


def _equal_width(ranked: Sequence[tuple[float, int]], bins: int
                 ) -> list[tuple[list[tuple[float, int]], tuple[float, float]]]:
    """Equal stretches of length; the last one includes the longest sample."""
    low, high = ranked[0][0], ranked[-1][0]
    if high == low:
        return [(list(ranked), (low, high))]
    width = (high - low) / bins
    out: list[tuple[list[tuple[float, int]], tuple[float, float]]] = [
        ([], (low + b * width, low + (b + 1) * width if b < bins - 1 else high))
        for b in range(bins)]
    for value, index in ranked:
        b = min(bins - 1, int((value - low) / width))
        out[b][0].append((value, index))
    return out


def _length_bin(number: int, chunk: Sequence[tuple[float, int]],
                edges: tuple[float, float] | None, samples: Sequence[Sample],
                ci: CISettings | None) -> ReasoningBin:
    low, high = edges if edges is not None else (chunk[0][0], chunk[-1][0])
    if not chunk:
        return ReasoningBin(bin=number, min=round(low, 2), max=round(high, 2), n_samples=0,
                            hacc=None, sacc=None)
    members = [samples[i] for _, i in chunk]
    hard: dict[str, list[float]] = defaultdict(list)
    soft: dict[str, list[float]] = defaultdict(list)
    for v in members:
        hard[v.key].append(float(v.hard))
        soft[v.key].append(v.soft)
    graded = [v.correct for v in members]
    correct = None
    if all(c is not None for c in graded):
        correct = pct(fmean(float(c or False) for c in graded))
    if edges is not None:
        low, high = round(low, 2), round(high, 2)
    return ReasoningBin(
        bin=number,
        min=low,
        max=high,
        n_samples=len(chunk),
        hacc=pct(fmean(float(v.hard) for v in members)),
        sacc=pct(fmean(v.soft for v in members)),
        hacc_ci=_ci(list(hard.values()), ci, pooled=True),
        correct=correct,
        sacc_ci=_ci(list(soft.values()), ci, pooled=True),
    )


def reasoning_scope(samples: Sequence[Sample], ci: CISettings | None = None
                    ) -> ReasoningScope | None:
    """The constraints checked on the reasoning, grouped as the answer's are (``None`` when
    the samples were judged on the answer only)."""
    from dataclasses import replace

    from mathif.samples import Verdict
    from mathif.scoring import REASONING_MEANINGFUL

    shadow = []
    for s in samples:
        v = s.verdict
        if v is None or v.reasoning_follow is None:
            if s.scored:
                return None
            shadow.append(s)
            continue
        follow = v.reasoning_follow
        shadow.append(replace(s, grade=None, verdict=Verdict(
            follow=follow, hard=all(follow), soft=sum(follow) / len(follow) if follow else 0.0,
            answer_part=v.reasoning, reasoning=v.reasoning)))
    if not any(s.scored for s in shadow):
        return None
    scores = item_scores(shadow)
    rates, per_item = _rates_by(
        scores, lambda name: "meaningful" if name in REASONING_MEANINGFUL else "other")
    meaningful = None
    if rates.get("meaningful"):
        meaningful = PassRate(n=len(rates["meaningful"]),
                              pass_rate=pct(fmean(rates["meaningful"])),
                              pass_rate_ci=_ci(per_item["meaningful"], ci, pooled=True))
    return ReasoningScope(
        overall=summary(scores, ci),
        by_count=_group(scores, lambda s: s.item.count_name, COUNT_NAMES, ci),
        by_constraint=by_constraint(scores, ci),
        meaningful=meaningful,
        meaningful_constraints=tuple(c for c in constraints.CONSTRAINT_IDS
                                     if c in REASONING_MEANINGFUL),
    )


USAGE_FIELDS = ("prompt_tokens", "completion_tokens", "reasoning_tokens", "latency_s")


def _usage_value(usage: Usage, name: str) -> float | None:
    value: float | None = getattr(usage, name)
    return value


def error_message(sample: Sample) -> str:
    """A failed generation's message as it is grouped: its first line, the item's key left
    out (a message naming its item would make every failure its own group)."""
    text = (sample.error or "").strip().replace(sample.key, "<item>")
    return text.splitlines()[0][:160] if text else "error"


def _errors(samples: Sequence[Sample]) -> dict[str, int]:
    """Failed generations, by message (see :func:`error_message`), most frequent first."""
    errors = Counter(error_message(v) for v in samples if not v.scored)
    return dict(errors.most_common())


def _truncation(usages: Sequence[Usage]) -> Truncation | None:
    reasons = [u.finish_reason for u in usages if u.finish_reason]
    if not reasons:
        return None
    n_length = sum(1 for r in reasons if r == "length")
    return Truncation(
        n_with_finish_reason=len(reasons),
        n_length=n_length,
        rate=pct(n_length / len(reasons)),
        finish_reasons=dict(Counter(str(r) for r in reasons).most_common()),
    )


def _usage(usages: Sequence[Usage]) -> dict[str, Total]:
    out: dict[str, Total] = {}
    for name in USAGE_FIELDS:
        values = [float(v) for u in usages if (v := _usage_value(u, name)) is not None]
        if values:
            out[name] = Total(total=round(sum(values), 2), mean=round(fmean(values), 2))
    return out


def relative_diff(with_constraints: float | None, without: float | None) -> float | None:
    """The paper's Diff column: (w/ - w/o) / w/o x 100."""
    if with_constraints is None or without is None or without == 0:
        return None
    return round((with_constraints - without) / without * 100.0, ROUND)


def aggregate(
    samples: Sequence[Sample],
    control: Sequence[Sample] | None = None,
    *,
    ci: CISettings | None = DEFAULT_CI,
    length_binning: str = "quantile",
) -> Metrics:
    """All metrics of a run (the ``metrics`` part of ``results.json``).

    Truncation, usage and token-based lengths come from the generation facts of each sample's
    response (``finish_reason``, token counts, ``latency_s``), when the run recorded them.
    ``ci=None`` leaves the intervals out (faster, e.g. for RL rewards). ``length_binning``
    chooses the bins of ``by_reasoning_length`` (``quantile``, as the paper, or
    ``equal-width``).
    """
    scores = item_scores(samples)
    rates = summary(scores, ci)
    control_part = _control(control, ci) if control is not None else None
    overall = Overall(rates)
    if any(s.n_samples > 1 for s in scores):
        any_hard = [float(s.any_hard) for s in scores]
        overall = Overall(rates, pct_or_none(_mean(any_hard)), _ci(any_hard, ci))
    if control_part is not None:
        overall = Overall(overall.rates, overall.any_sample_hacc, overall.any_sample_hacc_ci,
                          control_part.correct, relative_diff(rates.correct,
                                                              control_part.correct))
    unit, lengths = sample_lengths(samples)
    usages = [s.response.usage for s in samples if s.scored]
    return Metrics(
        n_items=len(scores),
        n_responses=sum(1 for v in samples if v.scored),
        n_errors=sum(1 for v in samples if not v.scored),
        items_without_response=len({s.key for s in samples}) - len(scores),
        samples_per_item=SamplesPerItem(min=min((s.n_samples for s in scores), default=0),
                                        max=max((s.n_samples for s in scores), default=0)),
        overall=overall,
        by_source=_group(scores, lambda s: s.item.source, SOURCES, ci),
        by_count=_group(scores, lambda s: s.item.count_name, COUNT_NAMES, ci),
        by_constraint=by_constraint(scores, ci),
        by_category=by_category(scores, ci),
        ci=ci,
        quadrants=quadrants(scores),
        quadrants_ci=quadrants_ci(scores, ci) if ci is not None else None,
        lengths=Lengths(unit=unit,
                        reasoning=_describe([ln[0] for ln in lengths if ln is not None]),
                        answer=_describe([ln[1] for ln in lengths if ln is not None])),
        by_reasoning_length=tuple(by_reasoning_length(samples, lengths, ci,
                                                      binning=length_binning)),
        errors=_errors(samples),
        truncation=_truncation(usages),
        usage=_usage(usages),
        control=control_part,
        correctness=_correctness(scores, control, ci) if rates.correct is not None else None,
        grading=grading_counts(samples),
        reasoning_scope=reasoning_scope(samples, ci),
        length_binning=length_binning,
    )


def _control(control: Sequence[Sample], ci: CISettings | None) -> Control:
    """Correctness of the run without constraints, overall and by source."""
    control_scores = item_scores(control)
    control_summary = summary(control_scores, ci)
    return Control(
        n_items=len(control_scores),
        n_errors=sum(1 for v in control if not v.scored),
        correct=control_summary.correct,
        by_source={k: v.correct for k, v in _group(control_scores, lambda s: s.item.source,
                                                   SOURCES).items()},
        correct_ci=control_summary.correct_ci,
        grading=grading_counts(control),
    )


def _grade_counts(samples: Sequence[Sample]) -> GradeCounts:
    reasons = [s.grade.reason for s in samples if s.grade is not None]
    return GradeCounts(n_graded=len(reasons), timeout=reasons.count("timeout"),
                       error=reasons.count("error"))


def grading_counts(samples: Sequence[Sample]) -> Grading | None:
    """How the grader decided each graded sample, overall and by source (``None``: not
    graded). Timeouts and errors are answers whose correctness is unknown."""
    graded = [s for s in samples if s.grade is not None]
    if not graded:
        return None
    outcomes = Counter(s.grade.reason for s in graded if s.grade is not None)
    order = [o for o in GRADE_OUTCOMES] + sorted(set(outcomes) - set(GRADE_OUTCOMES))
    by_source: dict[str, list[Sample]] = defaultdict(list)
    for s in graded:
        by_source[s.item.source].append(s)
    sources = [n for n in SOURCES if n in by_source] + sorted(set(by_source) - set(SOURCES))
    return Grading(
        counts=_grade_counts(graded),
        outcomes={o: outcomes.get(o, 0) for o in order},
        by_source={n: _grade_counts(by_source[n]) for n in sources},
    )


def _correctness(
    scores: Sequence[ItemScore],
    control: Sequence[Sample] | None,
    ci: CISettings | None,
) -> Correctness:
    """Correctness with and without constraints, and their paired difference.

    The paired difference (w/ minus w/o, in points, on the items both runs have) is what tells
    whether constraints cost accuracy: it cancels the difficulty of the items.
    """
    with_c = {s.item.key: [float(s.correct)] for s in scores if s.correct is not None}
    with_constraints = pct_or_none(_mean([v[0] for v in with_c.values()]))
    with_ci = _ci(list(with_c.values()), ci)
    if control is None:
        return Correctness(with_constraints, with_ci)
    control_scores = [s for s in item_scores(control) if s.correct is not None]
    without = {s.item.key: [float(s.correct or 0.0)] for s in control_scores}
    without_constraints = pct_or_none(_mean([v[0] for v in without.values()]))
    paired = None
    if ci is not None and any(k in without for k in with_c):
        diff = stats.paired_difference(with_c, without, n_boot=ci.n_boot, seed=ci.seed,
                                       level=ci.level).scaled(100.0, ROUND)
        paired = PairedDiff(difference=diff.estimate, ci=(diff.low, diff.high),
                            n_common=diff.n_common, p_value=round(diff.p_value, ROUND))
    return Correctness(
        with_constraints=with_constraints,
        with_constraints_ci=with_ci,
        control=True,
        without_constraints=without_constraints,
        without_constraints_ci=_ci(list(without.values()), ci),
        diff_percent=relative_diff(with_constraints, without_constraints),
        paired_difference=paired,
    )
