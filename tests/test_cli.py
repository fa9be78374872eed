"""`mathif score` end to end: inputs, outputs, errors, determinism."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mathif.cli import main


def _responses(dataset, limit: int = 40) -> list[dict]:
    records = []
    for n, item in enumerate(dataset.items[:: max(1, len(dataset) // limit)][:limit]):
        record = item.to_record()
        if n % 4 == 0:
            record["response"] = f"<think>ok, so</think>The answer is \\boxed{{{item.answer}}}"
        elif n % 4 == 1:
            record["output"] = ["<think>x</think>" + item.question.lower(), "THE ANSWER IS 7"]
        elif n % 4 == 2:
            record["response"] = '"' + item.question + ' so the answer is ' + item.answer + '"'
        else:
            record["response"] = "<think>never finished"
        record["run_tag"] = {"kept": n}
        records.append(record)
    return records


def _write_jsonl(path: Path, records: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_score_items_with_responses(dataset, tmp_path, capsys) -> None:
    inp = _write_jsonl(tmp_path / "in.jsonl", _responses(dataset))
    out = tmp_path / "run"
    assert main(["score", str(inp), "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "HAcc" in printed and "overall" in printed
    lines = [json.loads(x) for x in (out / "samples.jsonl").read_text().splitlines()]
    assert len(lines) == 40 + 10  # every 4th record has two samples
    first = lines[0]
    # a line carrying an official item is keyed by it, whatever the file is called
    assert first["key"] == dataset.items[0].key == "gsm8k_single:0" and first["sample"] == 0
    assert first["run_tag"] == {"kept": 0}  # extra fields preserved untouched
    assert first["response"].startswith("<think>")
    assert set(first) >= {"follow", "hard", "soft", "answer_part", "correct", "grader",
                          "extracted_answer", "grade_reason", "found_by"}
    assert first["answer_part"] == first["response"].split("</think>")[1]
    results = json.loads((out / "results.json").read_text())
    assert results["schema_version"] >= 1
    assert results["metrics"]["n_items"] == 40
    assert results["metrics"]["overall"]["correct"] is not None


def test_score_is_byte_identical_across_runs(dataset, tmp_path) -> None:
    inp = _write_jsonl(tmp_path / "in.jsonl", _responses(dataset))
    for name in ("a", "b"):
        assert main(["score", str(inp), "--out", str(tmp_path / name), "--quiet"]) == 0
    for name in ("samples.jsonl", "results.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_input_key_field_is_the_item_key(dataset, tmp_path) -> None:
    records = _responses(dataset, 4)
    records[0]["key"] = "gsm8k_single:0"
    inp = _write_jsonl(tmp_path / "in.jsonl", records)
    assert main(["score", str(inp), "--out", str(tmp_path / "o"), "--quiet",
                 "--grader", "none"]) == 0
    first = json.loads((tmp_path / "o" / "samples.jsonl").read_text().splitlines()[0])
    assert first["key"] == "gsm8k_single:0"
    assert "correct" not in first  # no grader: no correctness column at all


def test_official_pipeline_output_aligned_with_data(mathif_dir, tmp_path) -> None:
    lines = [{"output": ["</think>\\boxed{1}"]} for _ in range(20)]
    responses = _write_jsonl(tmp_path / "aime_single_out.jsonl", lines)
    out = tmp_path / "o"
    assert main(["score", "--data", str(mathif_dir / "aime_single.jsonl"), "--responses",
                 str(responses), "--out", str(out), "--quiet"]) == 0
    records = [json.loads(x) for x in (out / "samples.jsonl").read_text().splitlines()]
    assert [r["key"] for r in records] == [f"aime_single:{i}" for i in range(20)]
    assert records[0]["question"]  # item fields come from the data


def test_count_mismatch_is_an_error_and_writes_nothing(mathif_dir, tmp_path, capsys) -> None:
    responses = _write_jsonl(tmp_path / "r.jsonl", [{"output": ["x"]}] * 19)
    out = tmp_path / "o"
    code = main(["score", "--data", str(mathif_dir / "aime_single.jsonl"), "--responses",
                 str(responses), "--out", str(out), "--quiet"])
    assert code == 2
    assert "19 responses for 20 items" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize(
    ("breaker", "message"),
    [
        (lambda r: r.pop("response"), "field 'response'"),
        (lambda r: r.update(response=42), "field 'response'"),
        (lambda r: (r.pop("response"), r.update(output=[])), "empty list"),
        (lambda r: r.update(constraint_name=["made:up"]), "unknown constraint id"),
        (lambda r: r.update(constraint_args=[{"bogus": 1}]), "constraint_args[0]"),
    ],
)
def test_bad_lines_name_file_line_field(dataset, tmp_path, capsys, breaker, message) -> None:
    records = _responses(dataset, 3)
    records[2].pop("output", None)
    records[2]["response"] = "fine"
    breaker(records[2])
    inp = _write_jsonl(tmp_path / "in.jsonl", records)
    out = tmp_path / "o"
    assert main(["score", str(inp), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"{inp}:3" in err and message in err
    assert not out.exists()


def test_unreadable_json_line(tmp_path, capsys) -> None:
    inp = tmp_path / "in.jsonl"
    inp.write_text('{"a": 1}\n{oops\n')
    assert main(["score", str(inp), "--quiet"]) == 2
    assert f"{inp}:1" in capsys.readouterr().err  # line 1 is not an item either


def test_control_run_gives_the_diff_column(dataset, tmp_path) -> None:
    items = dataset.items[:8]
    main_records, control_records = [], []
    for n, item in enumerate(items):
        record = item.to_record()
        record["response"] = f"\\boxed{{{item.answer}}}" if n < 4 else "no idea"
        main_records.append(record)
        control = {k: v for k, v in item.to_record().items()}
        control["response"] = f"\\boxed{{{item.answer}}}"
        control_records.append(control)
    inp = _write_jsonl(tmp_path / "main.jsonl", main_records)
    ctl = _write_jsonl(tmp_path / "control.jsonl", control_records)
    out = tmp_path / "o"
    assert main(["score", str(inp), "--control", str(ctl), "--out", str(out), "--quiet"]) == 0
    overall = json.loads((out / "results.json").read_text())["metrics"]["overall"]
    assert overall["correct"] == 50.0
    assert overall["correct_without_constraints"] == 100.0
    assert overall["diff_percent"] == -50.0
    assert (out / "control_samples.jsonl").exists()


def test_console_script_runs(tmp_path) -> None:
    proc = subprocess.run([sys.executable, "-m", "mathif.cli", "--version"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "mathif" in proc.stdout
    # the process entry keeps main()'s exit codes
    missing = subprocess.run([sys.executable, "-m", "mathif.cli", "score",
                              str(tmp_path / "missing.jsonl")],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "missing.jsonl" in missing.stderr


def test_process_entry_tunes_the_collector_only_in_its_own_process() -> None:
    """``run()`` (the console script) changes the collector's settings, ``main()`` (the API
    tests and embedders call) does not."""
    import gc

    before = gc.get_threshold()
    assert main(["score", "missing.jsonl"]) == 2
    code = (
        "import gc, sys\n"
        "from mathif import cli\n"
        "sys.argv = ['mathif', 'score', 'missing.jsonl']\n"
        "try:\n    cli.run()\n"
        "except SystemExit as exc:\n"
        "    print(exc.code, gc.get_threshold()[0], gc.get_freeze_count() > 0)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.stdout.split() == ["2", "200000", "True"]
    assert gc.get_threshold() == before


def test_output_files_are_readable_by_others(dataset, tmp_path) -> None:
    import os
    import stat

    inp = _write_jsonl(tmp_path / "in.jsonl", _responses(dataset, 4))
    out = tmp_path / "o"
    assert main(["score", str(inp), "--out", str(out), "--quiet", "--grader", "none"]) == 0
    umask = os.umask(0)
    os.umask(umask)
    for name in ("samples.jsonl", "results.json"):
        mode = stat.S_IMODE((out / name).stat().st_mode)
        assert mode == 0o666 & ~umask


# --- found by trying it (issue 10) and the CLI parts of issue 9 ----------------------------


def _keys(out: Path) -> list[str]:
    return [json.loads(x)["key"] for x in (out / "samples.jsonl").read_text().splitlines()]


def test_score_applies_the_data_filters(dataset, tmp_path) -> None:
    """`score FILE --limit 2 --sources gsm8k` used to score every line."""
    inp = _write_jsonl(tmp_path / "in.jsonl", _responses(dataset))
    lines = [json.loads(line) for line in inp.read_text().splitlines()]
    out = tmp_path / "o"
    assert main(["score", str(inp), "--out", str(out), "--quiet", "--grader", "none",
                 "--sources", "minerva", "--limit", "2"]) == 0
    by_question = {item.question: item.key for item in dataset}
    expected = [by_question[r["question"]] for r in lines if "minerva" in r["source"]][:2]
    assert sorted(set(_keys(out))) == sorted(expected)
    results = json.loads((out / "results.json").read_text())
    assert results["metrics"]["n_items"] == 2
    assert results["manifest"]["selection"] == {"sources": ["minerva"], "counts": None,
                                                "limit": 2}
    single = tmp_path / "single"
    assert main(["score", str(inp), "--out", str(single), "--quiet", "--grader", "none",
                 "--counts", "single"]) == 0
    records = [json.loads(x) for x in (single / "samples.jsonl").read_text().splitlines()]
    assert records and all(len(r["constraint_name"]) == 1 for r in records)


def test_score_file_api_applies_the_filters(dataset, tmp_path) -> None:
    import mathif

    inp = _write_jsonl(tmp_path / "in.jsonl", _responses(dataset))
    result = mathif.score_file(inp, grader=None, sources=["aime"], limit=3)
    assert {s.item.source for s in result.samples} == {"aime"}
    assert len(result.items) == 3


def test_score_with_data_filters_a_file_aligned_with_all_items(mathif_dir, tmp_path) -> None:
    """The official pipeline's output has one line per item of the whole data set: with
    --limit, the lines are still matched by position against all items."""
    data = mathif_dir / "aime_single.jsonl"
    lines = [{"output": [f"</think>\\boxed{{{i}}}"]} for i in range(20)]
    responses = _write_jsonl(tmp_path / "out.jsonl", lines)
    out = tmp_path / "o"
    assert main(["score", "--data", str(data), "--responses", str(responses), "--out",
                 str(out), "--quiet", "--limit", "3", "--grader", "none"]) == 0
    records = [json.loads(x) for x in (out / "samples.jsonl").read_text().splitlines()]
    assert [r["key"] for r in records] == [f"aime_single:{i}" for i in range(3)]
    assert [r["response"] for r in records] == [f"</think>\\boxed{{{i}}}" for i in range(3)]


def test_a_second_run_replaces_the_whole_output_set(dataset, tmp_path) -> None:
    """A control file of an earlier run must not show up as this run's control (issue 9.10)."""
    from mathif import report

    records = _responses(dataset, 8)
    inp = _write_jsonl(tmp_path / "main.jsonl", records)
    ctl = _write_jsonl(tmp_path / "control.jsonl", records)
    out = tmp_path / "o"
    assert main(["score", str(inp), "--control", str(ctl), "--out", str(out), "--quiet"]) == 0
    assert (out / "control_samples.jsonl").exists()
    assert report.build([out]).runs[0].control_samples is not None
    assert main(["score", str(inp), "--out", str(out), "--quiet"]) == 0
    assert not (out / "control_samples.jsonl").exists()
    run = report.build([out]).runs[0]
    assert run.control_samples is None and run.metrics.control is None
    assert sorted(p.name for p in out.iterdir()) == ["results.json", "samples.jsonl"]


def test_out_that_is_a_file_fails_before_scoring(dataset, tmp_path, capsys,
                                                 monkeypatch) -> None:
    import mathif.run

    inp = _write_jsonl(tmp_path / "in.jsonl", _responses(dataset, 4))
    target = tmp_path / "a-file"
    target.write_text("keep me")
    monkeypatch.setattr(mathif.run, "score_entries", _must_not_run)
    assert main(["score", str(inp), "--out", str(target), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a file, not a folder" in err and str(target) in err
    assert target.read_text() == "keep me"
    assert main(["score", str(inp), "--out", str(target / "sub"), "--quiet"]) == 2
    assert "is a file" in capsys.readouterr().err


def _must_not_run(*args, **kwargs):  # type: ignore[no-untyped-def]
    raise AssertionError("scoring ran although the output folder is unusable")


@pytest.mark.parametrize(("failure", "message"), [
    (PermissionError(13, "Permission denied"), "Permission denied"),
    (OSError(28, "No space left on device"), "the disk is full"),
])
def test_unwritable_or_full_out_fails_before_scoring(dataset, tmp_path, capsys, monkeypatch,
                                                     failure, message) -> None:
    import os

    import mathif.run

    inp = _write_jsonl(tmp_path / "in.jsonl", _responses(dataset, 4))
    monkeypatch.setattr(mathif.run, "score_entries", _must_not_run)
    real_write = os.write

    def failing_write(fd: int, data: bytes) -> int:
        if isinstance(failure, PermissionError):
            return real_write(fd, data)
        raise failure

    def failing_mkstemp(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise failure

    if isinstance(failure, PermissionError):
        monkeypatch.setattr(mathif.run.tempfile, "mkstemp", failing_mkstemp)
    else:
        monkeypatch.setattr(mathif.run.os, "write", failing_write)
    out = tmp_path / "o"
    assert main(["score", str(inp), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_failed_write_leaves_no_temporary_file_and_keeps_the_old_run(dataset, tmp_path,
                                                                       monkeypatch) -> None:
    import mathif.run

    inp = _write_jsonl(tmp_path / "in.jsonl", _responses(dataset, 4))
    out = tmp_path / "o"
    assert main(["score", str(inp), "--out", str(out), "--quiet", "--grader", "none"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real = mathif.run._write_temp
    calls = []

    def fail_second(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(mathif.run, "_write_temp", fail_second)
    with pytest.raises(OSError):
        mathif.run.write_run(out, mathif.score_file(inp, grader=None))
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no temp, no change


@pytest.mark.parametrize(("flag", "value"), [
    ("--grade-timeout", "nan"), ("--grade-timeout", "inf"), ("--grade-timeout", "-1"),
    ("--grade-timeout", "0"), ("--workers", "0"), ("--limit", "-1"),
    ("--max-ungraded", "nan"), ("--max-ungraded", "101"),
])
def test_bad_score_flags_are_rejected_at_parse_time(tmp_path, capsys, flag, value) -> None:
    out = tmp_path / "o"
    with pytest.raises(SystemExit) as exc:
        main(["score", "missing.jsonl", "--out", str(out), flag, value])
    assert exc.value.code == 2
    assert flag in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize(("flag", "value"), [
    ("--temperature", "nan"), ("--temperature", "-0.5"), ("--temperature", "inf"),
    ("--top-p", "0"), ("--top-p", "1.5"), ("--top-p", "nan"), ("--max-tokens", "0"),
    ("--max-tokens", "-5"), ("--samples", "0"), ("--samples", "nan"),
    ("--concurrency", "0"), ("--request-timeout", "nan"), ("--request-timeout", "-1"),
    ("--max-retries", "-1"), ("--seed", "-3"), ("--gpu-memory-utilization", "2"),
    ("--tensor-parallel-size", "0"), ("--batch-size", "0"), ("--grade-timeout", "nan"),
    ("--chat-template-kwargs", "[1]"), ("--extra-body", "nope"),
])
def test_bad_eval_flags_are_rejected_at_parse_time(tmp_path, capsys, flag, value) -> None:
    out = tmp_path / "o"
    with pytest.raises(SystemExit) as exc:
        main(["eval", "--model", "m", "--backend", "replay", "--out", str(out), flag, value])
    assert exc.value.code == 2
    assert flag in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize(("flag", "value"), [
    ("--n-boot", "0"), ("--level", "1"), ("--level", "nan"), ("--max-chars", "-1"),
])
def test_bad_report_flags_are_rejected_at_parse_time(capsys, flag, value) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["report", "somewhere", flag, value])
    assert exc.value.code == 2 and flag in capsys.readouterr().err


def test_unexpected_errors_say_how_to_get_the_traceback(dataset, tmp_path, capsys,
                                                        monkeypatch) -> None:
    import mathif.run

    def bug(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("something broke inside")

    inp = _write_jsonl(tmp_path / "in.jsonl", _responses(dataset, 2))
    monkeypatch.setattr(mathif.run, "score_entries", bug)
    monkeypatch.delenv("MATHIF_DEBUG", raising=False)
    assert main(["score", str(inp), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "RuntimeError: something broke inside" in err and "--debug" in err
    assert "Traceback" not in err
    assert main(["score", str(inp), "--quiet", "--debug"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "something broke inside" in err
    monkeypatch.setenv("MATHIF_DEBUG", "1")
    assert main(["score", str(inp), "--quiet"]) == 1
    assert "Traceback" in capsys.readouterr().err
    # input errors stay one clean line, debug or not
    assert main(["score", str(tmp_path / "absent.jsonl"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1


def _timeouts(every: int):  # type: ignore[no-untyped-def]
    """A grading_session stand-in: every ``every``-th answer times out, the others match."""
    import contextlib

    from mathif.grading import Grade

    @contextlib.contextmanager
    def grading_session(grader, total, *, timeout, workers=None, progress=False):  # type: ignore[no-untyped-def]
        class Session:
            def add(self, i, *row):  # type: ignore[no-untyped-def]
                assert 0 <= i < total

            def grades(self):  # type: ignore[no-untyped-def]
                return [Grade(False, None, grader, "timeout") if i % every == 0
                        else Grade(True, "1", grader, "match") for i in range(total)]

        yield Session()

    return grading_session


def test_ungraded_answers_are_counted_shown_and_fail_loudly(dataset, tmp_path, capsys,
                                                           monkeypatch) -> None:
    """A grader timeout used to lower correctness silently."""
    import mathif.scoring

    monkeypatch.setattr(mathif.scoring, "grading_session", _timeouts(every=5))
    inp = _write_jsonl(tmp_path / "in.jsonl", _responses(dataset))
    out = tmp_path / "o"
    assert main(["score", str(inp), "--out", str(out), "--quiet"]) == 3
    captured = capsys.readouterr()
    assert "could not be graded" in captured.out  # the summary shows them
    assert "10 of 50 answers (20.0%) could not be graded" in captured.err
    assert "--max-ungraded" in captured.err and "--grade-timeout" in captured.err
    grading = json.loads((out / "results.json").read_text())["metrics"]["grading"]
    assert grading["n_graded"] == 50 and grading["timeout"] == 10 and grading["error"] == 0
    assert grading["outcomes"]["timeout"] == 10 and grading["outcomes"]["match"] == 40
    assert sum(v["timeout"] for v in grading["by_source"].values()) == 10
    assert set(grading["by_source"]) <= {"gsm8k", "math500", "minerva", "olympiad", "aime"}
    assert main(["score", str(inp), "--out", str(out), "--quiet",
                 "--max-ungraded", "25"]) == 0
    capsys.readouterr()
    from mathif import report

    markdown = report.to_markdown(report.build([out]))
    assert "Ungraded answers" in markdown and "10 (20.0%: 10 timeout, 0 error)" in markdown


def test_score_starts_a_grading_worker_early_only_for_sizable_inputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mathif.cli import score as score_cli
    from mathif.grading import workers

    calls: list[str | None] = []
    monkeypatch.setattr(workers, "warm_up", calls.append)
    small, big = tmp_path / "small.jsonl", tmp_path / "big.jsonl"
    small.write_text("{}\n")
    big.write_text("{}\n" * (score_cli.WARM_UP_BYTES // 3 + 1))
    score_cli._warm_up(str(small), "mathif")
    score_cli._warm_up(str(tmp_path / "missing.jsonl"), "mathif")
    assert calls == []
    score_cli._warm_up(str(big), "reference")
    assert calls == ["reference"]
