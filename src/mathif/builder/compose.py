"""Which constraints an item gets, and with which arguments.

Two schemes:

- ``paper``: the official composition. Single-constraint items cycle through the 15 types in
  :data:`PAPER_SINGLE`'s order; double- and triple-constraint items cycle through the 30 and 15
  published combinations (:data:`PAPER_DOUBLE`, :data:`PAPER_TRIPLE`), in the official order,
  restarting with every source's block of items. These tables are facts read off the official
  files (``tests/builder`` checks them against the files in place); the items themselves are
  not shipped.
- ``balanced`` (the default): each item's types are chosen so that every type is used about
  equally often (the official set ranges from 20 to 121 instances per type), never two of the
  same type, never a pair from :data:`CONFLICTS`; ties are broken by the seeded generator.

Arguments are drawn from the benchmark's own ranges (:data:`RANGES`, also read off the
official files), then :mod:`mathif.builder.feasible` checks that one answer can satisfy all of
an item's constraints at once (argument-level conflicts: a forbidden word that the repeated
request contains, two keyword constraints on one word, ...); a draw that fails is redrawn.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from mathif import constraints

NUMBER_WORDS = "length_constraint_checkers:number_words"
LANGUAGE = "language:response_language"
EXISTENCE = "keywords:existence"
FREQUENCY = "keywords:frequency"
FORBIDDEN = "keywords:forbidden_words"
BULLETS = "detectable_format:number_bullet_lists"
HIGHLIGHTS = "detectable_format:number_highlighted_sections"
SECTIONS = "detectable_format:multiple_sections"
CAPITAL = "change_case:english_capital"
LOWERCASE = "change_case:english_lowercase"
CAPITAL_WORDS = "change_case:capital_word_frequency"
NO_COMMA = "punctuation:no_comma"
REPEAT = "combination:repeat_prompt"
END = "startend:end_checker"
QUOTATION = "startend:quotation"

SCHEMES = ("balanced", "paper")

# ---- the official composition (facts of the release, checked against it by a test) ---------

#: The round-robin order of single-constraint items.
PAPER_SINGLE: tuple[tuple[str], ...] = tuple((t,) for t in (
    EXISTENCE, FREQUENCY, FORBIDDEN, LANGUAGE, NUMBER_WORDS, BULLETS, HIGHLIGHTS, SECTIONS,
    REPEAT, END, QUOTATION, CAPITAL_WORDS, CAPITAL, LOWERCASE, NO_COMMA,
))

#: The 30 published double combinations, in the official order (the order within a pair too).
PAPER_DOUBLE: tuple[tuple[str, str], ...] = (
    (REPEAT, FORBIDDEN), (LOWERCASE, FREQUENCY), (LOWERCASE, EXISTENCE), (LANGUAGE, QUOTATION),
    (EXISTENCE, NO_COMMA), (LOWERCASE, HIGHLIGHTS), (FORBIDDEN, QUOTATION), (CAPITAL, FORBIDDEN),
    (LANGUAGE, NO_COMMA), (CAPITAL_WORDS, NO_COMMA), (FORBIDDEN, NO_COMMA),
    (FORBIDDEN, FREQUENCY), (HIGHLIGHTS, QUOTATION), (LOWERCASE, BULLETS),
    (BULLETS, FORBIDDEN), (SECTIONS, QUOTATION), (FREQUENCY, FREQUENCY), (REPEAT, EXISTENCE),
    (LOWERCASE, FORBIDDEN), (FREQUENCY, NO_COMMA), (REPEAT, FREQUENCY), (REPEAT, NO_COMMA),
    (EXISTENCE, FORBIDDEN), (HIGHLIGHTS, FREQUENCY), (HIGHLIGHTS, NO_COMMA),
    (HIGHLIGHTS, EXISTENCE), (FREQUENCY, END), (NO_COMMA, END), (BULLETS, QUOTATION),
    (CAPITAL, NO_COMMA),
)

#: The 15 published triple combinations, in the official order.
PAPER_TRIPLE: tuple[tuple[str, str, str], ...] = (
    (CAPITAL_WORDS, NUMBER_WORDS, FREQUENCY), (REPEAT, EXISTENCE, FORBIDDEN),
    (HIGHLIGHTS, NO_COMMA, END), (HIGHLIGHTS, EXISTENCE, NO_COMMA),
    (CAPITAL_WORDS, FREQUENCY, NO_COMMA), (EXISTENCE, FREQUENCY, FREQUENCY),
    (HIGHLIGHTS, EXISTENCE, FREQUENCY), (BULLETS, FORBIDDEN, FREQUENCY),
    (SECTIONS, EXISTENCE, FREQUENCY), (BULLETS, EXISTENCE, NUMBER_WORDS),
    (REPEAT, NUMBER_WORDS, FORBIDDEN), (LOWERCASE, EXISTENCE, FREQUENCY),
    (EXISTENCE, NUMBER_WORDS, QUOTATION), (REPEAT, HIGHLIGHTS, NUMBER_WORDS),
    (CAPITAL, NO_COMMA, QUOTATION),
)

PAPER_TABLES: Mapping[int, tuple[tuple[str, ...], ...]] = {
    1: PAPER_SINGLE, 2: PAPER_DOUBLE, 3: PAPER_TRIPLE,
}

# ---- the conflict table ---------------------------------------------------------------------

class Conflict(NamedTuple):
    """Why two types stay apart. ``kind``: ``impossible`` (no answer passes both checkers),
    ``contradictory`` (the instructions contradict each other, even where a lenient checker
    could be satisfied) or ``degenerate`` (one makes the other impossible or automatic)."""

    kind: str
    reason: str


#: Pairs of types the balanced scheme never puts in one item. (The paper scheme reproduces
#: the official combinations as published, whatever this table says.)
CONFLICTS: Mapping[frozenset[str], Conflict] = {
    frozenset((CAPITAL, LOWERCASE)): Conflict(
        "impossible", "all capital letters and all lowercase letters exclude each other"),
    frozenset((CAPITAL, LANGUAGE)): Conflict(
        "impossible", "all capitals also requires English"),
    frozenset((LOWERCASE, LANGUAGE)): Conflict(
        "impossible", "all lowercase also requires English"),
    frozenset((REPEAT, QUOTATION)): Conflict(
        "impossible", "the response cannot start with both the request and a quotation mark"),
    frozenset((LOWERCASE, SECTIONS)): Conflict(
        "impossible", "the section markers (SECTION, Section) are capitalised"),
    frozenset((LANGUAGE, EXISTENCE)): Conflict(
        "contradictory", "the keywords are English words"),
    frozenset((LANGUAGE, FREQUENCY)): Conflict(
        "contradictory", "the keyword is an English word"),
    frozenset((LANGUAGE, CAPITAL_WORDS)): Conflict(
        "contradictory", "capital words are counted by an English tokenizer"),
    frozenset((LANGUAGE, REPEAT)): Conflict(
        "contradictory", "the repeated request is English, so the response is not in one "
        "other language"),
    frozenset((REPEAT, CAPITAL)): Conflict(
        "contradictory", "the request is to be repeated without change, not in capitals "
        "(the checker compares case-insensitively and would accept it)"),
    frozenset((REPEAT, LOWERCASE)): Conflict(
        "contradictory", "the request is to be repeated without change, not in lowercase "
        "(the checker compares case-insensitively and would accept it)"),
    frozenset((LOWERCASE, CAPITAL_WORDS)): Conflict(
        "degenerate", "lowercase text has no capital words: 'at least' is impossible, 'less "
        "than' automatic"),
    frozenset((CAPITAL, CAPITAL_WORDS)): Conflict(
        "degenerate", "every word of an all-capitals text is a capital word: 'at least' is "
        "automatic, 'less than' leaves a few words"),
}

#: Conflicts that depend on the question or the arguments; the builder enforces them by
#: checking that one answer can satisfy the whole item (:mod:`mathif.builder.feasible`).
ARGUMENT_CONFLICTS: tuple[str, ...] = (
    "repeat_prompt + no_comma: only when the request has no comma",
    "repeat_prompt + forbidden_words / frequency 'less than' / number_words 'less than' / "
    "capital_word_frequency 'less than' / bullet lists: the repeated request must not already "
    "break the bound",
    "keyword constraints of one item must not contradict each other (a word both required "
    "and forbidden, 'at least' and 'less than' bounds on one word)",
    "english_capital + multiple_sections: the marker must be SECTION (markers are "
    "case-sensitive)",
    "response_language ja/th + number_words: those scripts do not separate words by spaces",
    "end_checker + forbidden_words / frequency 'less than': the end phrase must not break them",
)


def conflicting(a: str, b: str) -> bool:
    """Whether the balanced scheme keeps ``a`` and ``b`` apart (a type never pairs with
    itself there either)."""
    return a == b or frozenset((a, b)) in CONFLICTS


# ---- parameter ranges (facts of the release) ------------------------------------------------

#: Every keyword the official items use (existence, frequency and forbidden words).
KEYWORDS: tuple[str, ...] = (
    "above", "adjacent", "align", "answer", "bar", "because", "between", "case", "choose",
    "condition", "configuration", "denote", "draw", "equal", "equation", "expression", "find",
    "follow", "formula", "function", "furthermore", "given", "identical", "imply", "length",
    "maximum", "must", "note", "now", "number", "point", "possible", "problem", "question",
    "respectively", "root", "same", "see", "side", "similar", "simply", "since", "solution",
    "strategy", "than", "theorem", "therefore", "total", "valid", "value", "when", "where",
    "win", "yield",
)
#: The 17 response languages of the official items (ISO 639-1, langdetect's codes).
LANGUAGES: tuple[str, ...] = (
    "bg", "bn", "de", "es", "he", "it", "ja", "kn", "mr", "ne", "pa", "pt", "ru", "sw", "ta",
    "th", "vi",
)
END_PHRASES: tuple[str, ...] = ("Any other questions?", "Is there anything else I can help with?")
SECTION_SPLITTERS: tuple[str, ...] = ("Section", "SECTION")
RELATIONS: tuple[str, ...] = constraints.registry.RELATIONS
#: Inclusive integer ranges of the official arguments.
RANGES: Mapping[str, tuple[int, int]] = {
    "num_words": (128, 1016),
    "keyword_frequency": (1, 3),
    "capital_frequency": (1, 20),
    "num_bullets": (1, 5),
    "num_highlights": (1, 4),
    "num_sections": (1, 5),
}
#: Keywords per existence / forbidden-words constraint in the official items.
KEYWORDS_PER_LIST = 2


def draw_args(name: str, question: str, rng: random.Random) -> dict[str, Any] | None:
    """Random arguments for one constraint of type ``name`` (``None`` for the types without
    arguments, as the official files store them), keys in the official order."""
    if name == NUMBER_WORDS:
        return {"num_words": rng.randint(*RANGES["num_words"]),
                "relation": rng.choice(RELATIONS)}
    if name == LANGUAGE:
        return {"language": rng.choice(LANGUAGES)}
    if name == EXISTENCE:
        return {"keywords": sorted(rng.sample(KEYWORDS, KEYWORDS_PER_LIST))}
    if name == FREQUENCY:
        return {"keyword": rng.choice(KEYWORDS),
                "frequency": rng.randint(*RANGES["keyword_frequency"]),
                "relation": rng.choice(RELATIONS)}
    if name == FORBIDDEN:
        return {"forbidden_words": sorted(rng.sample(KEYWORDS, KEYWORDS_PER_LIST))}
    if name == BULLETS:
        return {"num_bullets": rng.randint(*RANGES["num_bullets"])}
    if name == HIGHLIGHTS:
        return {"num_highlights": rng.randint(*RANGES["num_highlights"])}
    if name == SECTIONS:
        return {"section_spliter": rng.choice(SECTION_SPLITTERS),
                "num_sections": rng.randint(*RANGES["num_sections"])}
    if name == CAPITAL_WORDS:
        return {"capital_frequency": rng.randint(*RANGES["capital_frequency"]),
                "capital_relation": rng.choice(RELATIONS)}
    if name == REPEAT:
        return {"prompt_to_repeat": question}
    if name == END:
        return {"end_phrase": rng.choice(END_PHRASES)}
    if name in (CAPITAL, LOWERCASE, NO_COMMA, QUOTATION):
        return None
    raise ValueError(f"no argument ranges for {name!r}")


def balanced_types(count: int, usage: Mapping[str, int], rng: random.Random,
                   exclude: frozenset[str] = frozenset()) -> tuple[str, ...] | None:
    """``count`` distinct, pairwise compatible types, each time the least used so far (ties
    broken at random); ``None`` when no such set exists (with the ``exclude``d types out)."""
    chosen: list[str] = []
    for _ in range(count):
        options = [t for t in constraints.CONSTRAINT_IDS
                   if t not in exclude and not any(conflicting(t, c) for c in chosen)]
        if not options:
            return None
        keyed = sorted(options, key=lambda t: (usage.get(t, 0), rng.random()))
        chosen.append(keyed[0])
    return tuple(chosen)


def paper_types(count: int, position: int) -> tuple[str, ...]:
    """The official combination of the ``position``-th item (0-based) of a block of
    ``count``-constraint items."""
    table = PAPER_TABLES[count]
    return table[position % len(table)]


def describe_all(names: Sequence[str], args: Sequence[Mapping[str, Any] | None]) -> list[str]:
    """The descriptions, rendered by the checkers' own ``describe``."""
    return [constraints.describe(n, a) for n, a in zip(names, args, strict=True)]
