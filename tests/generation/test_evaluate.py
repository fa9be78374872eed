"""``mathif.evaluate`` / ``mathif eval`` with fake and replay backends: store, resume, scoring."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import mathif
from mathif.cli import main
from mathif.evaluation import evaluate
from mathif.generation import Completion, Request, SettingsMismatchError
from mathif.generation.store import read_completions


class Echo:
    """A deterministic backend: its answer is a function of the request alone."""

    name = "echo"

    def __init__(self, fail: set[tuple[str, int]] = frozenset(), stop_after: int | None = None):
        self.seen: list[Request] = []
        self.fail = set(fail)
        self.stop_after = stop_after

    def describe(self) -> dict[str, Any]:
        return {"engine": "echo", "chat_template_sha256": None}

    def generate(self, requests: Sequence[Request], on_complete) -> None:  # type: ignore[no-untyped-def]
        for request in requests:
            if self.stop_after is not None and len(self.seen) >= self.stop_after:
                raise KeyboardInterrupt
            self.seen.append(request)
            if (request.key, request.sample) in self.fail:
                on_complete(Completion.failed(request, "HTTP 500: boom"))
                continue
            on_complete(Completion(
                key=request.key, sample=request.sample, phase=request.phase,
                text=answer(request), finish_reason="stop", prompt_tokens=7,
                completion_tokens=3, latency_s=0.01, seed=request.seed,
            ))

    def close(self) -> None:
        pass


def answer(request: Request) -> str:
    return f"<think>{request.messages[-1].content[:20]}</think>THE ANSWER IS {request.sample}"


@pytest.fixture(scope="module")
def items(dataset):  # type: ignore[no-untyped-def]
    import mathif.data

    picked = tuple(dataset.items[i] for i in (0, 31, 95, 200, 330, 419))
    return mathif.data.Dataset(items=picked, origin=dataset.origin, files=dataset.files)


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_evaluate_writes_the_store_and_score_files(items, tmp_path: Path) -> None:
    backend = Echo()
    result = evaluate(backend=backend, data=items, out=tmp_path, samples=2, grader=None)
    assert len(backend.seen) == 12
    assert {p.name for p in tmp_path.iterdir()} >= {
        "manifest.json", "completions.jsonl", "samples.jsonl", "results.json"}
    records = jsonl(tmp_path / "samples.jsonl")
    assert [(r["key"], r["sample"]) for r in records] == [
        (item.key, s) for item in items for s in (0, 1)]
    first = records[0]
    assert first["response"].startswith("<think>") and first["answer_part"] == "THE ANSWER IS 0"
    assert first["seed"] == mathif.generation.derive_seed(0, items[0].key, 0)
    assert (first["finish_reason"], first["prompt_tokens"], first["completion_tokens"]) == (
        "stop", 7, 3)
    assert first["question"] == items[0].question and first["error"] is None
    assert result.metrics.n_responses == 12
    assert json.loads((tmp_path / "results.json").read_text()) == result.results.to_record()
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["settings"]["sampling"] == {"temperature": 1.0, "top_p": 0.95,
                                               "max_tokens": 16384}
    assert manifest["settings"]["data_checksum"] == items.checksum


def test_rerun_generates_only_what_is_missing(items, tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        evaluate(backend=Echo(stop_after=5), data=items, out=tmp_path, samples=2, grader=None)
    assert len(read_completions(tmp_path)) == 5
    again = Echo()
    first = evaluate(backend=again, data=items, out=tmp_path, samples=2, grader=None)
    assert len(again.seen) == 7
    stored = read_completions(tmp_path)
    assert len(stored) == 12 == len({c.id for c in stored})
    untouched = Echo()
    second = evaluate(backend=untouched, data=items, out=tmp_path, samples=2, grader=None)
    assert untouched.seen == [] and second.metrics == first.metrics


def test_more_samples_or_items_extend_a_run(items, tmp_path: Path) -> None:
    evaluate(backend=Echo(), data=items, out=tmp_path, samples=1, grader=None)
    more = Echo()
    result = evaluate(backend=more, data=items, out=tmp_path, samples=3, grader=None)
    assert sorted({r.sample for r in more.seen}) == [1, 2] and len(more.seen) == 12
    assert result.metrics.samples_per_item.to_record() == {"min": 3, "max": 3}


def test_other_settings_stop_with_a_clear_error(items, tmp_path: Path) -> None:
    evaluate(backend=Echo(), data=items, out=tmp_path, grader=None)
    with pytest.raises(SettingsMismatchError, match=r"sampling\.temperature: 1\.0 in the run"):
        evaluate(backend=Echo(), data=items, out=tmp_path, grader=None, temperature=0.6)
    with pytest.raises(SettingsMismatchError, match=r"chat_template_kwargs\.enable_thinking"):
        evaluate(backend=Echo(), data=items, out=tmp_path, grader=None,
                 chat_template_kwargs={"enable_thinking": False})


def test_failed_requests_are_reported_not_scored_then_retried(items, tmp_path: Path) -> None:
    bad = {(items[1].key, 0), (items[2].key, 1)}
    result = evaluate(backend=Echo(fail=bad), data=items, out=tmp_path, samples=2, grader=None)
    errors = [s for s in result.samples if not s.scored]
    assert {(s.key, s.index) for s in errors} == bad
    assert result.metrics.n_errors == 2 and result.metrics.n_responses == 10
    records = {(r["key"], r["sample"]): r for r in jsonl(tmp_path / "samples.jsonl")}
    assert records[(items[1].key, 0)]["error"] == "HTTP 500: boom"
    retry = Echo()
    fixed = evaluate(backend=retry, data=items, out=tmp_path, samples=2, grader=None)
    assert {(r.key, r.sample) for r in retry.seen} == bad
    assert fixed.metrics.n_errors == 0


def test_control_run(items, tmp_path: Path) -> None:
    backend = Echo()
    result = evaluate(backend=backend, data=items, out=tmp_path, with_control=True)
    control = [r for r in backend.seen if r.phase == "control"]
    assert len(control) == len(items)
    for request in control:
        item = next(i for i in items if i.key == request.key)
        assert request.messages[-1].content == mathif.build_prompt(item, constraints=False)
    assert (tmp_path / "control_samples.jsonl").exists()
    assert result.metrics.control is not None
    assert "correct_without_constraints" in result.metrics.to_record()["overall"]


def test_replay_matches_mathif_score(items, tmp_path: Path) -> None:
    """Replaying a responses file gives the records and metrics `mathif score` gives."""
    responses = tmp_path / "responses.jsonl"
    lines = []
    for n, item in enumerate(items):
        record = item.to_record()
        record["key"] = item.key
        record["response"] = f"<think>hmm</think>so \\boxed{{{item.answer}}}" if n % 2 else "No"
        lines.append(json.dumps(record))
    responses.write_text("\n".join(lines) + "\n")
    assert main(["score", str(responses), "--out", str(tmp_path / "scored"), "--quiet"]) == 0
    assert main(["eval", "--backend", "replay", "--model", str(responses), "--data",
                 str(Path(items.origin)), "--limit", "420", "--out", str(tmp_path / "ev"),
                 "--quiet", "--sources", *sorted({i.source for i in items})]) == 0
    scored = {r["key"]: r for r in jsonl(tmp_path / "scored" / "samples.jsonl")}
    evald = [r for r in jsonl(tmp_path / "ev" / "samples.jsonl") if r["key"] in scored]
    assert len(evald) == len(items)
    checked = ("sample", "follow", "hard", "soft", "answer_part", "correct", "extracted_answer",
               "grader", "error", "response")
    for record in evald:
        assert {k: record[k] for k in checked} == {k: scored[record["key"]][k] for k in checked}
    missing = [r for r in jsonl(tmp_path / "ev" / "samples.jsonl") if r["key"] not in scored]
    assert missing and all("has no response" in r["error"] for r in missing)


def test_replay_of_official_output_by_question_and_position(items, tmp_path: Path) -> None:
    official = tmp_path / "official.jsonl"
    official.write_text("".join(
        json.dumps({**item.to_record(), "output": [f"A{item.key}", f"B{item.key}"]}) + "\n"
        for item in reversed(items)))
    with pytest.raises(mathif.InputError, match="cannot read"):
        evaluate(str(tmp_path / "absent.jsonl"), backend="replay", data=items,
                 out=tmp_path / "q")
    evaluate(str(official), backend="replay", data=items, out=tmp_path / "a",
                      grader=None, samples=2)
    records = jsonl(tmp_path / "a" / "samples.jsonl")
    assert [r["response"] for r in records[:2]] == [f"A{items[0].key}", f"B{items[0].key}"]
    bare = tmp_path / "bare.jsonl"
    bare.write_text("".join(json.dumps({"output": [f"P{i}"]}) + "\n" for i in range(len(items))))
    evaluate(str(bare), backend="replay", data=items, out=tmp_path / "b", grader=None)
    assert [r["response"] for r in jsonl(tmp_path / "b" / "samples.jsonl")] == [
        f"P{i}" for i in range(len(items))]


def test_options_for_another_backend_are_refused(items, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="--concurrency"):
        evaluate("m", backend="replay", data=items, out=tmp_path, options={"concurrency": 3})


def test_eval_help_lists_the_issue_flags(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["eval", "--help"])
    text = capsys.readouterr().out
    for flag in ("--model", "--backend", "--data", "--out", "--limit", "--samples", "--seed",
                 "--max-tokens", "--temperature", "--top-p", "--concurrency", "--base-url",
                 "--with-control", "--chat-template-kwargs", "--tensor-parallel-size",
                 "--data-parallel-size", "--gpu-memory-utilization", "--max-model-len"):
        assert flag in text


def test_filters_apply_to_a_given_dataset(dataset, tmp_path: Path) -> None:
    """`mathif.evaluate(data=Dataset, limit=...)` used to ignore the filters."""
    backend = Echo()
    result = evaluate(backend=backend, data=dataset, out=tmp_path / "a", grader=None,
                      sources=["aime"], counts=[2], limit=3)
    assert len(backend.seen) == 3
    assert [s.item for s in result.samples] == [
        i for i in dataset if i.source == "aime" and i.n_constraints == 2][:3]
    with pytest.raises(ValueError, match="unknown source"):
        evaluate(backend=Echo(), data=dataset, out=tmp_path / "b", sources=["nope"])


def test_replay_by_position_against_the_whole_data_set(dataset, tmp_path: Path) -> None:
    """The official pipeline's output has one line per item of the whole data set; with a
    filter, its lines still match their items by position."""
    official = tmp_path / "official.jsonl"
    official.write_text("".join(json.dumps({"output": [f"P{i}"]}) + "\n"
                                for i in range(len(dataset))))
    evaluate(str(official), backend="replay", data=dataset, out=tmp_path / "r", grader=None,
             sources=["olympiad"], limit=2)
    records = jsonl(tmp_path / "r" / "samples.jsonl")
    first = [n for n, item in enumerate(dataset) if item.source == "olympiad"][:2]
    assert [r["response"] for r in records] == [f"P{n}" for n in first]
    assert all(r["error"] is None for r in records)


def test_replay_lines_that_match_no_item_are_an_error(items, tmp_path: Path) -> None:
    stray = tmp_path / "stray.jsonl"
    stray.write_text(json.dumps({"key": "nowhere:1", "response": "x"}) + "\n")
    with pytest.raises(mathif.InputError, match="matches no item"):
        evaluate(str(stray), backend="replay", data=items, out=tmp_path / "s", grader=None)


def test_the_run_config_is_declared_once(items, tmp_path: Path) -> None:
    """The eval flags, the resume settings and the manifest come from RunConfig."""
    from mathif.cli import build_parser
    from mathif.config import RunConfig
    from mathif.options import option_fields

    help_text = build_parser()._subparsers._group_actions[0].choices["eval"].format_help()
    for f, _ in option_fields(RunConfig):
        assert "--" + f.name.replace("_", "-") in help_text
    config = RunConfig(model="m", backend="replay")
    settings = config.settings(data_checksum="abc")
    assert list(settings) == ["model", "backend", "prompt_template", "system_prompt",
                              "chat_template_kwargs", "sampling", "seed", "engine",
                              "data_checksum"]
    evaluate(backend=Echo(), data=items, out=tmp_path, grader=None)
    stored = json.loads((tmp_path / "manifest.json").read_text())["settings"]
    assert set(stored) == set(settings)
    with pytest.raises(ValueError, match="temperature"):
        evaluate(backend=Echo(), data=items, out=tmp_path / "x", temperature=float("nan"))
    with pytest.raises(ValueError, match="samples"):
        evaluate(backend=Echo(), data=items, out=tmp_path / "y", samples=0)
