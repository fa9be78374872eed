"""Hostile input files: the JSONL reader behind data files, responses files and run folders.

The files here are the attacker: bytes that are not UTF-8 deep inside a file, ``NaN``,
numbers that overflow, repeated keys, 100,000-deep nesting, lone surrogates. Each must give
one clear error naming the file and line (or, for lone surrogates, a documented repair), never
a traceback, a wrong line, or an output file that is not valid JSON / UTF-8.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from mathif import jsonl
from mathif.data import load, read_jsonl
from mathif.errors import InputError


def _item(n: int = 0) -> dict:
    return {
        "source": "gsm8k", "id": f"x-{n}", "question": f"What is {n}+1? " + "pad " * 40,
        "answer": str(n + 1),
        "constraint_desc": ["Your entire response should be in English, and in all lowercase "
                            "letters. No capital letters are allowed."],
        "constraint_name": ["change_case:english_lowercase"],
        "constraint_args": [None],
    }


def _lines(n: int) -> list[bytes]:
    return [json.dumps(_item(i)).encode() for i in range(n)]


def _file(tmp_path: Path, lines: list[bytes], name: str = "custom.jsonl") -> Path:
    path = tmp_path / name
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


@pytest.mark.parametrize("bad_line", [1, 2, 40, 200])
def test_a_non_utf8_byte_is_reported_on_its_own_line(tmp_path: Path, bad_line: int) -> None:
    # Text-mode reading decodes 8 KB at a time, so the error used to name a line near the
    # start of the chunk, not the line that holds the byte.
    lines = _lines(200)
    lines[bad_line - 1] = lines[bad_line - 1].replace(b"What is", b"What \xff is")
    path = _file(tmp_path, lines)
    with pytest.raises(InputError, match="not UTF-8") as info:
        load(path)
    assert info.value.line == bad_line and info.value.file == str(path)
    assert f"{path}:{bad_line}:" in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b'{"a": NaN}', "NaN is not valid JSON"),
        (b'{"a": -Infinity}', "-Infinity is not valid JSON"),
        (b'{"a": 1e999}', "too large"),
        (b'{"a": 1, "a": 2}', "duplicate key 'a'"),
        (b'{"a": {"b": 1, "b": 1}}', "duplicate key 'b'"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"a": ' * 100_000 + b"1" + b"}" * 100_000, "nested too deeply"),
        (b"1" * 5000, "invalid JSON"),
        (b'{"a": 1', "invalid JSON"),
    ],
    ids=["nan", "-inf", "overflow", "duplicate", "nested-duplicate", "deep-array",
         "deep-object", "huge-int", "unclosed"],
)
def test_refused_json_is_a_located_input_error(tmp_path: Path, text: bytes,
                                               message: str) -> None:
    path = _file(tmp_path, [*_lines(2), text, *_lines(1)])
    with pytest.raises(InputError, match=message) as info:
        list(read_jsonl(path))
    assert info.value.line == 3 and info.value.file == str(path)


def test_nan_in_a_data_file_never_reaches_an_output(tmp_path: Path) -> None:
    record = _item()
    record["extra"] = float("nan")
    path = tmp_path / "nan.jsonl"
    path.write_text(json.dumps(record) + "\n")  # Python writes the invalid token NaN
    with pytest.raises(InputError, match=r"nan\.jsonl:1: NaN is not valid JSON"):
        load(path)


def test_a_byte_order_mark_is_skipped_and_blank_lines_keep_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(_item()).encode() + b"\r\n\r\n  \n"
                     + json.dumps(_item(1)).encode() + b"\n")
    assert [i.key for i in load(path)] == ["bom:0", "bom:3"]


def test_lone_surrogates_are_replaced_counted_and_warned(tmp_path: Path) -> None:
    record = _item()
    record["question"] = "What is \ud800 1+1? \ud83d\ude00"  # a lone one, then a valid pair
    record["note"] = {"\udc00key": ["\udfff"]}
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps(_item(1)) + "\n" + json.dumps(record) + "\n")
    with jsonl.recording_repairs() as repairs, pytest.warns(jsonl.InputRepairWarning,
                                                            match=r"3 lone.*line 2"):
        items = list(load(path))
    assert items[1].question == "What is \ufffd 1+1? \U0001f600"
    assert items[1].fields["note"] == {"\ufffdkey": ["\ufffd"]}
    assert repairs.replaced_surrogates == 3 and repairs.where == [f"{path}:2"]
    json.dumps(items[1].to_record(), ensure_ascii=False).encode("utf-8")  # now writable


def test_clean_files_raise_no_repair_warning(tmp_path: Path) -> None:
    path = _file(tmp_path, _lines(3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with jsonl.recording_repairs() as repairs:
            assert len(load(path)) == 3
    assert repairs.replaced_surrogates == 0


def test_parse_rules() -> None:
    assert jsonl.parse(b'{"a": [1, 2.5, "x", null, true]}') == ({"a": [1, 2.5, "x", None, True]},
                                                                 0)
    assert jsonl.parse('"\\ud800\\udc00"') == ("\U00010000", 0)  # a pair is one character
    assert jsonl.parse('"\\udc00\\ud800"') == ("\ufffd\ufffd", 2)  # reversed: two lone ones
    assert jsonl.parse('["\ud800"]') == (["\ufffd"], 1)  # a raw one in a str (not bytes)
    with pytest.raises(jsonl.JSONLineError, match=r"not UTF-8.*byte 3"):
        jsonl.parse(b'"a\xed\xa0\x80"')  # an encoded surrogate is not UTF-8
    with pytest.raises(jsonl.JSONLineError, match="duplicate key"):
        jsonl.parse('{"\\ud800": 1, "\\ufffd": 2}')  # the same key once repaired


def test_scoring_a_file_with_lone_surrogates_writes_valid_outputs(tmp_path: Path) -> None:
    # `mathif score` used to fail only when writing, after all the grading, leaving a temp file.
    from mathif.cli import main

    record = _item()
    record["response"] = "<think>hmm \ud800</think>the answer is \\boxed{1} \udfff"
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps(record) + "\n")
    out = tmp_path / "run"
    with pytest.warns(jsonl.InputRepairWarning):
        assert main(["score", str(inp), "--out", str(out), "--quiet", "--grader", "none"]) == 0
    written = (out / "samples.jsonl").read_bytes().decode("utf-8")
    assert json.loads(written)["response"] == ("<think>hmm \ufffd</think>the answer is "
                                               "\\boxed{1} \ufffd")
    assert sorted(p.name for p in out.iterdir()) == ["results.json", "samples.jsonl"]
