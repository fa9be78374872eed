"""Reports of MathIF runs: Markdown, self-contained HTML with charts, CSV and LaTeX exports.

>>> from mathif import report
>>> rep = report.build(["runs/qwen3-8b", "runs/qwen3-4b"])        # doctest: +SKIP
>>> report.write(rep, html="report.html", markdown="report.md")    # doctest: +SKIP

Several runs are compared side by side; runs after the first get paired differences against
the first on the items they share, and runs whose model is in the paper get its published rows.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mathif.metrics import CISettings
from mathif.report import exports
from mathif.report import html as html_page
from mathif.report import markdown as markdown_text
from mathif.report.compare import Comparison, compare_all
from mathif.report.runs import Run, load_run, load_runs, sweep_members


@dataclass(frozen=True)
class Report:
    """Loaded runs and their comparisons: everything the writers need."""

    runs: tuple[Run, ...]
    comparisons: tuple[Comparison, ...]
    with_paper: bool = True


def build(
    paths: Sequence[str | os.PathLike[str]],
    *,
    labels: Sequence[str] | None = None,
    ci: CISettings | None = None,
    with_paper: bool = True,
    length_binning: str = "quantile",
) -> Report:
    """Load run folders, recompute their metrics and compare each with the first.

    A sweep folder (``sweep.json``, written by ``mathif eval --force-continue 0,2,4``) stands
    for its runs, in value order. ``length_binning``: the bins of reasoning length
    (``quantile``, as the paper, or ``equal-width``).
    """
    if not paths:
        raise ValueError("give at least one run folder")
    given = list(labels or [])
    folders: list[str] = []
    names: list[str] = []
    suffixes: list[str | None] = []
    for index, path in enumerate(paths):
        name = given[index] if index < len(given) else ""
        members: list[tuple[Path, str | None]] = list(sweep_members(path) or [])
        for folder, suffix in members or [(Path(path), None)]:
            folders.append(os.fspath(folder))
            names.append(name)
            suffixes.append(suffix)
    runs = load_runs(folders, labels=[n or None for n in names], ci=ci, suffixes=suffixes,
                     length_binning=length_binning)
    return Report(tuple(runs), tuple(compare_all(runs, ci)), with_paper)


def to_markdown(rep: Report) -> str:
    return markdown_text.render(rep.runs, rep.comparisons, with_paper=rep.with_paper)


def to_html(rep: Report, *, max_chars: int | None = html_page.DEFAULT_MAX_CHARS) -> str:
    return html_page.render(rep.runs, rep.comparisons, with_paper=rep.with_paper,
                       max_chars=max_chars)


def to_csv(rep: Report) -> str:
    return exports.verdicts_csv(rep.runs)


def to_latex(rep: Report, *, with_ci: bool = True) -> str:
    return exports.summary_latex(rep.runs, with_paper=rep.with_paper, with_ci=with_ci)


def _write(path: str | os.PathLike[str], text: str) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


def write(
    rep: Report,
    *,
    markdown: str | os.PathLike[str] | None = None,
    html: str | os.PathLike[str] | None = None,
    csv: str | os.PathLike[str] | None = None,
    latex: str | os.PathLike[str] | None = None,
    max_chars: int | None = None,
) -> dict[str, Path]:
    """Write the requested outputs (each argument is a file path); returns what was
    written, by kind."""
    written: dict[str, Path] = {}
    if markdown is not None:
        written["markdown"] = _write(markdown, to_markdown(rep))
    if html is not None:
        limit = html_page.DEFAULT_MAX_CHARS if max_chars is None else max_chars
        written["html"] = _write(html, to_html(rep, max_chars=limit or None))
    if csv is not None:
        written["csv"] = _write(csv, to_csv(rep))
    if latex is not None:
        written["latex"] = _write(latex, to_latex(rep))
    return written


__all__ = ["Comparison", "Report", "Run", "build", "load_run", "to_csv", "to_html",
           "to_latex", "to_markdown", "write"]
