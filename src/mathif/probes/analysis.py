"""The paper's probe analyses over finished runs: sweep curves (Fig. 7) and reminder pairs
(Table 6).

Both compare runs of one model on the same items: the runs of a sweep (one per value of
``--force-continue`` or ``--think-budget``), or a run without a probe and a run with
``--remind-constraints``. The numbers come from each run's metrics (recomputed by the report
from ``samples.jsonl``); the reminder's differences are paired by item, with bootstrap
intervals (:func:`mathif.stats.paired_difference`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mathif.data import COUNT_NAMES
from mathif.probes.settings import ProbeSettings
from mathif.results import Interval, Metrics, Rates
from mathif.samples import Sample
from mathif.stats import PairedDifference, paired_difference

SWEEP_FORMAT = "mathif-sweep/1"
SWEEP_FILE = "sweep.json"
METRICS: dict[str, Callable[[Sample], float | None]] = {
    "hacc": lambda s: float(s.hard),
    "sacc": lambda s: s.soft,
    "correct": lambda s: None if s.correct is None else float(s.correct),
}


def probe_of(manifest: Mapping[str, Any]) -> ProbeSettings | None:
    """The probe a run was made with, from its manifest (``None``: the plain benchmark)."""
    run = manifest.get("run")
    if not isinstance(run, Mapping):
        return None
    return ProbeSettings.from_settings(run.get("probe"))


def value_label(kind: str, value: int | None) -> str:
    if kind == "force_continue":
        return f"K={value}"
    if kind == "think_budget":
        return f"budget {value}"
    return "reminder"


def _rates_record(rates: Rates, intervals: bool) -> dict[str, Any]:
    return rates.to_record(intervals)


def sweep_record(kind: str, probe: Mapping[str, Any],
                 points: Sequence[tuple[int, str, Metrics]]) -> dict[str, Any]:
    """``sweep.json``: the curve of a sweep, one point per value (its run folder's metrics).

    Each point has the overall group and the groups by number of constraints (HAcc, SAcc,
    correctness with intervals, as in ``results.json``), and the mean reasoning length.
    """
    rows = []
    for value, folder, metrics in points:
        intervals = metrics.ci is not None
        reasoning = metrics.lengths.reasoning
        rows.append({
            "value": value,
            "run": folder,
            "n_items": metrics.n_items,
            "overall": _rates_record(metrics.overall.rates, intervals),
            "by_count": {k: _rates_record(v, intervals) for k, v in metrics.by_count.items()},
            "reasoning_length": {"unit": metrics.lengths.unit,
                                 "mean": reasoning.mean if reasoning else None,
                                 "median": reasoning.median if reasoning else None},
        })
    settings = {k: v for k, v in probe.items() if k != "value"}
    return {"format": SWEEP_FORMAT, "kind": kind, "probe": settings,
            "values": [p[0] for p in points], "points": rows}


@dataclass(frozen=True)
class CurvePoint:
    """One value of a sweep: its label and the rates, overall and by constraint count."""

    value: int
    label: str
    overall: Rates
    by_count: Mapping[str, Rates]
    reasoning_mean: float | None
    unit: str


def curve(kind: str, points: Sequence[tuple[int, Metrics]]) -> list[CurvePoint]:
    """The points of a sweep ordered by value."""
    out = []
    for value, metrics in sorted(points, key=lambda p: p[0]):
        reasoning = metrics.lengths.reasoning
        out.append(CurvePoint(value, value_label(kind, value), metrics.overall.rates,
                              {c: metrics.by_count[c] for c in COUNT_NAMES
                               if c in metrics.by_count},
                              reasoning.mean if reasoning else None, metrics.lengths.unit))
    return out


@dataclass(frozen=True)
class Paired:
    """One metric without and with a probe, and their paired difference (points)."""

    without: float | None
    with_probe: float | None
    difference: PairedDifference | None

    @property
    def interval(self) -> Interval | None:
        d = self.difference
        return None if d is None else (d.low, d.high)


def _values(samples: Sequence[Sample], metric: Callable[[Sample], float | None]
            ) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for s in samples:
        if s.scored and (value := metric(s)) is not None:
            out.setdefault(s.key, []).append(float(value))
    return out


def _rate(values: Mapping[str, list[float]], keys: Sequence[str]) -> float:
    """The mean of item means over ``keys``, in percent."""
    means = [sum(values[k]) / len(values[k]) for k in keys]
    return round(100.0 * sum(means) / len(means), 4)


def paired(base: Sequence[Sample], probed: Sequence[Sample], *, n_boot: int, seed: int,
           level: float) -> dict[str, Paired]:
    """HAcc, SAcc and correctness of two runs on the items they share: each run's rate over
    those items (item means, in percent) and the paired difference ``probed - base``."""
    out: dict[str, Paired] = {}
    for name, metric in METRICS.items():
        a, b = _values(probed, metric), _values(base, metric)
        common = [k for k in a if k in b]
        if not common:
            continue
        d = paired_difference(a, b, n_boot=n_boot, seed=seed, level=level).scaled(100.0, 4)
        out[name] = Paired(_rate(b, common), _rate(a, common), d)
    return out
