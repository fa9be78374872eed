"""The "format" category: bullets, highlights, sections, letter case, capital words, commas.

(The module is not called ``format``: that name is Python's builtin.)

The reference's regular expressions are kept where they run in linear time. The one that does
not is the bullet pattern ``^\\s*\\*[^\\*].*$`` (and ``^\\s*-.*$``): with ``re.MULTILINE`` its
``\\s*`` also crosses newlines, so on a long run of blank lines every line start rescans the rest
of the run (quadratic). ``bullet_count`` finds the same matches from the marker characters
instead; ``tests/constraints`` compares it with ``re.findall`` on random and real texts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .length import compare
from .registry import Checker, Param, non_blank, positive, register, relation
from .text import capital_word_count, capital_word_range, detect_language, user_pattern

_STAR_BULLET = re.compile(r"\*(?=[^*])", re.DOTALL)
_DASH_BULLET = re.compile(r"-")
_HIGHLIGHT = re.compile(r"\*[^\n\*]*\*")
_DOUBLE_HIGHLIGHT = re.compile(r"\*\*[^\n\*]*\*\*")


def _at_line_start(text: str, pos: int) -> bool:
    """Whether only whitespace separates ``pos`` from a line start (``^\\s*`` can match).

    ``^`` (multiline) holds at 0 and after ``\\n``, and ``\\s*`` may span several lines, so the
    maximal whitespace run before ``pos`` must contain a newline or reach the start of the text.
    """
    i = pos - 1
    while i >= 0 and text[i].isspace():
        if text[i] == "\n":
            return True
        i -= 1
    return i < 0


def _count_markers(text: str, marker: re.Pattern[str], skip: int) -> int:
    """Matches ``findall`` would return for ``^\\s*<marker>...`` + ``.*$`` (multiline).

    A match ends at the first newline at or after ``q + skip`` (``.`` stops at newlines; for
    ``*`` the character after the star may itself be the newline, so ``skip`` is 2); the next
    match cannot start before that.
    """
    count = 0
    end = 0
    for m in marker.finditer(text):
        q = m.start()
        if q < end or not _at_line_start(text, q):
            continue
        count += 1
        nl = text.find("\n", q + skip)
        end = len(text) if nl < 0 else nl
    return count


def bullet_count(text: str) -> int:
    """``len(findall(r"^\\s*\\*[^\\*].*$")) + len(findall(r"^\\s*-.*$"))`` (multiline), linearly."""
    return _count_markers(text, _STAR_BULLET, 2) + _count_markers(text, _DASH_BULLET, 1)


def _describe_bullets(args: Mapping[str, Any]) -> str:
    return (
        f"Your answer must contain exactly {args['num_bullets']} bullet points. "
        "Use the markdown bullet points such as:\n* This is point 1. \n* This is point 2"
    )


def _check_bullets(text: str, args: Mapping[str, Any]) -> bool:
    return bool(bullet_count(text) == args["num_bullets"])


BULLETS = register(
    Checker(
        id="detectable_format:number_bullet_lists",
        category="format",
        params=(Param("num_bullets", int, positive),),
        describe=_describe_bullets,
        check=_check_bullets,
    )
)


def highlight_count(text: str) -> int:
    """``*x*`` spans plus ``**x**`` spans whose inside is not blank (the reference's count)."""
    count = sum(1 for h in _HIGHLIGHT.findall(text) if h.strip("*").strip())
    for h in _DOUBLE_HIGHLIGHT.findall(text):
        if h.removeprefix("**").removesuffix("**").strip():
            count += 1
    return count


def _describe_highlights(args: Mapping[str, Any]) -> str:
    return (
        f"Highlight at least {args['num_highlights']} sections in your answer with markdown, "
        "i.e. *highlighted section*."
    )


def _check_highlights(text: str, args: Mapping[str, Any]) -> bool:
    return bool(highlight_count(text) >= args["num_highlights"])


HIGHLIGHTS = register(
    Checker(
        id="detectable_format:number_highlighted_sections",
        category="format",
        params=(Param("num_highlights", int, positive),),
        describe=_describe_highlights,
        check=_check_highlights,
    )
)


def _describe_sections(args: Mapping[str, Any]) -> str:
    spliter = args["section_spliter"].strip()
    n = args["num_sections"]
    return (
        f"Your response must have {n} sections. Mark the beginning of each section with "
        f"{spliter} X, such as:\n{spliter} 1\n[content of section 1]\n"
        f"{spliter} 2\n[content of section 2]"
    )


def _check_sections(text: str, args: Mapping[str, Any]) -> bool:
    # The marker goes into the pattern unescaped and case-sensitively, as in the reference.
    pattern = user_pattern(r"\s?", args["section_spliter"].strip(), r"\s?\d+\s?")
    return bool(pattern.split_len(text) - 1 >= args["num_sections"])


SECTIONS = register(
    Checker(
        id="detectable_format:multiple_sections",
        category="format",
        params=(
            Param("section_spliter", str, non_blank),
            Param("num_sections", int, positive),
        ),
        describe=_describe_sections,
        check=_check_sections,
    )
)


def _reads_as_english(text: str) -> bool:
    """langdetect says English, or cannot tell (the reference counts its exception a pass)."""
    detected = detect_language(text)
    return detected is None or detected == "en"


def _check_english_capital(text: str, _args: Mapping[str, Any]) -> bool:
    # ``isupper`` first, as the reference's ``and`` does: langdetect only runs when it matters.
    return text.isupper() and _reads_as_english(text)


ENGLISH_CAPITAL = register(
    Checker(
        id="change_case:english_capital",
        category="format",
        params=(),
        describe=lambda _args: (
            "Your entire response should be in English, and in all capital letters."
        ),
        check=_check_english_capital,
    )
)


def _check_english_lowercase(text: str, _args: Mapping[str, Any]) -> bool:
    return text.islower() and _reads_as_english(text)


ENGLISH_LOWERCASE = register(
    Checker(
        id="change_case:english_lowercase",
        category="format",
        params=(),
        describe=lambda _args: (
            "Your entire response should be in English, and in all lowercase letters. "
            "No capital letters are allowed."
        ),
        check=_check_english_lowercase,
    )
)


def _describe_capital_words(args: Mapping[str, Any]) -> str:
    return (
        "In your response, words with all capital letters should appear "
        f"{args['capital_relation']} {args['capital_frequency']} times."
    )


def _check_capital_words(text: str, args: Mapping[str, Any]) -> bool:
    relation, frequency = args["capital_relation"], args["capital_frequency"]
    low, high = capital_word_range(text)
    decided = compare(low, relation, frequency)
    if decided == compare(high, relation, frequency):
        return decided  # the threshold is not between the bounds: no sentence splitting
    return compare(capital_word_count(text), relation, frequency)


CAPITAL_WORD_FREQUENCY = register(
    Checker(
        id="change_case:capital_word_frequency",
        category="format",
        params=(
            Param("capital_frequency", int, positive),
            Param("capital_relation", str, relation),
        ),
        describe=_describe_capital_words,
        check=_check_capital_words,
    )
)


NO_COMMA = register(
    Checker(
        id="punctuation:no_comma",
        category="format",
        params=(),
        describe=lambda _args: "In your entire response, refrain from the use of any commas.",
        check=lambda text, _args: "," not in text,
    )
)
