"""Reports of hostile run folders: every format escapes every value from data and model text.

The runs (``write_hostile_runs`` in conftest) put markup, quote-breaking, formula and TeX
payloads in every field a report shows: source, id, key, question, constraint text, response,
reasoning, extracted and gold answers, error, finish reason, grader, model name, run label,
manifest and metrics values. The browser test (test_browser.py) opens the HTML for real; here
the outputs are checked as text: the HTML has exactly the page's own elements, the Markdown
renders to tables without links, images or HTML, the CSV has no cell a spreadsheet would run,
the LaTeX has no command or table break from data.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from mathif import report
from mathif.errors import InputError
from mathif.report import exports, html, markdown
from tests.report.conftest import MARK, make_records, payload


class Elements(HTMLParser):
    """Tags, attribute names, link targets, script bodies and the visible text of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: Counter[str] = Counter()
        self.attributes: set[tuple[str, str]] = set()
        self.hrefs: list[str] = []
        self.scripts: list[str] = []
        self.text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        self._in_script = tag == "script"
        for name, value in attrs:
            self.attributes.add((tag, name))
            if name == "href":
                self.hrefs.append(value or "")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        (self.scripts if self._in_script else self.text).append(data)


def elements(page: str) -> Elements:
    parsed = Elements()
    parsed.feed(page)
    parsed.close()
    return parsed


@pytest.fixture(scope="module")
def hostile(hostile_runs: tuple[Path, Path]) -> report.Report:
    return report.build(list(hostile_runs), labels=[payload("label")])


@pytest.fixture(scope="module")
def clean(run_a: Path, run_b: Path) -> report.Report:
    return report.build([run_a, run_b])


# Fields shown in the HTML page (the reasoning is cut from the response; the rest appear in
# other formats only).
SHOWN_IN_HTML = ("key0", "source-even", "source-odd", "id", "question", "desc", "gold",
                 "reasoning", "answer", "extracted", "finish", "error", "label",
                 "model", "manifest-grader", "model-b", "metrics-error", "unit", "bin")


def test_html_holds_only_the_pages_own_elements(hostile: report.Report,
                                                clean: report.Report) -> None:
    page = report.to_html(hostile)
    got, reference = elements(page), elements(report.to_html(clean))
    # No element or attribute that a clean report does not have: no script, img, iframe,
    # textarea, handler attribute or srcdoc from data.
    assert set(got.tags) <= set(reference.tags)
    assert got.attributes <= reference.attributes
    assert not any(name.startswith("on") for _, name in got.attributes)
    assert got.tags["script"] == 1 and got.scripts == [html.SCRIPT]
    assert got.tags["style"] == 1 and got.tags["iframe"] == got.tags["img"] == 0
    assert all(href.startswith("#") for href in got.hrefs)
    # ...yet every hostile value is on the page, as text.
    text = "".join(got.text)
    for tag in SHOWN_IN_HTML:
        assert f"{tag}\"'><script>" in text, tag
    assert MARK not in "".join(got.scripts)


def test_html_sets_a_content_security_policy_for_its_own_script_only(
        hostile: report.Report) -> None:
    page = report.to_html(hostile)
    head = page[:page.index("<title>")]
    match = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', head)
    assert match is not None, "the policy must come before any data"
    policy = dict(part.strip().split(" ", 1) for part in match.group(1).split(";"))
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == html._sha256(html.SCRIPT)  # a hash: no 'unsafe-inline'
    assert policy["style-src"] == html._sha256(html.CSS)
    assert policy["base-uri"] == policy["form-action"] == "'none'"
    assert "unsafe" not in match.group(1)
    assert f"<script>{html.SCRIPT}</script>" in page and f"<style>{html.CSS}</style>" in page


def _unescaped(line: str, char: str) -> int:
    """How many times ``char`` occurs in ``line`` outside backslash escapes."""
    count = 0
    i = 0
    while i < len(line):
        if line[i] == "\\":
            i += 2
            continue
        count += line[i] == char
        i += 1
    return count


def test_markdown_keeps_tables_whole_and_renders_no_markup(hostile: report.Report) -> None:
    text = report.to_markdown(hostile)
    assert "\x1b" not in text
    lines = text.splitlines()
    tables = 0
    for i, line in enumerate(lines):
        if line.startswith("| ") and (i == 0 or not lines[i - 1].startswith("|")):
            tables += 1
            width = _unescaped(line, "|")
            j = i
            while j < len(lines) and lines[j].startswith("|"):
                assert _unescaped(lines[j], "|") == width, lines[j][:200]
                j += 1
        assert _unescaped(line, "<") == 0, line[:200]
    assert tables >= 8
    markdown_it = pytest.importorskip("markdown_it")
    rendered = markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(
        text)
    got = elements(rendered)
    assert set(got.tags) <= {"h1", "h2", "p", "table", "thead", "tbody", "tr", "th", "td",
                             "em"}, got.tags
    assert "label\"'><script>document" in "".join(got.text)


def test_markdown_escape() -> None:
    assert markdown.md_escape("a|b\nc\r\nd") == "a\\|b c d"
    assert markdown.md_escape("[x](javascript:y) <b> *e* _u_ `c` ~s~ $m$ &amp; \\") == (
        "\\[x\\](javascript:y) \\<b\\> \\*e\\* \\_u\\_ \\`c\\` \\~s\\~ \\$m\\$ \\&amp; \\\\")
    assert markdown.md_escape("Qwen/Qwen3-8B (paper)") == "Qwen/Qwen3-8B (paper)"
    assert markdown.md_escape("\x1b[31mred\x07") == "\ufffd\\[31mred\ufffd"


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def test_csv_has_no_cell_a_spreadsheet_would_run(hostile: report.Report) -> None:
    rows = list(csv.reader(io.StringIO(report.to_csv(hostile))))
    assert rows[0] == list(exports.CSV_COLUMNS) and len(rows) == 13
    cells = [cell for row in rows[1:] for cell in row]
    for cell in cells:
        if cell.startswith(FORMULA_START):
            assert exports._PLAIN_NUMBER.fullmatch(cell), cell
    assert "'=HYPERLINK(\"http://127.0.0.1/gold\",\"click\")" in cells
    assert "'-1+cmd|' /C calc'!A0" in cells
    by_column = dict(zip(rows[0], zip(*rows[1:], strict=True), strict=True))
    assert any(v.startswith("key0\"'><script>") for v in by_column["key"])


@pytest.mark.parametrize(
    ("value", "expected"),
    [("=1+1", "'=1+1"), ("+SUM(A1)", "'+SUM(A1)"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
     ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("-", "'-"), ("-3", "-3"), ("+1.5e3", "+1.5e3"),
     ("-.5", "-.5"), ("12", "12"), ("a=b", "a=b"), ("", ""), (None, ""), (3, "3")],
)
def test_csv_formula_neutralisation(value: object, expected: str) -> None:
    assert exports.csv_text(value) == expected


def test_latex_has_no_command_or_table_break_from_data(hostile: report.Report) -> None:
    tex = report.to_latex(hostile)
    body = tex[tex.index("\\midrule"):tex.index("\\bottomrule")]
    columns = 6
    rows = [line for line in body.splitlines() if line.endswith("\\\\")]
    assert len(rows) == 2
    for line in rows:
        assert _unescaped(line, "&") == columns - 1, line[:200]
    assert "\\input" not in tex and "^^" not in tex and "\x1b" not in tex
    assert "\n\n" not in tex
    assert "\\textbackslash{}input\\{/etc/passwd\\}" in tex
    assert "\\textless{}script\\textgreater{}" in tex


def test_latex_escape() -> None:
    assert exports.latex_escape("a&b%c$d#e_f{g}h~i^j\\k<l>m|n") == (
        "a\\&b\\%c\\$d\\#e\\_f\\{g\\}h\\textasciitilde{}i\\textasciicircum{}j"
        "\\textbackslash{}k\\textless{}l\\textgreater{}m\\textbar{}n")
    assert exports.latex_escape("one\n\ntwo\x00\x1b") == "one two "


def test_a_hostile_constraint_id_is_refused_with_its_place(items: list, tmp_path: Path) -> None:
    # Constraint ids are checked against the 15 known ones when a run is read, so markup in
    # one never reaches a report; the error names the file, line and field.
    records = make_records(items[:3], seed="c", follow_rate=0.5, correct_rate=0.5)
    records[1]["constraint_name"] = [payload("constraint-id")] * len(
        records[1]["constraint_name"])
    folder = tmp_path / "bad-id"
    folder.mkdir()
    (folder / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    with pytest.raises(InputError, match="unknown constraint id") as info:
        report.build([folder])
    assert info.value.line == 2 and info.value.field == "constraint_name[0]"
