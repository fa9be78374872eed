"""`--scheme paper` reproduces the official composition, read from ../shared/mathif in place;
the facts shipped in compose.py (combination tables, argument ranges) are the release's."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import mathif
from mathif.builder import build, compose
from mathif.cli import main
from mathif.data import OFFICIAL_FILES, SOURCES


def official_rows(mathif_dir: Path) -> list[dict[str, Any]]:
    """Every official item, files in the release's order (per source: single, double,
    triple), lines in file order."""
    rows = []
    for name in OFFICIAL_FILES:
        text = (mathif_dir / name).read_text(encoding="utf-8")
        rows += [json.loads(line) for line in text.splitlines() if line.strip()]
    return rows


def test_paper_scheme_reproduces_every_official_item(mathif_dir: Path) -> None:
    rows = official_rows(mathif_dir)
    assert len(rows) == 420
    built = build(rows, scheme="paper", overlap_mode="report", answer_format="raw", seed=7)
    items = built.splits["all"]
    assert len(items) == 420
    for item, row in zip(items, rows, strict=True):
        assert list(item.constraint_name) == row["constraint_name"], row["id"]
        assert item.question == row["question"] and item.answer == row["answer"]
        assert item.source == mathif.data.benchmark_source(row["source"], "")
    # every item of the input was found in MathIF and, in report mode, kept
    assert built.report["contamination"]["exact"] == 420
    # the only items no answer can satisfy are the official ones that ask to repeat a
    # request containing a comma without any comma
    for entry in built.report["unsatisfiable"]:
        assert entry["constraint_name"] == [compose.REPEAT, compose.NO_COMMA]


@pytest.mark.parametrize("name", OFFICIAL_FILES)
def test_paper_scheme_per_file_with_a_fixed_count(mathif_dir: Path, name: str) -> None:
    rows = [json.loads(x) for x in (mathif_dir / name).read_text().splitlines() if x.strip()]
    count = name.removesuffix(".jsonl").split("_")[1]
    built = build(rows, scheme="paper", counts=[count], overlap_mode="report",
                  answer_format="raw", seed=1)
    assert [list(i.constraint_name) for i in built.splits["all"]] == [
        r["constraint_name"] for r in rows]


def test_paper_scheme_through_the_command_line(mathif_dir: Path, tmp_path: Path) -> None:
    rows = official_rows(mathif_dir)
    problems = tmp_path / "official_questions.jsonl"
    problems.write_text("".join(json.dumps({"question": r["question"], "answer": r["answer"],
                                            "source": r["source"], "id": r["id"]}) + "\n"
                                for r in rows))
    out = tmp_path / "paper"
    assert main(["build", str(problems), "--out", str(out), "--scheme", "paper",
                 "--overlap", "report", "--answer-format", "raw", "--seed", "3"]) == 0
    loaded = mathif.load(out / "items.jsonl")
    assert [list(i.constraint_name) for i in loaded] == [r["constraint_name"] for r in rows]
    assert [i.key for i in loaded][:2] == ["items:0", "items:1"]


def test_combination_tables_are_the_releases(mathif_dir: Path) -> None:
    """The tables are facts of the files: the distinct combinations in order of first use,
    the same cycle in every source, the period equal to the table length."""
    rows_by_file = {n: [json.loads(x) for x in (mathif_dir / n).read_text().splitlines()
                        if x.strip()] for n in OFFICIAL_FILES}
    for count, table in compose.PAPER_TABLES.items():
        name = mathif.data.COUNT_NAMES[count - 1]
        for source in SOURCES:
            combos = [tuple(r["constraint_name"]) for r in rows_by_file[f"{source}_{name}.jsonl"]]
            assert combos == [table[i % len(table)] for i in range(len(combos))]
        assert len(table) == {1: 15, 2: 30, 3: 15}[count]
        assert len(set(table)) == len(table)
    assert sorted(t for (t,) in compose.PAPER_SINGLE) == sorted(mathif.constraints.CONSTRAINT_IDS)


def _official_args(mathif_dir: Path) -> list[tuple[str, dict[str, Any] | None]]:
    out = []
    for name in OFFICIAL_FILES:
        for line in (mathif_dir / name).read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                out += list(zip(row["constraint_name"], row["constraint_args"], strict=True))
    return out


def test_argument_ranges_are_the_releases(mathif_dir: Path) -> None:
    """Every official argument lies in the shipped ranges and pools, and each range's ends
    and each pool's members are used by the release (nothing wider, nothing narrower)."""
    seen: dict[str, set[Any]] = {}

    def note(key: str, value: Any) -> None:
        seen.setdefault(key, set()).add(value)

    for name, args in _official_args(mathif_dir):
        if args is None:
            assert compose.draw_args(name, "q", __import__("random").Random(0)) is None
            continue
        for key, value in args.items():
            if key in ("keywords", "forbidden_words"):
                assert len(value) == compose.KEYWORDS_PER_LIST and value == sorted(value)
                for word in value:
                    note("keyword", word)
            elif key == "keyword":
                note("keyword", value)
            elif key == "frequency":
                note("keyword_frequency", value)
            elif key in ("relation", "capital_relation"):
                note("relation", value)
            elif key != "prompt_to_repeat":
                note(key, value)
    assert seen["keyword"] == set(compose.KEYWORDS)
    assert seen["language"] == set(compose.LANGUAGES)
    assert seen["end_phrase"] == set(compose.END_PHRASES)
    assert seen["section_spliter"] == set(compose.SECTION_SPLITTERS)
    assert seen["relation"] == set(compose.RELATIONS)
    for key, (low, high) in compose.RANGES.items():
        assert (min(seen[key]), max(seen[key])) == (low, high), key


def test_drawn_arguments_have_the_official_keys_in_order(mathif_dir: Path) -> None:
    import random

    official = {name: None if args is None else list(args)
                for name, args in _official_args(mathif_dir)}
    rng = random.Random(0)
    for name, keys in official.items():
        drawn = compose.draw_args(name, "a question", rng)
        assert (None if drawn is None else list(drawn)) == keys, name


def test_official_type_frequencies_are_unbalanced(mathif_dir: Path) -> None:
    """Why the balanced scheme exists: the release ranges from 20 to 121 instances a type."""
    counts = Counter(name for name, _ in _official_args(mathif_dir))
    assert min(counts.values()) == 20 and max(counts.values()) == 121
