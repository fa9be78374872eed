"""The plain-text summary of a run that ``score`` and ``eval`` print."""

from __future__ import annotations

from typing import Any

from mathif.results import Grading, Interval, Metrics, Rates, Truncation


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _grading_line(name: str, grading: Grading | None) -> list[str]:
    """Answers the grader could not decide, when there are any: they count as wrong."""
    if grading is None or not grading.n_ungraded:
        return []
    counts = grading.counts
    by_source = ", ".join(f"{src} {c.n_ungraded}" for src, c in grading.by_source.items()
                          if c.n_ungraded)
    return [f"{name}: {counts.n_ungraded} of {counts.n_graded} answers could not be graded "
            f"({counts.timeout} timeout, {counts.error} error; {by_source}); they count as "
            "wrong"]


def _cell(value: float | None, ci: Interval | None) -> str:
    """A rate with its interval: ``45.24 [40.48, 50.00]``."""
    if value is None:
        return "-"
    return f"{value:.2f}" + (f" [{ci[0]:.1f}, {ci[1]:.1f}]" if ci is not None else "")


def truncation_line(truncation: Truncation | None) -> str:
    """How many responses stopped at the token limit: a cut-off answer fails its constraints
    and is rarely correct, so a high rate explains low scores."""
    if truncation is None or truncation.rate is None:
        return "truncated (stopped at the token limit): not recorded"
    line = (f"truncated (stopped at the token limit): {truncation.n_length} of "
            f"{truncation.n_with_finish_reason} responses ({truncation.rate:.2f}%)")
    if truncation.n_length:
        line += "; their answers are cut off: raise --max-tokens to see them finish"
    return line


def format_summary(metrics: Metrics) -> str:
    """A plain-text summary table of a run (what the CLI prints): rates with their
    intervals, the truncation rate, ungraded answers, quadrants, constraint pass rates."""
    overall = metrics.overall
    lines = [
        f"items {metrics.n_items}  responses {metrics.n_responses}  "
        f"errors {metrics.n_errors}",
        "",
    ]
    header = ["", "items", "HAcc", "SAcc"]
    graded = metrics.graded
    if graded:
        header.append("Correct")
    rows = [header]

    def row(name: str, values: Rates) -> list[str]:
        cells = [name, _fmt(values.n_items), _cell(values.hacc, values.hacc_ci),
                 _cell(values.sacc, values.sacc_ci)]
        if graded:
            cells.append(_cell(values.correct, values.correct_ci))
        return cells

    rows.append(row("overall", overall.rates))
    for name, values in metrics.by_count.items():
        rows.append(row(name, values))
    for name, values in metrics.by_source.items():
        rows.append(row(name, values))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for r in rows:
        lines.append("  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i])
                               for i, c in enumerate(r)))
    if metrics.ci is not None:
        lines.append(f"[brackets: {100 * metrics.ci.level:.0f}% bootstrap interval over items]")
    lines += ["", truncation_line(metrics.truncation)]
    if metrics.control is not None:
        lines.append("")
        lines.append(
            f"correct without constraints {_fmt(overall.correct_without_constraints)}  "
            f"diff {_fmt(overall.diff_percent)}%"
        )
    ungraded = _grading_line("grading", metrics.grading)
    if metrics.control is not None:
        ungraded += _grading_line("control grading", metrics.control.grading)
    if ungraded:
        lines += ["", *ungraded]
    if metrics.quadrants is not None:
        q = metrics.quadrants
        lines.append("")
        labels = (
            (q.correct_followed, "correct+followed"),
            (q.correct_not_followed, "correct+not followed"),
            (q.wrong_followed, "wrong+followed"),
            (q.wrong_not_followed, "wrong+not followed"),
        )
        lines.append("quadrants  " + "  ".join(f"{label} {_fmt(v)}" for v, label in labels))
    scope = metrics.reasoning_scope
    if scope is not None:
        meaningful = scope.meaningful
        lines.append("")
        lines.append(
            f"inside the reasoning: HAcc {_fmt(scope.overall.hacc)}  SAcc "
            f"{_fmt(scope.overall.sacc)}  meaningful constraints' pass rate "
            f"{_fmt(meaningful.pass_rate if meaningful else None)}"
            f" (n={meaningful.n if meaningful else 0})")
    lines.append("")
    lines.append("pass rate by constraint type:")
    width = max((len(k) for k in metrics.by_constraint), default=0)
    for name, rate in metrics.by_constraint.items():
        lines.append(f"  {name.ljust(width)}  {_fmt(rate.pass_rate).rjust(6)}  "
                     f"(n={rate.n})")
    return "\n".join(lines)


def format_sweep(summary: dict[str, Any]) -> str:
    """The curve of a sweep (``sweep.json``): one line per value."""
    rows = [["value", "items", "HAcc", "SAcc", "Correct", "single", "double", "triple",
             "reasoning"]]
    for point in summary.get("points", []):
        overall = point["overall"]
        by_count = point.get("by_count", {})
        length = point.get("reasoning_length") or {}
        rows.append([str(point["value"]), str(point["n_items"]), _fmt(overall.get("hacc")),
                     _fmt(overall.get("sacc")), _fmt(overall.get("correct")),
                     *(_fmt((by_count.get(c) or {}).get("hacc"))
                       for c in ("single", "double", "triple")),
                     _fmt(length.get("mean"))])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [f"{summary.get('kind', '')} sweep (single/double/triple: HAcc; reasoning: mean "
             "length)", ""]
    for r in rows:
        lines.append("  ".join(c.rjust(widths[i]) for i, c in enumerate(r)))
    return "\n".join(lines)
