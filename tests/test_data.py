import json
import warnings
from pathlib import Path

import pytest

import mathif
from mathif.data import OFFICIAL_FILES, load, official_checksums
from mathif.errors import ChecksumMismatchWarning, InputError

from .hub_server import serve_hub


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


def test_a_changed_file_is_reported_loudly(mathif_dir: Path, tmp_path: Path, caplog) -> None:
    for name in OFFICIAL_FILES:
        (tmp_path / name).write_bytes((mathif_dir / name).read_bytes())
    path = tmp_path / "aime_single.jsonl"
    path.write_text(path.read_text().replace('"answer": "045"', '"answer": "45"'))
    with pytest.warns(ChecksumMismatchWarning, match="aime_single.jsonl"):
        data = load(tmp_path)
    assert data.mismatches == ["aime_single.jsonl"]
    assert not data.official
    assert data.manifest()["checksum_mismatches"] == ["aime_single.jsonl"]
    assert "differs from the official release" in caplog.text  # logged, not printed


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
