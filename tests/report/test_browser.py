"""The HTML report opened in headless Chromium (Debian's ``chromium`` package).

Assertions are on the DOM after the page's script ran (``--dump-dom``), not only on the file:
the charts are there as SVG, the item table has one row per item, the filter controls exist, and
a filter given in the URL fragment hides exactly the rows it should. A screenshot is taken and
checked to be a real, non-trivial PNG of the page.

CI installs the browser with ``apt-get install -y chromium`` (about 30 s after
``apt-get update``). Without it these tests are skipped, saying so.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest

from mathif import report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium is not installed (CI: apt-get install -y chromium)",
)
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")


def chromium(tmp_path: Path, *args: str) -> str:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    done = subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=180, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


class Dom(HTMLParser):
    """Just what the assertions need from the dumped DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.svgs_in_charts = 0
        self.rows: list[dict[str, str | None]] = []
        self.ids: set[str] = set()
        self.table: dict[str, str | None] = {}
        self._section: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(str(a["id"]))
        if tag == "section":
            self._section = a.get("id")
        if tag == "svg" and self._section == "charts":
            self.svgs_in_charts += 1
        if tag == "tr" and a.get("class") == "item":
            self.rows.append(a)
        if tag == "table" and a.get("id") == "item-table":
            self.table = a


def parse(text: str) -> Dom:
    dom = Dom()
    dom.feed(text)
    return dom


@pytest.fixture(scope="module")
def page(run_a: Path, run_b: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("html") / "report.html"
    report.write(report.build([run_a, run_b]), html=target)
    return target


def test_page_renders_charts_table_and_filters(page: Path, tmp_path: Path) -> None:
    dom = parse(chromium(tmp_path, "--dump-dom", page.as_uri()))
    assert dom.svgs_in_charts >= 9
    for chart in ("constraint", "category", "source-hacc", "source-sacc", "count-hacc",
                  "count-sacc", "correctness", "quadrants", "reasoning"):
        assert f"chart-{chart}" in dom.ids, chart
    assert {"f-source", "f-constraint", "f-outcome", "f-text", "f-count"} <= dom.ids
    assert len(dom.rows) == 420
    assert not any("hidden" in row for row in dom.rows)
    assert dom.table.get("data-visible-rows") == "420"


def test_filter_from_the_url_fragment(page: Path, run_a: Path, tmp_path: Path) -> None:
    run = report.load_run(run_a)
    failed: set[str] = set()
    for sample in run.samples:
        item = sample.item
        if item.source == "aime" and sample.scored and not sample.hard:
            failed.add(item.key)
    assert failed
    url = page.as_uri() + "#source=aime&outcome=" + quote("0:not_followed")
    dom = parse(chromium(tmp_path, "--dump-dom", url))
    shown = [row for row in dom.rows if "hidden" not in row]
    assert {row["data-key"] for row in shown} == failed
    assert dom.table.get("data-visible-rows") == str(len(failed))


def test_constraint_and_text_filters(page: Path, tmp_path: Path) -> None:
    url = page.as_uri() + "#constraint=" + quote("punctuation:no_comma") + "&q=gsm8k-single-1"
    dom = parse(chromium(tmp_path, "--dump-dom", url))
    shown = [row for row in dom.rows if "hidden" not in row]
    assert shown
    for row in shown:
        assert "punctuation:no_comma" in str(row["data-constraints"]).split()
    all_no_comma = [r for r in dom.rows if "punctuation:no_comma" in str(r["data-constraints"])]
    assert len(shown) < len(all_no_comma)


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def test_screenshot(page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2400",
             "--hide-scrollbars", page.as_uri())
    assert _png_size(shot) == (1280, 2400)
    # A blank or error page compresses to a few kB; tables and charts do not.
    assert shot.stat().st_size > 60_000
