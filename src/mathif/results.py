"""``results.json`` as typed values: what :mod:`mathif.metrics` computes and reports read.

Every part of the documented layout (``docs/results-schema.md``) is a frozen dataclass with
``to_record()`` (its JSON form, key for key and in the documented order) and
``from_record()`` (the inverse, for run folders that only have a ``results.json``). Keys that
exist only in some runs follow the schema's rules: interval keys (``*_ci``) are written when
the run computed intervals (``metrics.ci`` is present), correctness keys when the run was
graded, control keys with a control run. Rates are percent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mathif import stats
from mathif.version import __version__

# Version of the results.json layout (docs/results-schema.md). Bump on a change that breaks
# readers (a key removed, renamed or re-typed); adding keys keeps the version.
SCHEMA_VERSION = 1

Interval = tuple[float, float]
Record = dict[str, Any]


def _ci_out(ci: Interval | None) -> list[float] | None:
    return None if ci is None else [ci[0], ci[1]]


def _ci_in(value: Any) -> Interval | None:
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
        return (value[0], value[1])
    return None


def _get(record: Mapping[str, Any], name: str) -> Any:
    """A required key of a results record (a clear error names it)."""
    try:
        return record[name]
    except KeyError:
        raise ValueError(f"results.json: missing key {name!r}") from None


@dataclass(frozen=True)
class CISettings:
    """How intervals are computed; written into results.json so a number can be re-derived."""

    n_boot: int = stats.DEFAULT_N_BOOT
    seed: int = stats.DEFAULT_SEED
    level: float = stats.DEFAULT_LEVEL

    def describe(self) -> Record:
        return {
            "method": "percentile bootstrap over items (an item's samples resampled together)",
            "level": self.level,
            "n_boot": self.n_boot,
            "seed": self.seed,
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> CISettings:
        return cls(n_boot=record.get("n_boot", stats.DEFAULT_N_BOOT),
                   seed=record.get("seed", stats.DEFAULT_SEED),
                   level=record.get("level", stats.DEFAULT_LEVEL))


@dataclass(frozen=True)
class Rates:
    """A *group*: HAcc, SAcc and (when graded) correctness over some items.

    ``correct`` is ``None`` when the group's items were not all graded (the key is absent).
    """

    n_items: int
    hacc: float | None
    sacc: float | None
    hacc_ci: Interval | None = None
    sacc_ci: Interval | None = None
    correct: float | None = None
    correct_ci: Interval | None = None

    def to_record(self, intervals: bool) -> Record:
        row: Record = {"n_items": self.n_items, "hacc": self.hacc, "sacc": self.sacc}
        if intervals:
            row["hacc_ci"] = _ci_out(self.hacc_ci)
            row["sacc_ci"] = _ci_out(self.sacc_ci)
        if self.correct is not None:
            row["correct"] = self.correct
            if intervals:
                row["correct_ci"] = _ci_out(self.correct_ci)
        return row

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Rates:
        return cls(_get(record, "n_items"), record.get("hacc"), record.get("sacc"),
                   _ci_in(record.get("hacc_ci")), _ci_in(record.get("sacc_ci")),
                   record.get("correct"), _ci_in(record.get("correct_ci")))


@dataclass(frozen=True)
class Overall:
    """The group of all items, plus what only the whole run has."""

    rates: Rates
    # only with several samples per item: share of items where one sample followed everything
    any_sample_hacc: float | None = None
    any_sample_hacc_ci: Interval | None = None
    # only with a control run (both may be null then)
    correct_without_constraints: float | None = None
    diff_percent: float | None = None

    def to_record(self, intervals: bool, control: bool) -> Record:
        row = self.rates.to_record(intervals)
        if self.any_sample_hacc is not None:
            row["any_sample_hacc"] = self.any_sample_hacc
            if intervals:
                row["any_sample_hacc_ci"] = _ci_out(self.any_sample_hacc_ci)
        if control:
            row["correct_without_constraints"] = self.correct_without_constraints
            row["diff_percent"] = self.diff_percent
        return row

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Overall:
        return cls(Rates.from_record(record), record.get("any_sample_hacc"),
                   _ci_in(record.get("any_sample_hacc_ci")),
                   record.get("correct_without_constraints"), record.get("diff_percent"))

    # The group's own numbers, for readers that do not care that this is the overall group.
    @property
    def n_items(self) -> int:
        return self.rates.n_items

    @property
    def hacc(self) -> float | None:
        return self.rates.hacc

    @property
    def sacc(self) -> float | None:
        return self.rates.sacc

    @property
    def correct(self) -> float | None:
        return self.rates.correct


@dataclass(frozen=True)
class PassRate:
    """Pass rate over every instance of a constraint type (``category`` set) or category."""

    n: int
    pass_rate: float | None
    pass_rate_ci: Interval | None = None
    category: str | None = None

    def to_record(self, intervals: bool) -> Record:
        row: Record = {} if self.category is None else {"category": self.category}
        row.update(n=self.n, pass_rate=self.pass_rate)
        if intervals:
            row["pass_rate_ci"] = _ci_out(self.pass_rate_ci)
        return row

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> PassRate:
        return cls(_get(record, "n"), record.get("pass_rate"),
                   _ci_in(record.get("pass_rate_ci")), record.get("category"))


QUADRANTS = ("correct_followed", "correct_not_followed", "wrong_followed", "wrong_not_followed")


@dataclass(frozen=True)
class Quadrants:
    """Share of items in each error quadrant (followed = every constraint followed)."""

    correct_followed: float
    correct_not_followed: float
    wrong_followed: float
    wrong_not_followed: float

    def values(self) -> tuple[float, float, float, float]:
        return (self.correct_followed, self.correct_not_followed, self.wrong_followed,
                self.wrong_not_followed)

    def to_record(self) -> Record:
        return dict(zip(QUADRANTS, self.values(), strict=True))

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Quadrants:
        return cls(*(_get(record, q) for q in QUADRANTS))


@dataclass(frozen=True)
class QuadrantIntervals:
    correct_followed: Interval | None
    correct_not_followed: Interval | None
    wrong_followed: Interval | None
    wrong_not_followed: Interval | None

    def values(self) -> tuple[Interval | None, ...]:
        return (self.correct_followed, self.correct_not_followed, self.wrong_followed,
                self.wrong_not_followed)

    def to_record(self) -> Record:
        return {q: _ci_out(v) for q, v in zip(QUADRANTS, self.values(), strict=True)}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> QuadrantIntervals:
        return cls(*(_ci_in(record.get(q)) for q in QUADRANTS))


@dataclass(frozen=True)
class LengthStats:
    n: int
    mean: float
    median: float
    p90: float
    min: float
    max: float

    def to_record(self) -> Record:
        return {"n": self.n, "mean": self.mean, "median": self.median, "p90": self.p90,
                "min": self.min, "max": self.max}

    @classmethod
    def from_record(cls, record: Mapping[str, Any] | None) -> LengthStats | None:
        if record is None:
            return None
        return cls(*(_get(record, k) for k in ("n", "mean", "median", "p90", "min", "max")))


@dataclass(frozen=True)
class Lengths:
    """Reasoning and answer lengths of the scored samples, in ``unit``."""

    unit: str
    reasoning: LengthStats | None
    answer: LengthStats | None

    def to_record(self) -> Record:
        return {"unit": self.unit,
                "reasoning": None if self.reasoning is None else self.reasoning.to_record(),
                "answer": None if self.answer is None else self.answer.to_record()}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Lengths:
        return cls(_get(record, "unit"), LengthStats.from_record(record.get("reasoning")),
                   LengthStats.from_record(record.get("answer")))


@dataclass(frozen=True)
class ReasoningBin:
    """One bin of reasoning length (over samples): quantile bins, or equal-width ones."""

    bin: int
    min: float
    max: float
    n_samples: int
    hacc: float | None
    sacc: float | None
    hacc_ci: Interval | None = None
    correct: float | None = None
    sacc_ci: Interval | None = None

    def to_record(self, intervals: bool) -> Record:
        row: Record = {"bin": self.bin, "min": self.min, "max": self.max,
                       "n_samples": self.n_samples, "hacc": self.hacc, "sacc": self.sacc}
        if intervals:
            row["hacc_ci"] = _ci_out(self.hacc_ci)
            row["sacc_ci"] = _ci_out(self.sacc_ci)
        if self.correct is not None:
            row["correct"] = self.correct
        return row

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> ReasoningBin:
        return cls(_get(record, "bin"), _get(record, "min"), _get(record, "max"),
                   _get(record, "n_samples"), record.get("hacc"), record.get("sacc"),
                   _ci_in(record.get("hacc_ci")), record.get("correct"),
                   _ci_in(record.get("sacc_ci")))


@dataclass(frozen=True)
class ReasoningScope:
    """The constraints checked on the reasoning (``--scope reasoning``/``both``).

    The same groups as the answer's (``overall``, ``by_count``, ``by_constraint``), without
    correctness; ``meaningful`` pools the instances of the constraints whose check means
    something on a reasoning trace (``meaningful_constraints``, see
    :data:`mathif.scoring.REASONING_MEANINGFUL`).
    """

    overall: Rates
    by_count: Mapping[str, Rates]
    by_constraint: Mapping[str, PassRate]
    meaningful: PassRate | None
    meaningful_constraints: tuple[str, ...]

    def to_record(self, intervals: bool) -> Record:
        by_constraint = {}
        for name, rate in self.by_constraint.items():
            row = rate.to_record(intervals)
            row["meaningful"] = name in self.meaningful_constraints
            by_constraint[name] = row
        return {
            "meaningful_constraints": list(self.meaningful_constraints),
            "overall": self.overall.to_record(intervals),
            "by_count": {k: v.to_record(intervals) for k, v in self.by_count.items()},
            "by_constraint": by_constraint,
            "meaningful": None if self.meaningful is None
            else self.meaningful.to_record(intervals),
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any] | None) -> ReasoningScope | None:
        if record is None:
            return None
        meaningful = record.get("meaningful")
        return cls(
            Rates.from_record(_get(record, "overall")),
            {k: Rates.from_record(v) for k, v in (record.get("by_count") or {}).items()},
            {k: PassRate.from_record(v) for k, v in (record.get("by_constraint") or {}).items()},
            PassRate.from_record(meaningful) if meaningful else None,
            tuple(record.get("meaningful_constraints") or ()),
        )


@dataclass(frozen=True)
class Truncation:
    """How many scored samples stopped at the token limit."""

    n_with_finish_reason: int
    n_length: int
    rate: float | None
    finish_reasons: Mapping[str, int]

    def to_record(self) -> Record:
        return {"n_with_finish_reason": self.n_with_finish_reason, "n_length": self.n_length,
                "rate": self.rate, "finish_reasons": dict(self.finish_reasons)}

    @classmethod
    def from_record(cls, record: Mapping[str, Any] | None) -> Truncation | None:
        if record is None:
            return None
        return cls(_get(record, "n_with_finish_reason"), _get(record, "n_length"),
                   record.get("rate"), dict(record.get("finish_reasons") or {}))


@dataclass(frozen=True)
class Total:
    total: float
    mean: float

    def to_record(self) -> Record:
        return {"total": self.total, "mean": self.mean}


# What a grader can answer (mathif.grading.Grade.reason); timeout and error mean "not graded".
GRADE_OUTCOMES = ("match", "mismatch", "no_answer", "timeout", "error")


@dataclass(frozen=True)
class GradeCounts:
    """How the grader decided the answers of some samples."""

    n_graded: int
    timeout: int
    error: int

    @property
    def n_ungraded(self) -> int:
        """Answers whose correctness is unknown (scored wrong): timeouts and grader errors."""
        return self.timeout + self.error

    def to_record(self) -> Record:
        return {"n_graded": self.n_graded, "timeout": self.timeout, "error": self.error}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> GradeCounts:
        return cls(_get(record, "n_graded"), _get(record, "timeout"), _get(record, "error"))


@dataclass(frozen=True)
class Grading:
    """Grading outcomes over samples: overall, by outcome and by source.

    A timeout or an error leaves an answer ungraded (it counts as wrong): a run with many of
    them has a correctness that is too low, which is why they are counted here.
    """

    counts: GradeCounts
    outcomes: Mapping[str, int]
    by_source: Mapping[str, GradeCounts]

    @property
    def n_ungraded(self) -> int:
        return self.counts.n_ungraded

    @property
    def ungraded_share(self) -> float:
        """Ungraded answers as a share (0-1) of the graded ones."""
        return self.n_ungraded / self.counts.n_graded if self.counts.n_graded else 0.0

    def to_record(self) -> Record:
        return {**self.counts.to_record(), "outcomes": dict(self.outcomes),
                "by_source": {k: v.to_record() for k, v in self.by_source.items()}}

    @classmethod
    def from_record(cls, record: Mapping[str, Any] | None) -> Grading | None:
        if record is None:
            return None
        return cls(GradeCounts.from_record(record), dict(record.get("outcomes") or {}),
                   {k: GradeCounts.from_record(v)
                    for k, v in (record.get("by_source") or {}).items()})


@dataclass(frozen=True)
class Control:
    """The run without constraints: its correctness, overall and by source."""

    n_items: int
    n_errors: int
    correct: float | None
    by_source: Mapping[str, float | None]
    correct_ci: Interval | None = None
    grading: Grading | None = None

    def to_record(self, intervals: bool) -> Record:
        row: Record = {"n_items": self.n_items, "n_errors": self.n_errors,
                       "correct": self.correct, "by_source": dict(self.by_source)}
        if intervals:
            row["correct_ci"] = _ci_out(self.correct_ci)
        if self.grading is not None:
            row["grading"] = self.grading.to_record()
        return row

    @classmethod
    def from_record(cls, record: Mapping[str, Any] | None) -> Control | None:
        if record is None:
            return None
        return cls(_get(record, "n_items"), _get(record, "n_errors"), record.get("correct"),
                   dict(record.get("by_source") or {}), _ci_in(record.get("correct_ci")),
                   Grading.from_record(record.get("grading")))


@dataclass(frozen=True)
class PairedDiff:
    """Correctness w/ minus w/o constraints, in points, on the items both runs have."""

    difference: float
    ci: Interval
    n_common: int
    p_value: float

    def to_record(self) -> Record:
        return {"difference": self.difference, "ci": _ci_out(self.ci),
                "n_common": self.n_common, "p_value": self.p_value}

    @classmethod
    def from_record(cls, record: Mapping[str, Any] | None) -> PairedDiff | None:
        if record is None:
            return None
        ci = _ci_in(_get(record, "ci"))
        if ci is None:
            raise ValueError("results.json: paired_difference.ci is not [low, high]")
        return cls(_get(record, "difference"), ci, _get(record, "n_common"),
                   _get(record, "p_value"))


@dataclass(frozen=True)
class Correctness:
    """Correctness with and without constraints (the latter with a control run)."""

    with_constraints: float | None
    with_constraints_ci: Interval | None
    # present with a control run only
    control: bool = False
    without_constraints: float | None = None
    without_constraints_ci: Interval | None = None
    diff_percent: float | None = None
    paired_difference: PairedDiff | None = None

    def to_record(self) -> Record:
        row: Record = {"with_constraints": self.with_constraints,
                       "with_constraints_ci": _ci_out(self.with_constraints_ci)}
        if not self.control:
            return row
        row["without_constraints"] = self.without_constraints
        row["without_constraints_ci"] = _ci_out(self.without_constraints_ci)
        row["diff_percent"] = self.diff_percent
        if self.paired_difference is not None:
            row["paired_difference"] = self.paired_difference.to_record()
        return row

    @classmethod
    def from_record(cls, record: Mapping[str, Any] | None) -> Correctness | None:
        if record is None:
            return None
        return cls(record.get("with_constraints"), _ci_in(record.get("with_constraints_ci")),
                   "without_constraints" in record, record.get("without_constraints"),
                   _ci_in(record.get("without_constraints_ci")), record.get("diff_percent"),
                   PairedDiff.from_record(record.get("paired_difference")))


@dataclass(frozen=True)
class SamplesPerItem:
    min: int
    max: int

    def to_record(self) -> Record:
        return {"min": self.min, "max": self.max}


@dataclass(frozen=True)
class Metrics:
    """The ``metrics`` part of ``results.json`` (see docs/results-schema.md)."""

    n_items: int
    n_responses: int
    n_errors: int
    items_without_response: int
    samples_per_item: SamplesPerItem
    overall: Overall
    by_source: Mapping[str, Rates]
    by_count: Mapping[str, Rates]
    by_constraint: Mapping[str, PassRate]
    by_category: Mapping[str, PassRate]
    lengths: Lengths
    by_reasoning_length: tuple[ReasoningBin, ...]
    errors: Mapping[str, int]
    truncation: Truncation | None
    usage: Mapping[str, Total]
    ci: CISettings | None = None
    quadrants: Quadrants | None = None
    quadrants_ci: QuadrantIntervals | None = None
    control: Control | None = None
    correctness: Correctness | None = None
    grading: Grading | None = None
    reasoning_scope: ReasoningScope | None = None
    # how by_reasoning_length was binned: "quantile" (results.json) or "equal-width"
    length_binning: str = "quantile"

    @property
    def graded(self) -> bool:
        return self.overall.correct is not None

    def to_record(self) -> Record:
        intervals = self.ci is not None
        out: Record = {
            "n_items": self.n_items,
            "n_responses": self.n_responses,
            "n_errors": self.n_errors,
            "items_without_response": self.items_without_response,
            "samples_per_item": self.samples_per_item.to_record(),
            "overall": self.overall.to_record(intervals, self.control is not None),
            "by_source": {k: v.to_record(intervals) for k, v in self.by_source.items()},
            "by_count": {k: v.to_record(intervals) for k, v in self.by_count.items()},
            "by_constraint": {k: v.to_record(intervals) for k, v in self.by_constraint.items()},
            "by_category": {k: v.to_record(intervals) for k, v in self.by_category.items()},
        }
        if self.ci is not None:
            out["ci"] = self.ci.describe()
        if self.quadrants is not None:
            out["quadrants"] = self.quadrants.to_record()
            if self.quadrants_ci is not None:
                out["quadrants_ci"] = self.quadrants_ci.to_record()
        out["lengths"] = self.lengths.to_record()
        out["by_reasoning_length"] = [b.to_record(intervals) for b in self.by_reasoning_length]
        out["errors"] = dict(self.errors)
        out["truncation"] = None if self.truncation is None else self.truncation.to_record()
        out["usage"] = {k: v.to_record() for k, v in self.usage.items()}
        if self.control is not None:
            out["control"] = self.control.to_record(intervals)
        if self.correctness is not None:
            out["correctness"] = self.correctness.to_record()
        if self.grading is not None:
            out["grading"] = self.grading.to_record()
        if self.reasoning_scope is not None:
            out["reasoning_scope"] = self.reasoning_scope.to_record(intervals)
        if self.length_binning != "quantile":
            out["length_binning"] = self.length_binning
        return out

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Metrics:
        spi = record.get("samples_per_item") or {}
        quads = record.get("quadrants")
        quads_ci = record.get("quadrants_ci")
        return cls(
            n_items=_get(record, "n_items"),
            n_responses=_get(record, "n_responses"),
            n_errors=_get(record, "n_errors"),
            items_without_response=record.get("items_without_response", 0),
            samples_per_item=SamplesPerItem(spi.get("min", 0), spi.get("max", 0)),
            overall=Overall.from_record(_get(record, "overall")),
            by_source={k: Rates.from_record(v) for k, v in record.get("by_source", {}).items()},
            by_count={k: Rates.from_record(v) for k, v in record.get("by_count", {}).items()},
            by_constraint={k: PassRate.from_record(v)
                           for k, v in record.get("by_constraint", {}).items()},
            by_category={k: PassRate.from_record(v)
                         for k, v in record.get("by_category", {}).items()},
            lengths=Lengths.from_record(record.get("lengths") or {"unit": "words"}),
            by_reasoning_length=tuple(ReasoningBin.from_record(b)
                                      for b in record.get("by_reasoning_length") or ()),
            errors=dict(record.get("errors") or {}),
            truncation=Truncation.from_record(record.get("truncation")),
            usage={k: Total(v["total"], v["mean"]) for k, v in
                   (record.get("usage") or {}).items()},
            ci=CISettings.from_record(record["ci"]) if record.get("ci") else None,
            quadrants=Quadrants.from_record(quads) if quads else None,
            quadrants_ci=QuadrantIntervals.from_record(quads_ci) if quads_ci else None,
            control=Control.from_record(record.get("control")),
            correctness=Correctness.from_record(record.get("correctness")),
            grading=Grading.from_record(record.get("grading")),
            reasoning_scope=ReasoningScope.from_record(record.get("reasoning_scope")),
            length_binning=str(record.get("length_binning") or "quantile"),
        )


@dataclass(frozen=True)
class Results:
    """A whole ``results.json``: the metrics and the manifest of what was run.

    The manifest is provenance, kept as the mapping it is (data origin and checksums, grader,
    input files, model and settings for ``mathif eval``).
    """

    metrics: Metrics
    manifest: Mapping[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION
    mathif_version: str = __version__

    def to_record(self) -> Record:
        return {
            "schema_version": self.schema_version,
            "mathif_version": self.mathif_version,
            "manifest": dict(self.manifest),
            "metrics": self.metrics.to_record(),
        }

    def to_json(self) -> str:
        """The file's text: what ``score --out`` and ``eval`` write."""
        return json.dumps(self.to_record(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Results:
        return cls(
            metrics=Metrics.from_record(_get(record, "metrics")),
            manifest=dict(record.get("manifest") or {}),
            schema_version=record.get("schema_version", SCHEMA_VERSION),
            mathif_version=record.get("mathif_version", ""),
        )
