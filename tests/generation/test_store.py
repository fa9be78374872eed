"""The run store: durable appends, torn-line recovery, resume key, refusing mixed runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mathif.errors import InputError
from mathif.generation import Completion, RunStore, SettingsMismatchError
from mathif.generation.store import (
    COMPLETIONS_NAME,
    MANIFEST_NAME,
    StoreLockedError,
    read_completions,
    repair_counts,
)

SETTINGS = {"model": "m", "sampling": {"temperature": 1.0, "top_p": 0.95}, "seed": 0}


def done(key: str, sample: int = 0, text: str = "<think>r</think>A", **kw) -> Completion:
    return Completion(key=key, sample=sample, text=text, **kw)


def test_append_and_reopen(tmp_path: Path) -> None:
    with RunStore.open(tmp_path, settings=SETTINGS) as store:
        assert store.append(done("a:0"))
        assert store.append(done("a:0", 1))
        assert store.append(done("a:0", phase="control"))
    with RunStore.open(tmp_path, settings=SETTINGS) as store:
        assert store.has_success(("main", "a:0", 0))
        assert store.has_success(("control", "a:0", 0))
        assert not store.has_success(("main", "a:0", 2))
        got = store.get("main", "a:0", 1)
        assert got is not None and got.text == "<think>r</think>A"
    record = json.loads((tmp_path / COMPLETIONS_NAME).read_text().splitlines()[0])
    assert record["answer_part"] == "A" and record["key"] == "a:0" and record["sample"] == 0
    manifest = json.loads((tmp_path / MANIFEST_NAME).read_text())
    assert manifest["settings"] == SETTINGS and len(manifest["sessions"]) == 2
    assert "python" in manifest["versions"]


def test_a_success_is_never_stored_twice(tmp_path: Path) -> None:
    with RunStore.open(tmp_path, settings=SETTINGS) as store:
        assert store.append(done("a:0"))
        assert not store.append(done("a:0", text="other"))
    assert len(read_completions(tmp_path)) == 1


def test_an_error_is_retried_and_a_later_success_wins(tmp_path: Path) -> None:
    with RunStore.open(tmp_path, settings=SETTINGS) as store:
        store.append(Completion(key="a:0", sample=0, text="", error="HTTP 500"))
        assert not store.has_success(("main", "a:0", 0))
        assert store.get("main", "a:0", 0).error == "HTTP 500"  # type: ignore[union-attr]
    with RunStore.open(tmp_path, settings=SETTINGS) as store:
        assert store.append(done("a:0"))
        assert not store.append(Completion(key="a:0", sample=0, text="", error="late"))
    with RunStore.open(tmp_path, settings=SETTINGS) as store:
        got = store.get("main", "a:0", 0)
        assert got is not None and got.ok


@pytest.mark.parametrize("tail", [b'{"phase": "main", "key": "b:0", "sa', b"\x00\x00\x00\x00",
                                  b'{"phase": "main", "key": "b:0", "sample": 0, "text": "x"}'])
def test_torn_last_line_is_dropped(tmp_path: Path, tail: bytes, caplog) -> None:
    with RunStore.open(tmp_path, settings=SETTINGS) as store:
        store.append(done("a:0"))
    path = tmp_path / COMPLETIONS_NAME
    good = path.read_bytes()
    path.write_bytes(good + tail)
    with RunStore.open(tmp_path, settings=SETTINGS) as store:
        assert store.dropped_bytes == len(tail)
        assert store.has_success(("main", "a:0", 0))
        store.append(done("b:0"))
    assert "torn last line" in caplog.text  # logged (the CLI shows it on stderr)
    assert path.read_bytes().startswith(good)
    assert [c.key for c in read_completions(tmp_path)] == ["a:0", "b:0"]


def test_corruption_in_the_middle_is_an_error(tmp_path: Path) -> None:
    with RunStore.open(tmp_path, settings=SETTINGS) as store:
        store.append(done("a:0"))
    path = tmp_path / COMPLETIONS_NAME
    path.write_bytes(b"not json\n" + path.read_bytes())
    with pytest.raises(InputError, match=r"completions\.jsonl:1"):
        RunStore.open(tmp_path, settings=SETTINGS)


@pytest.mark.parametrize("last", [b'{"phase": "main"}garbage\n', b"not json\n",
                                  b"\x00\x00\x00\x00\n", b'{"phase": "main", "key": "b:0", "sa\n',
                                  b'{"key": "b:0", "key": "c:0"}\n', b'{"latency_s": NaN}\n',
                                  b'["phase", "main"]\n'])
def test_a_bad_last_line_with_its_newline_is_corruption(tmp_path: Path, last: bytes) -> None:
    # A torn write never has its newline (each line is written whole, newline included), so a
    # bad line that ends with one was damaged or edited: stop and say where, drop nothing.
    with RunStore.open(tmp_path, settings=SETTINGS) as store:
        store.append(done("a:0"))
    path = tmp_path / COMPLETIONS_NAME
    before = path.read_bytes() + last
    path.write_bytes(before)
    with pytest.raises(InputError, match=r"completions\.jsonl:2: unreadable line") as info:
        RunStore.open(tmp_path, settings=SETTINGS)
    assert info.value.line == 2
    assert path.read_bytes() == before
    with pytest.raises(InputError, match=r"completions\.jsonl:2"):
        read_completions(tmp_path)


def test_a_deeply_nested_line_is_a_located_error(tmp_path: Path) -> None:
    RunStore.open(tmp_path, settings=SETTINGS).close()
    (tmp_path / COMPLETIONS_NAME).write_bytes(b"[" * 100_000 + b"]" * 100_000 + b"\n")
    with pytest.raises(InputError, match=r"completions\.jsonl:1: .*nested too deeply"):
        RunStore.open(tmp_path, settings=SETTINGS)


def test_lone_surrogates_are_replaced_and_counted(tmp_path: Path) -> None:
    # A backend's text with a lone surrogate cannot be encoded as UTF-8: it used to make the
    # append (and so the run) fail, on every resume. It is replaced with U+FFFD and counted.
    with RunStore.open(tmp_path, settings=SETTINGS) as store:
        assert store.append(done("a:0", text="<think>r</think>A \ud800 B",
                                 reasoning="x\udfff"))
        held = store.get("main", "a:0", 0)
        assert held is not None and held.text == "<think>r</think>A \ufffd B"
        assert held.reasoning == "x\ufffd" and held.replaced_surrogates == 2
    # A line written by another tool with escaped lone surrogates is repaired on reading.
    foreign = {"phase": "main", "key": "b:0", "sample": 0, "text": "\ud83d\ude00 \udc00"}
    with (tmp_path / COMPLETIONS_NAME).open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(foreign) + "\n")  # ensure_ascii: "\\udc00" escapes
    with RunStore.open(tmp_path, settings=SETTINGS):
        got = {c.key: c for c in read_completions(tmp_path)}
        assert got["a:0"].replaced_surrogates == 2
        assert got["b:0"].text == "\U0001f600 \ufffd" and got["b:0"].replaced_surrogates == 1
        assert repair_counts(read_completions(tmp_path)) == {
            "null_content": 0, "replaced_surrogates": 3, "with_replaced_surrogates": 2}
    (tmp_path / COMPLETIONS_NAME).read_bytes().decode("utf-8")  # the file is valid UTF-8


def test_bad_field_types_are_located(tmp_path: Path) -> None:
    RunStore.open(tmp_path, settings=SETTINGS).close()
    (tmp_path / COMPLETIONS_NAME).write_text(
        json.dumps({"phase": "main", "key": "a:0", "sample": "0", "text": "x"}) + "\n")
    with pytest.raises(InputError, match="sample"):
        RunStore.open(tmp_path, settings=SETTINGS)


def test_other_settings_are_refused_with_names(tmp_path: Path) -> None:
    RunStore.open(tmp_path, settings=SETTINGS).close()
    other = {**SETTINGS, "sampling": {"temperature": 0.6, "top_p": 0.95}, "seed": None}
    with pytest.raises(SettingsMismatchError) as info:
        RunStore.open(tmp_path, settings=other)
    message = str(info.value)
    assert "sampling.temperature: 1.0 in the run, 0.6 now" in message
    assert "seed: 0 in the run, null now" in message
    assert "top_p" not in message


def test_one_writer_at_a_time(tmp_path: Path) -> None:
    with RunStore.open(tmp_path, settings=SETTINGS), pytest.raises(StoreLockedError):
        RunStore.open(tmp_path, settings=SETTINGS)
    RunStore.open(tmp_path, settings=SETTINGS).close()  # released on close


def test_chat_template_change_is_refused(tmp_path: Path) -> None:
    with RunStore.open(tmp_path, settings=SETTINGS) as store:
        store.record_engine({"chat_template_sha256": "aaa", "device": "cpu"})
    with RunStore.open(tmp_path, settings=SETTINGS) as store:
        store.record_engine({"chat_template_sha256": "aaa", "device": "cuda"})
        with pytest.raises(SettingsMismatchError, match="chat_template_sha256"):
            store.record_engine({"chat_template_sha256": "bbb"})


def test_completions_without_manifest_are_not_adopted(tmp_path: Path) -> None:
    (tmp_path / COMPLETIONS_NAME).write_text("")
    with pytest.raises(InputError, match="without manifest"):
        RunStore.open(tmp_path, settings=SETTINGS)


def test_many_appends_are_flushed_by_close(tmp_path: Path) -> None:
    import threading

    with RunStore.open(tmp_path, settings=SETTINGS) as store:
        for i in range(500):
            store.append(done(f"a:{i}"))
        store.flush()
        assert store.lines == 500
    assert len(read_completions(tmp_path)) == 500
    assert not [t for t in threading.enumerate() if t.name == "mathif-store-sync"]
