"""The self-contained HTML report: tables, inline SVG charts and a filterable item table.

Self-contained means one file that opens offline and can be mailed or archived: the styles, the
charts (inline SVG) and the filter script are all in the page; nothing is fetched. The item rows
are rendered on the server side, so the page is readable (and testable) without JavaScript; the
script only hides rows.

Every value that comes from data, model text or a run folder is HTML-escaped where it is
written (:func:`html.escape` with quotes, in text and attributes alike); nothing from data
goes inside the script or the style. As a second wall, a Content Security Policy in the page
allows only the page's own script and style (by SHA-256 hash: no nonce, so the output stays
byte-identical) and no loads at all: should an escape ever be missed, an injected script,
handler or external resource does not run.

The filter state lives in the URL fragment (``#source=aime&constraint=punctuation:no_comma&
outcome=0:not_followed&q=boxed``): a filtered view can be bookmarked or shared, and tests can
open the page pre-filtered.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import replace
from html import escape

from mathif import constraints
from mathif.data import COUNT_NAMES, SOURCES, Item
from mathif.prompts import build_prompt
from mathif.report import svg
from mathif.report.compare import Comparison
from mathif.report.runs import Run
from mathif.report.tables import (
    LENGTH_UNIT_NAMES,
    QUADRANT_NAMES,
    SOURCE_NAMES,
    Table,
    all_tables,
    paper_rows,
)
from mathif.responses import raw_text
from mathif.results import QUADRANTS, Interval, PassRate, Rates
from mathif.samples import Sample
from mathif.version import __version__

# Reasoning can be 16k tokens per sample; 420 of them would make a page of tens of MB.
DEFAULT_MAX_CHARS = 4000

OUTCOMES = (
    ("followed", "followed all constraints"),
    ("not_followed", "missed a constraint"),
    ("correct", "correct"),
    ("wrong", "wrong"),
    ("error", "generation error"),
    ("truncated", "truncated (length)"),
    ("missing", "no response"),
)

CSS = """
:root { --ok: #1a7f37; --bad: #c62828; --muted: #666; --line: #ddd; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
  color: #1d1d1f; background: #fafafa; }
header, main { max-width: 1200px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 16px; }
h1 { margin: 8px 0 4px; font-size: 24px; }
h2 { margin-top: 32px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { margin: 20px 0 6px; font-size: 15px; }
nav a { margin-right: 12px; }
.note { color: var(--muted); font-size: 12.5px; max-width: 900px; }
table.data { border-collapse: collapse; margin: 6px 0 4px; background: #fff; }
table.data th, table.data td { border: 1px solid var(--line); padding: 3px 8px;
  text-align: right; vertical-align: top; }
table.data th:first-child, table.data td:first-child { text-align: left; }
table.data th { background: #f0f0f3; font-weight: 600; }
tr.ref td { font-style: italic; color: #555; background: #f7f7fb; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
figure.chart { margin: 0; background: #fff; border: 1px solid var(--line); padding: 6px; }
figure.chart figcaption { font-size: 12px; color: var(--muted); max-width: 740px; }
.filters { position: sticky; top: 0; background: #fafafa; padding: 8px 0; z-index: 1;
  display: flex; gap: 10px; flex-wrap: wrap; align-items: center;
  border-bottom: 1px solid var(--line); }
.filters label { font-size: 12.5px; color: var(--muted); }
.filters select, .filters input { font: inherit; padding: 2px 4px; }
#item-table { width: 100%; }
#item-table td, #item-table th { text-align: left; }
#item-table td.run { min-width: 230px; }
#item-table td:last-child { width: 30%; }
ul.missed { margin: 3px 0 0; padding-left: 0; list-style: none; font-size: 12px; }
ul.missed li { overflow-wrap: anywhere; padding-left: 1.1em; text-indent: -1.1em; }
.all-ok { color: var(--ok); font-size: 12px; }
.flag { font-size: 12px; }
.ok { color: var(--ok); font-weight: 600; }
.bad { color: var(--bad); font-weight: 600; }
.na { color: var(--muted); }
.mono, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  font-size: 12px; }
pre { white-space: pre-wrap; word-break: break-word; background: #f6f8fa; padding: 6px;
  margin: 4px 0; max-height: 360px; overflow: auto; border: 1px solid #eee; }
details > summary { cursor: pointer; color: #0b57d0; }
.sample { border-left: 3px solid var(--line); padding-left: 8px; margin: 8px 0; }
ul.verdicts { margin: 4px 0; padding-left: 18px; }
"""

SCRIPT = """
(function () {
  var table = document.getElementById('item-table');
  if (!table) { return; }
  var rows = Array.prototype.slice.call(table.querySelectorAll('tbody tr.item'));
  var source = document.getElementById('f-source');
  var constraint = document.getElementById('f-constraint');
  var outcome = document.getElementById('f-outcome');
  var disagree = document.getElementById('f-disagree');
  var text = document.getElementById('f-text');
  var count = document.getElementById('f-count');
  function has(list, token) { return (' ' + list + ' ').indexOf(' ' + token + ' ') >= 0; }
  function apply(updateHash) {
    var s = source.value, c = constraint.value, o = outcome.value;
    var d = disagree ? disagree.value : '';
    var q = text.value.toLowerCase();
    var shown = 0;
    rows.forEach(function (row) {
      var ok = (!s || row.getAttribute('data-source') === s)
        && (!c || has(row.getAttribute('data-constraints'), c))
        && (!o || has(row.getAttribute('data-outcome'), o))
        && (!d || has(row.getAttribute('data-disagree') || '', d))
        && (!q || row.textContent.toLowerCase().indexOf(q) >= 0);
      row.hidden = !ok;
      if (ok) { shown += 1; }
    });
    count.textContent = String(shown);
    table.setAttribute('data-visible-rows', String(shown));
    if (updateHash) {
      var parts = [];
      if (s) { parts.push('source=' + encodeURIComponent(s)); }
      if (c) { parts.push('constraint=' + encodeURIComponent(c)); }
      if (o) { parts.push('outcome=' + encodeURIComponent(o)); }
      if (d) { parts.push('disagree=' + encodeURIComponent(d)); }
      if (q) { parts.push('q=' + encodeURIComponent(text.value)); }
      history.replaceState(null, '', parts.length ? '#' + parts.join('&') : location.pathname);
    }
  }
  function fromHash() {
    var hash = location.hash.replace(/^#/, '');
    hash.split('&').forEach(function (part) {
      var eq = part.indexOf('=');
      if (eq < 0) { return; }
      var key = part.slice(0, eq), value;
      try { value = decodeURIComponent(part.slice(eq + 1)); } catch (e) { return; }
      if (key === 'source') { source.value = value; }
      if (key === 'constraint') { constraint.value = value; }
      if (key === 'outcome') { outcome.value = value; }
      if (key === 'disagree' && disagree) { disagree.value = value; }
      if (key === 'q') { text.value = value; }
    });
  }
  [source, constraint, outcome, disagree].forEach(function (el) {
    if (el) { el.addEventListener('change', function () { apply(true); }); }
  });
  text.addEventListener('input', function () { apply(true); });
  document.getElementById('f-reset').addEventListener('click', function () {
    source.value = ''; constraint.value = ''; outcome.value = ''; text.value = '';
    if (disagree) { disagree.value = ''; }
    apply(true);
  });
  fromHash();
  apply(false);
})();
"""


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


# Only the page's own script and style run; nothing is loaded; no plugins, frames, forms or
# base URL; DOM sinks that parse HTML from strings are refused (Trusted Types).
CSP = "; ".join([
    "default-src 'none'",
    f"script-src {_sha256(SCRIPT)}",
    f"style-src {_sha256(CSS)}",
    "base-uri 'none'",
    "form-action 'none'",
    "require-trusted-types-for 'script'",
])


def _clip(text: str, max_chars: int | None) -> str:
    if max_chars is None or len(text) <= max_chars:
        return text
    half = max_chars // 2
    omitted = len(text) - 2 * half
    return f"{text[:half]}\n\n[… {omitted} characters omitted …]\n\n{text[-half:]}"


def _table_html(table: Table) -> str:
    out = [f'<h3 id="t-{escape(table.key)}">{escape(table.title)}</h3>',
           f'<table class="data" data-table="{escape(table.key)}"><thead><tr>']
    out += [f"<th>{escape(c)}</th>" for c in table.columns]
    out.append("</tr></thead><tbody>")
    for cells, reference in zip(table.rows, table.reference, strict=True):
        out.append('<tr class="ref">' if reference else "<tr>")
        out += [f"<td>{escape(c.plain())}</td>" for c in cells]
        out.append("</tr>")
    out.append("</tbody></table>")
    if table.note:
        out.append(f'<p class="note">{escape(table.note)}</p>')
    return "".join(out)


Point = tuple[float | None, Interval | None]


def _series(label: str, points: Sequence[Point | None]) -> svg.Series:
    values = [None if p is None else p[0] for p in points]
    cis = [None if p is None else p[1] for p in points]
    return svg.Series(label, values, [c[0] if c else None for c in cis],
                      [c[1] if c else None for c in cis])


def _pass(rate: PassRate | None) -> Point | None:
    return None if rate is None else (rate.pass_rate, rate.pass_rate_ci)


def _group_point(rates: Rates | None, metric: str) -> Point | None:
    if rates is None:
        return None
    return (rates.hacc, rates.hacc_ci) if metric == "hacc" else (rates.sacc, rates.sacc_ci)


def _figure(chart_id: str, chart: str, caption: str = "") -> str:
    cap = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return f'<figure class="chart" id="chart-{chart_id}">{chart}{cap}</figure>'


def charts(runs: Sequence[Run], *, with_paper: bool = True) -> list[str]:
    """Every chart of the report as an HTML ``<figure>`` holding an inline SVG."""
    figures = []
    refs = paper_rows(runs) if with_paper else []
    names = [c for c in constraints.CONSTRAINT_IDS
             if any(c in r.metrics.by_constraint for r in runs)]
    if names:
        series = [_series(r.label, [_pass(r.metrics.by_constraint.get(n)) for n in names])
                  for r in runs]
        figures.append(_figure("constraint", svg.hbar_chart(
            "Pass rate by constraint type", names, series),
            "Whiskers: 95% bootstrap interval over items."))
    cats = [c for c in ("length", "lexical", "format", "affix")
            if any(c in r.metrics.by_category for r in runs)]
    if cats:
        series = [_series(r.label, [_pass(r.metrics.by_category.get(c)) for c in cats])
                  for r in runs]
        figures.append(_figure("category", svg.hbar_chart(
            "Pass rate by constraint category", cats, series, label_width=120)))
    for metric, name in (("hacc", "HAcc"), ("sacc", "SAcc")):
        series = [_series(r.label, [_group_point(r.metrics.by_source.get(s), metric)
                                    for s in SOURCES]) for r in runs]
        series += [svg.Series(p.label, [p.by_source[s][metric] for s in SOURCES])
                   for p in refs if p.by_source]
        figures.append(_figure(f"source-{metric}", svg.vbar_chart(
            f"{name} by source", [SOURCE_NAMES[s] for s in SOURCES], series)))
    for metric, name in (("hacc", "HAcc"), ("sacc", "SAcc")):
        series = [_series(r.label, [_group_point(r.metrics.by_count.get(c), metric)
                                    for c in COUNT_NAMES]) for r in runs]
        series += [svg.Series(p.label, [p.by_count[c][metric] for c in COUNT_NAMES])
                   for p in refs if p.by_count]
        figures.append(_figure(f"count-{metric}", svg.vbar_chart(
            f"{name} by number of constraints", list(COUNT_NAMES), series)))
    figures += _correctness_chart(runs)
    quads = [(r.label, r.metrics.quadrants) for r in runs if r.metrics.quadrants is not None]
    if quads:
        rows = [(label, [(QUADRANT_NAMES[k], float(v)) for k, v in
                         zip(QUADRANTS, q.values(), strict=True)]) for label, q in quads]
        figures.append(_figure("quadrants", svg.stacked_hbar("Error quadrants", rows),
                               "Share of items: followed = all constraints followed."))
    figures += _reasoning_chart(runs)
    return figures


def _correctness_chart(runs: Sequence[Run]) -> list[str]:
    """Correctness with and without constraints: one colour and legend entry per run (the
    run's colour in every chart), grouped by condition."""
    graded = [(k, r, r.metrics.correctness) for k, r in enumerate(runs)
              if r.metrics.correctness is not None]
    if not graded:
        return []
    with_control = any(c.control for _, _, c in graded)
    labels = ["w/o constraints", "w/ constraints"] if with_control else ["w/ constraints"]
    series = []
    for k, run, c in graded:
        points: list[Point | None] = [(c.with_constraints, c.with_constraints_ci)]
        if with_control:
            points.insert(0, (c.without_constraints, c.without_constraints_ci)
                          if c.control else None)
        series.append(replace(_series(run.label, points), colour=k))
    return [_figure("correctness", svg.vbar_chart(
        "Correctness with vs without constraints", labels, series),
        "Without a control run (no constraints), a run has only the w/ bar.")]


def _bin_edges(run: Run) -> tuple[str, tuple[tuple[float, float], ...]]:
    return (run.metrics.lengths.unit,
            tuple((b.min, b.max) for b in run.metrics.by_reasoning_length))


def _reasoning_chart(runs: Sequence[Run]) -> list[str]:
    """HAcc by reasoning-length bin. Bins come from each run's own lengths: runs whose
    bin edges (or length units) differ get one axis each, labelled with their own ranges,
    rather than a shared Q1-Q6 axis that would put different lengths side by side."""
    binned = [(k, r) for k, r in enumerate(runs) if r.metrics.by_reasoning_length]
    if not binned:
        return []
    shared = len({_bin_edges(r) for _, r in binned}) == 1
    groups = [binned] if shared else [[pair] for pair in binned]
    svgs = []
    for group in groups:
        first = group[0][1]
        bins = first.metrics.by_reasoning_length
        series = [replace(_series(r.label, [(b.hacc, b.hacc_ci)
                                            for b in r.metrics.by_reasoning_length]), colour=k)
                  for k, r in group]
        unit = LENGTH_UNIT_NAMES.get(first.metrics.lengths.unit, first.metrics.lengths.unit)
        title = f"HAcc by reasoning length ({first.metrics.length_binning} bins)" + (
            "" if shared else f": {first.label}")
        svgs.append(svg.line_chart(
            title, [f"Q{i + 1}" for i in range(len(bins))], series,
            x_sublabels=[f"{b.min:g}–{b.max:g}" for b in bins],
            x_title=f"reasoning length ({unit}), shortest to longest"))
    note = ("Each bin's range is under its label." if shared else
            "The runs' bins have different edges (bins of each run's own lengths, or other "
            "length units), so each run has its own axis.")
    return [_figure("reasoning", "".join(svgs), note)]


def _mark(value: bool | None) -> str:
    if value is None:
        return '<span class="na">–</span>'
    return '<span class="ok">✓</span>' if value else '<span class="bad">✗</span>'


def _rate(values: Sequence[bool]) -> str:
    if not values:
        return '<span class="na">–</span>'
    if len(values) == 1:
        return _mark(values[0])
    k = sum(values)
    cls = "ok" if k == len(values) else ("bad" if k == 0 else "")
    return f'<span class="{cls}">{k}/{len(values)}</span>'


def _outcomes(index: int, samples: Sequence[Sample]) -> list[str]:
    if not samples:
        return [f"{index}:missing"]
    tokens = []
    scored = [v for v in samples if v.scored]
    if scored:
        tokens.append(f"{index}:followed" if all(v.hard for v in scored)
                      else f"{index}:not_followed")
        graded = [v.correct for v in scored if v.correct is not None]
        if graded:
            tokens.append(f"{index}:correct" if all(graded) else f"{index}:wrong")
    if len(scored) < len(samples):
        tokens.append(f"{index}:error")
    if any(s.response.usage.finish_reason == "length" for s in samples):
        tokens.append(f"{index}:truncated")
    return tokens


def _sample_html(verdict: Sample, max_chars: int | None, label: str) -> str:
    item = verdict.item
    head = f"{escape(label)} · sample {verdict.index}"
    if not verdict.scored:
        return (f'<div class="sample"><b>{head}</b>: <span class="bad">generation error'
                f"</span><pre>{escape(verdict.error or '')}</pre></div>")
    parts = [f'<div class="sample"><b>{head}</b>: HAcc {_mark(verdict.hard)} · '
             f"SAcc {verdict.soft:.2f} · correct {_mark(verdict.correct)}"]
    extracted = verdict.grade.extracted_answer if verdict.grade is not None else None
    if extracted is not None:
        parts.append(f" · extracted <span class=\"mono\">{escape(str(extracted))}</span>")
    if verdict.response.usage.finish_reason:
        parts.append(f" · finish {escape(str(verdict.response.usage.finish_reason))}")
    parts.append('<ul class="verdicts">')
    for name, desc, ok in zip(item.constraint_name, item.constraint_desc, verdict.follow,
                              strict=False):
        parts.append(f"<li>{_mark(ok)} <span class=\"mono\">{escape(name)}</span>: "
                     f"{escape(desc)}</li>")
    parts.append("</ul>")
    reasoning = verdict.reasoning
    if reasoning:
        parts.append(f"<details><summary>reasoning ({len(reasoning)} characters)</summary>"
                     f'<pre class="reasoning">{escape(_clip(reasoning, max_chars))}</pre>'
                     "</details>")
    elif raw_text(verdict.fields) is None:
        parts.append('<p class="note">raw output not stored in this run</p>')
    parts.append(f'<div>answer part:</div><pre class="answer">'
                 f"{escape(_clip(verdict.answer_part, max_chars))}</pre></div>")
    return "".join(parts)


def _run_cell(item: Item, samples: Sequence[Sample]) -> str:
    """One run's outcome on an item, readable without unfolding: the marks, then which
    constraints were missed (with how many samples missed each), errors, truncation."""
    if not samples:
        return '<td class="run"><span class="na">no response</span></td>'
    scored = [v for v in samples if v.scored]
    soft = (f"{sum(v.soft for v in scored) / len(scored):.2f}" if scored
            else '<span class="na">–</span>')
    graded = [bool(v.correct) for v in scored if v.correct is not None]
    parts = [f'<td class="run"><div>{_rate([v.hard for v in scored])} · {soft} · '
             f"{_rate(graded)}</div>"]
    missed = []
    for index, name in enumerate(item.constraint_name):
        fails = sum(1 for v in scored if index < len(v.follow) and not v.follow[index])
        if fails:
            count = f" ({fails}/{len(scored)})" if len(scored) > 1 else ""
            shown = escape(name).replace(":", ":<wbr>")  # breaks after the category
            missed.append(f'<li><span class="bad">✗</span> <span class="mono">{shown}</span>'
                          f"{count}</li>")
    if missed:
        parts.append('<ul class="missed">' + "".join(missed) + "</ul>")
    elif scored:
        parts.append('<div class="all-ok">✓ all constraints followed</div>')
    if len(scored) < len(samples):
        parts.append(f'<div class="flag bad">{len(samples) - len(scored)} generation '
                     "error(s)</div>")
    if any(s.response.usage.finish_reason == "length" for s in samples):
        parts.append('<div class="flag na">truncated (token limit)</div>')
    parts.append("</td>")
    return "".join(parts)


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _hard(sample: Sample) -> float | None:
    return float(sample.hard)


def _correct(sample: Sample) -> float | None:
    return None if sample.correct is None else float(sample.correct)


def _disagreement(per_run: Sequence[Sequence[Sample]]) -> list[str]:
    """``hacc`` / ``correct`` (and ``any``) when the runs that answered an item differ on it
    (on the share of samples, with several samples per item)."""
    tokens = []
    for name, value in (("hacc", _hard), ("correct", _correct)):
        rates = set()
        for samples in per_run:
            rate = _mean([x for v in samples if v.scored and (x := value(v)) is not None])
            if rate is not None:
                rates.add(round(rate, 9))
        if len(rates) > 1:
            tokens.append(name)
    return [*tokens, "any"] if tokens else []


DISAGREE = (("any", "anything"), ("hacc", "following all constraints"),
            ("correct", "correctness"))


def _rows(runs: Sequence[Run]) -> tuple[dict[str, Item], list[dict[str, list[Sample]]]]:
    """The table's rows: one per item over all runs, each run's samples of it. With several
    runs, items are matched by identity (:mod:`mathif.identity`), not by file and line."""
    items: dict[str, Item] = {}
    by_run: list[dict[str, list[Sample]]] = []
    for run in runs:
        ids = run.identities() if len(runs) > 1 else {}
        mine: dict[str, list[Sample]] = {}
        for sample in run.samples:
            row = ids.get(sample.key, sample.key)
            items.setdefault(row, sample.item)
            mine.setdefault(row, []).append(sample)
        by_run.append(mine)
    return items, by_run


def _filters(runs: Sequence[Run], items: dict[str, Item]) -> list[str]:
    names = sorted({n for item in items.values() for n in item.constraint_name},
                   key=lambda n: (constraints.CONSTRAINT_IDS.index(n)
                                  if n in constraints.CONSTRAINT_IDS else 99, n))
    present = {i.source for i in items.values()}
    sources = [s for s in SOURCES if s in present] + sorted(present - set(SOURCES))
    out = ['<div class="filters" id="filters">',
           '<label for="f-source">source</label><select id="f-source">'
           '<option value="">all</option>']
    out += [f'<option value="{escape(s)}">{escape(SOURCE_NAMES.get(s, s))}</option>'
            for s in sources]
    out.append('</select><label for="f-constraint">constraint</label>'
               '<select id="f-constraint"><option value="">all</option>')
    out += [f'<option value="{escape(n)}">{escape(n)}</option>' for n in names]
    out.append('</select><label for="f-outcome">outcome</label><select id="f-outcome">'
               '<option value="">all</option>')
    for index, run in enumerate(runs):
        prefix = f"{run.label}: " if len(runs) > 1 else ""
        out += [f'<option value="{index}:{token}">{escape(prefix + text)}</option>'
                for token, text in OUTCOMES]
    out.append("</select>")
    if len(runs) > 1:
        out.append('<label for="f-disagree">runs disagree on</label><select id="f-disagree">'
                   '<option value="">–</option>')
        out += [f'<option value="{token}">{text}</option>' for token, text in DISAGREE]
        out.append("</select>")
    out.append('<label for="f-text">text</label>'
               '<input id="f-text" type="search" placeholder="search prompt, answers…">'
               '<button id="f-reset" type="button">reset</button>'
               f'<span><b id="f-count">{len(items)}</b> of {len(items)} items</span></div>')
    return out


def item_table(runs: Sequence[Run], *, max_chars: int | None = DEFAULT_MAX_CHARS) -> str:
    """The filterable per-item table: one row per item over all runs, each run's outcome
    (with the constraints it missed) in its own column, details folded."""
    runs = [r for r in runs if r.has_samples]
    if not runs:
        return '<p class="note">No samples.jsonl in these runs: no per-item table.</p>'
    items, by_run = _rows(runs)
    out = _filters(runs, items)
    out.append(f'<table class="data" id="item-table" data-items="{len(items)}" '
               f'data-visible-rows="{len(items)}"><thead><tr><th>Item</th><th>Constraints</th>')
    for run in runs:
        out.append(f"<th>{escape(run.label)}<br>HAcc · SAcc · correct; missed</th>")
    out.append("<th>Details</th></tr></thead><tbody>")
    for row, item in items.items():
        tokens: list[str] = []
        cells = []
        details = [f"<p><b>Prompt</b></p><pre>{escape(build_prompt(item))}</pre>",
                   f"<p><b>Gold answer</b>: <span class=\"mono\">{escape(item.answer)}"
                   "</span></p>"]
        per_run = [mine.get(row, []) for mine in by_run]
        for index, (run, samples) in enumerate(zip(runs, per_run, strict=True)):
            tokens += _outcomes(index, samples)
            cells.append(_run_cell(item, samples))
            details += [_sample_html(v, max_chars, run.label) for v in samples]
        disagree = (f' data-disagree="{" ".join(_disagreement(per_run))}"'
                    if len(runs) > 1 else "")
        out.append(
            f'<tr class="item" data-key="{escape(item.key)}" '
            f'data-source="{escape(item.source)}" '
            f'data-constraints="{escape(" ".join(item.constraint_name))}" '
            f'data-outcome="{" ".join(tokens)}"{disagree}>'
            f'<td class="mono">{escape(item.key)}<br><span class="na">{escape(item.id)}</span>'
            f"</td><td>{'<br>'.join(escape(n) for n in item.constraint_name)}</td>"
            + "".join(cells)
            + f"<td><details><summary>show</summary>{''.join(details)}</details></td></tr>"
        )
    out.append("</tbody></table>")
    return "".join(out)


def render(runs: Sequence[Run], comparisons: Sequence[Comparison], *, with_paper: bool = True,
           max_chars: int | None = DEFAULT_MAX_CHARS, title: str = "MathIF report") -> str:
    """The whole report as one HTML document."""
    from mathif.report.probes import probe_charts, probe_tables

    tables = [*all_tables(runs, comparisons, with_paper=with_paper), *probe_tables(runs)]
    first = {"runs", "summary", "paired", "samples"}
    head_tables = "".join(_table_html(t) for t in tables if t.key in first)
    rest_tables = "".join(_table_html(t) for t in tables if t.key not in first)
    figures = "".join([*charts(runs, with_paper=with_paper), *probe_charts(runs)])
    return "".join([
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<meta name=\"generator\" content=\"mathif {__version__}\">",
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
        f"<header><h1>{escape(title)}</h1>",
        '<p class="note">HAcc: share of items whose constraints were all followed. SAcc: mean '
        "share of constraints followed. Percent, micro-averaged over items. Italic rows are "
        "the paper's published numbers for the same model (one unseeded sample per item). "
        f"mathif {__version__}.</p>",
        '<nav><a href="#summary">Summary</a><a href="#charts">Charts</a>'
        '<a href="#breakdowns">Breakdowns</a><a href="#items">Items</a></nav></header><main>',
        f'<section id="summary"><h2>Summary</h2>{head_tables}</section>',
        f'<section id="charts"><h2>Charts</h2><div class="charts">{figures}</div></section>',
        f'<section id="breakdowns"><h2>Breakdowns</h2>{rest_tables}</section>',
        '<section id="items"><h2>Items</h2>'
        '<p class="note">Filter by source, constraint type and outcome; the filter is kept in '
        "the address (#source=…&amp;constraint=…&amp;outcome=…) so a view can be shared. Long "
        "texts are shortened in the middle.</p>",
        item_table(runs, max_chars=max_chars),
        "</section></main>",
        f"<script>{SCRIPT}</script></body></html>\n",
    ])
