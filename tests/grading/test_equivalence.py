"""Golden cases for the mathif grader: each equivalence class, positive and negative."""

from __future__ import annotations

import pytest

from mathif.grading import grade

# (answer part, gold, source)
EQUIVALENT = [
    # AIME leading zeros
    (r"\boxed{45}", "045", "aime"),
    (r"\boxed{045}", "45", "aime"),
    # thousands separators: commas, spaces, thin spaces, {,}, none
    (r"\boxed{1,000}", "1000", "gsm8k"),
    (r"\boxed{1 000}", "1000", "gsm8k"),
    (r"\boxed{1\,000}", "1000", "gsm8k"),
    (r"\boxed{1{,}000}", "1000", "gsm8k"),
    (r"\boxed{11111111100}", r"11,\! 111,\! 111,\! 100", "math500"),
    (r"\boxed{11 111 111 100}", r"11,\! 111,\! 111,\! 100", "math500"),
    # Minerva scientific notation and relative tolerance 1e-4
    (r"\boxed{3.61 \times 10^{-10}}", "3.61e-10", "minerva"),
    (r"\boxed{3.61\cdot10^{-10}}", "3.61e-10", "minerva"),
    (r"\boxed{3.6100 \times 10^{-10}}", "3.61e-10", "minerva"),
    (r"\boxed{4080.2}", "4080", "minerva"),
    (r"\boxed{0.00104}", "1.04e-3", "minerva"),
    # Python-style golds read by the safe parser
    (r"\boxed{\arcsin\left(\frac{10}{13}\right)}", "np.arcsin(10/13)", "minerva"),
    (r"\boxed{0.8776}", "np.arcsin(10/13)", "minerva"),
    # fractions, radicals, symbolic
    (r"\boxed{17/50}", r"\dfrac{17}{50}", "math500"),
    (r"\boxed{0.34}", r"\dfrac{17}{50}", "math500"),
    (r"\boxed{\frac{-35}{9}}", r"-\frac{35}{9}", "math500"),
    (r"\boxed{\frac{1}{\sqrt{2}}}", r"\frac{\sqrt{2}}{2}", "math500"),
    (r"\boxed{\sqrt{452}}", r"2\sqrt{113}", "math500"),
    (r"\boxed{(x+1)^2 - 2x}", r"x^2 + 1", "math500"),
    # tuples, intervals, lists, sets
    (r"\boxed{(2,4)}", r"$(2,4)$", "olympiad"),
    (r"\boxed{\left(\frac14, \frac1{27}\right)}", r"$(\frac{1}{4}, \frac{1}{27})$", "olympiad"),
    (r"\boxed{[-2, 7]}", r"x \in [-2,7]", "math500"),
    (r"\boxed{2, 1}", "1,2", "olympiad"),
    (r"\boxed{-2, -1, 2}", r"$-1$,$2$,$-2$", "olympiad"),
    # units, text, degrees, percentages, assignments
    (r"\boxed{50 \text{ cm}}", "50", "gsm8k"),
    (r"\boxed{\$18}", "18", "gsm8k"),
    (r"\boxed{30^\circ}", "30", "math500"),
    (r"\boxed{336}", r"336^\circ", "aime"),
    (r"\boxed{Evelyn}", r"\text{Evelyn}", "math500"),
    (r"\boxed{\textbf{(C)}}", r"\text{(C)}", "math500"),
    (r"\boxed{18\%}", "18", "gsm8k"),
    (r"\boxed{45\%}", "0.45", "gsm8k"),
    (r"\boxed{k = 3}", r"$k=3$", "olympiad"),
    (r"\boxed{3}", r"$k=3$", "olympiad"),
    (r"\boxed{4210_5}", r"4210_{5}", "math500"),
    # constraint-shaped outputs
    (r"THE ANSWER IS \BOXED{42}.", "42", "gsm8k"),
    ('"So the total is \\boxed{1000}."', "1,000", "gsm8k"),
    (r"\boxed{5}. Is there anything else I can help with?", "5", "gsm8k"),
    ("La respuesta es 42.", "42", "gsm8k"),
    # exact proofs of equality (in process) and symbolic ones (sympy in a worker)
    (r"\boxed{\dfrac{9a + 11}{20}}", r"\frac{11+9a}{20}", "math500"),
    (r"\boxed{3 + 2\sqrt{2}, 3 - 2\sqrt{2}}", r"3 \pm 2 \sqrt{2}", "math500"),
    (r"\boxed{\frac{x^2-1}{x-1}}", "x+1", "math500"),
    (r"\boxed{0.5 \pi r^2}", r"\frac{\pi r^2}{2}", "math500"),
    (r"\boxed{\frac{\sqrt{3}}{2}}", r"\sin(\pi/3)", "math500"),
    (r"\boxed{4\sqrt{3}}", r"\sqrt{48}", "math500"),
    (r"\boxed{(2, \sqrt{2})}", r"(2, 2^{1/2})", "math500"),
]

DIFFERENT = [
    (r"\boxed{46}", "045", "aime"),
    (r"\boxed{1001}", "1000", "gsm8k"),
    (r"\boxed{4500}", "45", "gsm8k"),  # the official grader's x*100 leniency is not kept
    (r"\boxed{0.45}", "45", "gsm8k"),
    (r"\boxed{45.004}", "45", "gsm8k"),  # tolerance is for Minerva only
    (r"\boxed{3.7 \times 10^{-10}}", "3.61e-10", "minerva"),
    (r"\boxed{2.78e-6}", "2.7778e-6", "minerva"),
    (r"\boxed{0.9}", "np.arcsin(10/13)", "minerva"),
    (r"\boxed{2/4}", r"\frac{1}{3}", "math500"),
    (r"\boxed{1.4142}", r"\sqrt{2}", "math500"),  # approximations of exact answers
    (r"\boxed{x^2 - 1}", r"x^2 + 1", "math500"),
    (r"\boxed{(4,2)}", r"$(2,4)$", "olympiad"),
    (r"\boxed{(2,4]}", r"$(2,4)$", "olympiad"),
    (r"\boxed{1, 3}", "1,2", "olympiad"),
    (r"\boxed{Evelyn}", r"\text{Bob}", "math500"),
    (r"\boxed{not even}", r"\text{even}", "math500"),
    (r"\boxed{(B)}", r"\text{(C)}", "math500"),
    (r"\boxed{42 \text{ apples}}", "41", "gsm8k"),
    (r"\boxed{2\pi}", r"6.28", "math500"),
    ("The answer is 17.", "18", "gsm8k"),
    # a term that is tiny at every probe point: numbers may only disprove (issue 9.7)
    (r"\boxed{x+10^{-12}}", "x", "math500"),
    (r"\boxed{(x+1)^{30}-(x-1)^{30}}", "(x+1)^{30}", "math500"),
    (r"\boxed{2\pi r+10^{-11}}", r"2\pi r", "math500"),
    (r"\boxed{2\pi r+10^{-11}}", r"2\pi r", "minerva"),  # tolerance is for numbers only
    (r"\boxed{(\sqrt{2}+10^{-12},1)}", r"(\sqrt{2},1)", "olympiad"),
    (r"\boxed{\sqrt{2}+10^{-12}}", r"\sqrt{2}", "math500"),
    (r"\boxed{\sqrt{2}+10^{-40}}", r"\sqrt{2}", "math500"),  # math-verify's evalf would accept
    (r"\boxed{\frac{1}{\sqrt{2}}+10^{-30}}", r"\frac{\sqrt{2}}{2}", "math500"),
    (r"\boxed{x + 0.0000000001 x^2}", "x", "math500"),
    (r"\boxed{e^{x}+10^{-15}}", "e^{x}", "math500"),
]


@pytest.mark.parametrize(("answer", "gold", "source"), EQUIVALENT)
def test_equivalent(answer: str, gold: str, source: str) -> None:
    result = grade(answer, gold, source=source)
    assert result.correct, result
    assert result.reason == "match"


@pytest.mark.parametrize(("answer", "gold", "source"), DIFFERENT)
def test_different(answer: str, gold: str, source: str) -> None:
    result = grade(answer, gold, source=source)
    assert not result.correct, result
    assert result.reason == "mismatch"


def test_no_answer_reason() -> None:
    result = grade("I could not finish the derivation because", "5")
    assert result == type(result)(False, None, "mathif", "no_answer")
