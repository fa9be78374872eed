"""Markdown, CSV, LaTeX and the static HTML (the browser test opens it for real)."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from mathif import report
from mathif.cli import main
from mathif.report import svg
from tests.report.conftest import make_records, write_run

TABLE3_HEADER = "| Model | HAcc | SAcc | Corr. w/o const. | Corr. w/ const. | Diff (%) |"


@pytest.fixture(scope="module")
def two_runs(run_a: Path, run_b: Path) -> report.Report:
    return report.build([run_a, run_b])


def test_markdown_has_the_table3_row_and_the_paper_row(two_runs: report.Report) -> None:
    text = report.to_markdown(two_runs)
    assert TABLE3_HEADER in text
    summary = text.split(TABLE3_HEADER, 1)[1]
    row = next(line for line in summary.splitlines() if line.startswith("| Qwen/Qwen3-8B | "))
    assert re.search(r"\| \d+\.\d\d \[\d+\.\d, \d+\.\d\] \|", row)  # value [low, high]
    assert "| *Qwen3-8B (paper)* | 37.86 | 57.34 | 69.52 | 66.43 | -4.44 |" in text
    for title in ("By number of constraints (Table 8 format)", "HAcc by source (Table 9",
                  "SAcc by source (Table 10", "Pass rate by constraint type",
                  "Error quadrants", "HAcc by reasoning length", "Paired differences against",
                  "Correctness with and without constraints", "Lengths, truncation and errors"):
        assert title in text, title


def test_markdown_without_paper(run_a: Path) -> None:
    text = report.to_markdown(report.build([run_a], with_paper=False))
    assert "(paper)" not in text


def test_csv_has_one_row_per_sample(two_runs: report.Report) -> None:
    rows = list(csv.DictReader(io.StringIO(report.to_csv(two_runs))))
    assert len(rows) == sum(len(r.samples) for r in two_runs.runs) == 840
    first = two_runs.runs[0]
    by_key = {(r["run"], r["key"]): r for r in rows}
    for verdict in first.samples:
        row = by_key[(first.label, verdict.key)]
        if verdict.scored:
            assert row["hard"] == ("1" if verdict.hard else "0")
            assert row["follow"].split(";") == ["1" if f else "0" for f in verdict.follow]
        else:
            assert row["hard"] == "" and row["error"]
    assert {r["source"] for r in rows} == {"gsm8k", "math500", "minerva", "olympiad", "aime"}


def test_latex_is_a_booktabs_table_with_escaping(items, tmp_path: Path) -> None:
    run = write_run(tmp_path / "x", items[:40], model=None, seed="l", follow_rate=0.5,
                    correct_rate=0.5)
    rep = report.build([run], labels=["R&D_model 50%"])
    tex = report.to_latex(rep)
    for command in ("\\toprule", "\\midrule", "\\bottomrule", "\\begin{tabular}{lrrrrr}"):
        assert command in tex
    assert "R\\&D\\_model 50\\%" in tex
    assert "Corr. w/o const." in tex


def test_latex_paper_rows_in_italics(two_runs: report.Report) -> None:
    tex = report.to_latex(two_runs)
    assert "\\textit{Qwen3-8B (paper)} & \\textit{37.86}" in tex


def test_html_is_self_contained_and_deterministic(two_runs: report.Report) -> None:
    page = report.to_html(two_runs)
    assert page == report.to_html(two_runs)
    assert page.startswith("<!DOCTYPE html>")
    # Nothing is fetched: no external scripts, styles, images, fonts or links.
    assert not re.search(r"<(script|img|iframe)[^>]*\ssrc=", page)
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert re.findall(r"https?://[^\s\"'<]+", page) == ["http://www.w3.org/2000/svg"] * len(
        re.findall(r"<svg ", page))
    assert len(re.findall(r"<svg ", page)) >= 9
    assert page.count('<tr class="item"') == 420


def test_html_escapes_model_output(items, tmp_path: Path) -> None:
    folder = tmp_path / "evil"
    folder.mkdir()
    records = make_records(items[:3], seed="e", follow_rate=0.5, correct_rate=0.5)
    records[0]["response"] = "<think>x</think><script>alert('x')</script>"
    records[0]["answer_part"] = "<script>alert('x')</script>"
    (folder / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    page = report.to_html(report.build([folder], labels=["<b>model</b>"]))
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "<b>model</b>" not in page


def test_long_texts_are_clipped_in_the_middle(items, tmp_path: Path) -> None:
    folder = tmp_path / "long"
    folder.mkdir()
    records = make_records(items[:1], seed="c", follow_rate=0.5, correct_rate=0.5)
    records[0]["response"] = "<think>" + "A" * 5000 + "Z" * 5000 + "</think>done"
    (folder / "samples.jsonl").write_text(json.dumps(records[0]) + "\n")
    rep = report.build([folder])
    clipped = report.to_html(rep, max_chars=1000)
    assert "[… 9000 characters omitted …]" in clipped
    assert "A" * 500 in clipped and "Z" * 500 in clipped and "A" * 501 not in clipped
    assert "A" * 5000 in report.to_html(rep, max_chars=None)


def test_svg_output_is_stable_and_escaped() -> None:
    series = [svg.Series("a<b", [10.0, None], [5.0, None], [15.0, None])]
    chart = svg.vbar_chart("T&C", ["x", "y"], series)
    assert chart == svg.vbar_chart("T&C", ["x", "y"], series)
    assert "T&amp;C" in chart and "a&lt;b" in chart
    assert chart.count('class="bar"') == 1  # the missing value draws no bar
    line = svg.line_chart("L", ["Q1", "Q2", "Q3"], [svg.Series("s", [10.0, 20.0, 30.0],
                                                                 [5.0, 15.0, 25.0],
                                                                 [15.0, 25.0, 35.0])])
    assert line.count("<circle") == 3 and "<polygon" in line


def test_cli_writes_every_output(run_a: Path, run_b: Path, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = {k: tmp_path / f"r.{k}" for k in ("md", "html", "csv", "tex")}
    code = main(["report", str(run_a), str(run_b), "--markdown", str(out["md"]),
                 "--html", str(out["html"]), "--csv", str(out["csv"]),
                 "--latex", str(out["tex"]), "--n-boot", "500", "--seed", "3"])
    assert code == 0
    assert all(p.stat().st_size > 0 for p in out.values())
    assert "500 resamples, seed 3" in out["md"].read_text()
    assert capsys.readouterr().out == ""


def test_cli_prints_markdown_by_default(run_b: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(run_b), "--label", "mine"]) == 0
    printed = capsys.readouterr().out
    assert TABLE3_HEADER in printed and "| mine |" in printed


def test_cli_reports_a_missing_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path / "nope")]) == 2
    assert "no such run folder" in capsys.readouterr().err
