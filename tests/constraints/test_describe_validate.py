"""describe() reproduces every official constraint_desc; validate_args() accepts exactly them."""

from __future__ import annotations

from typing import Any

import pytest
from constraints_shared import official_instances

from mathif.constraints import (
    CONSTRAINT_IDS,
    ArgumentError,
    UnknownConstraintError,
    category,
    check,
    describe,
    validate_args,
)


def test_describe_reproduces_all_official_descriptions() -> None:
    instances = official_instances()
    assert len(instances) == 840
    mismatches = [
        (file, line, name)
        for file, line, name, args, desc in instances
        if describe(name, args) != desc
    ]
    assert mismatches == []


def test_official_data_uses_all_15_ids() -> None:
    assert {name for _, _, name, _, _ in official_instances()} == set(CONSTRAINT_IDS)


def test_validate_accepts_all_official_instances() -> None:
    for _file, _line, name, args, _desc in official_instances():
        normalised = validate_args(name, args)
        assert normalised == (args or {})


def test_categories_follow_the_spec_table() -> None:
    expected = {
        "length": {"length_constraint_checkers:number_words"},
        "lexical": {
            "language:response_language",
            "keywords:existence",
            "keywords:frequency",
            "keywords:forbidden_words",
        },
        "affix": {"combination:repeat_prompt", "startend:end_checker", "startend:quotation"},
    }
    for cid in CONSTRAINT_IDS:
        want = next((cat for cat, ids in expected.items() if cid in ids), "format")
        assert category(cid) == want


def test_describe_sorts_keywords_and_dedupes_forbidden_words() -> None:
    assert describe("keywords:existence", {"keywords": ["b", "a"]}) == (
        "Include keywords \"['a', 'b']\" in the response."
    )
    assert describe("keywords:forbidden_words", {"forbidden_words": ["b", "a", "b"]}) == (
        "Do not include keywords \"['a', 'b']\" in the response."
    )


def test_none_and_empty_args_are_equivalent() -> None:
    assert validate_args("startend:quotation", None) == {}
    assert validate_args("startend:quotation", {}) == {}


def test_validate_returns_a_copy() -> None:
    args = {"keywords": ["a", "b"]}
    out = validate_args("keywords:existence", args)
    out["keywords"].append("c")
    assert args == {"keywords": ["a", "b"]}


BAD: list[tuple[str, Any, str]] = [
    ("length_constraint_checkers:number_words", {"num_words": 10}, "relation"),
    (
        "length_constraint_checkers:number_words",
        {"num_words": 10, "relation": "at most"},
        "relation",
    ),
    (
        "length_constraint_checkers:number_words",
        {"num_words": 0, "relation": "at least"},
        "num_words",
    ),
    (
        "length_constraint_checkers:number_words",
        {"num_words": -3, "relation": "at least"},
        "num_words",
    ),
    (
        "length_constraint_checkers:number_words",
        {"num_words": True, "relation": "at least"},
        "num_words",
    ),
    (
        "length_constraint_checkers:number_words",
        {"num_words": 10.0, "relation": "at least"},
        "num_words",
    ),
    (
        "length_constraint_checkers:number_words",
        {"num_words": "10", "relation": "at least"},
        "num_words",
    ),
    ("length_constraint_checkers:number_words", None, "num_words"),
    ("language:response_language", {"language": "xx"}, "language"),
    ("language:response_language", {"language": "English"}, "language"),
    ("language:response_language", {"language": None}, "language"),
    ("language:response_language", {}, "language"),
    ("keywords:existence", {"keywords": "because"}, "keywords"),
    ("keywords:existence", {"keywords": []}, "keywords"),
    ("keywords:existence", {"keywords": ["ok", 3]}, "keywords"),
    ("keywords:existence", {"keywords": ["ok", "  "]}, "keywords"),
    ("keywords:existence", {"keywords": ["ok"], "extra": 1}, "extra"),
    ("keywords:frequency", {"keyword": "x", "frequency": 2}, "relation"),
    ("keywords:frequency", {"keyword": "", "frequency": 2, "relation": "at least"}, "keyword"),
    ("keywords:frequency", {"keyword": "x", "frequency": 0, "relation": "at least"}, "frequency"),
    ("keywords:frequency", {"keyword": ["x"], "frequency": 1, "relation": "at least"}, "keyword"),
    ("keywords:forbidden_words", {"forbidden_words": ["a", None]}, "forbidden_words"),
    ("keywords:forbidden_words", {"keywords": ["a"]}, "keywords"),
    ("detectable_format:number_bullet_lists", {"num_bullets": 0}, "num_bullets"),
    ("detectable_format:number_bullet_lists", {"num_bullets": False}, "num_bullets"),
    ("detectable_format:number_highlighted_sections", {"num_highlights": "2"}, "num_highlights"),
    ("detectable_format:multiple_sections", {"section_spliter": "SECTION"}, "num_sections"),
    (
        "detectable_format:multiple_sections",
        {"section_spliter": " ", "num_sections": 2},
        "section_spliter",
    ),
    ("change_case:english_capital", {"language": "en"}, "language"),
    ("change_case:english_lowercase", {"x": None}, "x"),
    (
        "change_case:capital_word_frequency",
        {"capital_frequency": 3, "capital_relation": "no greater than"},
        "capital_relation",
    ),
    ("change_case:capital_word_frequency", {"capital_relation": "at least"}, "capital_frequency"),
    ("punctuation:no_comma", {"comma": True}, "comma"),
    ("combination:repeat_prompt", {"prompt_to_repeat": None}, "prompt_to_repeat"),
    ("combination:repeat_prompt", {"prompt": "x"}, "prompt"),
    ("startend:end_checker", {"end_phrase": 1}, "end_phrase"),
    ("startend:quotation", {"x": 1}, "x"),
    ("startend:quotation", [], "args"),
]


@pytest.mark.parametrize(("cid", "args", "field"), BAD)
def test_validate_rejects_with_the_offending_field(cid: str, args: Any, field: str) -> None:
    with pytest.raises(ArgumentError) as info:
        validate_args(cid, args)
    assert info.value.field == field
    assert info.value.message
    # describe and check validate too.
    with pytest.raises(ArgumentError):
        describe(cid, args)
    with pytest.raises(ArgumentError):
        check(cid, "text", args)


@pytest.mark.parametrize("cid", ["length_constraints:number_words", "", "keywords", None])
def test_unknown_ids(cid: Any) -> None:
    for call in (
        lambda: validate_args(cid, None),
        lambda: describe(cid, None),
        lambda: check(cid, "x", None),
        lambda: category(cid),
    ):
        with pytest.raises(UnknownConstraintError):
            call()
    assert issubclass(UnknownConstraintError, ValueError)
    assert issubclass(ArgumentError, ValueError)


def test_every_langdetect_language_has_a_description() -> None:
    from mathif.constraints.text import known_languages

    for code in known_languages():
        text = describe("language:response_language", {"language": code})
        name = text.removeprefix("Your answer should be in ").split(" language,")[0]
        assert name and name != code
