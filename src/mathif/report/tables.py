"""The report's tables as plain data, rendered by the Markdown, HTML and LaTeX writers.

Building each table once and rendering it three ways keeps the three outputs in agreement: a
number cannot be rounded one way in the Markdown and another in the HTML.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mathif import constraints
from mathif.data import SOURCES
from mathif.report import paper
from mathif.report.compare import Comparison
from mathif.report.runs import Run
from mathif.results import QUADRANTS, Grading, PassRate, Rates

SOURCE_NAMES = {"gsm8k": "GSM8K", "math500": "MATH500", "minerva": "Minerva",
                "olympiad": "Olympiad", "aime": "AIME"}
QUADRANT_NAMES = {
    "correct_followed": "correct, followed",
    "correct_not_followed": "correct, not followed",
    "wrong_followed": "wrong, followed",
    "wrong_not_followed": "wrong, not followed",
}
LENGTH_UNIT_NAMES = {
    "reasoning_tokens": "reasoning tokens (from the server)",
    "completion_tokens_apportioned": "tokens (completion tokens split by character share)",
    "words": "words (whitespace-separated; no token counts were recorded)",
}


@dataclass(frozen=True)
class Cell:
    """A table cell: a number with an optional interval, or text."""

    value: float | None = None
    ci: Sequence[float | None] | None = None
    text: str | None = None
    signed: bool = False

    def plain(self, with_ci: bool = True) -> str:
        if self.text is not None:
            return self.text
        if self.value is None:
            return "–"
        number = f"{self.value:+.2f}" if self.signed else f"{self.value:.2f}"
        if with_ci and self.ci and None not in self.ci:
            low, high = self.ci[0], self.ci[1]
            return f"{number} [{low:.1f}, {high:.1f}]"
        return number


@dataclass
class Table:
    """Columns and rows of cells; ``reference`` marks rows that are the paper's numbers."""

    key: str
    title: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    reference: list[bool] = field(default_factory=list)
    note: str = ""

    def add(self, cells: list[Cell], *, reference: bool = False) -> None:
        self.rows.append(cells)
        self.reference.append(reference)


def _t(text: Any) -> Cell:
    return Cell(text=str(text))


def _hacc(row: Rates | None) -> Cell:
    return Cell() if row is None else Cell(row.hacc, row.hacc_ci)


def _sacc(row: Rates | None) -> Cell:
    return Cell() if row is None else Cell(row.sacc, row.sacc_ci)


def _correct(row: Rates | None) -> Cell:
    return Cell() if row is None else Cell(row.correct, row.correct_ci)


def _pass(row: PassRate | None) -> Cell:
    return Cell() if row is None else Cell(row.pass_rate, row.pass_rate_ci)


def ci_note(runs: Sequence[Run]) -> str:
    ci = next((r.metrics.ci for r in runs if r.metrics.ci is not None), None)
    if ci is None:
        return ""
    return (f"Brackets: {100 * ci.level:.0f}% interval, percentile "
            f"bootstrap over items ({ci.n_boot} resamples, seed {ci.seed}); "
            "the paper reports no intervals.")


def _ungraded(grading: Grading | None) -> str:
    """Answers the grader could not decide: they count as wrong."""
    if grading is None:
        return "–"
    counts = grading.counts
    if not counts.n_ungraded:
        return "0"
    return (f"{counts.n_ungraded} ({100 * grading.ungraded_share:.1f}%: {counts.timeout} "
            f"timeout, {counts.error} error)")


def paper_rows(runs: Sequence[Run]) -> list[paper.PaperRow]:
    """Paper rows matching the runs' models, each once, in run order."""
    out: list[paper.PaperRow] = []
    for run in runs:
        row = run.paper_row
        if row is not None and row not in out:
            out.append(row)
    return out


def runs_table(runs: Sequence[Run]) -> Table:
    table = Table("runs", "Runs", ["Run", "Model", "Items", "Responses", "Errors",
                                   "Samples/item", "Grader", "Ungraded answers",
                                   "Official data", "Path"],
                  note="Ungraded answers: the grader timed out or failed; they count as wrong.")
    for run in runs:
        m = run.metrics
        spi = m.samples_per_item
        data = run.manifest.get("data") or {}
        official = data.get("official")
        samples = f"{spi.min}" if spi.min == spi.max else f"{spi.min}–{spi.max}"
        table.add([_t(run.label), _t(run.model or "–"), _t(m.n_items),
                   _t(m.n_responses), _t(m.n_errors), _t(samples),
                   _t(run.manifest.get("grader") or "–"), _t(_ungraded(m.grading)),
                   _t("–" if official is None else ("yes" if official else "NO")),
                   _t(run.path)])
    return table


def summary_table(runs: Sequence[Run], *, with_paper: bool = True) -> Table:
    """The paper's Table 3 row format, one row per run, then the paper's rows for the same
    models."""
    table = Table("summary", "Summary (Table 3 format)",
                  ["Model", "HAcc", "SAcc", "Corr. w/o const.", "Corr. w/ const.", "Diff (%)"],
                  note=ci_note(runs))
    for run in runs:
        o = run.metrics.overall
        control = run.metrics.control
        without = Cell(o.correct_without_constraints,
                       control.correct_ci if control is not None else None)
        table.add([_t(run.label), _hacc(o.rates), _sacc(o.rates), without, _correct(o.rates),
                   Cell(o.diff_percent, signed=True)])
    if with_paper:
        for row in paper_rows(runs):
            table.add([_t(row.label), Cell(row.hacc), Cell(row.sacc),
                       Cell(row.correct_without_constraints), Cell(row.correct_with_constraints),
                       Cell(row.diff_percent, signed=True)], reference=True)
    return table


def multi_sample_table(runs: Sequence[Run]) -> Table | None:
    rows = [r for r in runs if r.metrics.overall.any_sample_hacc is not None]
    if not rows:
        return None
    table = Table("samples", "Several samples per item",
                  ["Run", "Samples/item", "HAcc (mean over samples)",
                   "Any sample follows all constraints"],
                  note="HAcc averages each item over its samples first; the second column "
                  "counts an item as followed when at least one sample followed everything.")
    for run in rows:
        o = run.metrics.overall
        spi = run.metrics.samples_per_item
        table.add([_t(run.label), _t(f"{spi.min}–{spi.max}"), _hacc(o.rates),
                   Cell(o.any_sample_hacc, o.any_sample_hacc_ci)])
    return table


def paired_table(comparisons: Sequence[Comparison]) -> Table | None:
    if not comparisons:
        return None
    base = comparisons[0].base
    table = Table("paired", f"Paired differences against {base}",
                  ["Run", "Δ HAcc", "Δ SAcc", "Δ Correct", "Items paired",
                   "Items (base / run)", "Reading"],
                  note="Run minus base, in points, on the items both runs have, paired by "
                  "what the items are (the official key of the same question and constraints, "
                  "else a fingerprint of the item), not by file name or line; the interval "
                  "resamples items with both runs' values together. An interval that excludes "
                  "0 means the runs differ beyond sampling noise. Runs of different data sets "
                  "are not paired.")
    for c in comparisons:
        cells = [_t(c.other)]
        verdicts = []
        for metric in ("hacc", "sacc", "correct"):
            d = c.differences.get(metric)
            if d is None:
                cells.append(Cell())
                continue
            cells.append(Cell(d.estimate, [d.low, d.high], signed=True))
            if d.excludes_zero:
                verdicts.append(f"{metric} {'higher' if d.estimate > 0 else 'lower'}")
        cells.append(_t(c.n_common))
        cells.append(_t(f"{c.n_base_items} / {c.n_other_items}"))
        if c.refused is not None:
            cells.append(_t(f"not paired: {c.refused}"))
        else:
            cells.append(_t(", ".join(verdicts) if verdicts else "no clear difference"))
        table.add(cells)
    return table


def count_table(runs: Sequence[Run], *, with_paper: bool = True) -> Table:
    table = Table("by_count", "By number of constraints (Table 8 format)",
                  ["Model", "Single Acc", "Double HAcc", "Double SAcc", "Triple HAcc",
                   "Triple SAcc"],
                  note="With one constraint, HAcc = SAcc.")
    for run in runs:
        bc = run.metrics.by_count
        table.add([_t(run.label), _hacc(bc.get("single")), _hacc(bc.get("double")),
                   _sacc(bc.get("double")), _hacc(bc.get("triple")),
                   _sacc(bc.get("triple"))])
    if with_paper:
        for row in paper_rows(runs):
            if not row.by_count:
                continue
            c = row.by_count
            table.add([_t(row.label), Cell(c["single"]["hacc"]), Cell(c["double"]["hacc"]),
                       Cell(c["double"]["sacc"]), Cell(c["triple"]["hacc"]),
                       Cell(c["triple"]["sacc"])], reference=True)
    return table


def source_table(runs: Sequence[Run], metric: str, *, with_paper: bool = True) -> Table:
    name = "HAcc" if metric == "hacc" else "SAcc"
    paper_table = "Table 9" if metric == "hacc" else "Table 10"
    table = Table(f"by_source_{metric}", f"{name} by source ({paper_table} format)",
                  ["Model", *(SOURCE_NAMES[s] for s in SOURCES)])
    for run in runs:
        bs = run.metrics.by_source
        cell = _hacc if metric == "hacc" else _sacc
        table.add([_t(run.label), *(cell(bs.get(s)) for s in SOURCES)])
    if with_paper:
        for row in paper_rows(runs):
            if row.by_source:
                table.add([_t(row.label), *(Cell(row.by_source[s][metric]) for s in SOURCES)],
                          reference=True)
    return table


def correct_by_source_table(runs: Sequence[Run]) -> Table | None:
    graded = [r for r in runs if r.metrics.graded]
    if not graded:
        return None
    table = Table("correct_by_source", "Correctness by source",
                  ["Run", *(SOURCE_NAMES[s] for s in SOURCES)])
    for run in graded:
        bs = run.metrics.by_source
        table.add([_t(run.label), *(_correct(bs.get(s)) for s in SOURCES)])
        control = run.metrics.control
        if control is not None:
            table.add([_t(f"{run.label} w/o const."),
                       *(Cell(control.by_source.get(s)) for s in SOURCES)])
    return table


def constraint_table(runs: Sequence[Run]) -> Table:
    table = Table("by_constraint", "Pass rate by constraint type",
                  ["Constraint", "Category", *(r.label for r in runs), "Instances"])
    names = [c for c in constraints.CONSTRAINT_IDS
             if any(c in r.metrics.by_constraint for r in runs)]
    for name in names:
        rows = [r.metrics.by_constraint.get(name) for r in runs]
        first = next(row for row in rows if row is not None)
        table.add([_t(name), _t(first.category), *(_pass(row) for row in rows),
                   _t(" / ".join(str(row.n) if row else "–" for row in rows))])
    return table


def category_table(runs: Sequence[Run]) -> Table:
    table = Table("by_category", "Pass rate by constraint category",
                  ["Category", *(r.label for r in runs), "Instances"])
    for cat in ("length", "lexical", "format", "affix"):
        rows = [r.metrics.by_category.get(cat) for r in runs]
        if all(row is None for row in rows):
            continue
        table.add([_t(cat), *(_pass(row) for row in rows),
                   _t(" / ".join(str(row.n) if row else "–" for row in rows))])
    return table


def correctness_table(runs: Sequence[Run]) -> Table | None:
    graded = [(r, r.metrics.correctness) for r in runs if r.metrics.correctness is not None]
    if not graded:
        return None
    table = Table("correctness", "Correctness with and without constraints",
                  ["Run", "W/ constraints", "W/o constraints", "Diff (%)",
                   "Paired w/ − w/o (points)"],
                  note="Diff is the paper's relative change (w/ − w/o) / w/o × 100; the paired "
                  "difference is on the items both runs have.")
    for run, c in graded:
        paired = c.paired_difference
        table.add([
            _t(run.label),
            Cell(c.with_constraints, c.with_constraints_ci),
            Cell(c.without_constraints, c.without_constraints_ci),
            Cell(c.diff_percent, signed=True),
            Cell(paired.difference, paired.ci, signed=True) if paired else Cell(),
        ])
    return table


def quadrant_table(runs: Sequence[Run]) -> Table | None:
    have = [r for r in runs if r.metrics.quadrants is not None]
    if not have:
        return None
    table = Table("quadrants", "Error quadrants (share of items, %)",
                  ["Run", *QUADRANT_NAMES.values()],
                  note="Followed = all constraints of the item followed (HAcc); correct = the "
                  "final answer matches the gold answer.")
    for run in have:
        q = run.metrics.quadrants
        qci = run.metrics.quadrants_ci
        if q is None:
            continue
        cis = qci.values() if qci is not None else (None,) * len(QUADRANTS)
        table.add([_t(run.label), *(Cell(v, ci) for v, ci in zip(q.values(), cis,
                                                                   strict=True))])
    return table


def reasoning_table(run: Run) -> Table | None:
    bins = run.metrics.by_reasoning_length
    if not bins:
        return None
    unit = run.metrics.lengths.unit
    how = ("six quantile bins of reasoning length, as in the paper (Fig. 6)"
           if run.metrics.length_binning == "quantile"
           else "six equal-width bins of reasoning length (a bin may be empty)")
    table = Table(f"reasoning_{run.label}", f"HAcc by reasoning length: {run.label}",
                  ["Bin", f"Reasoning length ({unit})", "Samples", "HAcc", "SAcc", "Correct"],
                  note=f"{how[0].upper()}{how[1:]}; length unit: "
                  f"{LENGTH_UNIT_NAMES.get(unit, unit)}.")
    for b in bins:
        table.add([_t(b.bin), _t(f"{b.min:g}–{b.max:g}"), _t(b.n_samples),
                   Cell(b.hacc, b.hacc_ci), Cell(b.sacc, b.sacc_ci), Cell(b.correct)])
    return table


def generation_table(runs: Sequence[Run]) -> Table:
    table = Table("generation", "Lengths, truncation and errors",
                  ["Run", "Length unit", "Reasoning mean", "Reasoning median",
                   "Reasoning p90", "Answer mean", "Truncated (finish reason length)",
                   "Errors"])
    for run in runs:
        lengths = run.metrics.lengths
        r, a = lengths.reasoning, lengths.answer
        trunc = run.metrics.truncation
        errors = run.metrics.errors
        error_text = "; ".join(f"{msg} ×{n}" for msg, n in list(errors.items())[:3]) or "none"
        table.add([
            _t(run.label), _t(lengths.unit),
            Cell(r.mean if r else None), Cell(r.median if r else None),
            Cell(r.p90 if r else None), Cell(a.mean if a else None),
            _t(f"{trunc.rate:.2f}% ({trunc.n_length}/{trunc.n_with_finish_reason})"
               if trunc and trunc.rate is not None else "not recorded"),
            _t(f"{run.metrics.n_errors}" + (f": {error_text}" if errors else "")),
        ])
    return table


def all_tables(runs: Sequence[Run], comparisons: Sequence[Comparison],
               *, with_paper: bool = True) -> list[Table]:
    """Every table of the report, in reading order (absent sections left out)."""
    tables: list[Table | None] = [
        runs_table(runs),
        summary_table(runs, with_paper=with_paper),
        paired_table(comparisons),
        multi_sample_table(runs),
        count_table(runs, with_paper=with_paper),
        source_table(runs, "hacc", with_paper=with_paper),
        source_table(runs, "sacc", with_paper=with_paper),
        correct_by_source_table(runs),
        constraint_table(runs),
        category_table(runs),
        correctness_table(runs),
        quadrant_table(runs),
        *(reasoning_table(r) for r in runs),
        generation_table(runs),
    ]
    return [t for t in tables if t is not None]

