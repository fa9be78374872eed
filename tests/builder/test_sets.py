"""Building from files, Hub datasets and rows: fields, answers, splits, contamination, the
output files (load, validate, score with every mathif command), errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import mathif
from mathif.builder import build, overlap
from mathif.builder.problems import final_answer
from mathif.cli import main
from mathif.errors import InputError

from .test_paper import official_rows

_GSM8K_SUFFIX = ' Let\'s think step by step and output the final answer after "####".'


def synthetic(n: int, start: int = 0) -> list[dict[str, Any]]:
    """Problems that are certainly not MathIF's."""
    return [{"question": f"Tom has {i} apples and buys {i + 3} more. How many apples now?",
             "answer": f"He has {i} + {i + 3} = {2 * i + 3} apples.\n#### {2 * i + 3}"}
            for i in range(start, start + n)]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


# ---- contamination ----------------------------------------------------------------------------


def test_shipped_hashes_are_those_of_the_release(dataset: mathif.Dataset) -> None:
    """Rebuild resources/mathif_question_hashes.json from the official data: it must be
    identical (regenerate it with overlap.hashes_record if the normalisation changes)."""
    from importlib import resources

    shipped = json.loads(resources.files("mathif").joinpath(overlap.HASHES_FILE).read_text())
    assert shipped == overlap.hashes_record((i.key, i.question) for i in dataset.all_items)
    assert len(shipped["exact"]) == len(shipped["normalised"]) == 420
    text = json.dumps(shipped)
    assert all(i.question[:40] not in text for i in dataset.all_items)  # no question shipped


def test_overlap_found_exactly_and_normalised(dataset: mathif.Dataset) -> None:
    items = list(dataset.all_items)
    gsm8k, gsm8k2 = [i for i in items if i.source == "gsm8k"][:2]
    other = next(i for i in items if i.source == "math500")
    rows = [
        {"question": gsm8k.question, "answer": "1", "id": "exact"},
        # GSM8K's Hub copy: no suffix; spacing and case changed
        {"question": "  " + gsm8k2.question.replace(_GSM8K_SUFFIX, "").upper() + " ",
         "answer": "1", "id": "no-suffix"},
        {"question": other.question.replace(" ", "\u00a0 "), "answer": "1", "id": "spaces"},
        *[dict(r, id=f"clean-{n}") for n, r in enumerate(synthetic(3))],
    ]
    for against in (None, dataset):
        built = build(rows, overlap_mode="report", against=against)
        c = built.report["contamination"]
        found = {m["id"]: (m["match"], m["mathif_key"]) for m in c["matches"]}
        assert found == {"exact": ("exact", gsm8k.key), "no-suffix": ("normalised", gsm8k2.key),
                         "spaces": ("normalised", other.key)}
        assert (c["exact"], c["normalised"]) == (1, 2)
        assert ("shipped with mathif" in c["compared_with"]) is (against is None)
        assert len(built.splits["all"]) == 6  # report: kept
        removed = build(rows, against=against)
        assert [i.id for i in removed.splits["all"]] == ["clean-0", "clean-1", "clean-2"]
        assert removed.report["contamination"]["action"] == "removed"


def test_everything_contaminated_is_an_error_that_says_what_to_do(mathif_dir: Path) -> None:
    with pytest.raises(InputError, match="overlap"):
        build(official_rows(mathif_dir)[:5])


def test_normalisation() -> None:
    n = overlap.normalise_question
    assert n("What is $2+3$?") == n("what  is 2 + 3 ?") == "what is 2 3"
    assert n("Ｆｉｎｄ x.") == "find x"  # NFKC
    assert n('Q? Let\'s think step by step and output the final answer after "####".') == "q"
    assert n("x \\leq 3") != n("x \\geq 3")


# ---- inputs -----------------------------------------------------------------------------------


def test_fields_answers_and_ids(tmp_path: Path) -> None:
    rows = [
        {"problem": "Compute 1+1.", "solution": "It is $\\boxed{2}$.", "meta": {"id": "m1"}},
        {"problem": "Compute 2+2.", "solution": "So \\boxed{\\frac{8}{2}}", "meta": {"id": "m2"}},
    ]
    path = write_jsonl(tmp_path / "math.jsonl", rows)
    built = build(path, question_field="problem", answer_field="solution", id_field="meta.id",
                  counts=[1])
    items = built.splits["all"]
    assert [(i.id, i.answer, i.source) for i in items] == [("m1", "2", "math"),
                                                          ("m2", "\\frac{8}{2}", "math")]
    assert final_answer("steps\n#### 1,234", "auto") == "1234"
    assert final_answer("x #### 5", "raw") == "x #### 5"
    assert final_answer("42", "auto") == "42"
    numbers = build([{"question": "Compute 3+4.", "answer": 7}], source="toy", counts=[1])
    assert numbers.splits["all"][0].answer == "7"
    assert numbers.splits["all"][0].source == "toy"


@pytest.mark.parametrize("row,field,message", [
    ({"answer": "1"}, "question", "missing question field"),
    ({"question": "  ", "answer": "1"}, "question", "non-blank"),
    ({"question": "q", "answer": None}, "answer", "non-blank"),
    ({"question": ["q"], "answer": "1"}, "question", "non-blank"),
])
def test_bad_rows_name_file_line_and_field(tmp_path: Path, row: dict[str, Any], field: str,
                                           message: str) -> None:
    path = write_jsonl(tmp_path / "p.jsonl", [*synthetic(2), row])
    with pytest.raises(InputError) as err:
        build(path)
    assert err.value.file == str(path) and err.value.line == 3 and err.value.field == field
    assert message in str(err.value)


def test_bad_settings_are_refused() -> None:
    rows = synthetic(3)
    for kwargs in ({"scheme": "nope"}, {"counts": [4]}, {"counts": []}, {"split": (0.5, 0.5)},
                   {"split": (0.5, 0.6, -0.1)}, {"overlap_mode": "keep"}, {"seed": "1"},
                   {"answer_format": "x"}, {"limit": -1}):
        with pytest.raises(ValueError):
            build(rows, **kwargs)


def test_hub_datasets_are_read_with_datasets(monkeypatch: pytest.MonkeyPatch) -> None:
    datasets = pytest.importorskip("datasets")
    calls: list[tuple[Any, ...]] = []

    def fake_load_dataset(name: str, config: str | None, *, split: str, revision: str | None):
        calls.append((name, config, split, revision))
        return datasets.Dataset.from_list(synthetic(4))

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    built = build("hf://datasets/openai/gsm8k@abc123", hub_config="main", hub_split="test")
    assert calls == [("openai/gsm8k", "main", "test", "abc123")]
    assert [i.source for i in built.splits["all"]] == ["gsm8k"] * 4
    assert built.report["input"]["origin"] == "hf://datasets/openai/gsm8k@abc123"
    # a datasets.Dataset object is rows too
    direct = build(datasets.Dataset.from_list(synthetic(4)), source="gsm8k")
    assert [i.to_record() for i in direct.splits["all"]] == [
        i.to_record() for i in built.splits["all"]]


# ---- splits -------------------------------------------------------------------------------


def test_split_has_no_question_in_two_parts_and_repeats_are_dropped() -> None:
    rows = synthetic(200)
    rows += [dict(rows[5], question=rows[5]["question"].upper())]  # a repeat, other case
    built = build(rows, split=(0.8, 0.1, 0.1), seed=4)
    parts = {name: [overlap.normalise_question(i.question) for i in items]
             for name, items in built.splits.items()}
    assert [len(parts[n]) for n in ("train", "dev", "test")] == [160, 20, 20]
    seen: set[str] = set()
    for questions in parts.values():
        assert not seen & set(questions)
        seen |= set(questions)
    assert built.report["duplicates"]["removed"] == 1
    for items in built.splits.values():  # each split keeps the input order
        ids = [int(i.id.rsplit("-", 1)[1]) for i in items]
        assert ids == sorted(ids)
    again = build(rows, split=(0.8, 0.1, 0.1), seed=4)
    assert again.files() == built.files()
    other = build(rows, split=(0.8, 0.1, 0.1), seed=5)
    assert {i.question for i in other.splits["test"]} != {i.question for i in
                                                          built.splits["test"]}


# ---- the output files and every mathif command ----------------------------------------------


def test_cli_build_then_load_score_and_eval(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                            ) -> None:
    problems = write_jsonl(tmp_path / "toy.jsonl", synthetic(60))
    out = tmp_path / "built"
    assert main(["build", str(problems), "--out", str(out), "--split", "0.5,0.25,0.25",
                 "--seed", "9"]) == 0
    printed = capsys.readouterr().out
    assert "train: 30 items" in printed and "MathIF questions found: 0 exact" in printed
    assert sorted(p.name for p in out.iterdir()) == ["build.json", "dev.jsonl", "test.jsonl",
                                                     "train.jsonl"]
    report = json.loads((out / "build.json").read_text())
    assert report["settings"]["seed"] == 9 and report["splits"]["train"]["items"] == 30

    dev = mathif.load(out / "dev.jsonl")  # the loader validates every line
    assert len(dev) == 15 and dev[0].key == "dev:0"
    responses = []
    for item in dev:
        record = item.to_record()
        record["response"] = f"<think>so</think>The answer is \\boxed{{{item.answer}}}"
        responses.append(record)
    scored = write_jsonl(tmp_path / "responses.jsonl", responses)
    assert main(["score", str(scored), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["metrics"]["n_items"] == 15
    assert results["metrics"]["overall"]["correct"] == 100.0

    only = write_jsonl(tmp_path / "only.jsonl", [{"response": r["response"]}
                                                 for r in responses])
    assert main(["score", "--data", str(out / "dev.jsonl"), "--responses", str(only),
                 "--out", str(tmp_path / "run2"), "--quiet"]) == 0
    assert main(["eval", "--backend", "replay", "--model", str(scored), "--data",
                 str(out / "dev.jsonl"), "--out", str(tmp_path / "run3"), "--quiet"]) == 0
    assert (tmp_path / "run3" / "results.json").is_file()
    report = tmp_path / "report.md"
    assert main(["report", str(tmp_path / "run"), "--markdown", str(report)]) == 0
    assert "HAcc" in report.read_text()
    # the whole folder loads as one data set (keys by file)
    everything = mathif.load(out)
    assert len(everything) == 60 and {i.key.split(":")[0] for i in everything} == {
        "train", "dev", "test"}

    # a rebuild without a split replaces the set: no stale split files stay behind
    assert main(["build", str(problems), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["build.json", "items.jsonl"]
    capsys.readouterr()


def test_cli_errors_exit_2_and_write_nothing(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "q", "answer": "1"}\n{"question": "q2"}\n')
    out = tmp_path / "out"
    assert main(["build", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:2" in err and "'answer'" in err
    assert not out.exists()
    assert main(["build", str(tmp_path / "missing.jsonl"), "--out", str(out)]) == 2
    with pytest.raises(SystemExit):
        main(["build", str(bad), "--out", str(out), "--split", "0.5,0.6"])
