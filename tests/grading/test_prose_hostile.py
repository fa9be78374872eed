"""Model text is the attacker: the prose locator must stay fast on any input.

Every scan in :mod:`mathif.grading.prose` is bounded (a closing window, sentence caps,
look-ahead limits) and no regex over model text has nested quantifiers, so each input below
is read in well under a millisecond per kilobyte.  The bound asserted here is generous (it
only detects hangs and quadratic blow-ups on a loaded machine): 200 KB inputs built to hit
each scanner's worst case, plus random text over the characters the scanners care about.
"""

from __future__ import annotations

import random
import time

import pytest

from mathif.grading import grade_many
from mathif.grading.prose import (
    _candidates,
    _join_lead_ins,
    _plain_tuples,
    _scan_numbers,
    _solved_value,
    _withdrawal,
    find_answer,
    math_spans,
    read_question,
    split_sentences,
)

N = 200_000

HOSTILE = {
    "newlines": "\n" * N,
    "newline runs": "a" + "\n" * N + "b.",
    "space runs": "So x is" + " " * N + "5.",
    "spaces": " " * N,
    "dots": ". " * (N // 2),
    "abbreviations": "Mr. " * (N // 4),
    "dollars": "$" * N,
    "prices": "$1 and " * (N // 7),
    "digits": "9" * N,
    "spaced digits": "1 " * (N // 2),
    "thousands": "1," * (N // 2),
    "open parens": "(" * N,
    "tuples": "(1," * (N // 3),
    "backslashes": "\\" * N,
    "display openers": "\\[" * (N // 2),
    "answer phrases": "The answer is " * (N // 14),
    "conclusions": "Therefore, x = 1. " * (N // 18),
    "loop": "The final answer is 7.\n" * (N // 23),
    "fences": "```\n" * (N // 4),
    "equals": "=" * N,
    "letters": "a" * N,
    "digit words": "1a " * (N // 3),
    "congruences": "x \\equiv 4 \\pmod{" * (N // 18),
    "questions": "Is it 5? " * (N // 8),
    "steps": "Step 1: 2 + 2 = 4\n" * (N // 18),
    "long words": ("1" + "a" * 1000 + " ") * 100,
    "other scripts": "答案是 " * (N // 4),
    "percents": "5% " * (N // 3),
    "times": "1:00 " * (N // 5),
    "prompt echoes": "You are an AI assistant.\n" * (N // 25),
    "solved letters": "So n = 1, " * (N // 10),
    "lead-ins": "Therefore:\n" * (N // 11),
    "cut display": "\\[ n = " + "1" * N + " \\",
    "restated question": "How many apples does she have? " * (N // 31),
    "doubts": "That seems too straightforward. " * (N // 32),
}


def _random_texts() -> list[str]:
    rng = random.Random(15)
    alphabet = "0123456789 .,;:$\\[](){}=+-*/^_\n?!aAxyzansw%°π√"
    return ["".join(rng.choice(alphabet) for _ in range(50_000)) for _ in range(10)]


QUESTION = "How many apples " * 200 + "does she have? Express your answer from 0 to 9."
LETTER_QUESTION = "There are 70 squares. " * 100 + "What is the value of $n$?"


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_input_is_read_quickly(name: str) -> None:
    text = HOSTILE[name]
    for question in (None, QUESTION, LETTER_QUESTION):
        find_answer.cache_clear()
        start = time.perf_counter()
        find_answer(text, question)
        assert time.perf_counter() - start < 1.5, name


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_scanners_are_linear(name: str) -> None:
    """The scanners on 50 KB of hostile text, without the closing window that normally
    bounds them: a quadratic scan would take minutes here, a linear one milliseconds."""
    text = HOSTILE[name][:50_000]
    start = time.perf_counter()
    split_sentences(text)
    spans = math_spans(text)
    _scan_numbers(text, spans)
    _plain_tuples(text, spans)
    _candidates(text[:1200], read_question(QUESTION))
    _solved_value(text, "n")
    _withdrawal(text)
    _join_lead_ins(split_sentences(text[:5000]))
    assert time.perf_counter() - start < 5.0, name


def test_random_input_is_read_quickly() -> None:
    start = time.perf_counter()
    for text in _random_texts():
        find_answer(text, QUESTION)
    assert time.perf_counter() - start < 10.0


def test_hostile_question_is_read_quickly() -> None:
    start = time.perf_counter()
    for text in HOSTILE.values():
        read_question(text[:50_000])
    assert time.perf_counter() - start < 10.0


def test_hostile_inputs_grade_without_error() -> None:
    """Through the whole grader: every verdict is a plain wrong answer, nothing raises."""
    rows = [(text, "42", None, QUESTION) for text in HOSTILE.values()]
    start = time.perf_counter()
    grades = grade_many(rows, timeout=5.0)
    assert time.perf_counter() - start < 120.0
    assert len(grades) == len(rows)
    assert all(g.reason in ("mismatch", "no_answer", "ambiguous", "timeout") for g in grades)
