"""Items are paired by what they are, not by file name and line (issue 11, 1).

Two ``mathif score`` runs of the same responses, from differently named files and in another
order, must pair every item with zero difference; runs of different data sets must not be
paired at all, and the report says so.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from mathif import identity
from mathif.cli import main
from mathif.data import Item, load
from mathif.report import build, to_markdown
from mathif.report.compare import compare
from mathif.report.runs import load_run
from mathif.responses import read_items_with_responses
from tests.conftest import need_shared


def _responses(items: list[Item]) -> list[dict[str, Any]]:
    """One response per item, as a user's pipeline writes them: item fields, no key."""
    records = []
    for n, item in enumerate(items):
        record = item.to_record()
        record["response"] = (f"<think>step {n}</think>\\boxed{{{item.answer}}}" if n % 3
                              else "<think>never finished")
        records.append(record)
    return records


def _write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _score(path: Path, out: Path) -> Path:
    assert main(["score", str(path), "--out", str(out), "--quiet", "--grader", "none"]) == 0
    return out


@pytest.fixture(scope="module")
def sampled_items() -> list[Item]:
    items = list(load(need_shared("mathif")))
    return items[::7]  # 60 items of every source and count


def test_identity_table_is_the_official_data() -> None:
    data = load(need_shared("mathif"))
    assert identity.identity_table(data) == {
        "about": identity.identity_table([])["about"],
        "items": dict(identity.official_keys())}
    assert len(identity.official_keys()) == 420
    assert all(identity.identity(item) == item.key for item in data)


def test_a_line_carrying_an_official_item_gets_its_official_key(sampled_items, tmp_path):
    records = _responses(sampled_items[:5])
    random.Random(1).shuffle(records)
    entries, items = read_items_with_responses(_write(tmp_path / "whatever.jsonl", records))
    assert {i.key for i in items} == {i.key for i in sampled_items[:5]}
    assert all(e.item.key == identity.official_key(e.item) for e in entries)


def test_custom_items_get_content_keys_stable_under_renaming_and_reordering(sampled_items,
                                                                            tmp_path):
    records = _responses(sampled_items[:6])
    for r in records:
        r["question"] = "Custom: " + r["question"]  # no longer an official item
    first, _ = read_items_with_responses(_write(tmp_path / "a.jsonl", records))
    shuffled = list(reversed(records))
    second, _ = read_items_with_responses(_write(tmp_path / "other-name.jsonl", shuffled))
    keys = {e.item.question: e.item.key for e in first}
    assert all(k.startswith(identity.CONTENT_PREFIX) for k in keys.values())
    assert keys == {e.item.question: e.item.key for e in second}
    assert len(set(keys.values())) == 6
    changed = dict(records[0], answer="something else")
    third, _ = read_items_with_responses(_write(tmp_path / "c.jsonl", [changed]))
    assert third[0].item.key != keys[changed["question"]]


def test_the_same_item_twice_without_sample_indices_is_a_clear_error(sampled_items, tmp_path):
    from mathif.errors import InputError

    record = _responses(sampled_items[:1])[0]
    path = _write(tmp_path / "twice.jsonl", [record, record])
    with pytest.raises(InputError, match=r"same MathIF item .* as line 1") as info:
        read_items_with_responses(path)
    assert info.value.line == 2
    ok = [dict(record, sample=0), dict(record, sample=1)]
    entries, items = read_items_with_responses(_write(tmp_path / "two.jsonl", ok))
    assert len(entries) == 2 and len(items) == 1


@pytest.mark.parametrize("custom", [False, True], ids=["official", "custom"])
def test_renamed_and_shuffled_scored_runs_pair_every_item_with_zero_difference(
        sampled_items, tmp_path, custom, capsys):
    records = _responses(sampled_items)
    if custom:
        for r in records:
            r["question"] = "Custom: " + r["question"]
    shuffled = list(records)
    random.Random(7).shuffle(shuffled)
    run_a = _score(_write(tmp_path / "model_outputs.jsonl", records), tmp_path / "a")
    run_b = _score(_write(tmp_path / "renamed-and-shuffled.jsonl", shuffled), tmp_path / "b")
    comparison = compare(load_run(run_a), load_run(run_b))
    assert comparison is not None and comparison.refused is None
    assert comparison.n_common == comparison.n_base_items == comparison.n_other_items == 60
    assert comparison.complete
    for metric in ("hacc", "sacc"):
        d = comparison.differences[metric]
        assert (d.estimate, d.low, d.high) == (0.0, 0.0, 0.0), metric
    capsys.readouterr()
    assert main(["report", str(run_a), str(run_b), "--no-paper"]) == 0
    captured = capsys.readouterr()
    assert "paired" in captured.err and "on 60 items (of 60 and 60)" in captured.err
    assert "| +0.00 [0.0, 0.0] |" in captured.out


def test_partial_overlap_is_said_loudly(sampled_items, tmp_path, capsys):
    records = _responses(sampled_items)
    run_a = _score(_write(tmp_path / "all.jsonl", records), tmp_path / "a")
    run_b = _score(_write(tmp_path / "some.jsonl", records[:40]), tmp_path / "b")
    comparison = compare(load_run(run_a), load_run(run_b))
    assert comparison is not None and not comparison.complete
    assert (comparison.n_common, comparison.n_base_items, comparison.n_other_items) == (
        40, 60, 40)
    capsys.readouterr()
    assert main(["report", str(run_a), str(run_b), "--no-paper"]) == 0
    err = capsys.readouterr().err
    assert "mathif: warning: paired b with a on 40 items (of 40 and 60)" in err
    assert "20 of a's and 0 of b's items are not paired" in err


def test_runs_of_different_data_sets_are_not_paired(sampled_items, tmp_path, capsys):
    records = _responses(sampled_items)
    custom = [dict(r, question="Custom: " + r["question"]) for r in records]
    run_a = _score(_write(tmp_path / "official.jsonl", records), tmp_path / "a")
    run_b = _score(_write(tmp_path / "custom.jsonl", custom), tmp_path / "b")
    comparison = compare(load_run(run_a), load_run(run_b))
    assert comparison is not None and comparison.refused is not None
    assert comparison.differences == {} and "no item in common" in comparison.refused
    capsys.readouterr()
    assert main(["report", str(run_a), str(run_b), "--no-paper"]) == 0
    captured = capsys.readouterr()
    assert "mathif: warning: not pairing" in captured.err
    assert "not paired: they have no item in common" in captured.out


def test_runs_with_other_data_checksums_are_not_paired(sampled_items, tmp_path):
    records = _responses(sampled_items)
    run_a = _score(_write(tmp_path / "x.jsonl", records), tmp_path / "a")
    run_b = _score(_write(tmp_path / "y.jsonl", records), tmp_path / "b")
    for run, checksum in ((run_a, "a" * 64), (run_b, "b" * 64)):
        results = json.loads((run / "results.json").read_text())
        results["manifest"]["data"] = {"checksum": checksum}
        (run / "results.json").write_text(json.dumps(results))
    rep = build([run_a, run_b], with_paper=False)
    (comparison,) = rep.comparisons
    assert comparison.refused is not None and "different data sets" in comparison.refused
    assert "aaaaaaaaaaaa" in comparison.refused
    assert "not paired: they were run on different data sets" in to_markdown(rep)
