"""Can one answer satisfy all of an item's constraints at once?

The builder answers by construction: :func:`witness` writes a plain English answer meant to
satisfy every constraint of the item (the repeated request first, the section markers, the
bullets, the highlighted spans, the keywords the right number of times, enough words, the end
phrase, the quotation marks, the letter case), and :func:`feasible` runs the real checkers on
it. An item passes only when the checkers accept that answer, so argument-level conflicts
(a forbidden word inside the request that must be repeated, a comma in it under
``no_comma``, a ``less than`` bound the request already breaks, ...) are found by the same code
that scores the models, not by a second list of rules that could drift from it.

The response language is the one constraint a witness in English cannot show; it is kept
apart by the conflict table (:data:`mathif.builder.compose.CONFLICTS`) and by the rule that
word counts are not asked of the scripts without spaces between words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mathif import constraints
from mathif.builder import compose as c
from mathif.constraints.text import count_words

# Filler sentences: English, no comma, and no keyword of the pool inside any word (so that
# keyword counts stay what the witness puts in; ``tests/builder`` checks this).
_FILLER = (
    "we work this out with care and the result holds for all of the steps",
    "it is clear that each part of the work leads to the result we want here",
    "by the rules of algebra we get it in a few short steps",
)
_CAPITAL_WORD = "OK"
#: Scripts whose words are not separated by spaces: ``\\w+`` counts a sentence as one word.
NO_SPACE_LANGUAGES = frozenset({"ja", "th", "zh-cn", "zh-tw"})


def _arg(names: Sequence[str], args: Sequence[Mapping[str, Any] | None], name: str
         ) -> list[Mapping[str, Any]]:
    return [a or {} for n, a in zip(names, args, strict=True) if n == name]


def _filler_words(count: int) -> str:
    words: list[str] = []
    i = 0
    while len(words) < count:
        words.extend(_FILLER[i % len(_FILLER)].split())
        i += 1
    return " ".join(words[:count])


def _keyword_line(names: Sequence[str], args: Sequence[Mapping[str, Any] | None]) -> str:
    words: list[str] = []
    for a in _arg(names, args, c.EXISTENCE):
        words.extend(a["keywords"])
    for a in _arg(names, args, c.FREQUENCY):
        if a["relation"] == "at least":
            words.extend([a["keyword"]] * a["frequency"])
    for a in _arg(names, args, c.CAPITAL_WORDS):
        if a["capital_relation"] == "at least":
            words.extend([_CAPITAL_WORD] * a["capital_frequency"])
    return " ".join(words)


def witness(question: str, names: Sequence[str], args: Sequence[Mapping[str, Any] | None]
            ) -> str:
    """An answer built to satisfy every constraint of the item (the language aside)."""
    lines: list[str] = []
    if c.REPEAT in names:
        lines.append(question.strip())
    highlights = max([a["num_highlights"] for a in _arg(names, args, c.HIGHLIGHTS)] or [0])
    bullets = _arg(names, args, c.BULLETS)
    body = [_filler_words(12)]
    body += [f"we mark *part {i + 1}* here" for i in range(highlights)]
    keywords = _keyword_line(names, args)
    if keywords:
        body.append(keywords)
    if bullets:
        body += [f"* item {i + 1}" for i in range(bullets[0]["num_bullets"])]
    sections = _arg(names, args, c.SECTIONS)
    if sections:
        marker, n = sections[0]["section_spliter"].strip(), sections[0]["num_sections"]
        for i in range(n):
            lines.append(f"{marker} {i + 1}")
            lines += body if i == 0 else [_filler_words(6)]
    else:
        lines += body
    ends = _arg(names, args, c.END)
    text = "\n".join(lines)
    wanted = [a["num_words"] for a in _arg(names, args, c.NUMBER_WORDS)
              if a["relation"] == "at least"]
    if wanted:
        missing = max(wanted) - count_words(text) + 4
        if missing > 0:
            text += "\n" + _filler_words(missing)
    if ends:
        text += "\n" + ends[0]["end_phrase"].strip()
    if c.CAPITAL in names:
        text = text.upper()
    elif c.LOWERCASE in names:
        text = text.lower()
    if c.QUOTATION in names:
        text = f'"{text}"'
    return text


def feasible(question: str, names: Sequence[str], args: Sequence[Mapping[str, Any] | None]
             ) -> bool:
    """Whether the checkers accept :func:`witness`'s answer for every constraint but the
    response language (and, for a language without spaces, no word count is asked)."""
    languages = [a["language"] for a in _arg(names, args, c.LANGUAGE)]
    if c.NUMBER_WORDS in names and any(lang in NO_SPACE_LANGUAGES for lang in languages):
        return False
    text = witness(question, names, args)
    return all(constraints.check(n, text, a)
               for n, a in zip(names, args, strict=True) if n != c.LANGUAGE)
