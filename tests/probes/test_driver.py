"""The probes' multi-phase logic, with a scripted backend (tests/probes/fake.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mathif.data import Selection
from mathif.generation.protocol import BackendError
from mathif.generation.store import SettingsMismatchError, read_completions
from mathif.probes.settings import ProbeSettings
from mathif.probes.steps import STEPS_NAME, read_steps
from mathif.probes.sweep import evaluate_sweep
from mathif.split import split_output
from tests.probes.conftest import config, records, run
from tests.probes.fake import ANSWER, MARKER, FakeThinker


def transcripts(out: Path) -> dict[tuple[str, str, int], str]:
    return {c.id: c.text for c in read_completions(out)}


@pytest.mark.parametrize("k", [0, 1, 3])
def test_force_continue_inserts_wait_exactly_k_times_before_the_final_marker(
        k: int, data_dir: Path, tmp_path: Path) -> None:
    result = run(config(ProbeSettings(force_continue=k), max_tokens=200, samples=2,
                        with_control=True), tmp_path, data_dir)
    texts = transcripts(tmp_path)
    assert len(texts) == 6 * 2 * 2 and result.metrics.n_errors == 0
    for text in texts.values():
        reasoning, _, answer = text.partition(MARKER)
        assert text.count(MARKER) == 1 and reasoning.count("Wait") == k
        assert "Wait" not in answer and answer.endswith(ANSWER)
    # What is scored is the whole transcript, split as SPEC §3 says.
    sample = result.samples[0]
    assert sample.answer_part == split_output(texts["main", sample.key, 0])[1]


def test_a_reminder_appears_once_right_after_the_first_end_of_reasoning(
        data_dir: Path, tmp_path: Path) -> None:
    probe = ProbeSettings(remind_constraints=True)
    result = run(config(probe, max_tokens=200, with_control=True), tmp_path, data_dir)
    steps = {}
    for step in read_steps(tmp_path):
        steps.setdefault(step.id, []).append(step)
    for item in {s.item.key: s.item for s in result.samples}.values():
        reminder = probe.reminder(" ".join(item.constraint_desc))
        text = transcripts(tmp_path)["main", item.key, 0]
        first = steps["main", item.key, 0][0]
        assert first.stop_reason == MARKER and first.dropped == MARKER
        # right where the model first ended its reasoning, once
        assert text.startswith(first.text[: -len(MARKER)] + reminder)
        assert text.count(reminder) == 1 and text.count(MARKER) == 1
        # the control run has no constraints: nothing to remind
        control = transcripts(tmp_path)["control", item.key, 0]
        assert "Wait," not in control and control.count(MARKER) == 1


def test_think_budget_is_exact(data_dir: Path, tmp_path: Path) -> None:
    fake = FakeThinker(min_len=2, max_len=12)
    run(config(ProbeSettings(think_budget=6), max_tokens=40), tmp_path, data_dir, fake)
    hit = natural = 0
    for c in read_completions(tmp_path):
        first = c.phases[0]
        assert first["tokens"] <= 6 and c.reasoning_tokens == first["tokens"]
        if first["finish_reason"] == "length":  # the budget closed the reasoning
            hit += 1
            assert first["tokens"] == 6 and first["inserted"] == MARKER + "\n\n"
        else:  # the model ended it within the budget; nothing inserted
            natural += 1
            assert first["stop_reason"] == MARKER and first["inserted"] == ""
        assert c.text.count(MARKER) == 1 and c.text.endswith(ANSWER)
        assert c.completion_tokens <= 40
    assert hit and natural
    # every request of the first phase asked for at most 6 tokens
    assert all(r.sampling.max_tokens == 6 for r in fake.calls[0])


def test_max_tokens_bounds_the_whole_transcript(data_dir: Path, tmp_path: Path) -> None:
    run(config(ProbeSettings(force_continue=5), max_tokens=20), tmp_path, data_dir)
    for c in read_completions(tmp_path):
        assert c.completion_tokens <= 20
        assert sum(p["tokens"] for p in c.phases) == c.completion_tokens


def test_all_requests_of_a_phase_go_in_one_call(data_dir: Path, tmp_path: Path) -> None:
    fake = FakeThinker()
    run(config(ProbeSettings(force_continue=2), max_tokens=200, samples=2), tmp_path, data_dir,
        fake)
    assert [len(c) for c in fake.calls] == [12, 12, 12, 12]  # 3 reasoning phases + answer
    assert [{r.stop for r in c} for c in fake.calls] == [{(MARKER,)}] * 3 + [{()}]


def test_the_manifest_records_the_probe_and_its_strings(data_dir: Path, tmp_path: Path) -> None:
    probe = ProbeSettings(remind_constraints=True, remind_template="Recall: {constraints}\n")
    run(config(probe), tmp_path, data_dir)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["settings"]["probe"] == {"kind": "remind_constraints", "value": None,
                                             "marker": MARKER,
                                             "remind_template": "Recall: {constraints}\n"}
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["manifest"]["run"]["probe"] == manifest["settings"]["probe"]
    line = records(tmp_path / "samples.jsonl")[0]
    assert line["probe_phases"] == 3 and line["probe_inserted"][0].startswith("Recall: ")
    assert isinstance(line["reasoning_tokens"], int)


def test_the_plain_benchmark_records_no_probe(data_dir: Path, tmp_path: Path) -> None:
    fake = FakeThinker()
    from mathif.evaluation import evaluate_config

    evaluate_config(config(), out=tmp_path, data=data_dir, selection=Selection(limit=2),
                    engine=fake)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert "probe" not in manifest["settings"]
    assert not (tmp_path / STEPS_NAME).exists()
    line = records(tmp_path / "completions.jsonl")[0]
    assert "phases" not in line and "reasoning_tokens" not in line
    assert all(not r.prefix and not r.stop for call in fake.calls for r in call)


def test_another_probe_value_cannot_resume_a_run(data_dir: Path, tmp_path: Path) -> None:
    run(config(ProbeSettings(force_continue=2)), tmp_path, data_dir)
    with pytest.raises(SettingsMismatchError, match=r"probe\.value: 2 in the run, 3 now"):
        run(config(ProbeSettings(force_continue=3)), tmp_path, data_dir)
    with pytest.raises(SettingsMismatchError, match="continue_text"):
        run(config(ProbeSettings(force_continue=2, continue_text="Hmm")), tmp_path, data_dir)
    with pytest.raises(SettingsMismatchError, match="probe"):
        run(config(), tmp_path, data_dir)


def test_a_failed_phase_is_an_error_then_resumes_from_its_last_step(
        data_dir: Path, tmp_path: Path) -> None:
    key = "gsm8k_single:1"
    broken = FakeThinker(fail_on={(key, 0, 4)})  # the third phase: 2 x (text, "Wait") before
    first = run(config(ProbeSettings(force_continue=2), max_tokens=200), tmp_path, data_dir,
                broken)
    failed = [s for s in first.samples if not s.scored]
    assert [s.key for s in failed] == [key] and "scripted failure" in (failed[0].error or "")
    assert len([s for s in read_steps(tmp_path) if s.key == key]) == 2
    fixed = FakeThinker()
    again = run(config(ProbeSettings(force_continue=2), max_tokens=200), tmp_path, data_dir,
                fixed)
    assert again.metrics.n_errors == 0
    # only the failed transcript was resumed, from its third phase
    assert [[(r.key, len(r.prefix)) for r in call] for call in fixed.calls] == [
        [(key, 4)], [(key, 5)]]
    fresh = tmp_path / "fresh"
    run(config(ProbeSettings(force_continue=2), max_tokens=200), fresh, data_dir)
    assert transcripts(fresh) == {k: v for k, v in transcripts(tmp_path).items()}


def test_a_backend_that_cannot_continue_is_refused(data_dir: Path, tmp_path: Path) -> None:
    class Plain:
        name = "plain"

        def describe(self) -> dict:
            return {}

        def generate(self, requests, on_complete) -> None:  # type: ignore[no-untyped-def]
            raise AssertionError("must not generate")

        def close(self) -> None:
            pass

    from mathif.evaluation import evaluate_config

    with pytest.raises(BackendError, match="cannot continue an assistant turn"):
        evaluate_config(config(ProbeSettings(force_continue=1)), out=tmp_path, data=data_dir,
                        selection=Selection(limit=1), engine=Plain())  # type: ignore[arg-type]


def test_a_model_without_the_marker_is_refused_before_any_work(
        data_dir: Path, tmp_path: Path) -> None:
    fake = FakeThinker(marker_known=False)
    with pytest.raises(BackendError, match="does not think with"):
        run(config(ProbeSettings(think_budget=5)), tmp_path, data_dir, fake)
    assert fake.calls == []


def test_a_sweep_writes_one_run_per_value_and_shares_the_first_phase(
        data_dir: Path, tmp_path: Path) -> None:
    fake = FakeThinker()
    cfg = config(ProbeSettings(force_continue=(0, 2, 4)), max_tokens=200, with_control=True,
                 grader="mathif")
    result = evaluate_sweep(cfg, out=tmp_path, data=data_dir, selection=Selection(limit=4),
                            engine=fake)
    names = sorted(p.name for p in tmp_path.iterdir() if p.is_dir())
    assert names == ["force-continue-0", "force-continue-2", "force-continue-4"]
    for value, folder in zip((0, 2, 4), result.folders, strict=True):
        assert (folder / "results.json").exists() and (folder / "samples.jsonl").exists()
        settings = json.loads((folder / "manifest.json").read_text())["settings"]
        assert settings["probe"]["value"] == value
        assert all(t.count("Wait") == value for t in transcripts(folder).values())
    # the un-intervened first phase is generated once for the three values
    assert len(fake.calls[0]) == 8 and {len(r.prefix) for r in fake.calls[0]} == {0}
    # K=2 and K=4 share their first three phases: fewer requests than three separate runs
    assert sum(len(c) for c in fake.calls) == 8 * (1 + 1 + 1 + 2 + 2 + 1)
    summary = json.loads((tmp_path / "sweep.json").read_text())
    assert summary["values"] == [0, 2, 4] and summary["kind"] == "force_continue"
    assert [p["run"] for p in summary["points"]] == names
    # each folder is what the single-value command makes, and resumes with it
    for value, folder in zip((0, 2, 4), result.folders, strict=True):
        alone = tmp_path / f"alone-{value}"
        run(config(ProbeSettings(force_continue=value), max_tokens=200, with_control=True,
                   grader="mathif"), alone, data_dir, limit=4)
        assert transcripts(alone) == transcripts(folder)
        again = FakeThinker()
        run(config(ProbeSettings(force_continue=value), max_tokens=200, with_control=True,
                   grader="mathif"), folder, data_dir, again, limit=4)
        assert again.calls == []


def test_a_budget_sweep_cuts_one_first_phase_to_each_budget(data_dir: Path,
                                                            tmp_path: Path) -> None:
    fake = FakeThinker(min_len=2, max_len=14)
    cfg = config(ProbeSettings(think_budget=(3, 6, 20)), max_tokens=40)
    result = evaluate_sweep(cfg, out=tmp_path, data=data_dir, selection=Selection(limit=6),
                            engine=fake)
    assert len(fake.calls[0]) == 6 and {r.sampling.max_tokens for r in fake.calls[0]} == {20}
    for budget, folder in zip((3, 6, 20), result.folders, strict=True):
        alone = tmp_path / f"alone-{budget}"
        run(config(ProbeSettings(think_budget=budget), max_tokens=40), alone, data_dir,
            FakeThinker(min_len=2, max_len=14))
        assert transcripts(alone) == transcripts(folder)  # the cut equals a run of its own
        assert all(c.reasoning_tokens <= budget for c in read_completions(folder))


def test_without_token_ids_a_budget_sweep_generates_each_first_phase(
        data_dir: Path, tmp_path: Path) -> None:
    fake = FakeThinker(with_ids=False)
    cfg = config(ProbeSettings(think_budget=(3, 20)), max_tokens=40)
    evaluate_sweep(cfg, out=tmp_path, data=data_dir, selection=Selection(limit=3), engine=fake)
    assert sorted(r.sampling.max_tokens for r in fake.calls[0]) == [3, 3, 3, 20, 20, 20]


def test_a_sweep_resumes_from_steps_stored_in_any_of_its_runs(data_dir: Path,
                                                              tmp_path: Path) -> None:
    cfg = config(ProbeSettings(force_continue=(1, 2)), max_tokens=200)
    sweep = tmp_path / "sweep"
    evaluate_sweep(cfg, out=sweep, data=data_dir, selection=Selection(limit=3),
                   engine=FakeThinker())
    # Lose K=2's completions and all but its first step: K=1 stored the second step too.
    folder = sweep / "force-continue-2"
    (folder / "completions.jsonl").unlink()
    lines = (folder / STEPS_NAME).read_text().splitlines(keepends=True)
    (folder / STEPS_NAME).write_text("".join(x for x in lines if '"step": 0,' in x))
    fake = FakeThinker()
    evaluate_sweep(cfg, out=sweep, data=data_dir, selection=Selection(limit=3), engine=fake)
    # copied: step 1 (K=1 has it); generated: step 2 and the answer
    assert [len(c) for c in fake.calls] == [3, 3]
    alone = tmp_path / "alone"
    run(config(ProbeSettings(force_continue=2), max_tokens=200), alone, data_dir, limit=3)
    assert transcripts(alone) == transcripts(folder)


def test_reasoning_scope_scores_the_reasoning_too(data_dir: Path, tmp_path: Path) -> None:
    result = run(config(ProbeSettings(force_continue=1), max_tokens=200, scope="both"),
                 tmp_path, data_dir)
    scope = result.metrics.reasoning_scope
    assert scope is not None and scope.overall.n_items == 6
    line = records(tmp_path / "samples.jsonl")[0]
    assert len(line["reasoning_follow"]) == len(line["follow"])
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["manifest"]["scope"] == "both"
    assert set(results["metrics"]["reasoning_scope"]) == {
        "meaningful_constraints", "overall", "by_count", "by_constraint", "meaningful"}
