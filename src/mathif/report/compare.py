"""Model against model on the same items: paired differences with intervals.

Two runs of the benchmark share their items, and item difficulty dominates the variance (an
AIME item with three constraints is hard for every model). Comparing per item and resampling
items with both runs' values together removes that shared part, so a paired interval is much
narrower than the two runs' own intervals suggest and "A beats B" can be read off it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mathif.metrics import CISettings
from mathif.report.runs import Run
from mathif.samples import Sample
from mathif.stats import PairedDifference, paired_difference

# What each compared metric averages, per sample.
METRICS: dict[str, Callable[[Sample], float | None]] = {
    "hacc": lambda s: float(s.hard),
    "sacc": lambda s: s.soft,
    "correct": lambda s: None if s.correct is None else float(s.correct),
}


@dataclass(frozen=True)
class Comparison:
    """``other`` minus ``base``, in points, per metric (absent when a run lacks the metric)."""

    base: str
    other: str
    n_common: int
    differences: dict[str, PairedDifference]


def compare(base: Run, other: Run, ci: CISettings | None = None) -> Comparison | None:
    """Paired differences of ``other`` against ``base``, or ``None`` without shared items."""
    ci = CISettings() if ci is None else ci
    if not (base.has_samples and other.has_samples):
        return None
    differences: dict[str, PairedDifference] = {}
    n_common = 0
    for metric, value in METRICS.items():
        a = other.values(value)
        b = base.values(value)
        if not a or not b or not any(k in b for k in a):
            continue
        d = paired_difference(a, b, n_boot=ci.n_boot, seed=ci.seed, level=ci.level)
        differences[metric] = d.scaled(100.0, 4)
        n_common = max(n_common, d.n_common)
    if not differences:
        return None
    return Comparison(base.label, other.label, n_common, differences)


def compare_all(runs: Sequence[Run], ci: CISettings | None = None) -> list[Comparison]:
    """Every run after the first against the first (the reference of the report)."""
    out = []
    for run in runs[1:]:
        c = compare(runs[0], run, ci)
        if c is not None:
            out.append(c)
    return out
