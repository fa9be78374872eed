"""The public API: shape, order, determinism, caching and a light import."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

import mathif.grading as grading
from mathif.grading import GRADERS, Grade, extract_answer, grade, grade_many


def test_public_names() -> None:
    assert GRADERS == ("mathif", "reference")
    assert set(grading.__all__) >= {"GRADERS", "Grade", "extract_answer", "grade", "grade_many"}
    assert extract_answer(r"\boxed{3}") == "3"


def test_grade_is_frozen() -> None:
    result = grade(r"\boxed{3}", "3")
    assert result == Grade(True, "3", "mathif", "match", "box")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.correct = False  # type: ignore[misc]


def test_unknown_grader_and_bad_timeout() -> None:
    with pytest.raises(ValueError):
        grade("1", "1", grader="official")
    with pytest.raises(ValueError):
        grade_many([("1", "1", None)], timeout=0)


PAIRS = [
    (r"\boxed{3}", "3", None),
    (r"\boxed{\frac{\sqrt{3}}{2}}", r"\sin(\pi/3)", "math500"),
    ("no answer at all", "5", None),
    (r"\boxed{4}", "3", None),
    (r"\boxed{3}", "3", None),
    (r"\boxed{x^2-1}", "(x-1)(x+1)", None),
    (r"\boxed{3.61 \times 10^{-10}}", "3.61e-10", "minerva"),
]


@pytest.mark.parametrize("grader", GRADERS)
def test_order_and_determinism(grader: str) -> None:
    first = grade_many(PAIRS, grader=grader)
    grading.clear_cache()
    second = grade_many(list(reversed(PAIRS)), grader=grader)
    assert first == list(reversed(second))
    assert [g.grader for g in first] == [grader] * len(PAIRS)
    singles = [grade(a, g, grader=grader, source=s) for a, g, s in PAIRS]
    assert singles == first


def test_mathif_verdicts_of_the_sample() -> None:
    reasons = [g.reason for g in grade_many(PAIRS)]
    assert reasons == ["match", "match", "no_answer", "mismatch", "match", "match", "match"]


def test_progress_flag_accepted() -> None:
    assert len(grade_many(PAIRS, progress=True)) == len(PAIRS)


def test_empty_input() -> None:
    assert grade_many([]) == []


def test_import_is_light() -> None:
    code = (
        "import sys, mathif.grading\n"
        "heavy = [m for m in ('sympy', 'math_verify', 'latex2sympy2_extended') "
        "if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.parametrize("grader", GRADERS)
@pytest.mark.parametrize("filler", [210_000, 300_000, 3_000_000])
def test_whole_text_is_scanned(grader: str, filler: int) -> None:
    """A box followed by more text than any scan window is still found (it used to be
    ``no_answer`` past 200 KB); past the in-process limit the worker extracts it."""
    text = r"So the answer is \boxed{52}." + " and some more words" * (filler // 20)
    result = grade(text, "52", grader=grader)
    found_by = "box" if grader == "mathif" else None
    assert result == Grade(True, "52", grader, "match", found_by)


@pytest.mark.parametrize("timeout", [0.5, 5.0, 60.0])
def test_limits_scale_with_the_deadline(timeout: float) -> None:
    from mathif.grading import api

    assert 4_096 <= api.inline_limit(timeout) <= 262_144
    assert 1_000 <= api.fast_limit(timeout) <= 20_000
    assert api.inline_limit(timeout / 2) <= api.inline_limit(timeout)
    text = r"\boxed{7} " + "x" * 100_000  # in process at 5 s and more, in a worker below
    assert grade(text, "7", timeout=max(timeout, 2.0)).reason == "match"


def test_nonfinite_timeout_refused() -> None:
    for bad in (float("nan"), float("inf"), -1.0):
        with pytest.raises(ValueError):
            grade_many([("1", "1", None)], timeout=bad)
