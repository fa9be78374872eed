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
    """``other`` minus ``base``, in points, per metric (absent when a run lacks the metric).

    Items are paired by identity (:mod:`mathif.identity`), never by file name and line:
    ``n_common`` items have scored responses in both runs, out of ``n_base_items`` and
    ``n_other_items`` items in each. ``refused`` says why the runs were not paired at all
    (different data sets), and then ``differences`` is empty.
    """

    base: str
    other: str
    n_common: int
    differences: dict[str, PairedDifference]
    n_base_items: int = 0
    n_other_items: int = 0
    refused: str | None = None

    @property
    def complete(self) -> bool:
        """Every item of both runs was paired."""
        return self.refused is None and self.n_common == self.n_base_items == self.n_other_items

    def describe(self) -> str:
        """One line for the console: how many items were paired, or why none were."""
        if self.refused is not None:
            return f"not pairing {self.other} with {self.base}: {self.refused}"
        text = (f"paired {self.other} with {self.base} on {self.n_common} items (of "
                f"{self.n_other_items} and {self.n_base_items})")
        if not self.complete:
            text += (f"; {self.n_base_items - self.n_common} of {self.base}'s and "
                     f"{self.n_other_items - self.n_common} of {self.other}'s items are not "
                     "paired (no counterpart, or no scored response)")
        return text


def _short(checksum: str) -> str:
    return checksum[:12]


def refusal(base: Run, other: Run) -> str | None:
    """Why ``base`` and ``other`` must not be paired (they ran on different data), or None.

    Runs that recorded their data files' checksum are of one data set only when the
    checksums agree; otherwise, runs that share no item identity are of different data.
    """
    a, b = base.data_checksum, other.data_checksum
    if a is not None and b is not None and a != b:
        return (f"they were run on different data sets (data checksum {_short(a)}… vs "
                f"{_short(b)}…): paired differences would compare different items")
    if not set(base.identities().values()) & set(other.identities().values()):
        return ("they have no item in common (different data sets): paired differences "
                "need the same items")
    return None


def compare(base: Run, other: Run, ci: CISettings | None = None) -> Comparison | None:
    """Paired differences of ``other`` against ``base`` on the items both have (paired by
    identity); ``None`` when a run has no per-sample records."""
    ci = CISettings() if ci is None else ci
    if not (base.has_samples and other.has_samples):
        return None
    n_base = len(set(base.identities().values()))
    n_other = len(set(other.identities().values()))
    why = refusal(base, other)
    if why is not None:
        return Comparison(base.label, other.label, 0, {}, n_base, n_other, refused=why)
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
    return Comparison(base.label, other.label, n_common, differences, n_base, n_other)


def compare_all(runs: Sequence[Run], ci: CISettings | None = None) -> list[Comparison]:
    """Every run after the first against the first (the reference of the report)."""
    out = []
    for run in runs[1:]:
        c = compare(runs[0], run, ci)
        if c is not None:
            out.append(c)
    return out
