"""Exact comparison of two formulas: a proof of equality, or of difference where one is sound.

Evaluating two expressions at probe points can show that they differ, never that they are
equal: ``x + 10^{-12}`` and ``x`` agree to 12 digits everywhere, ``(x+1)^{30} - (x-1)^{30}``
and ``(x+1)^{30}`` agree to 10 digits near the probe values, and an answer can even be
built to agree exactly at fixed probe points.  So the mathif grader proves equality here,
with exact arithmetic, and leaves to sympy in a worker what it cannot prove.

A formula (a :mod:`safe_expr` tree) is brought to a normal form: a quotient of two
polynomials with rational coefficients whose variables ("atoms") are the free names, the
constants ``pi`` and ``e``, and every other sub-expression that is not a rational
operation (``sqrt(2)``, ``sin(x)``, ``x^{1/2}``), itself written in normal form so that
``\\sqrt{2}`` and ``sqrt(2)`` are the same atom.  Then:

* equal normal forms prove the formulas equal (an identity between polynomials holds
  whatever values the atoms take);
* a non-zero difference proves them different when its atoms are *independent*: free
  variables plus at most one of ``pi`` and ``e`` (a non-zero polynomial in independent
  quantities is not identically zero; ``pi`` and ``e`` are each transcendental, but whether
  they are algebraically independent of each other is unknown).  A difference involving
  other atoms (``\\sqrt{8} - 2\\sqrt{2}``) proves nothing here.

Decimal literals count as the exact rationals they write (``0.5`` is ``1/2``).  Sizes are
capped (terms, degrees, digits), so the cost is bounded whatever the input.
"""

from __future__ import annotations

from fractions import Fraction

from mathif.grading.safe_expr import Node

# A monomial: sorted ((atom, power), ...); a polynomial: monomial -> coefficient.
Monomial = tuple[tuple[str, int], ...]
Poly = dict[Monomial, Fraction]
# numerator, denominator
Form = tuple[Poly, Poly]

MAX_TERMS = 400
MAX_DEGREE = 64
MAX_POWER = 64
MAX_BITS = 2048
MAX_DEPTH = 60
_CONSTANT_ATOMS = {"pi": "pi", "e": "e", "E": "e"}
_UNMODELLED = {"I", "oo", "imag"}


class _TooBig(Exception):
    """A guard tripped: no verdict from exact arithmetic."""


_ONE: Monomial = ()


def _const(value: Fraction) -> Poly:
    return {_ONE: value} if value else {}


def _atom(name: str) -> Poly:
    return {((name, 1),): Fraction(1)}


def _check(p: Poly) -> Poly:
    if len(p) > MAX_TERMS:
        raise _TooBig
    for mono, coef in p.items():
        if sum(power for _, power in mono) > MAX_DEGREE:
            raise _TooBig
        if coef.numerator.bit_length() > MAX_BITS or coef.denominator.bit_length() > MAX_BITS:
            raise _TooBig
    return p


def _add(a: Poly, b: Poly, sign: int = 1) -> Poly:
    out = dict(a)
    for mono, coef in b.items():
        value = out.get(mono, Fraction(0)) + sign * coef
        if value:
            out[mono] = value
        else:
            out.pop(mono, None)
    return _check(out)


def _mono_mul(x: Monomial, y: Monomial) -> Monomial:
    powers = dict(x)
    for atom, power in y:
        powers[atom] = powers.get(atom, 0) + power
    return tuple(sorted(powers.items()))


def _mul(a: Poly, b: Poly) -> Poly:
    if len(a) * len(b) > MAX_TERMS * 8:
        raise _TooBig
    out: Poly = {}
    for ma, ca in a.items():
        for mb, cb in b.items():
            mono = _mono_mul(ma, mb)
            value = out.get(mono, Fraction(0)) + ca * cb
            if value:
                out[mono] = value
            else:
                out.pop(mono, None)
    return _check(out)


def _constant_of(p: Poly) -> Fraction | None:
    if not p:
        return Fraction(0)
    if len(p) == 1 and _ONE in p:
        return p[_ONE]
    return None


def _value(form: Form) -> Fraction | None:
    """The rational number a normal form stands for, if it is one."""
    num, den = _constant_of(form[0]), _constant_of(form[1])
    if num is None or not den:
        return None
    return num / den


def _key(form: Form) -> str:
    """A canonical spelling of a normal form (used to name atoms built from it)."""
    num, den = form
    c = _constant_of(den)
    if c is not None and c != 0:
        num = {m: v / c for m, v in num.items()}
        den = {_ONE: Fraction(1)}

    def spell(p: Poly) -> str:
        return "+".join(f"{v}*{'*'.join(f'{a}^{k}' for a, k in m)}" for m, v in sorted(p.items()))

    return f"({spell(num)})/({spell(den)})"


def _power(form: Form, exponent: int) -> Form:
    num, den = form
    if exponent < 0:
        if not num:
            raise _TooBig  # division by zero
        num, den, exponent = den, num, -exponent
    out_num: Poly = {_ONE: Fraction(1)}
    out_den: Poly = {_ONE: Fraction(1)}
    for _ in range(exponent):
        out_num = _mul(out_num, num)
        out_den = _mul(out_den, den)
    return out_num, out_den


_ONE_POLY: Poly = {_ONE: Fraction(1)}


def _form(node: Node, depth: int = 0) -> Form:
    if depth > MAX_DEPTH:
        raise _TooBig
    kind = node[0]
    if kind == "int":
        if len(node[1]) > 600:
            raise _TooBig
        return _const(Fraction(int(node[1]))), dict(_ONE_POLY)
    if kind == "float":
        return _decimal(node[1]), dict(_ONE_POLY)
    if kind == "name":
        if node[1] in _UNMODELLED:
            raise _TooBig
        return _atom(_CONSTANT_ATOMS.get(node[1], "v:" + node[1])), dict(_ONE_POLY)
    if kind == "neg":
        num, den = _form(node[1], depth + 1)
        return {m: -v for m, v in num.items()}, den
    if kind == "bin":
        return _binary(node[1], node[2], node[3], depth)
    if kind == "call":
        args = [_key(_form(arg, depth + 1)) for arg in node[2]]
        return _atom(f"{node[1]}[{','.join(args)}]"), dict(_ONE_POLY)
    if kind == "fact":
        return _factorial(_form(node[1], depth + 1)), dict(_ONE_POLY)
    raise _TooBig  # tuples, lists, imaginary literals


def _decimal(text: str) -> Poly:
    """A decimal literal as the exact rational it writes (``0.5`` is 1/2)."""
    low = text.lower()
    if len(text) > 600 or ("e" in low and abs(int(low.split("e")[1])) > 600):
        raise _TooBig
    return _const(Fraction(text))


def _binary(op: str, left: Node, right: Node, depth: int) -> Form:
    if op == "**":
        base = _form(left, depth + 1)
        exponent = _form(right, depth + 1)
        value = _value(exponent)
        if value is not None and value.denominator == 1 and abs(value) <= MAX_POWER:
            return _power(base, int(value))
        return _atom(f"pow[{_key(base)},{_key(exponent)}]"), dict(_ONE_POLY)
    if op not in ("+", "-", "*", "/"):
        raise _TooBig  # // and %
    an, ad = _form(left, depth + 1)
    bn, bd = _form(right, depth + 1)
    if op == "+" or op == "-":
        sign = 1 if op == "+" else -1
        if ad == bd:
            return _add(an, bn, sign), ad
        return _add(_mul(an, bd), _mul(bn, ad), sign), _mul(ad, bd)
    if op == "*":
        return _mul(an, bn), _mul(ad, bd)
    if not bn:
        raise _TooBig  # division by zero
    return _mul(an, bd), _mul(ad, bn)


def _factorial(inner: Form) -> Poly:
    value = _value(inner)
    if value is not None and value.denominator == 1 and 0 <= value <= 300:
        result = Fraction(1)
        for k in range(2, int(value) + 1):
            result *= k
        return _const(result)
    return _atom(f"fact[{_key(inner)}]")


def normal_form(node: Node) -> Form | None:
    """The normal form of ``node``, or None when it is unsupported or too large."""
    try:
        return _form(node)
    except (_TooBig, ValueError, ZeroDivisionError, RecursionError):
        return None


def _independent(atoms: set[str]) -> bool:
    constants = {a for a in atoms if not a.startswith("v:")}
    return constants <= {"pi"} or constants <= {"e"}


def compare(a: Node, b: Node) -> bool | None:
    """True: provably equal; False: provably different; None: exact arithmetic cannot tell."""
    fa = normal_form(a)
    fb = normal_form(b)
    if fa is None or fb is None:
        return None
    try:
        diff = _add(_mul(fa[0], fb[1]), _mul(fb[0], fa[1]), -1)
    except _TooBig:
        return None
    if not diff:
        return True
    atoms = {atom for mono in diff for atom, _ in mono}
    return False if _independent(atoms) else None
