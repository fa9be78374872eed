"""The balanced scheme, as properties over thousands of builds: no pair from the conflict
table, no type twice, every item valid for the loader, descriptions from ``describe``, every
item satisfiable by one answer, the types balanced; and the same seed, the same bytes."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from mathif import constraints
from mathif.builder import CONFLICTS, build, compose, feasible
from mathif.data import parse_item

from .test_paper import official_rows

BUILDS = 3000


def _questions(mathif_dir: Path) -> list[dict[str, Any]]:
    """Real math questions (commas, capitals, LaTeX, bullets-like lines), as plain problems."""
    rows = official_rows(mathif_dir)
    return [{"question": r["question"], "answer": r["answer"], "source": r["source"]}
            for r in rows]


def _check_item(item: Any, question: str) -> None:
    names = list(item.constraint_name)
    assert len(set(names)) == len(names), names
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert frozenset((a, b)) not in CONFLICTS, names
    assert list(item.constraint_desc) == [constraints.describe(n, a) for n, a in
                                          zip(names, item.constraint_args, strict=True)]
    assert feasible.feasible(question, names, item.constraint_args), names
    for name, args in zip(names, item.constraint_args, strict=True):
        if name == compose.REPEAT:
            assert args["prompt_to_repeat"] == question
        if name == compose.LANGUAGE:
            assert args["language"] in compose.LANGUAGES
        for key, (low, high) in compose.RANGES.items():
            if key in args:
                assert low <= args[key] <= high
        for key in ("keywords", "forbidden_words"):
            if key in args:
                assert set(args[key]) <= set(compose.KEYWORDS)


@pytest.mark.slow
def test_thousands_of_balanced_builds_hold_every_property(mathif_dir: Path) -> None:
    pool = _questions(mathif_dir)
    rng = random.Random(20260601)
    items = 0
    for build_index in range(BUILDS):
        problems = rng.sample(pool, rng.randint(1, 9))
        counts = sorted(rng.sample([1, 2, 3], rng.randint(1, 3)))
        seed = rng.randrange(2**31)
        built = build(problems, seed=seed, counts=counts, overlap_mode="report",
                      answer_format="raw")
        assert built.report["unsatisfiable"] == [], (build_index, seed)
        for item in built.splits["all"]:
            record = item.to_record()
            # the loader's own validation, from the JSON text the file would hold
            again = parse_item(json.loads(json.dumps(record)), key="x:0", file="x", line=1)
            assert again.constraint_name == item.constraint_name
            assert len(item.constraint_name) in counts
            _check_item(item, item.question)
            items += 1
    assert items > 4 * BUILDS


def test_types_are_balanced_and_pairs_varied(mathif_dir: Path) -> None:
    problems = _questions(mathif_dir)
    built = build(problems, seed=5, overlap_mode="report", answer_format="raw")
    usage = Counter(n for i in built.splits["all"] for n in i.constraint_name)
    assert set(usage) == set(constraints.CONSTRAINT_IDS)
    assert max(usage.values()) - min(usage.values()) <= 3, usage  # the official set: 20-121
    pairs = Counter(frozenset(i.constraint_name) for i in built.splits["all"]
                    if len(i.constraint_name) == 2)
    assert len(pairs) >= 40  # many different pairs, not one cycle
    for item in built.splits["all"]:
        _check_item(item, item.question)


def test_same_seed_same_bytes_other_seed_other_items(mathif_dir: Path) -> None:
    problems = _questions(mathif_dir)[:90]
    a = build(problems, seed=11, overlap_mode="report").files()
    b = build(problems, seed=11, overlap_mode="report").files()
    c = build(problems, seed=12, overlap_mode="report").files()
    assert a == b
    assert a["items.jsonl"] != c["items.jsonl"]


def test_conflict_table_pairs_are_real_conflicts() -> None:
    """Each pair the table calls impossible defeats the witness, whatever arguments are
    drawn (those with the language aside: the witness is English, and English is exactly
    what the language constraint forbids)."""
    rng = random.Random(3)
    question = "Find the value of x if 2x + 3 = 7."
    kinds = Counter()
    for pair, conflict in CONFLICTS.items():
        assert conflict.kind in ("impossible", "contradictory", "degenerate")
        assert conflict.reason
        kinds[conflict.kind] += 1
        names = sorted(pair)
        if conflict.kind != "impossible" or compose.LANGUAGE in pair:
            continue
        for _ in range(30):
            args = [compose.draw_args(n, question, rng) for n in names]
            assert not feasible.feasible(question, names, args), names
    assert kinds["impossible"] >= 5


def test_the_checkers_accept_a_repeated_request_in_capitals() -> None:
    """Why repeat_prompt + english_capital is 'contradictory', not 'impossible'."""
    question = "Find the value of x if two x plus three is seven."
    text = question.upper() + " WE WORK THIS OUT WITH CARE AND THE RESULT HOLDS."
    assert constraints.check(compose.REPEAT, text, {"prompt_to_repeat": question})
    assert constraints.check(compose.CAPITAL, text, None)


def test_witness_filler_avoids_every_keyword() -> None:
    text = " ".join(feasible._FILLER) + " mark part here item " + feasible._CAPITAL_WORD
    for word in compose.KEYWORDS:
        assert word not in text.lower(), word
    assert "," not in text


@pytest.mark.parametrize("names,args,question,ok", [
    ((compose.REPEAT, compose.NO_COMMA), ({"prompt_to_repeat": "a, b"}, None), "a, b", False),
    ((compose.REPEAT, compose.NO_COMMA), ({"prompt_to_repeat": "a b"}, None), "a b", True),
    ((compose.REPEAT, compose.FORBIDDEN), ({"prompt_to_repeat": "Find the root."},
                                           {"forbidden_words": ["root", "win"]}),
     "Find the root.", False),
    ((compose.EXISTENCE, compose.FORBIDDEN), ({"keywords": ["root", "win"]},
                                              {"forbidden_words": ["root", "when"]}), "q", False),
    ((compose.END, compose.FREQUENCY), ({"end_phrase": "Any other questions?"},
                                        {"keyword": "question", "frequency": 1,
                                         "relation": "less than"}), "q", False),
    ((compose.CAPITAL, compose.SECTIONS), (None, {"section_spliter": "Section",
                                                  "num_sections": 2}), "q", False),
    ((compose.CAPITAL, compose.SECTIONS), (None, {"section_spliter": "SECTION",
                                                  "num_sections": 2}), "q", True),
    ((compose.LANGUAGE, compose.NUMBER_WORDS), ({"language": "ja"},
                                                {"num_words": 200, "relation": "at least"}),
     "q", False),
    ((compose.QUOTATION, compose.END, compose.HIGHLIGHTS),
     (None, {"end_phrase": "Any other questions?"}, {"num_highlights": 4}), "q", True),
])
def test_feasibility_golden_cases(names: tuple[str, ...], args: tuple[Any, ...], question: str,
                                  ok: bool) -> None:
    assert feasible.feasible(question, names, args) is ok


def test_the_documented_conflict_table_is_the_codes() -> None:
    from tests.conftest import REPO

    doc = (REPO / "docs" / "training.md").read_text(encoding="utf-8")
    rows = [line for line in doc.splitlines() if line.startswith("| ") and " + " in line]
    documented = set()
    for row in rows:
        pair, kind = (cell.strip() for cell in row.strip("|").split("|")[:2])
        a, b = (part.strip() for part in pair.split(" + "))
        documented.add((frozenset((a, b)), kind))
    short = {(frozenset(t.split(":")[1] if t.split(":")[1] not in ("existence", "frequency")
                        else t for t in pair), c.kind) for pair, c in CONFLICTS.items()}
    assert documented == short
