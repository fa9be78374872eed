"""Reading run folders back, and the statistics that results.json gains from them."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest

from mathif.errors import InputError
from mathif.metrics import SCHEMA_VERSION, CISettings, aggregate
from mathif.report import build, load_run
from mathif.report.compare import compare
from tests.conftest import REPO
from tests.report.conftest import write_run


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in (path / "samples.jsonl").read_text().splitlines()]


def test_recomputed_metrics_match_the_records(run_a: Path) -> None:
    run = load_run(run_a)
    records = [r for r in _records(run_a) if r["error"] is None]
    assert run.metrics.n_items == 417 and run.metrics.n_errors == 3
    hacc = 100 * sum(r["hard"] for r in records) / len(records)
    assert run.metrics.overall.hacc == pytest.approx(hacc, abs=1e-4)
    assert run.metrics.overall.rates.hacc_ci is not None
    low, high = run.metrics.overall.rates.hacc_ci
    assert low < hacc < high and 5 < high - low < 12
    assert run.model == "Qwen/Qwen3-8B" and run.label == "Qwen/Qwen3-8B"
    assert run.paper_row is not None and run.paper_row.model == "Qwen3-8B"


def test_control_truncation_errors_and_lengths(run_a: Path) -> None:
    m = load_run(run_a).metrics
    records = [r for r in _records(run_a) if r["error"] is None]
    n_length = sum(r["finish_reason"] == "length" for r in records)
    assert m.truncation is not None and m.truncation.n_length == n_length > 0
    assert m.truncation.rate == pytest.approx(100 * n_length / len(records), abs=1e-4)
    assert m.errors == {"HTTP 500: upstream server error": 3}
    assert m.lengths.unit == "completion_tokens_apportioned"
    assert m.usage["completion_tokens"].total == sum(r["completion_tokens"] for r in records)
    c, control = m.correctness, m.control
    assert c is not None and control is not None
    assert c.without_constraints == control.correct
    assert c.paired_difference is not None and c.paired_difference.n_common == 417
    assert c.with_constraints is not None and c.without_constraints is not None
    assert c.diff_percent == pytest.approx(
        (c.with_constraints - c.without_constraints) / c.without_constraints * 100,
        abs=1e-3)


def test_six_quantile_bins_of_reasoning_length(run_a: Path) -> None:
    bins = load_run(run_a).metrics.by_reasoning_length
    assert [b.bin for b in bins] == [1, 2, 3, 4, 5, 6]
    assert sum(b.n_samples for b in bins) == 417
    assert max(b.n_samples for b in bins) - min(b.n_samples for b in bins) <= 1
    for lower, upper in itertools.pairwise(bins):
        assert lower.max <= upper.min
    for b in bins:
        assert b.hacc_ci is not None and b.hacc is not None
        assert b.hacc_ci[0] <= b.hacc <= b.hacc_ci[1]


def test_truncated_output_counts_as_reasoning(run_a: Path) -> None:
    run = load_run(run_a)
    for sample, length in zip(run.samples, run.lengths, strict=True):
        if sample.fields.get("finish_reason") == "length":
            assert sample.reasoning == ""  # SPEC §3: no </think>, all of it is the answer
            assert length == (sample.fields["completion_tokens"], 0)


def test_words_unit_without_token_counts(run_b: Path) -> None:
    run = load_run(run_b)
    assert run.metrics.lengths.unit == "words"
    assert run.metrics.truncation is None
    sample, length = run.samples[0], run.lengths[0]
    assert length == (len(sample.reasoning.split()), len(sample.answer_part.split()))


def test_several_samples_per_item(run_multi: Path) -> None:
    m = load_run(run_multi).metrics
    assert (m.samples_per_item.min, m.samples_per_item.max) == (3, 3)
    overall = m.overall
    assert overall.any_sample_hacc is not None and overall.hacc is not None
    assert overall.any_sample_hacc >= overall.hacc
    assert overall.any_sample_hacc_ci is not None
    assert overall.any_sample_hacc_ci[0] <= overall.any_sample_hacc
    records = _records(run_multi)
    per_item: dict[str, list[bool]] = {}
    for r in records:
        per_item.setdefault(r["key"], []).append(r["hard"])
    expected = 100 * sum(any(v) for v in per_item.values()) / len(per_item)
    assert overall.any_sample_hacc == pytest.approx(expected, abs=1e-4)


def test_phase_field_marks_control_samples(items, tmp_path: Path) -> None:
    main = write_run(tmp_path / "phased", items[:30], model="x", seed="p", follow_rate=0.5,
                     correct_rate=0.5)
    from tests.report.conftest import make_records

    control = make_records(items[:30], seed="pc", follow_rate=0.5, correct_rate=0.9,
                           phase="control")
    with (main / "samples.jsonl").open("a", encoding="utf-8") as handle:
        for record in control:
            handle.write(json.dumps(record) + "\n")
    run = load_run(main)
    assert run.control_samples is not None and len(run.control_samples) == 30
    assert len(run.samples) == 30
    assert run.metrics.correctness is not None and run.metrics.correctness.control


def test_results_json_only_folder(run_a: Path, tmp_path: Path) -> None:
    metrics = load_run(run_a).metrics
    (tmp_path / "results.json").write_text(json.dumps(
        {"schema_version": 1, "manifest": {"model": "Qwen/Qwen3-4B"},
         "metrics": metrics.to_record()}))
    run = load_run(tmp_path)
    assert not run.has_samples and run.metrics == metrics
    assert run.paper_row is not None and run.paper_row.model == "Qwen3-4B"


def test_bad_folders_are_reported(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        load_run(tmp_path / "missing")
    with pytest.raises(InputError):
        load_run(tmp_path)
    (tmp_path / "samples.jsonl").write_text('{"key": "a:0", "sample": 0}\n')
    with pytest.raises(InputError, match="follow"):
        load_run(tmp_path)


def test_same_seed_same_bytes(run_a: Path) -> None:
    a = json.dumps(load_run(run_a).metrics.to_record(), sort_keys=True)
    b = json.dumps(load_run(run_a).metrics.to_record(), sort_keys=True)
    assert a == b
    c = json.dumps(load_run(run_a, ci=CISettings(seed=1)).metrics.to_record(), sort_keys=True)
    assert c != a


def test_intervals_can_be_turned_off(run_a: Path) -> None:
    run = load_run(run_a)
    plain = aggregate(run.samples, ci=None).to_record()
    assert "ci" not in plain and "hacc_ci" not in plain["overall"]
    assert plain["overall"]["hacc"] == run.metrics.overall.hacc


def test_paired_comparison_finds_the_weaker_model(run_a: Path, run_b: Path) -> None:
    c = compare(load_run(run_a), load_run(run_b))
    assert c is not None and c.n_common == 417
    d = c.differences["hacc"]
    assert d.estimate < 0 and d.excludes_zero


def test_duplicate_labels_are_made_unique(run_b: Path) -> None:
    rep = build([run_b, run_b])
    assert [r.label for r in rep.runs] == ["my-model", "my-model (2)"]


def test_every_metrics_key_is_documented(run_a: Path) -> None:
    doc = (REPO / "docs" / "results-schema.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`([a-z_]+)`", doc))
    metrics = load_run(run_a).metrics.to_record()
    assert set(metrics) <= documented, set(metrics) - documented
    assert set(metrics["overall"]) <= documented, set(metrics["overall"]) - documented
    assert f"currently **{SCHEMA_VERSION}**" in doc
