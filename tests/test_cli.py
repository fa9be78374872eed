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
    assert first["key"] == "in:0" and first["sample"] == 0
    assert first["run_tag"] == {"kept": 0}  # extra fields preserved untouched
    assert first["response"].startswith("<think>")
    assert set(first) >= {"follow", "hard", "soft", "answer_part", "correct", "grader",
                          "extracted_answer", "grade_reason"}
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
