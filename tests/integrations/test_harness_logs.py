"""Runs made in lm-evaluation-harness or Inspect, read back by ``mathif score``: the same
verdicts and the same results.json as the same responses scored directly, whatever the log's
shape, and clear errors for logs that are broken or hostile.

The logs here are written by hand in the harnesses' shapes (tests/integrations/logs.py), so
these tests run without either harness; tests/integrations/test_lm_eval_task.py,
test_inspect_task.py and tests/generation/test_harnesses.py read the harnesses' own output.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from mathif import harness_logs
from mathif.cli import main
from mathif.data import Dataset, Item
from mathif.errors import InputError
from mathif.generation.replay import read_replay
from mathif.responses import Response, Usage
from mathif.run import ScoreResult, score, score_file
from tests.integrations.crafted import assert_varied, crafted, crafted_table
from tests.integrations.logs import (
    inspect_log,
    inspect_sample,
    lm_eval_record,
    write_inspect_eval,
    write_inspect_json,
    write_jsonl,
)


@pytest.fixture(scope="module")
def spread(dataset: Dataset) -> list[Item]:
    """24 items from every source and count, in the data's order."""
    return list(dataset)[::18][:24]


def verdicts(result: ScoreResult) -> dict[tuple[str, int], tuple]:
    return {(s.key, s.index): (s.follow, s.hard, s.soft, s.correct, s.answer_part, s.error)
            for s in result.samples}


def same_results(imported: ScoreResult, direct: ScoreResult) -> None:
    """Item by item, then every number of results.json."""
    assert verdicts(imported) == verdicts(direct)
    assert imported.results.to_record()["metrics"] == direct.results.to_record()["metrics"]


# --- lm-evaluation-harness samples files ------------------------------------------------------


def test_an_lm_eval_samples_file_scores_as_its_responses_do(
        spread: list[Item], mathif_dir: Path, tmp_path: Path) -> None:
    table = crafted_table(spread, separate_reasoning=False)  # lm-eval keeps the text only
    log = write_jsonl(tmp_path / "samples_mathif_2026.jsonl",
                      [lm_eval_record(item, table[item.key].text, n)
                       for n, item in enumerate(spread)])
    assert harness_logs.kind_of(log) == harness_logs.LM_EVAL
    imported = score_file(log, data=mathif_dir)
    direct = score(spread, {k: r.text for k, r in table.items()})
    assert_varied({s.key: (s.hard, s.soft, s.correct) for s in direct.samples})
    same_results(imported, direct)
    assert imported.results.manifest["harness"] == {"name": "lm-eval"}
    assert imported.results.manifest["data"]["n_items"] == len(spread)


def test_without_data_a_harness_log_is_matched_to_mathif_data(
        spread: list[Item], mathif_dir: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``mathif score LOG``: the official items come from MATHIF_DATA (the Hub otherwise),
    never from the log's own copy of them."""
    monkeypatch.setenv("MATHIF_DATA", str(mathif_dir))
    items = spread[:6]
    records = [lm_eval_record(item, "\\boxed{1}", n) for n, item in enumerate(items)]
    records[0]["doc"]["item"] = "{}"  # the log's copy is never read when importing
    log = write_jsonl(tmp_path / "samples.jsonl", records)
    result = score_file(log)
    assert [s.key for s in result.samples] == [i.key for i in items]
    assert result.samples[0].item == items[0]


def test_lm_eval_lines_without_key_match_by_question(
        spread: list[Item], mathif_dir: Path, tmp_path: Path) -> None:
    records = [lm_eval_record(item, "\\boxed{1}", n) for n, item in enumerate(spread[:4])]
    for record in records:
        del record["doc"]["key"]
    result = score_file(write_jsonl(tmp_path / "s.jsonl", records), data=mathif_dir)
    assert [s.key for s in result.samples] == [i.key for i in spread[:4]]


def test_lm_eval_repeats_are_samples_and_null_generations_empty_answers(
        spread: list[Item], mathif_dir: Path, tmp_path: Path) -> None:
    item = spread[0]
    record = lm_eval_record(item, None, 0)
    other = lm_eval_record(spread[1], None, 1)
    other["resps"] = [[f"\\boxed{{{spread[1].answer}}}", "no answer"]]
    result = score_file(write_jsonl(tmp_path / "s.jsonl", [record, other]), data=mathif_dir)
    by = {(s.key, s.index): s for s in result.samples}
    assert by[item.key, 0].error is None and by[item.key, 0].answer_part == ""
    assert by[item.key, 0].follow == (False,) * item.n_constraints
    assert by[spread[1].key, 0].correct is True and by[spread[1].key, 1].correct is False


@pytest.mark.parametrize(("change", "message"), [
    (lambda r: r.update(resps=[[3]], filtered_resps=[3]), "'resps'"),
    (lambda r: r.update(doc="text"), "not an lm-evaluation-harness sample"),
    (lambda r: r["doc"].update(key="gsm8k_single:999", question="?"), "matches no item"),
])
def test_bad_lm_eval_lines_are_located(spread: list[Item], mathif_dir: Path, tmp_path: Path,
                                       change, message: str) -> None:
    records = [lm_eval_record(item, "x", n) for n, item in enumerate(spread[:3])]
    change(records[2])
    log = write_jsonl(tmp_path / "s.jsonl", records)
    with pytest.raises(InputError, match=message) as info:
        score_file(log, data=mathif_dir)
    assert info.value.file == str(log) and info.value.line == 3


# --- Inspect logs ----------------------------------------------------------------------------


def inspect_run(items: list[Item]) -> tuple[list[dict], dict[str, list[Response]]]:
    """A log's samples and the same responses for direct scoring: a second epoch for some
    items (one cut at max_tokens), reasoning blocks for others, one failed sample."""
    samples, table = [], {}
    for n, item in enumerate(items):
        responses = [crafted(item, n)]
        if n % 5 == 0:
            responses.append(crafted(item, n + 3))
        if n == 3:
            responses = [Response("", error="RuntimeError: the provider refused")]
        for epoch, response in enumerate(responses, start=1):
            samples.append(inspect_sample(item, response, epoch=epoch, error=response.error))
        usage = [Usage(finish_reason="length" if e == 2 else "stop", prompt_tokens=100,
                       completion_tokens=12) for e in (1, 2)]
        table[item.key] = [Response(r.text, reasoning=r.reasoning, error=r.error,
                                    usage=usage[i] if r.error is None else Usage(
                                        prompt_tokens=100, completion_tokens=12))
                           for i, r in enumerate(responses)]
    return samples, table


@pytest.mark.parametrize("form", ["json", "eval"])
def test_an_inspect_log_scores_as_its_responses_do(
        spread: list[Item], mathif_dir: Path, tmp_path: Path, form: str) -> None:
    samples, table = inspect_run(spread)
    log = inspect_log(samples, model="openai-api/local/qwen")
    path = (write_inspect_json(tmp_path / "run.json", log) if form == "json"
            else write_inspect_eval(tmp_path / "run.eval", log))
    assert harness_logs.kind_of(path) == harness_logs.INSPECT
    imported = score_file(path, data=mathif_dir)
    direct = score(spread, table)
    assert_varied({s.key: (s.hard, s.soft, s.correct) for s in direct.samples if s.scored})
    same_results(imported, direct)
    metrics = imported.metrics
    assert metrics.n_errors == 1 and metrics.samples_per_item.max == 2
    assert metrics.truncation is not None and metrics.truncation.n_length == 5
    manifest = imported.results.manifest
    assert manifest["model"] == "openai-api/local/qwen"
    assert manifest["harness"] == {"name": "inspect", "task": "mathif/mathif",
                                   "status": "success"}


def test_inspect_reasoning_blocks_are_the_reasoning_and_text_blocks_the_answer(
        spread: list[Item], tmp_path: Path) -> None:
    item = spread[0]
    sample = inspect_sample(item, Response("x"))
    sample["output"]["choices"][0]["message"]["content"] = [
        {"type": "reasoning", "reasoning": "secret", "redacted": True},
        {"type": "reasoning", "reasoning": "step one"},
        {"type": "text", "text": "<think>not a tag here</think>A"},
        {"type": "image", "image": "data:"},
        {"type": "text", "text": "B"},
    ]
    _, lines = harness_logs.read_inspect(write_inspect_json(tmp_path / "l.json",
                                                            inspect_log([sample])))
    assert lines[0]["reasoning"] == "step one"
    assert lines[0]["response"] == "<think>not a tag here</think>A\nB"
    # the provider separated the reasoning: the text is the answer part as is (SPEC §3)
    assert harness_logs.inspect_content("plain </think> text") == ("plain </think> text", None)


def test_inspect_samples_without_metadata_match_by_string_id(
        spread: list[Item], mathif_dir: Path, tmp_path: Path) -> None:
    samples = [inspect_sample(item, Response("\\boxed{2}")) for item in spread[:3]]
    for sample in samples:
        sample["metadata"] = {}
    path = write_inspect_json(tmp_path / "l.json", inspect_log(samples))
    result = score_file(path, data=mathif_dir)
    assert [s.key for s in result.samples] == [i.key for i in spread[:3]]


def test_a_relogged_eval_member_replaces_the_first(spread: list[Item], mathif_dir: Path,
                                                   tmp_path: Path) -> None:
    item = spread[0]
    path = write_inspect_eval(tmp_path / "r.eval", inspect_log(
        [inspect_sample(item, Response("first"))]))
    with zipfile.ZipFile(path, "a") as archive, pytest.warns(UserWarning, match="Duplicate"):
        archive.writestr(f"samples/{item.key}_epoch_1.json",
                         json.dumps(inspect_sample(item, Response("second"))))
    result = score_file(path, data=mathif_dir)
    assert [s.response.text for s in result.samples] == ["second"]


def test_hostile_inspect_logs_are_clear_errors(spread: list[Item], tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    not_zip = tmp_path / "broken.eval"
    not_zip.write_bytes(b"PK\x03\x04 this is no archive")
    with pytest.raises(InputError, match=r"not an Inspect \.eval log"):
        harness_logs.read_inspect(not_zip)
    empty = write_inspect_json(tmp_path / "empty.json", inspect_log([]))
    with pytest.raises(InputError, match="no samples"):
        harness_logs.read_inspect(empty)
    big = write_inspect_eval(tmp_path / "big.eval", inspect_log(
        [inspect_sample(spread[0], Response("x" * 5000))]))
    monkeypatch.setattr(harness_logs, "MAX_MEMBER_BYTES", 2000)
    with pytest.raises(InputError, match="bytes"):
        harness_logs.read_inspect(big)
    monkeypatch.undo()
    bad_sample = write_inspect_json(tmp_path / "bad.json", inspect_log(["text"]))  # type: ignore[list-item]
    with pytest.raises(InputError, match="expected an Inspect sample object") as info:
        harness_logs.read_inspect(bad_sample)
    assert "samples[0]" in str(info.value)
    bad_bytes = tmp_path / "bytes.json"
    bad_bytes.write_bytes(b'{"version": 2, "eval": {}, "samples": ["\xff"]}')
    with pytest.raises(InputError, match="not UTF-8"):
        harness_logs.read_inspect(bad_bytes)


def test_an_unreadable_compression_says_what_to_do(spread: list[Item], tmp_path: Path) -> None:
    """A member whose compression method this Python does not know (e.g. zstandard without
    the zipfile-zstd patch), or whose bytes do not decompress, is an input error."""
    path = write_inspect_eval(tmp_path / "z.eval", inspect_log(
        [inspect_sample(spread[0], Response("x"))]), compression=zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    # compression method 99 (AES) in every local header and central directory entry
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        start = 0
        while (at := data.find(signature, start)) >= 0:
            data[at + offset:at + offset + 2] = (99).to_bytes(2, "little")
            start = at + 4
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="compression"):
        harness_logs.read_inspect(path)


# --- what is not a harness log, and the command line -------------------------------------------


def test_mathif_files_are_not_taken_for_harness_logs(tmp_path: Path) -> None:
    mine = write_jsonl(tmp_path / "responses.jsonl", [{"key": "aime_single:0", "response": "x"}])
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"schema_version": 1, "manifest": {}, "metrics": {}}))
    for path in (mine, results, tmp_path / "absent.jsonl"):
        assert harness_logs.kind_of(path) is None
    assert harness_logs.describe(mine) == {}


def test_score_and_report_commands_read_harness_logs(
        spread: list[Item], mathif_dir: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MATHIF_DATA", str(mathif_dir))
    items = spread[:8]
    main_log = write_jsonl(tmp_path / "samples_mathif.jsonl", [
        lm_eval_record(item, crafted(item, n, separate_reasoning=False).text, n)
        for n, item in enumerate(items)])
    control = write_jsonl(tmp_path / "samples_mathif_control.jsonl", [
        lm_eval_record(item, f"\\boxed{{{item.answer}}}", n) for n, item in enumerate(items)])
    out = tmp_path / "run"
    assert main(["score", str(main_log), "--control", str(control), "--out", str(out),
                 "--quiet"]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["metrics"]["n_items"] == 8
    assert results["metrics"]["overall"]["correct_without_constraints"] == 100.0
    assert main(["report", str(out), "--html", str(tmp_path / "r.html")]) == 0
    assert "gsm8k" in (tmp_path / "r.html").read_text()
    capsys.readouterr()


def test_the_replay_backend_reads_harness_logs(spread: list[Item], dataset: Dataset,
                                               tmp_path: Path) -> None:
    log = write_inspect_json(tmp_path / "l.json", inspect_log(
        [inspect_sample(item, crafted(item, 1)) for item in spread[:2]]))
    table = read_replay(log, dataset)
    assert table[spread[0].key, 0].reasoning == "I reasoned at length."
    assert set(table) == {(spread[0].key, 0), (spread[1].key, 0)}
