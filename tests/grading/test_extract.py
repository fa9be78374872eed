"""Golden cases for mathif's answer extraction: one positive and one negative per form."""

from __future__ import annotations

import pytest

from mathif.grading import extract_answer

POSITIVE = [
    # (answer part, expected extraction)
    (r"So the answer is $\boxed{42}$.", "42"),
    (r"first \boxed{3}, finally \boxed{\frac{\sqrt{2}}{2}}", r"\frac{\sqrt{2}}{2}"),
    (r"\boxed{\left(\frac{1}{4}, \frac{1}{27}\right)}", r"\left(\frac{1}{4}, \frac{1}{27}\right)"),
    (r"\fbox{7}", "7"),
    (r"THE ANSWER IS \BOXED{42}.", "42"),
    (r"the answer is \Boxed{42}", "42"),
    ('"We add the numbers and get \\boxed{5}."', "5"),
    (r"Thus \boxed{5}. Is there anything else I can help with?", "5"),
    ("Janet sells 9 eggs.\n#### 18", "18"),
    ("#### $1,000", "$1,000"),
    ("The final answer is 1 000 000.", "1 000 000"),
    ("The answer is: 12,345. Any other questions?", "12,345"),
    ("La respuesta es 42.", "42"),
    ("Die Antwort ist 17.", "17"),
    ("Ответ: 8", "8"),
    ("Đáp án là 36.", "36"),
    ("答案是 45", "45"),
    ("Answer: James runs a total of 540 meters a week.", "540"),
    (r"The answer is $x = 2$.", "2"),
    ("Therefore, John still has 2 lego sets left.", "2"),
    ("After simplifying, the total is 350.", "350"),
    ("So we get\n\\[\n\\frac{3}{4}\n\\]", r"\frac{3}{4}"),
]

NEGATIVE = [
    "",
    "   \n",
    "Let me think about the problem step by step and set up equations",
    "We try n = 5 and then n = 6 and keep going with the computation of the",
    r"The value \boxed{} is empty",
]


@pytest.mark.parametrize(("text", "expected"), POSITIVE)
def test_extracts(text: str, expected: str) -> None:
    assert extract_answer(text) == expected


@pytest.mark.parametrize("text", NEGATIVE)
def test_no_answer(text: str) -> None:
    assert extract_answer(text) is None


def test_nested_braces_and_last_box_wins() -> None:
    text = r"\boxed{1} ... \boxed{\frac{\sqrt{\frac{1}{2}}}{2}}"
    assert extract_answer(text) == r"\frac{\sqrt{\frac{1}{2}}}{2}"


def test_linear_on_long_inputs() -> None:
    text = "x " * 200_000 + r"\boxed{9}"
    assert extract_answer(text) == "9"
