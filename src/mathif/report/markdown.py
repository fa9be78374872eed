"""The Markdown summary: the tables of the report, ready to paste into an issue or a paper draft.

Text that comes from data or a run folder (run labels, model names, paths, error messages) is
escaped with :func:`md_escape`: it cannot end a table row or start a new line, and it renders
as the characters it holds, never as links, images, HTML or emphasis. Numbers we format
ourselves are written as they are.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from mathif.report.compare import Comparison
from mathif.report.runs import Run
from mathif.report.tables import Cell, Table, all_tables
from mathif.version import __version__

# CommonMark/GFM punctuation that can mean something inside a line: escapes, code, emphasis,
# links and images, HTML and autolinks, table cells, strikethrough, math ($ on GitHub), and
# entities. Backslash escapes of ASCII punctuation are literal in every CommonMark renderer.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~$&])")
_NEWLINES = re.compile(r"\r\n|[\r\n\u2028\u2029]")
# Control characters (C0, DEL, C1): terminal escape sequences when the summary is printed.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def md_escape(text: str) -> str:
    """``text`` as literal Markdown inline text on one line (safe in a table cell)."""
    text = _CONTROL.sub("\ufffd", _NEWLINES.sub(" ", text)).replace("\t", " ")
    return _MD_SPECIAL.sub(r"\\\1", text)


def _cell(cell: Cell) -> str:
    return md_escape(cell.text) if cell.text is not None else cell.plain()


def render_table(table: Table) -> str:
    lines = [f"## {md_escape(table.title)}", ""]
    lines.append("| " + " | ".join(md_escape(c) for c in table.columns) + " |")
    numeric = [any(i < len(r) and r[i].text is None for r in table.rows)
               for i in range(len(table.columns))]
    aligns = ["--:" if i and numeric[i] else "---" for i in range(len(table.columns))]
    lines.append("| " + " | ".join(aligns) + " |")
    for cells, reference in zip(table.rows, table.reference, strict=True):
        texts = [_cell(c) for c in cells]
        if reference:
            texts[0] = f"*{texts[0]}*"
        lines.append("| " + " | ".join(texts) + " |")
    if table.note:
        lines += ["", md_escape(table.note)]
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
    from mathif.report.probes import probe_tables

    for table in [*all_tables(runs, comparisons, with_paper=with_paper), *probe_tables(runs)]:
        parts += ["", render_table(table)]
    return "\n".join(parts) + "\n"
