"""The plain-text summary of a run that ``score`` and ``eval`` print."""

from __future__ import annotations

from typing import Any


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def format_summary(metrics: dict[str, Any]) -> str:
    """A plain-text summary table of a run (what the CLI prints)."""
    overall = metrics["overall"]
    lines = [
        f"items {metrics['n_items']}  responses {metrics['n_responses']}  "
        f"errors {metrics['n_errors']}",
        "",
    ]
    header = ["", "items", "HAcc", "SAcc"]
    graded = "correct" in overall
    if graded:
        header.append("Correct")
    rows = [header]

    def row(name: str, values: dict[str, Any]) -> list[str]:
        cells = [name, _fmt(values.get("n_items")), _fmt(values.get("hacc")),
                 _fmt(values.get("sacc"))]
        if graded:
            cells.append(_fmt(values.get("correct")))
        return cells

    rows.append(row("overall", overall))
    for name, values in metrics["by_count"].items():
        rows.append(row(name, values))
    for name, values in metrics["by_source"].items():
        rows.append(row(name, values))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for r in rows:
        lines.append("  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i])
                               for i, c in enumerate(r)))
    if "correct_without_constraints" in overall:
        lines.append("")
        lines.append(
            f"correct without constraints {_fmt(overall['correct_without_constraints'])}  "
            f"diff {_fmt(overall.get('diff_percent'))}%"
        )
    if "quadrants" in metrics:
        q = metrics["quadrants"]
        lines.append("")
        labels = {
            "correct_followed": "correct+followed",
            "correct_not_followed": "correct+not followed",
            "wrong_followed": "wrong+followed",
            "wrong_not_followed": "wrong+not followed",
        }
        lines.append("quadrants  " + "  ".join(f"{label} {_fmt(q[k])}"
                                               for k, label in labels.items()))
    lines.append("")
    lines.append("pass rate by constraint type:")
    width = max((len(k) for k in metrics["by_constraint"]), default=0)
    for name, values in metrics["by_constraint"].items():
        lines.append(f"  {name.ljust(width)}  {_fmt(values['pass_rate']).rjust(6)}  "
                     f"(n={values['n']})")
    return "\n".join(lines)
