"""Balanced ``{...}`` groups: the one brace scanner of the graders.

Linear in the text (a regular expression finds the braces, a counter or a stack pairs them).
``escapes=True`` skips LaTeX's literal braces ``\\{`` and ``\\}`` (answer extraction, where a
set written ``\\{1, 2\\}`` sits inside a box); ``escapes=False`` counts every brace (the
comparisons, which read what extraction kept). The reference grader keeps its own scan of
the last box: it reproduces the official code step by step, quirks included.
"""

from __future__ import annotations

import re

__all__ = ["closing_brace", "closing_braces"]

_ANY_BRACE = re.compile(r"[{}]")
_UNESCAPED_BRACE = re.compile(r"(?<!\\)[{}]")


def closing_brace(text: str, opening: int, *, escapes: bool = False) -> int | None:
    """Position of the ``}`` closing the ``{`` at ``opening``, or None when it never closes."""
    depth = 0
    for m in (_UNESCAPED_BRACE if escapes else _ANY_BRACE).finditer(text, opening):
        depth += 1 if text[m.start()] == "{" else -1
        if depth == 0:
            return m.start()
    return None


def closing_braces(text: str, begin: int, *, escapes: bool = False) -> dict[int, int]:
    """Position of the ``}`` closing each ``{`` at or after ``begin`` (unclosed ones absent)."""
    closing: dict[int, int] = {}
    stack: list[int] = []
    for m in (_UNESCAPED_BRACE if escapes else _ANY_BRACE).finditer(text, begin):
        i = m.start()
        if text[i] == "{":
            stack.append(i)
        elif stack:
            closing[stack.pop()] = i
    return closing
