import json
import time
import warnings
from pathlib import Path

import pytest

import mathif
from mathif.data import OFFICIAL_FILES, load, official_checksums
from mathif.errors import ChecksumMismatchWarning, InputError

from .hub_server import serve_hub, silent_server


def test_loads_the_420_official_items(dataset) -> None:
    assert len(dataset) == 420
    assert dataset.official
    assert dataset.mismatches == []
    assert len({i.key for i in dataset}) == 420
    assert len({i.id for i in dataset}) < 420  # ids are not unique: keys are (SPEC §1)
    assert len({i.question for i in dataset}) == 420
    assert dataset[0].key == "gsm8k_single:0"
    counts = {n: sum(1 for i in dataset if i.n_constraints == n) for n in (1, 2, 3)}
    assert counts == {1: 140, 2: 140, 3: 140}
    per_source = {s: sum(1 for i in dataset if i.source == s) for s in mathif.data.SOURCES}
    assert per_source == {"gsm8k": 90, "math500": 90, "minerva": 90, "olympiad": 90, "aime": 60}


def test_quirks_survive_loading(dataset) -> None:
    by_key = dataset.by_key()
    assert by_key["aime_single:1"].answer == "045"  # leading zeros kept
    assert any("np.arcsin" in i.answer for i in dataset if i.source == "minerva")
    assert any(i.constraint_name == ("startend:quotation",) for i in dataset)


def test_filters(mathif_dir: Path) -> None:
    aime = load(mathif_dir, sources=["aime"])
    assert len(aime) == 60 and {i.source for i in aime} == {"aime"}
    doubles = load(mathif_dir, counts=["double"])
    assert len(doubles) == 140 and {i.n_constraints for i in doubles} == {2}
    assert len(load(mathif_dir, counts=[1, 3], sources=["gsm8k"], limit=7)) == 7
    with pytest.raises(ValueError, match="unknown source"):
        load(mathif_dir, sources=["mmlu"])
    with pytest.raises(ValueError, match="constraint count"):
        load(mathif_dir, counts=[4])


def test_one_file_and_the_environment_variable(mathif_dir: Path, monkeypatch) -> None:
    one = load(mathif_dir / "aime_single.jsonl")
    assert len(one) == 20 and one[0].key == "aime_single:0"
    assert [f.status for f in one.files] == ["ok"]
    monkeypatch.setenv("MATHIF_DATA", str(mathif_dir))
    assert len(load()) == 420


def test_checksums_shipped_match_the_shared_copy(mathif_dir: Path) -> None:
    import hashlib

    shipped = official_checksums()
    assert set(shipped) == set(OFFICIAL_FILES)
    for name in OFFICIAL_FILES:
        assert hashlib.sha256((mathif_dir / name).read_bytes()).hexdigest() == shipped[name]


def test_a_changed_file_is_reported_loudly(mathif_dir: Path, tmp_path: Path) -> None:
    for name in OFFICIAL_FILES:
        (tmp_path / name).write_bytes((mathif_dir / name).read_bytes())
    path = tmp_path / "aime_single.jsonl"
    path.write_text(path.read_text().replace('"answer": "045"', '"answer": "45"'))
    with pytest.warns(ChecksumMismatchWarning, match="aime_single.jsonl"):
        data = load(tmp_path)
    assert data.mismatches == ["aime_single.jsonl"]
    assert not data.official
    assert data.manifest()["checksum_mismatches"] == ["aime_single.jsonl"]


def _write(tmp_path: Path, records: list, name: str = "custom.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


def _good() -> dict:
    return {
        "source": "gsm8k", "id": "x-1", "question": "What is 1+1?", "answer": "2",
        "constraint_desc": ["Your entire response should be in English, and in all lowercase "
                            "letters. No capital letters are allowed."],
        "constraint_name": ["change_case:english_lowercase"],
        "constraint_args": [None],
    }


@pytest.mark.parametrize(
    ("mutate", "line", "field", "message"),
    [
        (lambda r: r.pop("question"), 2, "question", "missing field"),
        (lambda r: r.update(answer=2), 2, "answer", "expected a string"),
        (lambda r: r.update(constraint_name=["nope:nothing"]), 2, "constraint_name[0]",
         "unknown constraint id"),
        (lambda r: r.update(constraint_args=[None, None]), 2, "constraint_args",
         "not aligned"),
        (lambda r: r.update(constraint_name="change_case:english_lowercase"), 2,
         "constraint_name", "expected a list"),
        (lambda r: r.update(constraint_name=["keywords:frequency"],
                            constraint_args=[{"keyword": "x", "frequency": 2,
                                              "relation": "more than"}]), 2,
         "constraint_args[0].relation", ""),
        (lambda r: r.update(constraint_name=["language:response_language"],
                            constraint_args=[{"language": "xx"}]), 2,
         "constraint_args[0].language", ""),
        (lambda r: r.update(constraint_name=["length_constraint_checkers:number_words"],
                            constraint_args=[{"num_words": "100", "relation": "at least"}]),
         2, "constraint_args[0].num_words", ""),
    ],
)
def test_bad_items_name_file_line_and_field(tmp_path, mutate, line, field, message) -> None:
    bad = _good()
    mutate(bad)
    path = _write(tmp_path, [_good(), bad, _good()])
    with pytest.raises(InputError, match=message or None) as info:
        load(path)
    assert info.value.file == str(path)
    assert info.value.line == line
    assert info.value.field == field
    assert f"{path}:{line}" in str(info.value)


def test_invalid_json_names_the_line(tmp_path) -> None:
    path = _write(tmp_path, [_good(), "{not json", _good()])
    with pytest.raises(InputError, match="invalid JSON") as info:
        load(path)
    assert info.value.line == 2


def test_blank_lines_are_skipped_and_keys_use_the_line_index(tmp_path) -> None:
    path = _write(tmp_path, [_good(), "", _good(), ""])
    data = load(path)
    assert [i.key for i in data] == ["custom:0", "custom:2"]


def test_missing_source_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(InputError, match="no such file or folder"):
        load(tmp_path / "nothing-here")


def test_hub_download_checksummed_and_cached(mathif_dir: Path, tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("MATHIF_DATA", raising=False)
    with serve_hub(mathif_dir) as (url, requests):
        monkeypatch.setenv("HF_ENDPOINT", url)
        data = load("hub", cache_dir=str(tmp_path))
        assert len(data) == 420 and data.official
        assert data.origin == "hf://datasets/TingchenFu/MathIF"
        gets = [r for r in requests if r.startswith("GET") and "/resolve/" in r]
        assert len(gets) == 15
        again = load(cache_dir=str(tmp_path))  # default source is the Hub
        assert len(again) == 420
        gets = [r for r in requests if r.startswith("GET") and "/resolve/" in r]
        assert len(gets) == 15  # served from the cache
    assert data.checksum == load(mathif_dir).checksum


def test_hub_corrupted_file_is_reported(mathif_dir: Path, tmp_path, monkeypatch) -> None:
    original = (mathif_dir / "gsm8k_single.jsonl").read_bytes()
    corrupted = original.replace(b'"answer": "', b'"answer": "9', 1)
    with serve_hub(mathif_dir, overrides={"gsm8k_single.jsonl": corrupted}) as (url, _):
        monkeypatch.setenv("HF_ENDPOINT", url)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            data = load("hub", cache_dir=str(tmp_path))
    assert data.mismatches == ["gsm8k_single.jsonl"]
    assert any(issubclass(w.category, ChecksumMismatchWarning) for w in caught)
    assert data.manifest()["official"] is False


def test_hub_missing_file_is_a_clear_error(tmp_path, monkeypatch) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with serve_hub(empty) as (url, _):
        monkeypatch.setenv("HF_ENDPOINT", url)
        with pytest.raises(InputError, match="MATHIF_DATA") as info:
            load("hub", cache_dir=str(tmp_path / "cache"))
    assert "gsm8k_single.jsonl" in str(info.value)


# --- a data folder with an official file missing (issue 11, 4) ----------------------------


def _copy_release(mathif_dir: Path, folder: Path, leave_out: tuple[str, ...] = ()) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in OFFICIAL_FILES:
        if name not in leave_out:
            (folder / name).write_bytes((mathif_dir / name).read_bytes())
    return folder


def test_a_missing_official_file_is_an_error(mathif_dir: Path, tmp_path: Path) -> None:
    folder = _copy_release(mathif_dir, tmp_path / "data", leave_out=("aime_double.jsonl",))
    with pytest.raises(InputError, match=r"aime_double\.jsonl") as info:
        load(folder)
    assert "--sources" in str(info.value) and str(folder) in str(info.value)
    with pytest.raises(InputError, match=r"aime_double\.jsonl"):
        load(folder, sources=["aime"], counts=[2])
    with pytest.raises(InputError, match=r"aime_double\.jsonl"):
        load(folder, quick=1)  # a quick subset covers every source x count


def test_filters_that_leave_a_missing_file_out_are_fine(mathif_dir: Path, tmp_path: Path) -> None:
    folder = _copy_release(mathif_dir, tmp_path / "data", leave_out=("aime_double.jsonl",))
    assert len(load(folder, sources=["gsm8k", "minerva"])) == 180
    assert len(load(folder, counts=[1, 3])) == 280
    assert len(load(folder, sources=["aime"], counts=["single"])) == 20


def test_a_folder_of_custom_files_needs_no_official_file(tmp_path: Path) -> None:
    record = {"source": "aime", "id": "x", "question": "Q?", "answer": "1",
              "constraint_desc": ["d"], "constraint_name": ["punctuation:no_comma"],
              "constraint_args": [None]}
    _write(tmp_path, [record], "mine.jsonl")
    assert len(load(tmp_path)) == 1


def test_a_changed_file_is_one_line_on_the_command_line(mathif_dir: Path, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from tests.conftest import REPO

    folder = _copy_release(mathif_dir, tmp_path / "data")
    path = folder / "aime_single.jsonl"
    path.write_text(path.read_text().replace('"answer": "045"', '"answer": "45"'))
    lines = [{"key": f"aime_single:{i}", "response": "x"} for i in range(2)]
    responses = _write(tmp_path, lines, "responses.jsonl")
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run(
        [sys.executable, "-m", "mathif.cli", "score", "--data", str(folder), "--responses",
         str(responses), "--sources", "aime", "--counts", "1", "--limit", "2", "--quiet",
         "--grader", "none", "--out", str(tmp_path / "run")],
        capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    err = done.stderr
    assert err.count("differs from the official release") == 1, err  # was printed twice
    assert "mathif: warning: MathIF data from" in err
    assert "ChecksumMismatchWarning" not in err and "warnings.warn" not in err
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["manifest"]["data"]["checksum_mismatches"] == ["aime_single.jsonl"]


# --- the Hub offline or unreachable (issue 11, 6) -------------------------------------------


@pytest.fixture
def hub_cache(mathif_dir: Path, tmp_path: Path, monkeypatch) -> Path:
    """A Hugging Face cache that holds the data set (filled from a local stand-in Hub)."""
    monkeypatch.delenv("MATHIF_DATA", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    cache = tmp_path / "hub-cache"
    with serve_hub(mathif_dir) as (url, _):
        monkeypatch.setenv("HF_ENDPOINT", url)
        assert len(load("hub", cache_dir=str(cache))) == 420
    return cache


def test_offline_mode_reads_the_cache_without_a_request(mathif_dir: Path, hub_cache: Path,
                                                        monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # set after huggingface_hub was imported
    with serve_hub(mathif_dir) as (url, requests):
        monkeypatch.setenv("HF_ENDPOINT", url)
        data = load("hub", cache_dir=str(hub_cache))
    assert len(data) == 420 and data.official
    assert requests == []


def test_offline_mode_without_a_cache_says_what_to_do(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("MATHIF_DATA", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with silent_server() as url:
        monkeypatch.setenv("HF_ENDPOINT", url)
        started = time.monotonic()
        with pytest.raises(InputError) as info:
            load("hub", cache_dir=str(tmp_path / "empty-cache"))
        elapsed = time.monotonic() - started
    message = str(info.value)
    assert "HF_HUB_OFFLINE" in message and "MATHIF_DATA" in message and "--data" in message
    assert "\n" not in message
    assert elapsed < 5.0  # no request at all: a hang bound, not a speed test


def test_unreachable_hub_uses_the_cache_at_once(hub_cache: Path, monkeypatch, caplog) -> None:
    with silent_server() as url:
        monkeypatch.setenv("HF_ENDPOINT", url)
        started = time.monotonic()
        with caplog.at_level("INFO", logger="mathif"):
            data = load("hub", cache_dir=str(hub_cache))
        elapsed = time.monotonic() - started
    assert len(data) == 420 and data.official
    assert elapsed < 5.0, elapsed  # one bounded probe, not a timeout per file
    assert "cannot be reached" in caplog.text and "cached copy" in caplog.text


def test_unreachable_hub_without_a_cache_fails_fast_and_quietly(tmp_path: Path, monkeypatch,
                                                                 capsys) -> None:
    monkeypatch.delenv("MATHIF_DATA", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with silent_server() as url:
        monkeypatch.setenv("HF_ENDPOINT", url)
        started = time.monotonic()
        with pytest.raises(InputError) as info:
            load("hub", cache_dir=str(tmp_path / "empty-cache"))
        elapsed = time.monotonic() - started
    message = str(info.value)
    assert "cannot be reached" in message and "MATHIF_DATA" in message and "--data" in message
    assert elapsed < 5.0, elapsed
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""  # no retry warnings, no bars


# --- the quick subset (issue 11, 12) --------------------------------------------------------


def test_quick_subset_covers_every_source_and_count(mathif_dir: Path) -> None:
    data = load(mathif_dir, quick=2)
    assert len(data) == 30
    cells: dict[tuple[str, int], int] = {}
    for item in data:
        cells[item.source, item.n_constraints] = cells.get((item.source, item.n_constraints),
                                                           0) + 1
    assert len(cells) == 15 and set(cells.values()) == {2}
    again = load(mathif_dir, quick=2)
    assert [i.key for i in data] == [i.key for i in again]  # seeded: the same items
    first_n = load(mathif_dir, limit=30)
    assert {i.source for i in first_n} == {"gsm8k"}  # --limit stays first-N
    keys = [i.key for i in data]
    assert keys == sorted(keys, key=[i.key for i in load(mathif_dir)].index)  # file order


def test_quick_subset_is_seeded_and_filtered(mathif_dir: Path) -> None:
    from mathif.data import Selection

    one = load(mathif_dir, selection=Selection.of(quick=3, quick_seed=1))
    two = load(mathif_dir, selection=Selection.of(quick=3, quick_seed=2))
    assert len(one) == len(two) == 45 and [i.key for i in one] != [i.key for i in two]
    aime = load(mathif_dir, sources=["aime"], quick=4)
    assert len(aime) == 12 and {i.source for i in aime} == {"aime"}
    assert len(load(mathif_dir, quick=1000)) == 420  # more than a cell holds: all of it
    with pytest.raises(ValueError, match="give one"):
        load(mathif_dir, quick=2, limit=5)
    with pytest.raises(ValueError, match="quick"):
        load(mathif_dir, quick=0)


def test_quick_flag_on_the_command_line(dataset, tmp_path: Path) -> None:
    from mathif.cli import main

    lines = [{**item.to_record(), "response": "\\boxed{1}"} for item in dataset]
    responses = _write(tmp_path, lines, "all.jsonl")
    assert main(["score", str(responses), "--quick", "1", "--grader", "none", "--quiet",
                 "--out", str(tmp_path / "run")]) == 0
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["metrics"]["n_items"] == 15
    assert results["manifest"]["selection"]["quick"] == 1
    with pytest.raises(SystemExit):
        main(["score", str(responses), "--quick", "1", "--limit", "3"])
