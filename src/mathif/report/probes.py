"""The report's sections for probes and reasoning scope: the paper's figures for your runs.

- *Probes*: which runs were made with a probe, its strings, and how often it acted;
- *Sweeps* (Fig. 7): HAcc, SAcc and correctness against the number of forced continuations
  or the thinking budget, overall and by number of constraints; one table and two charts per
  model and probe, from the runs of a sweep folder (or any runs of one model that differ only
  by the probe's value);
- *Reminder* (Table 6): a run without a probe against a run with ``--remind-constraints`` of
  the same model, paired by item, with intervals;
- *Inside the reasoning*: the constraints checked on the reasoning beside the answer
  (``--scope reasoning``).

HAcc against reasoning length (Fig. 6) and the error quadrants (Fig. 4) are in the main
tables and charts of every run.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from mathif import constraints
from mathif.probes.analysis import CurvePoint, Paired, curve, paired, probe_of, value_label
from mathif.probes.settings import ProbeSettings
from mathif.report import svg
from mathif.report.runs import Run
from mathif.report.tables import Cell, Table
from mathif.results import Metrics, PassRate, Rates
from mathif.scoring import REASONING_MEANINGFUL
from mathif.stats import DEFAULT_LEVEL, DEFAULT_N_BOOT, DEFAULT_SEED

KIND_NAMES = {"force_continue": "forced continuations (K)",
              "think_budget": "thinking budget (tokens)",
              "remind_constraints": "constraint reminder"}
# Table 6 of the paper: HAcc without and with the reminder (the quoted values).
PAPER_REMINDER = (("DeepSeek-R1-Distill-Qwen-1.5B (paper)", 17.14, 21.66),
                  ("Qwen3-32B (paper)", 43.81, 59.29))


def _t(text: object) -> Cell:
    return Cell(text=str(text))


def _rate(rates: Rates | None, metric: str) -> Cell:
    if rates is None:
        return Cell()
    value = getattr(rates, metric)
    ci = getattr(rates, f"{metric}_ci")
    return Cell(value, ci)


def _probe(run: Run) -> ProbeSettings | None:
    return probe_of(run.manifest)


def _strings(probe: ProbeSettings) -> str:
    kind = probe.kind
    text = {"force_continue": probe.continue_text,
            "remind_constraints": probe.remind_template,
            "think_budget": probe.think_marker + probe.budget_bridge}.get(kind or "", "")
    return f"marker {probe.think_marker!r}; inserts {text!r}"


def probe_table(runs: Sequence[Run]) -> Table | None:
    """Which runs were made with a probe, what it inserts, and how often it acted."""
    rows = [(run, p) for run in runs if (p := _probe(run)) is not None]
    if not rows:
        return None
    table = Table("probes", "Probes", ["Run", "Probe", "Value", "Strings",
                                       "Samples where it inserted text", "Mean phases",
                                       "Reasoning mean"],
                  note="A probe stops the model at the end of its reasoning, edits the "
                  "transcript there and lets it continue; the scored output is the whole "
                  "transcript. Reasoning length in the run's length unit.")
    for run, probe in rows:
        scored = [s for s in run.samples if s.scored]
        acted = sum(1 for s in scored if s.fields.get("probe_inserted"))
        phases = [p for s in scored if isinstance(p := s.fields.get("probe_phases"), int)]
        reasoning = run.metrics.lengths.reasoning
        value = probe.value
        table.add([_t(run.label), _t(KIND_NAMES.get(probe.kind or "", probe.kind)),
                   _t("–" if value is None else value), _t(_strings(probe)),
                   _t(f"{acted}/{len(scored)}" if scored else "–"),
                   Cell(round(sum(phases) / len(phases), 2) if phases else None),
                   Cell(reasoning.mean if reasoning else None)])
    return table


def sweeps(runs: Sequence[Run]) -> list[tuple[str, str, list[tuple[int, Run]]]]:
    """Runs of one model that differ only by a probe's value: ``(kind, model, points)``."""
    groups: dict[tuple[str, str, str], dict[int, Run]] = {}
    for run in runs:
        probe = _probe(run)
        if probe is None or probe.kind not in ("force_continue", "think_budget"):
            continue
        value = probe.value
        if not isinstance(value, int) or not run.has_samples:
            continue
        strings = repr(sorted((k, str(v)) for k, v in probe.to_settings().items()
                              if k != "value"))
        model = run.model or run.label
        groups.setdefault((probe.kind or "", model, strings), {}).setdefault(value, run)
    return [(kind, model, sorted(points.items()))
            for (kind, model, _), points in groups.items() if len(points) >= 2]


def sweep_table(kind: str, model: str, points: Sequence[CurvePoint]) -> Table:
    name = "K" if kind == "force_continue" else "Budget"
    table = Table(f"sweep_{kind}_{model}",
                  f"HAcc/SAcc/correctness against {KIND_NAMES[kind]}: {model} "
                  "(Fig. 7 format)",
                  [name, "Items", "HAcc", "SAcc", "Correct", "Single HAcc", "Double HAcc",
                   "Double SAcc", "Triple HAcc", "Triple SAcc", "Reasoning mean"],
                  note="One run per value; brackets: 95% bootstrap interval over items. The "
                  "paper's Fig. 7 (DeepSeek-R1-Distill-Qwen-1.5B, GSM8K) shows SAcc falling as "
                  "K grows.")
    for p in points:
        c = p.by_count
        table.add([_t(p.value), _t(p.overall.n_items), _rate(p.overall, "hacc"),
                   _rate(p.overall, "sacc"), _rate(p.overall, "correct"),
                   _rate(c.get("single"), "hacc"), _rate(c.get("double"), "hacc"),
                   _rate(c.get("double"), "sacc"), _rate(c.get("triple"), "hacc"),
                   _rate(c.get("triple"), "sacc"), Cell(p.reasoning_mean)])
    return table


def _curves(runs: Sequence[Run]) -> list[tuple[str, str, list[CurvePoint]]]:
    return [(kind, model, curve(kind, [(v, r.metrics) for v, r in points]))
            for kind, model, points in sweeps(runs)]


def reminder_pairs(runs: Sequence[Run]) -> list[tuple[Run, Run]]:
    """(run without a probe, run with the reminder) of the same model, for each reminder run
    that has such a partner (the first one given)."""
    out = []
    plain = [r for r in runs if _probe(r) is None and r.has_samples]
    for run in runs:
        probe = _probe(run)
        if probe is None or probe.kind != "remind_constraints" or not run.has_samples:
            continue
        base = next((b for b in plain if (b.model or b.label) == (run.model or run.label)),
                    None)
        if base is not None:
            out.append((base, run))
    return out


def _ci_settings(metrics: Metrics) -> tuple[int, int, float]:
    ci = metrics.ci
    if ci is None:
        return DEFAULT_N_BOOT, DEFAULT_SEED, DEFAULT_LEVEL
    return ci.n_boot, ci.seed, ci.level


def reminder_table(runs: Sequence[Run]) -> Table | None:
    pairs = reminder_pairs(runs)
    if not pairs:
        return None
    table = Table("reminder", "Constraint reminder: without vs with (Table 6 format)",
                  ["Model", "HAcc w/o", "HAcc w/", "Δ HAcc", "SAcc w/o", "SAcc w/", "Δ SAcc",
                   "Correct w/o", "Correct w/", "Δ Correct", "Items"],
                  note="Both runs on the items they share; Δ = with minus without, in points, "
                  "with a paired 95% bootstrap interval over items. Italic rows: the paper's "
                  "Table 6 (HAcc only).")
    for base, probed in pairs:
        n_boot, seed, level = _ci_settings(probed.metrics)
        rows = paired(base.samples, probed.samples, n_boot=n_boot, seed=seed, level=level)
        cells = [_t(probed.model or probed.label)]
        common = 0
        for metric in ("hacc", "sacc", "correct"):
            row: Paired | None = rows.get(metric)
            if row is None or row.difference is None:
                cells += [Cell(), Cell(), Cell()]
                continue
            common = max(common, row.difference.n_common)
            cells += [Cell(row.without), Cell(row.with_probe),
                      Cell(row.difference.estimate, row.interval, signed=True)]
        cells.append(_t(common))
        table.add(cells)
    for name, without, with_ in PAPER_REMINDER:
        table.add([_t(name), Cell(without), Cell(with_), Cell(round(with_ - without, 2),
                                                              signed=True),
                   *(Cell() for _ in range(6)), _t("420")], reference=True)
    return table


def _pooled(rates: dict[str, PassRate], names: set[str] | frozenset[str]) -> float | None:
    chosen = [(r.n, r.pass_rate) for k, r in rates.items() if k in names
              and r.pass_rate is not None]
    total = sum(n for n, _ in chosen)
    return round(sum(n * (v or 0.0) for n, v in chosen) / total, 2) if total else None


def scope_table(runs: Sequence[Run]) -> Table | None:
    """The constraints on the answer and inside the reasoning, side by side."""
    have = [r for r in runs if r.metrics.reasoning_scope is not None]
    if not have:
        return None
    table = Table("scope", "Instructions followed in the answer and inside the reasoning",
                  ["Run", "HAcc answer", "HAcc reasoning", "SAcc answer", "SAcc reasoning",
                   "Meaningful constraints: answer", "Meaningful constraints: reasoning"],
                  note="Reasoning: the text before the end of thinking (all of a truncated "
                  "output). Meaningful constraints on a reasoning trace: "
                  + ", ".join(sorted(REASONING_MEANINGFUL)) + " (properties of the whole "
                  "text); the others concern the final answer's length, layout or edges, or are "
                  "met or broken by quoting the instruction while reasoning.")
    for run in have:
        scope = run.metrics.reasoning_scope
        assert scope is not None
        rates = run.metrics.overall.rates
        table.add([_t(run.label), _rate(rates, "hacc"), _rate(scope.overall, "hacc"),
                   _rate(rates, "sacc"), _rate(scope.overall, "sacc"),
                   Cell(_pooled(dict(run.metrics.by_constraint), REASONING_MEANINGFUL)),
                   Cell(scope.meaningful.pass_rate if scope.meaningful else None,
                        scope.meaningful.pass_rate_ci if scope.meaningful else None)])
    return table


def scope_constraint_table(runs: Sequence[Run]) -> Table | None:
    have = [r for r in runs if r.metrics.reasoning_scope is not None]
    if not have:
        return None
    table = Table("scope_by_constraint", "Pass rate by constraint: answer / reasoning",
                  ["Constraint", "Meaningful in reasoning",
                   *(f"{r.label}: answer / reasoning" for r in have)])
    names = [c for c in constraints.CONSTRAINT_IDS
             if any(c in r.metrics.by_constraint for r in have)]
    for name in names:
        cells = [_t(name), _t("yes" if name in REASONING_MEANINGFUL else "no")]
        for run in have:
            scope = run.metrics.reasoning_scope
            a = run.metrics.by_constraint.get(name)
            b = scope.by_constraint.get(name) if scope is not None else None
            show = [f"{x.pass_rate:.2f}" if x is not None and x.pass_rate is not None else "–"
                    for x in (a, b)]
            cells.append(_t(" / ".join(show)))
        table.add(cells)
    return table


def probe_tables(runs: Sequence[Run]) -> list[Table]:
    """Every probe and scope table for these runs (none when no run has either)."""
    tables: list[Table | None] = [probe_table(runs)]
    tables += [sweep_table(kind, model, points) for kind, model, points in _curves(runs)]
    tables += [reminder_table(runs), scope_table(runs), scope_constraint_table(runs)]
    return [t for t in tables if t is not None]


def _figure(chart_id: str, chart: str, caption: str) -> str:
    return (f'<figure class="chart" id="chart-{escape(chart_id)}">{chart}'
            f"<figcaption>{escape(caption)}</figcaption></figure>")


def _series(name: str, points: Sequence[CurvePoint], rates_of: str, metric: str
            ) -> svg.Series:
    values, lows, highs = [], [], []
    for p in points:
        rates = p.overall if rates_of == "overall" else p.by_count.get(rates_of)
        value = getattr(rates, metric) if rates is not None else None
        ci = getattr(rates, f"{metric}_ci") if rates is not None else None
        values.append(value)
        lows.append(ci[0] if ci else None)
        highs.append(ci[1] if ci else None)
    return svg.Series(name, values, lows, highs)


def probe_charts(runs: Sequence[Run]) -> list[str]:
    """The sweep charts (Fig. 7) and SAcc against reasoning length."""
    figures = []
    for index, (kind, model, points) in enumerate(_curves(runs)):
        labels = [value_label(kind, p.value) for p in points]
        overall = [_series(name, points, "overall", metric)
                   for name, metric in (("HAcc", "hacc"), ("SAcc", "sacc"),
                                        ("Correct", "correct"))]
        figures.append(_figure(f"sweep-{index}", svg.line_chart(
            f"{model}: against {KIND_NAMES[kind]}", labels, overall,
            x_title=KIND_NAMES[kind]), "Overall rates per value; bands: 95% intervals."))
        by_count = [_series(f"{count} {name}", points, count, metric)
                    for count in ("single", "double", "triple")
                    for name, metric in (("HAcc", "hacc"), ("SAcc", "sacc"))
                    if any(count in p.by_count for p in points)
                    and not (count == "single" and metric == "sacc")]
        figures.append(_figure(f"sweep-count-{index}", svg.line_chart(
            f"{model}: by number of constraints (Fig. 7)", labels, by_count,
            x_title=KIND_NAMES[kind]),
            "HAcc and SAcc of the items with one, two and three constraints (with one, "
            "HAcc = SAcc)."))
    binned = [r for r in runs if r.metrics.by_reasoning_length]
    if binned:
        n_bins = max(len(r.metrics.by_reasoning_length) for r in binned)
        series = [svg.Series(r.label, [b.sacc for b in r.metrics.by_reasoning_length],
                             [b.sacc_ci[0] if b.sacc_ci else None
                              for b in r.metrics.by_reasoning_length],
                             [b.sacc_ci[1] if b.sacc_ci else None
                              for b in r.metrics.by_reasoning_length]) for r in binned]
        binning = binned[0].metrics.length_binning
        figures.append(_figure("reasoning-sacc", svg.line_chart(
            f"SAcc by reasoning length ({binning} bins)",
            [f"B{i + 1}" for i in range(n_bins)], series,
            x_title="reasoning-length bin, shortest to longest"),
            "Bands: 95% intervals (items resampled within a bin)."))
    return figures
