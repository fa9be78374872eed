"""The graders' one brace scanner: golden cases, and linear time on hostile text."""

from __future__ import annotations

import time

import pytest

from mathif.grading.braces import closing_brace, closing_braces


@pytest.mark.parametrize(
    ("text", "opening", "escapes", "expected"),
    [
        ("{a}", 0, False, 2),
        ("x{a{b}c}d", 1, False, 7),
        ("{a", 0, False, None),
        ("{\\{}", 0, False, None),  # every brace counts: the escaped one opens a group
        ("{\\{}", 0, True, 3),  # \{ is a literal brace
        ("{a\\}b}", 0, True, 5),
        ("{}}", 0, False, 1),
    ],
)
def test_closing_brace(text: str, opening: int, escapes: bool, expected: int | None) -> None:
    assert closing_brace(text, opening, escapes=escapes) == expected


def test_closing_braces_pairs_every_closed_group() -> None:
    assert closing_braces("{a{b}}{", 0) == {0: 5, 2: 4}
    assert closing_braces("x}{\\}}", 0, escapes=True) == {2: 5}


@pytest.mark.parametrize("escapes", [False, True])
def test_hostile_brace_runs_are_linear(escapes: bool) -> None:
    texts = ["{" * 500_000, "{" * 250_000 + "}" * 249_999, "\\{" * 300_000,
             "{\\" * 300_000, "}{" * 300_000]
    start = time.monotonic()
    for text in texts:
        closing_brace(text, 0, escapes=escapes)
        closing_braces(text, 0, escapes=escapes)
    assert time.monotonic() - start < 20  # hang detector: linear takes well under a second
