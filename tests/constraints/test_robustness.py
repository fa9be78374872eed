"""Untrusted input: huge and degenerate answers finish, and verdicts do not depend on order."""

from __future__ import annotations

import random
from typing import Any

from constraints_shared import external_responses, read_jsonl, require

from mathif.constraints import CONSTRAINT_IDS, check, check_all
from mathif.constraints import text as T

ARGS: dict[str, dict[str, Any] | None] = {
    "length_constraint_checkers:number_words": {"num_words": 100, "relation": "less than"},
    "language:response_language": {"language": "en"},
    "keywords:existence": {"keywords": ["find", "(a+)+$"]},
    "keywords:frequency": {"keyword": "a.*z", "frequency": 2, "relation": "at least"},
    "keywords:forbidden_words": {"forbidden_words": ["x", "("]},
    "detectable_format:number_bullet_lists": {"num_bullets": 3},
    "detectable_format:number_highlighted_sections": {"num_highlights": 2},
    "detectable_format:multiple_sections": {"section_spliter": "SECTION", "num_sections": 2},
    "change_case:english_capital": None,
    "change_case:english_lowercase": None,
    "change_case:capital_word_frequency": {"capital_frequency": 3, "capital_relation": "at least"},
    "punctuation:no_comma": None,
    "combination:repeat_prompt": {"prompt_to_repeat": "Write"},
    "startend:end_checker": {"end_phrase": "Any other questions?"},
    "startend:quotation": {},
}


def _all_checkers(text: str) -> list[bool]:
    return check_all(list(CONSTRAINT_IDS), text, [ARGS[c] for c in CONSTRAINT_IDS])


def test_five_megabyte_response() -> None:
    """No timing assertion: the test passes by finishing (every checker is linear-time)."""
    base = "\n\n".join(external_responses())
    text = (base * (5_000_000 // len(base) + 1))[:5_000_000]
    verdicts = _all_checkers(text)
    assert len(verdicts) == 15
    assert verdicts[CONSTRAINT_IDS.index("punctuation:no_comma")] is False


def test_asterisks_and_blank_lines() -> None:
    stars = "*" * 200_000
    verdicts = _all_checkers(stars)
    assert verdicts[CONSTRAINT_IDS.index("detectable_format:number_highlighted_sections")] is False
    assert verdicts[CONSTRAINT_IDS.index("detectable_format:number_bullet_lists")] is False
    blank_lines = "\n" * 1_000_000 + "* a\n- b\n-c"
    assert check("detectable_format:number_bullet_lists", blank_lines, {"num_bullets": 3})
    spaces = " \n" * 500_000 + "-"
    assert check("detectable_format:number_bullet_lists", spaces, {"num_bullets": 1})


def test_verdicts_do_not_depend_on_order() -> None:
    rows = list(read_jsonl(require("external/ifeval-google/eval_results_strict.jsonl")))
    kwargs = {
        r["prompt"]: r["kwargs"]
        for r in read_jsonl(require("external/ifeval-google/input_data.jsonl"))
    }

    def verdicts(index: int) -> list[bool]:
        row = rows[index]
        names, args = [], []
        for iid, kw in zip(row["instruction_id_list"], kwargs[row["prompt"]], strict=True):
            cid = iid.replace("length_constraints:", "length_constraint_checkers:")
            if cid in CONSTRAINT_IDS:
                names.append(cid)
                args.append({k: v for k, v in kw.items() if v is not None})
        return check_all(names, row["response"], args)

    T.clear_caches()
    forward = [verdicts(i) for i in range(len(rows))]
    T.clear_caches()
    order = list(range(len(rows)))
    random.Random(1).shuffle(order)
    shuffled = {i: verdicts(i) for i in order}
    assert forward == [shuffled[i] for i in range(len(rows))]
