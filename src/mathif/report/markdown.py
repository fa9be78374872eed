"""The Markdown summary: the tables of the report, ready to paste into an issue or a paper draft."""

from __future__ import annotations

from collections.abc import Sequence

from mathif.report.compare import Comparison
from mathif.report.runs import Run
from mathif.report.tables import Table, all_tables
from mathif.version import __version__


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_table(table: Table) -> str:
    lines = [f"## {table.title}", ""]
    lines.append("| " + " | ".join(_cell(c) for c in table.columns) + " |")
    numeric = [any(i < len(r) and r[i].text is None for r in table.rows)
               for i in range(len(table.columns))]
    aligns = ["--:" if i and numeric[i] else "---" for i in range(len(table.columns))]
    lines.append("| " + " | ".join(aligns) + " |")
    for cells, reference in zip(table.rows, table.reference, strict=True):
        texts = [_cell(c.plain()) for c in cells]
        if reference:
            texts[0] = f"*{texts[0]}*"
        lines.append("| " + " | ".join(texts) + " |")
    if table.note:
        lines += ["", table.note]
    return "\n".join(lines)


def render(runs: Sequence[Run], comparisons: Sequence[Comparison],
           *, with_paper: bool = True) -> str:
    """The whole Markdown report."""
    parts = [
        "# MathIF report",
        "",
        f"mathif {__version__}. HAcc: share of items whose constraints were all followed; "
        "SAcc: mean share of constraints followed; both in percent, micro-averaged over items. "
        "Rows in italics are the paper's published numbers (one unseeded sample per item).",
    ]
    for table in all_tables(runs, comparisons, with_paper=with_paper):
        parts += ["", render_table(table)]
    return "\n".join(parts) + "\n"
