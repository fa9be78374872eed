"""Answers written in capitals under an all-caps constraint are not punished (mathif grader)."""

import pytest

from mathif.grading import grade


@pytest.mark.parametrize(
    ("answer_part", "gold"),
    [
        ("THE ANGLE IS \\BOXED{90^\\CIRC}.", "90^\\circ"),
        ("SO \\BOXED{X \\IN [-2,7]}", "x \\in [-2,7]"),
        ("\\BOXED{\\FRAC{1}{2}}", "\\frac{1}{2}"),
        ("\\BOXED{\\BEGIN{PMATRIX} 1/5 \\\\ -18/5 \\END{PMATRIX}}",
         "\\begin{pmatrix} 1/5 \\\\ -18/5 \\end{pmatrix}"),
        ("\\BOXED{\\LEFT\\LFLOOR\\LOG _{2} N\\RIGHT\\RFLOOR+1}",
         "\\left\\lfloor\\log _{2} n\\right\\rfloor+1"),
        ("\\BOXED{3\\SQRT{2}}", "3\\sqrt{2}"),
    ],
)
def test_all_caps_answers_match_under_mathif(answer_part: str, gold: str) -> None:
    verdict = grade(answer_part, gold, grader="mathif", source="math500")
    assert verdict.correct, verdict


@pytest.mark.parametrize(
    ("answer_part", "gold"),
    [
        ("\\BOXED{91^\\CIRC}", "90^\\circ"),  # a wrong value stays wrong
        ("\\BOXED{\\FRAC{1}{3}}", "\\frac{1}{2}"),
        ("\\boxed{X \\in [-2,8]}", "x \\in [-2,7]"),
    ],
)
def test_all_caps_folding_does_not_make_wrong_answers_right(answer_part: str, gold: str) -> None:
    assert not grade(answer_part, gold, grader="mathif", source="math500").correct


def test_reference_grader_keeps_the_official_behaviour() -> None:
    # The official grader does not fold case: an all-caps LaTeX answer with text after the
    # box misses (SPEC §6); the reference grader reproduces that.
    assert not grade("\\BOXED{\\FRAC{1}{2}}, AS REQUIRED", "\\frac{1}{2}",
                     grader="reference").correct


@pytest.mark.parametrize(
    ("answer", "gold"),
    [
        ("90^\\CIRC", "90^\\circ"),
        ("X \\IN [-2,7]", "x \\in [-2,7]"),
        ("\\BEGIN{PMATRIX} 1/5 \\\\ -18/5 \\END{PMATRIX}",
         "\\begin{pmatrix} 1/5 \\\\ -18/5 \\end{pmatrix}"),
    ],
)
def test_a_lower_case_match_is_decided_without_sympy(answer: str, gold: str) -> None:
    """The reading as written needs sympy, the lower-case one matches in process: either
    matching is a match, so no worker is needed (the worker tries both: same verdict)."""
    from mathif.grading import equivalence
    from mathif.grading.reference import NeedsSympy

    with pytest.raises(NeedsSympy):
        equivalence._judge_as_written(answer, gold, "", sympy_ok=False)
    assert equivalence.judge(answer, gold, "", sympy_ok=False) is True
    assert equivalence.judge(answer, gold, "", sympy_ok=True) is True


def test_an_undecided_reading_still_goes_to_sympy() -> None:
    from mathif.grading import equivalence
    from mathif.grading.reference import NeedsSympy

    with pytest.raises(NeedsSympy):  # neither reading decides in process
        equivalence.judge("\\BEGIN{PMATRIX} 1/5 \\\\ -17/5 \\END{PMATRIX}",
                          "\\begin{pmatrix} 1/5 \\\\ -18/5 \\end{pmatrix}", "", sympy_ok=False)
    assert equivalence.judge("\\BEGIN{PMATRIX} 1/5 \\\\ -17/5 \\END{PMATRIX}",
                             "\\begin{pmatrix} 1/5 \\\\ -18/5 \\end{pmatrix}", "",
                             sympy_ok=True) is False
