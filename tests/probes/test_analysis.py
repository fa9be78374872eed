"""The paper's analyses on small synthetic runs, against values computed by hand: HAcc/SAcc by
reasoning length (Fig. 6, quantile and equal-width bins), the sweep curve (Fig. 7), the
reminder's paired comparison (Table 6), the error quadrants (Fig. 4) and obedience inside the
reasoning."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from mathif import report
from mathif.data import Item
from mathif.metrics import CISettings
from mathif.probes.analysis import SWEEP_FILE, SWEEP_FORMAT
from mathif.report.probes import reminder_table, sweeps
from mathif.report.runs import load_run

CI = CISettings(n_boot=200)

Row = tuple[Item, list[bool], bool, int]  # item, follow, correct, reasoning tokens


def write_run(folder: Path, rows: Sequence[Row], *, probe: dict[str, Any] | None = None,
              model: str = "toy/model", inside: Sequence[list[bool]] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for index, (item, follow, correct, tokens) in enumerate(rows):
        record: dict[str, Any] = {
            **item.to_record(), "key": item.key, "sample": 0,
            "response": f"<think>{' r' * tokens}</think>\n\nThe answer is \\boxed{{1}}.",
            "finish_reason": "stop", "completion_tokens": tokens + 8,
            "reasoning_tokens": tokens, "follow": follow, "hard": all(follow),
            "soft": sum(follow) / len(follow), "answer_part": "\n\nThe answer is \\boxed{1}.",
            "correct": correct, "extracted_answer": "1", "grader": "mathif",
            "grade_reason": "match" if correct else "mismatch", "error": None}
        if inside is not None:
            record["reasoning_follow"] = inside[index]
        lines.append(json.dumps(record))
    (folder / "samples.jsonl").write_text("\n".join(lines) + "\n")
    run_settings = {"model": model} if probe is None else {"model": model, "probe": probe}
    (folder / "results.json").write_text(json.dumps(
        {"manifest": {"model": model, "run": run_settings}, "metrics": {}}))
    return folder


@pytest.fixture(scope="module")
def items(dataset: Any) -> dict[str, list[Item]]:
    by_count: dict[str, list[Item]] = {}
    for item in dataset:
        by_count.setdefault(item.count_name, []).append(item)
    return by_count


def test_hacc_and_sacc_by_reasoning_length(items: dict[str, list[Item]],
                                           tmp_path: Path) -> None:
    doubles = items["double"][:12]
    # lengths 12, 11, ..., 1 (so the order of lines is not the order of lengths); the
    # follow pattern makes each quantile bin (two samples) distinct
    pattern = [[True, True], [True, False], [False, False], [True, True], [True, True],
               [True, True], [False, True], [False, False], [False, False], [True, False],
               [True, True], [False, False]]
    rows = [(item, pattern[i], i % 3 == 0, 12 - i) for i, item in enumerate(doubles)]
    run = load_run(write_run(tmp_path / "run", rows), ci=CI)
    assert run.metrics.lengths.unit == "reasoning_tokens"
    bins = run.metrics.by_reasoning_length
    # bin b (0-based) holds lengths 2b+1 and 2b+2: rows 11-2b and 10-2b
    expected = []
    for b in range(6):
        members = [i for i in range(12) if 12 - i in (2 * b + 1, 2 * b + 2)]
        hard = [all(pattern[i]) for i in members]
        soft = [sum(pattern[i]) / 2 for i in members]
        correct = [i % 3 == 0 for i in members]
        expected.append((2 * b + 1, 2 * b + 2, 100 * sum(hard) / 2, 100 * sum(soft) / 2,
                         100 * sum(correct) / 2))
    assert [(b.min, b.max, b.hacc, b.sacc, b.correct) for b in bins] == expected
    # by hand: lengths 1, 2 are rows 11, 10: follow [F, F] and [T, T]
    assert (bins[0].hacc, bins[0].sacc, bins[0].correct) == (50.0, 50.0, 0.0)
    # lengths 7, 8 are rows 5, 4: [T, T] and [T, T]; 11, 12 are rows 1, 0: [T, F], [T, T]
    assert (bins[3].hacc, bins[5].hacc, bins[5].sacc, bins[5].correct) == (100.0, 50.0,
                                                                           75.0, 50.0)
    assert all(b.sacc_ci is not None and b.hacc_ci is not None for b in bins)
    # equal width: with one long outlier, everything else falls in the first bin
    rows.append((items["double"][12], [True, False], False, 101))
    wide = load_run(write_run(tmp_path / "wide", rows), ci=CI, length_binning="equal-width")
    bins = wide.metrics.by_reasoning_length
    assert [(b.min, b.max, b.n_samples) for b in bins] == [
        (1, 17.67, 12), (17.67, 34.33, 0), (34.33, 51.0, 0), (51.0, 67.67, 0),
        (67.67, 84.33, 0), (84.33, 101, 1)]
    assert bins[0].hacc == pytest.approx(100 * 5 / 12, abs=1e-3) and bins[5].sacc == 50.0
    assert bins[1].hacc is None and wide.metrics.to_record()["length_binning"] == "equal-width"


def test_the_error_quadrants(items: dict[str, list[Item]], tmp_path: Path) -> None:
    singles = items["single"][:8]
    # (followed, correct): 3 x (T, T), 1 x (F, T), 2 x (T, F), 2 x (F, F)
    cases = [(True, True)] * 3 + [(False, True)] + [(True, False)] * 2 + [(False, False)] * 2
    rows = [(item, [f], c, 5) for item, (f, c) in zip(singles, cases, strict=True)]
    q = load_run(write_run(tmp_path / "q", rows), ci=CI).metrics.quadrants
    assert q is not None
    assert q.values() == (37.5, 12.5, 25.0, 25.0)


def sweep_folder(root: Path, items: dict[str, list[Item]], hard: dict[int, list[bool]]
                 ) -> Path:
    chosen = items["single"][:2] + items["double"][:2]
    for k, pattern in hard.items():
        rows = []
        for item, ok in zip(chosen, pattern, strict=True):
            follow = [ok] * item.n_constraints
            if item.n_constraints == 2 and not ok:
                follow = [True, False]  # SAcc 0.5 on a double item that failed
            rows.append((item, follow, k == 0, 10 + 5 * k))
        write_run(root / f"force-continue-{k}", rows,
                  probe={"kind": "force_continue", "value": k, "marker": "</think>",
                         "continue_text": "Wait"})
    (root / SWEEP_FILE).write_text(json.dumps({
        "format": SWEEP_FORMAT, "kind": "force_continue",
        "points": [{"value": k, "run": f"force-continue-{k}"} for k in hard]}))
    return root


def test_the_sweep_curve_as_fig_7(items: dict[str, list[Item]], tmp_path: Path) -> None:
    root = sweep_folder(tmp_path / "sweep", items, {
        0: [True, True, True, False], 2: [True, False, True, False],
        4: [False, False, False, False]})
    rep = report.build([root], ci=CI)
    assert [r.label for r in rep.runs] == ["toy/model · K=0", "toy/model · K=2",
                                           "toy/model · K=4"]
    ((kind, model, points),) = sweeps(rep.runs)
    assert (kind, model, [v for v, _ in points]) == ("force_continue", "toy/model", [0, 2, 4])
    overall = [(r.metrics.overall.hacc, r.metrics.overall.sacc, r.metrics.overall.correct)
               for _, r in points]
    # by hand: HAcc = followed items / 4; SAcc: a failed double item counts 0.5
    assert overall == [(75.0, 87.5, 100.0), (50.0, 62.5, 0.0), (0.0, 25.0, 0.0)]
    by_count = [(r.metrics.by_count["single"].hacc, r.metrics.by_count["double"].sacc)
                for _, r in points]
    assert by_count == [(100.0, 75.0), (50.0, 75.0), (0.0, 50.0)]
    markdown = report.to_markdown(rep)
    assert "against forced continuations (K): toy/model (Fig. 7 format)" in markdown
    assert "| 2 | 4 | 50.00 [" in markdown
    html = report.to_html(rep)
    assert 'id="chart-sweep-0"' in html and 'id="chart-sweep-count-0"' in html


def test_the_reminder_as_table_6(items: dict[str, list[Item]], tmp_path: Path) -> None:
    chosen = items["single"][:4]
    plain = write_run(tmp_path / "plain", [
        (item, [ok], c, 9) for item, ok, c in zip(chosen, [False, False, True, False],
                                                   [True, True, True, False], strict=True)])
    remind = write_run(tmp_path / "remind", [
        (item, [ok], c, 12) for item, ok, c in zip(chosen, [True, False, True, True],
                                                    [True, False, True, False], strict=True)],
        probe={"kind": "remind_constraints", "value": None, "marker": "</think>",
               "remind_template": "Wait, {constraints}\n"})
    rep = report.build([plain, remind], ci=CI)
    table = reminder_table(rep.runs)
    assert table is not None
    row = [c.plain(with_ci=False) for c in table.rows[0]]
    # HAcc 25 -> 75 (+50), SAcc the same (one constraint), correct 75 -> 50 (-25)
    assert row == ["toy/model", "25.00", "75.00", "+50.00", "25.00", "75.00", "+50.00",
                   "75.00", "50.00", "-25.00", "4"]
    interval = table.rows[0][3].ci
    assert interval is not None and interval[0] <= 50.0 <= interval[1]
    assert table.reference[1:] == [True, True]  # the paper's rows follow


def test_obedience_inside_the_reasoning(items: dict[str, list[Item]], tmp_path: Path) -> None:
    from mathif.scoring import REASONING_MEANINGFUL

    doubles = [i for i in items["double"] if i.constraint_name[0] in REASONING_MEANINGFUL
               and i.constraint_name[1] not in REASONING_MEANINGFUL][:3]
    assert len(doubles) == 3
    rows = [(item, [True, True], True, 4) for item in doubles]
    inside = [[True, False], [False, False], [True, True]]
    run = load_run(write_run(tmp_path / "s", rows, inside=inside), ci=CI)
    scope = run.metrics.reasoning_scope
    assert scope is not None
    assert (scope.overall.hacc, scope.overall.sacc) == (pytest.approx(100 / 3, abs=1e-3),
                                                        50.0)
    # the meaningful instances are the first constraint of each item: 2 of 3 followed
    assert scope.meaningful is not None
    assert (scope.meaningful.n, scope.meaningful.pass_rate) == (
        3, pytest.approx(200 / 3, abs=1e-3))
    markdown = report.to_markdown(report.build([tmp_path / "s"], ci=CI))
    assert "Instructions followed in the answer and inside the reasoning" in markdown


def test_probe_sections_render_hostile_fields_as_text(items: dict[str, list[Item]],
                                                      tmp_path: Path) -> None:
    """A sweep and a reminder pair whose model name and probe texts are markup: the sweep
    and reminder tables, the Fig. 7 charts and their captions show them as text only."""
    from tests.report.conftest import payload
    from tests.report.test_hostile import _unescaped, elements

    model = payload("probe-model")
    chosen = items["single"][:2] + items["double"][:2]
    for k in (0, 2):
        write_run(tmp_path / f"k{k}", [(item, [k == 0] * item.n_constraints, True, 10 + k)
                                       for item in chosen],
                  model=model, probe={"kind": "force_continue", "value": k,
                                      "marker": payload("marker"),
                                      "continue_text": payload("continue")})
    write_run(tmp_path / "plain", [(item, [False] * item.n_constraints, True, 10)
                                   for item in chosen], model=model)
    write_run(tmp_path / "remind", [(item, [True] * item.n_constraints, True, 12)
                                    for item in chosen], model=model,
              probe={"kind": "remind_constraints", "value": None, "marker": "</think>",
                     "remind_template": payload("template") + "{constraints}"})
    rep = report.build([tmp_path / f for f in ("k0", "k2", "plain", "remind")], ci=CI)
    assert sweeps(rep.runs) and reminder_table(rep.runs) is not None
    page = report.to_html(rep)
    got = elements(page)
    assert got.tags["script"] == 1 and got.tags["img"] == got.tags["iframe"] == 0
    assert not any(name.startswith("on") for _, name in got.attributes)
    assert "probe-model\"'><script>" in "".join(got.text)
    text = report.to_markdown(rep)
    assert "probe-model" in text
    assert all(_unescaped(line, "<") == 0 for line in text.splitlines())  # every < escaped
