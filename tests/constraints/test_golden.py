"""Golden verdicts for each of the 15 checkers, in the style of IFEval's instructions_test.py.

Each case is (constraint id, args, answer text, expected verdict). The quirks of the reference
are pinned here on purpose: they are what the benchmark measures.
"""

from __future__ import annotations

from typing import Any

import pytest

from mathif.constraints import CONSTRAINT_IDS, check, check_all

NW = "length_constraint_checkers:number_words"
LANG = "language:response_language"
EXIST = "keywords:existence"
FREQ = "keywords:frequency"
FORBID = "keywords:forbidden_words"
BULLETS = "detectable_format:number_bullet_lists"
HIGHLIGHT = "detectable_format:number_highlighted_sections"
SECTIONS = "detectable_format:multiple_sections"
CAPITAL = "change_case:english_capital"
LOWER = "change_case:english_lowercase"
CAPWORDS = "change_case:capital_word_frequency"
COMMA = "punctuation:no_comma"
REPEAT = "combination:repeat_prompt"
END = "startend:end_checker"
QUOTE = "startend:quotation"

ENGLISH = "The quick brown fox jumps over the lazy dog because it wants to see the river."

CASES: list[tuple[str, str, dict[str, Any] | None, str, bool]] = [
    # number_words: \w+ runs; exactly n words fails "less than" and passes "at least".
    ("nw-less", NW, {"num_words": 5, "relation": "less than"}, "one two three four", True),
    (
        "nw-less-boundary",
        NW,
        {"num_words": 4, "relation": "less than"},
        "one two three four",
        False,
    ),
    (
        "nw-atleast-boundary",
        NW,
        {"num_words": 4, "relation": "at least"},
        "one two three four",
        True,
    ),
    ("nw-atleast-short", NW, {"num_words": 5, "relation": "at least"}, "one two three four", False),
    ("nw-symbols-split", NW, {"num_words": 4, "relation": "at least"}, "x=2, don't", True),
    ("nw-empty", NW, {"num_words": 1, "relation": "less than"}, "", True),
    # response_language: langdetect (seeded); no features -> passes.
    ("lang-en", LANG, {"language": "en"}, ENGLISH, True),
    ("lang-not-es", LANG, {"language": "es"}, ENGLISH, False),
    ("lang-es", LANG, {"language": "es"}, "El perro come la comida en la casa de mi madre.", True),
    ("lang-no-features", LANG, {"language": "th"}, "12345 + 678 = 13023", True),
    ("lang-empty", LANG, {"language": "ja"}, "", True),
    # keywords:existence: unanchored, case-insensitive regex search.
    ("exist-all", EXIST, {"keywords": ["fox", "river"]}, ENGLISH, True),
    ("exist-substring", EXIST, {"keywords": ["find"]}, "We are finding x.", True),
    ("exist-case", EXIST, {"keywords": ["FOX"]}, ENGLISH, True),
    ("exist-missing", EXIST, {"keywords": ["fox", "cat"]}, ENGLISH, False),
    ("exist-regex", EXIST, {"keywords": ["qu.ck"]}, ENGLISH, True),
    ("exist-invalid-regex-literal", EXIST, {"keywords": ["f(x"]}, "so f(x = 2", True),
    ("exist-invalid-regex-absent", EXIST, {"keywords": ["f(x"]}, "so fx = 2", False),
    # keywords:frequency: number of regex matches vs the threshold.
    (
        "freq-atleast",
        FREQ,
        {"keyword": "root", "frequency": 2, "relation": "at least"},
        "Root one, square root two.",
        True,
    ),
    (
        "freq-atleast-substring",
        FREQ,
        {"keyword": "root", "frequency": 3, "relation": "at least"},
        "root, roots, rooted",
        True,
    ),
    (
        "freq-less-boundary",
        FREQ,
        {"keyword": "root", "frequency": 2, "relation": "less than"},
        "root and root",
        False,
    ),
    (
        "freq-less",
        FREQ,
        {"keyword": "root", "frequency": 3, "relation": "less than"},
        "root and root",
        True,
    ),
    (
        "freq-strips-keyword",
        FREQ,
        {"keyword": " root ", "frequency": 1, "relation": "at least"},
        "square-root",
        True,
    ),
    (
        "freq-invalid-regex",
        FREQ,
        {"keyword": "x)", "frequency": 2, "relation": "at least"},
        "f(x) + g(x)",
        True,
    ),
    # keywords:forbidden_words: \bword\b, case-insensitive.
    ("forbid-absent", FORBID, {"forbidden_words": ["cat", "mouse"]}, ENGLISH, True),
    ("forbid-present", FORBID, {"forbidden_words": ["cat", "DOG"]}, ENGLISH, False),
    ("forbid-word-boundary", FORBID, {"forbidden_words": ["find"]}, "We are finding x.", True),
    ("forbid-punctuation-boundary", FORBID, {"forbidden_words": ["find"]}, "Find: x", False),
    ("forbid-invalid-regex", FORBID, {"forbidden_words": ["c++("]}, "in c++( code", True),
    # number_bullet_lists: "* " lines plus "-" lines must equal n exactly.
    ("bullets-exact", BULLETS, {"num_bullets": 2}, "Intro\n* one\n* two", True),
    ("bullets-too-many", BULLETS, {"num_bullets": 1}, "* one\n* two", False),
    ("bullets-dash", BULLETS, {"num_bullets": 3}, "- a\n  - b\n* c", True),
    ("bullets-rule-counts", BULLETS, {"num_bullets": 2}, "* a\n---\nend", True),
    ("bullets-bold-not-bullet", BULLETS, {"num_bullets": 1}, "**bold** start\n* real", True),
    ("bullets-indented-blank-lines", BULLETS, {"num_bullets": 1}, "\n\n   \n  * x", True),
    ("bullets-none", BULLETS, {"num_bullets": 1}, "no bullets here", False),
    # number_highlighted_sections: *x* and **x** with non-blank insides, at least n.
    ("hl-single", HIGHLIGHT, {"num_highlights": 2}, "*one* and *two*", True),
    ("hl-bold", HIGHLIGHT, {"num_highlights": 1}, "this is **bold** text", True),
    ("hl-too-few", HIGHLIGHT, {"num_highlights": 3}, "*one* and *two*", False),
    ("hl-blank-double", HIGHLIGHT, {"num_highlights": 1}, "empty **  ** here", False),
    ("hl-blank-single", HIGHLIGHT, {"num_highlights": 1}, "empty * * here", False),
    ("hl-no-newline", HIGHLIGHT, {"num_highlights": 1}, "*broken\nacross*", False),
    # multiple_sections: split on "\s?SECTION\s?\d+\s?", case-sensitive.
    (
        "sec-enough",
        SECTIONS,
        {"section_spliter": "SECTION", "num_sections": 2},
        "SECTION 1\nfoo\nSECTION 2\nbar",
        True,
    ),
    (
        "sec-too-few",
        SECTIONS,
        {"section_spliter": "SECTION", "num_sections": 3},
        "SECTION 1\nfoo\nSECTION 2\nbar",
        False,
    ),
    (
        "sec-case-sensitive",
        SECTIONS,
        {"section_spliter": "SECTION", "num_sections": 1},
        "Section 1\nfoo",
        False,
    ),
    (
        "sec-title-case",
        SECTIONS,
        {"section_spliter": "Section", "num_sections": 2},
        "Section 1 foo Section 2 bar",
        True,
    ),
    (
        "sec-no-number",
        SECTIONS,
        {"section_spliter": "Section", "num_sections": 1},
        "Section one",
        False,
    ),
    # english_capital: isupper() and langdetect says en.
    ("cap-yes", CAPITAL, None, ENGLISH.upper(), True),
    ("cap-lower-letter", CAPITAL, None, ENGLISH.upper() + " x", False),
    ("cap-boxed-breaks", CAPITAL, None, ENGLISH.upper() + " \\boxed{42}", False),
    ("cap-not-english", CAPITAL, None, "EL PERRO COME LA COMIDA EN LA CASA DE MI MADRE.", False),
    ("cap-no-features", CAPITAL, {}, "ᎠᎡᎢ 123", True),  # Cherokee: no langdetect features
    ("cap-empty", CAPITAL, None, "", False),
    # english_lowercase: islower() and langdetect says en.
    ("low-yes", LOWER, None, ENGLISH.lower(), True),
    ("low-capital", LOWER, None, ENGLISH, False),
    ("low-not-english", LOWER, None, "el perro come la comida en la casa de mi madre.", False),
    ("low-no-features", LOWER, None, "ꭰꭱꭲ 123", True),  # lowercase Cherokee
    # capital_word_frequency: isupper tokens of nltk.word_tokenize.
    (
        "cw-atleast",
        CAPWORDS,
        {"capital_frequency": 2, "capital_relation": "at least"},
        "The ANSWER IS 42.",
        True,
    ),
    (
        "cw-less",
        CAPWORDS,
        {"capital_frequency": 2, "capital_relation": "less than"},
        "The ANSWER IS 42.",
        False,
    ),
    (
        "cw-contraction-sentence-end",
        CAPWORDS,
        {"capital_frequency": 6, "capital_relation": "at least"},
        "I CAN'T. YOU CAN'T.",
        True,
    ),
    (
        "cw-contraction-count",
        CAPWORDS,
        {"capital_frequency": 7, "capital_relation": "at least"},
        "I CAN'T. YOU CAN'T.",
        False,
    ),
    (
        "cw-hyphen-one-word",
        CAPWORDS,
        {"capital_frequency": 2, "capital_relation": "less than"},
        "AM-GM gives it.",
        True,
    ),
    (
        "cw-no-upper",
        CAPWORDS,
        {"capital_frequency": 1, "capital_relation": "less than"},
        "all lower case",
        True,
    ),
    # no_comma.
    ("comma-none", COMMA, None, "one two three", True),
    ("comma-some", COMMA, None, "one, two", False),
    ("comma-number", COMMA, None, "1,000", False),
    # repeat_prompt: stripped, case-insensitive prefix.
    ("repeat-yes", REPEAT, {"prompt_to_repeat": "What is 2+2?"}, "  what is 2+2? It is 4.", True),
    ("repeat-preamble", REPEAT, {"prompt_to_repeat": "What is 2+2?"}, "Sure! What is 2+2?", False),
    # end_checker: strip, drop surrounding quotes, case-insensitive suffix.
    (
        "end-yes",
        END,
        {"end_phrase": "Any other questions?"},
        "It is 4. Any other questions?\n",
        True,
    ),
    (
        "end-quoted",
        END,
        {"end_phrase": "Any other questions?"},
        '"It is 4. Any other questions?"',
        True,
    ),
    (
        "end-trailing-words",
        END,
        {"end_phrase": "Any other questions?"},
        "Any other questions? Bye.",
        False,
    ),
    # quotation: stripped text starts and ends with a double quote, length > 1.
    ("quote-yes", QUOTE, None, ' "It is 4." \n', True),
    ("quote-single-char", QUOTE, None, '"', False),
    ("quote-missing-end", QUOTE, {}, '"It is 4.', False),
    ("quote-curly", QUOTE, None, "“It is 4.”", False),
]


@pytest.mark.parametrize(
    ("cid", "args", "text", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_golden(cid: str, args: dict[str, Any] | None, text: str, expected: bool) -> None:
    assert check(cid, text, args) is expected


def test_every_checker_has_positive_and_negative_cases() -> None:
    seen = {(case[1], case[4]) for case in CASES}
    for cid in CONSTRAINT_IDS:
        assert (cid, True) in seen, cid
        assert (cid, False) in seen, cid


def test_quotes_and_end_phrase_together() -> None:
    text = '"The answer is 4. Any other questions?"'
    verdicts = check_all([QUOTE, END], text, [None, {"end_phrase": "Any other questions?"}])
    assert verdicts == [True, True]


def test_check_all_keeps_order_and_length() -> None:
    names = [COMMA, NW, QUOTE]
    args: list[dict[str, Any] | None] = [None, {"num_words": 3, "relation": "less than"}, None]
    assert check_all(names, "one, two", args) == [False, True, False]
    with pytest.raises(ValueError):
        check_all(names, "x", args[:2])


@pytest.mark.parametrize("cid", CONSTRAINT_IDS)
@pytest.mark.parametrize("text", ["", " ", "\n\t", "*", "-", '"', "SECTION"])
def test_degenerate_texts_never_crash(cid: str, text: str) -> None:
    args = {case[1]: case[2] for case in CASES}[cid]
    assert isinstance(check(cid, text, args), bool)
