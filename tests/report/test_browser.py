"""The HTML report opened in headless Chromium (Debian's ``chromium`` package).

Assertions are on the DOM after the page's script ran (``--dump-dom``), not only on the file:
the charts are there as SVG, the item table has one row per item, the filter controls exist, and
a filter given in the URL fragment hides exactly the rows it should. A screenshot is taken and
checked to be a real, non-trivial PNG of the page.

A report built from hostile run folders (markup and script in every field, see
``write_hostile_runs``) is opened too: no injected script, handler or frame may run (each would
set ``data-pwned`` on the page's root), with the Content Security Policy and without it (the
escaping alone must hold), while the page still works. A page with a script injected on purpose
shows that the detection works and that the policy blocks what escaping might miss.

CI installs the browser with ``apt-get install -y chromium`` (about 30 s after
``apt-get update``). Without it these tests are skipped, saying so.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest

from mathif import report
from tests.report.conftest import MARK, payload

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
        self.root: dict[str, str | None] = {}
        self.iframes = 0
        self.value_labels: list[str] = []
        self.bars = 0
        self.points = 0
        self.zero_bars: list[dict[str, str | None]] = []
        self._section: str | None = None
        self._in_value = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.root = a
        if tag == "iframe":
            self.iframes += 1
        if a.get("id"):
            self.ids.add(str(a["id"]))
        if tag == "section":
            self._section = a.get("id")
        if tag == "svg" and self._section == "charts":
            self.svgs_in_charts += 1
        classes = str(a.get("class") or "").split()
        if tag == "rect" and "bar" in classes and self._section == "charts":
            self.bars += 1
            if "zero" in classes:
                self.zero_bars.append(a)
        if tag == "circle" and "point" in classes and self._section == "charts":
            self.points += 1
        self._in_value = tag == "text" and "value" in classes and self._section == "charts"
        if tag == "tr" and a.get("class") == "item":
            self.rows.append(a)
        if tag == "table" and a.get("id") == "item-table":
            self.table = a

    def handle_data(self, data: str) -> None:
        if self._in_value:
            self.value_labels.append(data)
            self._in_value = False


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


def test_bars_carry_value_labels(page: Path, tmp_path: Path) -> None:
    dom = parse(chromium(tmp_path, "--dump-dom", page.as_uri()))
    # every bar and point has its value next to it, but the stacked quadrant segments
    # (labelled inside, when wide enough)
    quadrant_segments = 4 * 2
    # points: HAcc and SAcc by reasoning length, 6 bins x 2 runs each
    assert dom.bars > 50 and dom.points == 2 * 12
    assert len(dom.value_labels) == dom.bars - quadrant_segments + dom.points
    assert all(re.fullmatch(r"\d+(\.\d)?", label) for label in dom.value_labels)


@pytest.fixture(scope="module")
def zero_page(items: list, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run that follows nothing and answers nothing right: every rate is 0%."""
    from tests.report.conftest import write_run

    root = tmp_path_factory.mktemp("zero")
    run = write_run(root / "zero", items[:45], model="zero-model", seed="z",
                    follow_rate=-1.0, correct_rate=-1.0)
    target = root / "report.html"
    report.write(report.build([run], with_paper=False), html=target)
    return target


def test_zero_percent_bars_are_visible(zero_page: Path, tmp_path: Path) -> None:
    dom = parse(chromium(tmp_path, "--dump-dom", zero_page.as_uri()))
    assert dom.zero_bars and len(dom.zero_bars) == dom.bars - 4  # quadrant segments aside
    for bar in dom.zero_bars:
        assert min(float(bar["width"] or 0), float(bar["height"] or 0)) >= 2.0, bar
    assert set(dom.value_labels) <= {"0", "0.0"} and "0.0" in dom.value_labels


def _rates(run: report.Run, value) -> dict[str, float]:  # type: ignore[no-untyped-def]
    out: dict[str, list[float]] = {}
    for sample in run.samples:
        if sample.scored and value(sample) is not None:
            out.setdefault(sample.key, []).append(float(value(sample)))
    return {k: sum(v) / len(v) for k, v in out.items()}


@pytest.mark.parametrize("metric", ["hacc", "correct", "any"])
def test_runs_disagree_filter(page: Path, run_a: Path, run_b: Path, tmp_path: Path,
                              metric: str) -> None:
    a, b = report.load_run(run_a), report.load_run(run_b)
    expected: set[str] = set()
    for name, value in (("hacc", lambda s: s.hard), ("correct", lambda s: s.correct)):
        if metric not in (name, "any"):
            continue
        ra, rb = _rates(a, value), _rates(b, value)
        expected |= {k for k in ra.keys() & rb.keys() if abs(ra[k] - rb[k]) > 1e-9}
    assert 0 < len(expected) < 420
    dom = parse(chromium(tmp_path, "--dump-dom", page.as_uri() + f"#disagree={metric}"))
    assert "f-disagree" in dom.ids
    shown = {str(row["data-key"]) for row in dom.rows if "hidden" not in row}
    assert shown == expected
    assert dom.table.get("data-visible-rows") == str(len(expected))


def test_single_run_page_has_no_disagreement_filter(run_a: Path, tmp_path: Path) -> None:
    target = tmp_path / "single.html"
    report.write(report.build([run_a]), html=target)
    dom = parse(chromium(tmp_path, "--dump-dom", target.as_uri() + "#disagree=hacc"))
    assert "f-disagree" not in dom.ids and "f-source" in dom.ids
    assert dom.table.get("data-visible-rows") == "420"  # the fragment is ignored


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


@pytest.mark.parametrize("runs", [1, 2], ids=["single-run", "two-runs"])
def test_screenshot(page: Path, run_a: Path, tmp_path: Path, runs: int) -> None:
    if runs == 1:
        page = tmp_path / "single.html"
        report.write(report.build([run_a]), html=page)
    shot = tmp_path / "report.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2400",
             "--hide-scrollbars", page.as_uri())
    assert _png_size(shot) == (1280, 2400)
    # A blank or error page compresses to a few kB; tables and charts do not.
    assert shot.stat().st_size > 60_000


# --- hostile data -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_page(hostile_runs: tuple[Path, Path],
                 tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("hostile-html") / "report.html"
    report.write(report.build(list(hostile_runs), labels=[payload("label")]), html=target)
    return target


CSP_META = re.compile(r'<meta http-equiv="Content-Security-Policy" content="[^"]*">')


def without_policy(page: Path, target: Path) -> Path:
    text, n = CSP_META.subn("", page.read_text(encoding="utf-8"))
    assert n == 1
    target.write_text(text, encoding="utf-8")
    return target


def injected(page: Path, target: Path, *, policy: bool) -> Path:
    """The page with a script, a handler and a frame slipped in, as a missed escape would."""
    mark = f"document.documentElement.setAttribute('{MARK}','injected')"
    text = page.read_text(encoding="utf-8")
    if not policy:
        text = CSP_META.sub("", text)
    text = text.replace("<main>", f"<main><script>{mark}</script><img src=x onerror=\"{mark}\">"
                        f"<iframe srcdoc=\"<script>parent.{mark}</script>\"></iframe>", 1)
    target.write_text(text, encoding="utf-8")
    return target


def test_hostile_report_runs_no_injected_script(hostile_page: Path, tmp_path: Path) -> None:
    for policy in (True, False):
        page = hostile_page if policy else without_policy(hostile_page, tmp_path / "open.html")
        dom = parse(chromium(tmp_path, "--dump-dom", page.as_uri()))
        assert MARK not in dom.root, (page.name, dom.root)
        assert dom.iframes == 0
        assert len(dom.rows) == 12 and dom.table.get("data-visible-rows") == "12"
        assert {"f-source", "f-constraint", "f-outcome", "f-text", "f-count"} <= dom.ids


def test_hostile_report_filters_still_work(hostile_page: Path, tmp_path: Path) -> None:
    url = hostile_page.as_uri() + "#source=" + quote(payload("source-even"), safe="")
    dom = parse(chromium(tmp_path, "--dump-dom", url))
    shown = [row for row in dom.rows if "hidden" not in row]
    assert len(shown) == 6 and dom.table.get("data-visible-rows") == "6"
    assert {row["data-source"] for row in shown} == {payload("source-even")}
    assert MARK not in dom.root
    url = hostile_page.as_uri() + "#q=" + quote("key3\"'><script>", safe="")
    dom = parse(chromium(tmp_path, "--dump-dom", url))
    assert [row["data-key"] for row in dom.rows if "hidden" not in row] == [payload("key3")]
    # A malformed fragment does not break the page's script.
    dom = parse(chromium(tmp_path, "--dump-dom", hostile_page.as_uri() + "#q=%E0%A4%A"))
    assert dom.table.get("data-visible-rows") == "12"


def test_the_policy_blocks_what_escaping_might_miss(page: Path, tmp_path: Path) -> None:
    # Without the policy the injected script runs: the detector works.
    dom = parse(chromium(tmp_path, "--dump-dom",
                         injected(page, tmp_path / "open.html", policy=False).as_uri()))
    assert dom.root.get(MARK) == "injected"
    # With it, nothing injected runs, and the page's own script still filters.
    url = injected(page, tmp_path / "closed.html", policy=True).as_uri() + "#source=aime"
    dom = parse(chromium(tmp_path, "--dump-dom", url))
    assert MARK not in dom.root
    shown = [row for row in dom.rows if "hidden" not in row]
    assert shown and {row["data-source"] for row in shown} == {"aime"}
