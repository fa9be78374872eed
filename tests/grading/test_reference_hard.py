"""Reference verdicts on hard cases: what ``parse_expr`` evaluates, the ``N()`` fallback, golds
with leading zeros and pylatexenc's LaTeX-to-text step (issue 8).

Every verdict below was established by running the official grader (VeRL 0.3 ``prime_math``) in
the benchmark's pinned environment (sympy 1.13.1, antlr4 4.9.3, pylatexenc 2.10; see
tests/official), never by reading it off our code; ``test_verdicts_match_the_pinned_environment``
re-checks them live when that environment is present.
"""

from __future__ import annotations

import contextlib
import time
from fractions import Fraction

import pytest

from mathif.grading import grade, grade_many
from mathif.grading import reference as ref
from mathif.grading import safe_expr as S
from tests.official import official

# (response, gold, official verdict)
HARD = [
    (r"\boxed{240^0}", "240", True),
    (r"\boxed{240^1}", "240", False),
    (r"\boxed{240^1}", "241", True),
    (r"\boxed{2^3}", "8", False),
    (r"\boxed{2^3}", "1", True),
    (r"\boxed{(5^9)^9}", "5", True),
    (r"\boxed{x^2}", "x**2", True),
    ("The answer is 3 ^ 2.", "1", False),
    (r"\boxed{139 and 138}", "138", True),
    (r"\boxed{139 and 138}", "139", False),
    (r"\boxed{0 and 5}", "5", False),
    (r"\boxed{0 or 5}", "5", True),
    (r"\boxed{7 or 5}", "5", False),
    (r"\boxed{5 if 1 else 3}", "5", True),
    (r"\boxed{5 if 0 else 3}", "5", False),
    (r"\boxed{10 if 10 > 0 else 0}", "10", True),
    (r"\boxed{not 0}", "1", True),
    (r"\boxed{1 < 2}", "1", False),
    (r"\boxed{0x75}", "117", True),
    (r"\boxed{0x75}", "75", False),
    (r"\boxed{0o17}", "15", True),
    (r"\boxed{0b101}", "5", True),
    (r"\boxed{1_000}", "1000", True),
    (r"\boxed{True}", "1", True),
    (r"\boxed{False}", "0", True),
    (r"\boxed{True}", "2", False),
    (r"\boxed{True + 26}", "27", True),
    (r"\boxed{abs(-5)}", "5", True),
    (r"\boxed{max(3,5)}", "5", True),
    (r"\boxed{min(3,5)}", "5", False),
    (r"\boxed{pow(2, 10)}", "1024", True),
    (r"\boxed{max(x,2)}", "2", False),
    (r"\boxed{2.75*10^11}", "2.75e11", True),
    ("The answer is 1.325*10^-27.", "1.325e-27", True),
    (r"\boxed{2.75*10^11}", "2.76e11", False),
    (r"\boxed{2.5^2}", "6.25", True),
    (r"\boxed{1.25*2^2}", "5", True),
    (r"\boxed{6.02*10^{23}}", "6.02e23", False),
    (r"\boxed{3.0 \times 10^8}", "3e8", False),
    ("The answer is 8 & 8.", "8", True),
    (r"\boxed{33}", "033", True),
    (r"\boxed{32+1}", "033", False),
    (r"\boxed{46/2}", "023", False),
    (r"\boxed{033}", "033", True),
    (r"\boxed{33.0}", "033", True),
    (r"\boxed{23}", "023", True),
    (r"Final answer: $x = 211$ \quad $\blacksquare$", "211", False),
    (r"\boxed{211 \blacksquare}", "211", False),
    (r"\boxed{\textsf{12}}", "12", False),
    (r"\boxed{\texttt{12}}", "12", False),
    (r"\boxed{\color{red}{5}}", "5", True),
    (r"\boxed{\phantom{0}5}", "5", True),
    (r"\boxed{\vphantom{0}5}", "5", True),
    (r"\boxed{\cfrac{1}{2}}", r"\frac{1}{2}", False),
    (r"\boxed{\nicefrac{1}{2}}", r"\frac{1}{2}", True),
    (r"\boxed{5 \checkmark}", "5", True),
    (r"\boxed{\therefore 5}", "5", False),
    (r"\boxed{\begin{pmatrix} 1 \\ 2 \end{pmatrix}}", "(1,2)", False),
    (r"\boxed{\neg 5}", "5", True),
    # two values that both round to 0.0 (the in-process check used to divide by zero)
    ("The answer is 0**1.", "0", True),
    # a Float sum, product or quotient that is zero is sympy's Integer 0, which XOR accepts
    (r"\boxed{0.0*2^2}", "0", False),
    (r"\boxed{(5 - 5.0) ^ 7}", "7", True),
    (r"\boxed{1.5*2 ^ 1}", "3", True),
    (r"\boxed{sin(0)*1.0}", "0", True),
]


@pytest.mark.parametrize(("response", "gold", "verdict"), HARD)
def test_official_verdicts(response: str, gold: str, verdict: bool) -> None:
    assert grade(response, gold, grader="reference").correct is verdict


@pytest.mark.parametrize(("response", "gold", "verdict"), HARD)
def test_in_process_and_sympy_paths_agree(response: str, gold: str, verdict: bool) -> None:
    """The in-process emulation decides as the sympy worker does, or defers to it."""
    _, extracted = ref.extract(response)
    with contextlib.suppress(ref.NeedsSympy):
        assert ref.judge(extracted, gold, sympy_ok=False) is verdict
    assert ref.judge(extracted, gold, sympy_ok=True) is verdict


def test_verdicts_match_the_pinned_environment() -> None:
    o = official()
    assert o.score([(r, g) for r, g, _ in HARD]) == [v for _, _, v in HARD]


def test_default_grader_keeps_leading_zero_golds() -> None:
    """The mathif grader reads AIME golds like ``033`` as 33, whatever the answer's form."""
    for answer in (r"\boxed{33}", r"\boxed{32+1}", r"\boxed{033}"):
        assert grade(answer, "033", grader="mathif", source="aime").correct
    assert grade(r"\boxed{46/2}", "023", grader="mathif", source="aime").correct


# parse_expr's value of a formula, as sympy 1.13.1 computes it (Integer -> int, Rational ->
# Fraction, Float -> float, Python bool -> bool, sympy's true/false -> SymBool).
VALUES = [
    ("240^0", 240),
    ("2 ^ 3 ^ 1", 0),
    ("2 | 3 ^ 1 & 1", 2),
    ("-2^2", -4),
    ("2^-1", -3),
    ("139 and 138", 138),
    ("0 and 5", 0),
    ("0 or 5", 5),
    ("3.0 and 0", 0),
    ("5 if 1 else 3", 5),
    ("not 3", False),
    ("3 == 3.0", False),
    ("1 < 2 < 3", S.SymBool(True)),
    ("3 > 2 > 2", S.SymBool(False)),
    ("0x75", 117),
    ("0o17", 15),
    ("0b101", 5),
    ("0x1e5", 485),
    ("1_000", 1000),
    ("033.5", 33.5),
    ("True ^ 3", 2),
    ("True & 3", 1),
    ("True + 1", 2),
    ("True ^ True", False),
    ("abs(-5)", 5),
    ("max(3, 5)", 5),
    ("min(1/2, 1/3)", Fraction(1, 3)),
    ("pow(2, -1)", Fraction(1, 2)),
    ("~5", -6),
    ("1 << 3", 8),
    ("-7 // 2", -4),
    ("7 % -2", -1),
    ("2 ** -1", Fraction(1, 2)),
    ("0.0*2", 0),
    ("0.0*2 ^ 2", 2),
    ("0.0**2", 0.0),
    ("5 - 5.0", 0),
]


@pytest.mark.parametrize(("text", "value"), VALUES)
def test_parse_expr_values(text: str, value: object) -> None:
    result = S.pe_value(S.parse(text, S.SYMPY_STD_DIALECT))
    assert result == value and type(result) is type(value)


# parse_expr raises on these (the official code then keeps the text for N()).
RAISES = ["2.75*10^11", "2.5 & 1", "~2.5", "(1/2) ^ 1", "True - 1.0", "(1 < 2) + 1",
          "-(1 < 2)", "5 // 0", "2 >> 1.5", "1.5 ^ True"]


@pytest.mark.parametrize("text", RAISES)
def test_parse_expr_raises(text: str) -> None:
    with pytest.raises(S.PyRaise):
        S.pe_value(S.parse(text, S.SYMPY_STD_DIALECT))


@pytest.mark.parametrize("text", ["033", "0033", "1 2", "2x", "1\n+2", "x is y", "lambda: 1",
                                  "1 if 2", "__import__('os')", "٣x(1)"])
def test_parse_expr_syntax_errors(text: str) -> None:
    with pytest.raises(S.ParseError):
        S.parse(text, S.SYMPY_STD_DIALECT)


def test_prm800k_reads_leading_zeros_as_python_does() -> None:
    # Python lexes "033" as "0" "33"; with implicit multiplication that is 0*33
    tree = S.parse("(33)-(033)", S.OFFICIAL_PRM800K_DIALECT)
    assert S.exact_value(tree) == 33
    assert S.exact_value(S.parse("(117)-(0x75)", S.OFFICIAL_PRM800K_DIALECT)) == 0


@pytest.mark.parametrize("grader", ["reference", "mathif"])
@pytest.mark.parametrize(
    "answer",
    [
        r"\boxed{1 << 10**9}",
        r"\boxed{(10**1000) ^ (10**1000)}",
        r"\boxed{9**9**9 and 1}",
        r"\boxed{1 << 100000 >> 99999}",
        r"\boxed{" + "1 ^ " * 400 + "1}",
        r"\boxed{" + "not " * 500 + "0}",
        r"\boxed{2.5*10^(10**10)}",
        r"\boxed{max(" + ",".join(["1"] * 500) + ")}",
    ],
)
def test_python_semantics_are_bounded(grader: str, answer: str) -> None:
    start = time.monotonic()
    result = grade_many([(answer, "2", None)], grader=grader, timeout=5.0)[0]
    assert result.correct is False
    assert time.monotonic() - start < 30  # hang detector
