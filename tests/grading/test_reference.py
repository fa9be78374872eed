"""Golden behaviour of the official MathIF grader (VeRL ``prime_math.compute_score``).

Each row was read off the official code's decision steps: (response, gold, what the
official extractor keeps, the official verdict).  They pin the quirks the reference
grader must keep: case-sensitive ``\\boxed`` (yet ``\\BOXED{42}`` alone passes because
its LaTeX-to-text step drops unknown macros), ``x/100`` and ``x*100`` leniency, relative
tolerance 1e-4, unreduced fractions refused, ``_`` crashing the fallback, pi tried as
3.14, and so on.
"""

from __future__ import annotations

import pytest

from mathif.grading import grade
from mathif.grading import reference as ref

OFFICIAL = [
    ("The answer is \\boxed{42}.", "42", "42", True),
    ("\\BOXED{42}", "42", "\\BOXED{42}", True),
    ("THE FINAL RESULT: \\BOXED{42}. ANY OTHER QUESTIONS?", "42", "\\BOXED{42}", True),
    ("WE COMPUTE 6 * 7 = 42.\n\n\\BOXED{42}", "42", "42.\n\n\\BOXED{42}", False),
    (
        "SO X IS \\BOXED{42}, AS REQUIRED. IS THERE ANYTHING ELSE I CAN HELP WITH?",
        "42",
        "\\BOXED{42}, AS REQUIRED",
        False,
    ),
    ("\\boxed{1,000}", "1000", "1,000", True),
    ("\\boxed{1000}", "1,000", "1000", True),
    ("\\boxed{1 000}", "1000", "1 000", True),
    ("\\boxed{1\\,000}", "1000", "1\\,000", False),
    ("\\boxed{11111111100}", "11,\\! 111,\\! 111,\\! 100", "11111111100", True),
    ("\\boxed{45}", "045", "45", True),
    ("\\boxed{0.45}", "45", "0.45", True),
    ("\\boxed{4500}", "45", "4500", True),
    ("\\boxed{45.004}", "45", "45.004", True),
    ("\\boxed{45.01}", "45", "45.01", False),
    ("\\boxed{\\frac{1}{2}}", "0.5", "\\frac{1}{2}", True),
    ("\\boxed{2/4}", "\\frac{1}{2}", "2/4", False),
    ("\\boxed{\\frac{2}{4}}", "\\frac{1}{2}", "\\frac{2}{4}", False),
    ("\\boxed{\\dfrac{17}{50}}", "\\dfrac{17}{50}", "\\dfrac{17}{50}", True),
    ("\\boxed{0.34}", "\\dfrac{17}{50}", "0.34", True),
    ("\\boxed{\\sqrt{2}/2}", "\\frac{\\sqrt{2}}{2}", "\\sqrt{2}/2", True),
    ("\\boxed{\\frac{1}{\\sqrt{2}}}", "\\frac{\\sqrt{2}}{2}", "\\frac{1}{\\sqrt{2}}", True),
    ("\\boxed{2\\pi}", "2\\pi", "2\\pi", True),
    ("\\boxed{6.28}", "2\\pi", "6.28", True),
    ("\\boxed{6.2832}", "2\\pi", "6.2832", True),
    ("\\boxed{288\\pi}", "288 \\pi", "288\\pi", True),
    ("\\boxed{904.78}", "288 \\pi", "904.78", False),
    ("\\boxed{30}", "30^\\circ", "30", True),
    ("\\boxed{30^{\\circ}}", "30^\\circ", "30^{\\circ}", True),
    ("\\boxed{\\text{Evelyn}}", "\\text{Evelyn}", "\\text{Evelyn}", True),
    ("\\boxed{Evelyn}", "\\text{Evelyn}", "Evelyn", True),
    ("\\boxed{(C)}", "\\text{(C)}", "(C)", True),
    ("\\boxed{C}", "\\text{(C)}", "C", True),
    ("\\boxed{[-2,7]}", "x \\in [-2,7]", "[-2,7]", False),
    ("\\boxed{(2,4)}", "$(2,4)$", "(2,4)", True),
    ("\\boxed{(4,2)}", "$(2,4)$", "(4,2)", False),
    ("\\boxed{4210_5}", "4210_{5}", "4210_5", True),
    ("\\boxed{560}", "4210_{5}", "560", False),
    ("\\boxed{3.61 \\times 10^{-10}}", "3.61e-10", "3.61 \\times 10^{-10}", False),
    ("\\boxed{3.61e-10}", "3.61e-10", "3.61e-10", True),
    ("\\boxed{0.000000000361}", "3.61e-10", "0.000000000361", True),
    ("\\boxed{0.8776}", "np.arcsin(10/13)", "0.8776", False),
    ("\\boxed{\\arcsin(10/13)}", "np.arcsin(10/13)", "\\arcsin(10/13)", False),
    ("\\boxed{x^2+2x+1}", "(x+1)^2", "x^2+2x+1", True),
    ("\\boxed{3}", "$k=3$", "3", False),
    ("\\boxed{k=3}", "$k=3$", "3", False),
    ("The answer is 18.", "18", "18.", True),
    ("So she makes $18 every day.", "18", "So she makes $18 every day.", False),
    ("Janet makes 18 dollars every day", "18", "Janet makes 18 dollars every day", False),
    ("#### 18", "18", "#### 18", False),
    ("La respuesta es 18.", "18", "La respuesta es 18.", False),
    ("\\boxed{18\\%}", "18", "18\\%", True),
    ("\\boxed{18\\%}", "0.18", "18\\%", True),
    ("\\boxed{50 \\text{ cm}}", "50", "50 \\text{ cm}", True),
    ("\\boxed{5 \\text{ meters}}", "5", "5 \\text{ meters}", True),
    ("\\boxed{5 \\text{ apples}}", "5", "5 \\text{ apples}", True),
    ("\\boxed{-\\frac{35}{9}}", "-\\frac{35}{9}", "-\\frac{35}{9}", True),
    ("\\boxed{\\frac{-35}{9}}", "-\\frac{35}{9}", "\\frac{-35}{9}", True),
    ("\\boxed{-3.8889}", "-\\frac{35}{9}", "-3.8889", False),
    ("\\boxed{1, 2}", "1,2", "1, 2", True),
    ("\\boxed{2, 1}", "1,2", "2, 1", False),
    ("\\boxed{x_0}", "5", "x_0", False),
    ("\\boxed{9^{9^{9^{9}}}}", "3", "9^{9^{9^{9}}}", False),
]


@pytest.mark.parametrize(("response", "gold", "extracted", "verdict"), OFFICIAL)
def test_official_verdicts(response: str, gold: str, extracted: str, verdict: bool) -> None:
    result = grade(response, gold, grader="reference")
    assert result.extracted_answer == extracted
    assert result.correct is verdict
    assert result.reason == ("match" if verdict else "mismatch")


@pytest.mark.parametrize(("response", "gold", "extracted", "verdict"), OFFICIAL)
def test_pure_python_and_worker_paths_agree(
    response: str, gold: str, extracted: str, verdict: bool
) -> None:
    """The in-process stage either decides exactly as the sympy stage or defers."""
    try:
        fast = ref.judge(extracted, gold, sympy_ok=False)
    except ref.NeedsSympy:
        return
    assert fast is verdict


def test_extraction_steps() -> None:
    # last "answer is" marker, then the box, then the trailing "is/=" marker
    assert ref.extract("The answer is \\boxed{7}. Done")[1] == "7"
    assert ref.extract("Hence x = 12")[1] == "12"
    assert ref.extract("we get 5 as the final value") == (True, "5 as the final value")
    # "matched" requires a digit, but the verdict ignores it
    assert ref.extract("no digits here")[0] is False


def test_reference_never_uses_mathif_extraction() -> None:
    # a Spanish sentence: the official extractor keeps the whole text, so it is wrong
    assert not grade("La respuesta es 18.", "18", grader="reference").correct
    assert grade("La respuesta es 18.", "18", grader="mathif").correct
