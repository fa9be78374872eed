"""mathif's own correctness check: "is this the same mathematical answer as the gold?"

The reference grader reproduces the benchmark's verdicts, warts included.  This one
answers the question a careful reader would: it uses math-verify for LaTeX equivalence
and adds what math-verify misses on MathIF's gold answers (AIME leading zeros, Minerva's
scientific notation and numeric tolerance, Python-style golds such as
``np.arcsin(10/13)``, thousands separators written with commas, spaces or ``\\,``, units
and ``\\text{}`` in boxes, percentages, ``x = 5`` assignments).

Plain numbers and strings are decided here in pure Python; only the rest needs sympy
(``sympy_ok=True``, in a worker process).  Model text is never evaluated: LaTeX goes
through latex2sympy2_extended's parser (a grammar, no ``eval``) and plain-text formulas
through :mod:`mathif.grading.safe_expr`.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import string
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from mathif.grading import exact_form, linear_regex, safe_expr
from mathif.grading.braces import closing_brace
from mathif.grading.reference import NeedsSympy

# Relative tolerance for numeric answers to Minerva items: the benchmark's own (its grader
# accepts relative error up to 1e-4).  Other sources need exact values.
MINERVA_REL_TOL = 1e-4
_MAX_EXPONENT = 400
_MAX_DIGITS = 5000


def source_kind(source: str | None) -> str:
    """Map a row's ``source`` (file name or Hub id) to one of the five benchmark sources."""
    s = (source or "").lower()
    for kind in ("minerva", "aime", "gsm8k", "olympiad", "math"):
        if kind in s:
            return "math500" if kind == "math" else kind
    return ""


# --------------------------------------------------------------------------------------
# Cleaning
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cleaned:
    text: str
    percent: bool


_BOX_WRAP = re.compile(r"^\\(?:boxed|fbox)\s*\{", re.IGNORECASE)
_TEXT_MACROS = re.compile(
    r"\\(?:text|textbf|textit|textrm|textsf|texttt|mathrm|mathbf|mathit|mathsf|mbox|"
    r"operatorname|emph|boldsymbol)\s*\{"
)
_SPACES = re.compile(r"(?<!\\)\\[,;: ]|\\quad|\\qquad|~|\\enspace|\\thinspace")
_DROP = re.compile(r"\\left(?![a-zA-Z])|\\right(?![a-zA-Z])|\\!|\\displaystyle|\\limits")
_DEGREES = re.compile(r"\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|°|\\degree|\\textdegree")
_ASSIGN = re.compile(r"^([A-Za-z](?:_\{?\w+\}?)?)\s*(?:=|\\in\b|∈)\s*(.+)$", re.DOTALL)
_APPROX = re.compile(r"\\approx|≈|\\simeq")
_CHOICE = re.compile(r"^\(?([A-Ea-e])\)?$")
_WS = re.compile(r"\s+")


def _strip_wrapper_group(text: str, opener: re.Pattern[str]) -> str | None:
    """Inner text when the whole of ``text`` is ``\\macro{...}`` for ``opener``."""
    m = opener.match(text)
    if m is None:
        return None
    end = closing_brace(text, m.end() - 1)  # ``opener`` ends with the ``{``
    return text[m.end() : end] if end == len(text) - 1 else None


def _unwrap_text_macros(text: str) -> str:
    """Replace ``\\text{X}`` (and friends) by `` X `` wherever they occur; balanced braces."""
    out: list[str] = []
    i = 0
    while True:
        m = _TEXT_MACROS.search(text, i)
        if m is None:
            out.append(text[i:])
            return "".join(out)
        out.append(text[i : m.start()])
        end = closing_brace(text, m.end() - 1)  # the pattern ends with the ``{``
        inner = text[m.end() : end] if end is not None else text[m.end() :]
        out.append(" " + inner + " ")
        i = end + 1 if end is not None else len(text)


_FRAC_SHORT = re.compile(r"\\frac\s*(\d)\s*(\d)")
_FRAC_HALF_SHORT = re.compile(r"\\frac\s*(\d)\s*\{")
_MATRIX = re.compile(r"^\\begin\{([pbv]?matrix)\}(.*)\\end\{\1\}$", re.DOTALL)


def _matrix_to_tuple(text: str) -> str:
    """``\\begin{pmatrix} a \\\\ b \\end{pmatrix}`` -> ``(a, b)``; rows of a matrix nest."""
    m = _MATRIX.match(text.strip())
    if m is None:
        return text
    rows = [r.strip() for r in re.split(r"\\\\", m.group(2)) if r.strip()]
    cells = [[c.strip() for c in row.split("&")] for row in rows]
    if all(len(row) == 1 for row in cells):
        return "(" + ", ".join(row[0] for row in cells) + ")"
    return "(" + ", ".join("(" + ", ".join(row) + ")" for row in cells) + ")"


@functools.lru_cache(maxsize=16384)
def _unwrap_once(t: str) -> str:
    """One pass of :func:`clean`'s unwrapping: quotes, a box, math delimiters, final
    punctuation."""
    t = t.strip().strip('"“”').strip()
    inner = _strip_wrapper_group(t, _BOX_WRAP)
    if inner is not None:
        t = inner
    if len(t) >= 4 and t.startswith("$$") and t.endswith("$$"):
        t = t[2:-2]
    elif len(t) >= 2 and t[0] == "$" and t[-1] == "$" and "$" not in t[1:-1]:
        t = t[1:-1]
    for left, right in (("\\(", "\\)"), ("\\[", "\\]")):
        if t.startswith(left) and t.endswith(right):
            t = t[2:-2]
        elif t.endswith(right) and left not in t:
            t = t[:-2]
        elif t.startswith(left) and right not in t:
            t = t[2:]
    if t.count("$") == 1 and (t.startswith("$") or t.endswith("$")):
        t = t.strip("$")
    t = t.strip()
    while t and t[-1] in ".;,。" and not t.endswith("\\,"):
        t = t[:-1].rstrip()
    return t


def clean(raw: str) -> Cleaned:
    """Canonical text of an answer or a gold: wrappers, spacing and units removed."""
    t = raw.strip()
    for _ in range(6):
        before = t
        t = _unwrap_once(t)
        if t == before:
            break
    if t.count("$") >= 2:
        t = t.replace("\\$", "").replace("$", "")
    t = re.sub(r"\\[dtc]frac", r"\\frac", t)
    t = _FRAC_SHORT.sub(lambda m: "\\frac{" + m.group(1) + "}{" + m.group(2) + "}", t)
    t = _FRAC_HALF_SHORT.sub(lambda m: "\\frac{" + m.group(1) + "}{", t)
    t = _matrix_to_tuple(t)
    t = t.replace("π", "\\pi ").replace("√", "\\sqrt").replace("−", "-").replace("·", "\\cdot ")
    t = t.replace("∞", "\\infty ").replace("∪", "\\cup ")
    t = _DROP.sub("", t)
    t = _DEGREES.sub("", t)
    t, percent = _strip_percent(t)
    t = _unwrap_text_macros(t)
    t = _SPACES.sub(" ", t)
    t = t.replace("\\$", "").replace("$", "")
    t = _WS.sub(" ", t).strip()
    m = _APPROX.search(t)
    if m is not None and m.start() > 0:
        t = t[: m.start()].strip()  # "\\frac{163}{43} \\approx 3.8": the exact value counts
    m = _ASSIGN.match(t)
    if m is not None and "=" not in m.group(2):
        t = m.group(2).strip()
    head = _unit_tail_head(t)
    if head is not None and read_number(head) is not None:
        t = head.strip()
    return Cleaned(t, percent)


def _strip_percent(t: str) -> tuple[str, bool]:
    """Remove a final percent sign or word: (rest, True), else (t, False).

    Recognises, at the end and case-insensitively, ``\\%``, ``%``, ``\\text{percent}``
    (spaces allowed inside) and ``percent`` after a space; the spaces before it go too.
    (The backtracking pattern this replaces took cubic time on runs of spaces.)
    """
    s = t.rstrip()
    low = s[-16:].lower()
    cut: int | None = None
    if low.endswith("\\%"):
        cut = len(s) - 2
    elif low.endswith("%"):
        cut = len(s) - 1
    elif low.endswith("}"):
        inner = s[:-1].rstrip()
        if inner[-7:].lower() == "percent":
            before = inner[:-7].rstrip()
            if before[-6:].lower() == "\\text{":
                cut = len(before) - 6
    elif low.endswith("percent") and len(s) > 7 and s[-8].isspace():
        cut = len(s) - 7
    if cut is None:
        return t, False
    return s[:cut].rstrip(), True


def _unit_word() -> linear_regex.Node:
    return linear_regex.plus(linear_regex.chars(string.ascii_letters))


def _unit_power() -> linear_regex.Node:
    L = linear_regex
    space = L.char(str.isspace)
    return L.seq(
        L.star(space),
        L.chars("^"),
        L.star(space),
        L.opt(L.chars("{")),
        L.opt(L.chars("-")),
        L.char(str.isdecimal),
        L.opt(L.chars("}")),
    )


def _unit_tail_pattern() -> linear_regex.Node:
    """``\\s+`` then units: ``km``, ``m/s^2``, ``m \\cdot s^{-1}``, ``meters per second``,
    ``square feet``: a word, an optional dot and power, links (``/``, ``\\cdot``, ``per``)
    to further words with powers, then up to three plain words."""
    L = linear_regex
    space = L.char(str.isspace)
    link = L.seq(
        L.star(space),
        L.alt(L.chars("/"), L.literal("\\cdot"), L.literal("per")),
        L.star(space),
        _unit_word(),
        L.opt(_unit_power()),
    )
    return L.seq(
        L.plus(space),
        _unit_word(),
        L.opt(L.chars(".")),
        L.opt(_unit_power()),
        L.star(link),
        L.repeat(L.seq(L.plus(space), _unit_word()), 0, 3),
    )


_SPACE = re.compile(r"\s")


@functools.cache
def _unit_tail() -> linear_regex.SuffixMatcher:
    return linear_regex.SuffixMatcher(_unit_tail_pattern())


def _unit_tail_head(t: str) -> str | None:
    """The text before trailing units (``12 km/h`` -> ``12``), or None.

    The head is the shortest first-line prefix ending in a digit, ``}`` or ``.`` after
    which the rest is whitespace plus units - what the backtracking pattern
    ``^(.*?[\\d}.])\\s+(UNITS)$`` chose, found here in linear time.
    """
    if len(t) < 3 or not _SPACE.search(t):
        return None
    end = t[-2] if t[-1] == "\n" else t[-1]  # ``$`` may match before a final newline
    if not (end in string.ascii_letters or end.isdecimal() or end in "}."):
        return None  # units end in a letter, a power or the abbreviation dot
    ok = _unit_tail().matching_suffixes(t, dollar=True)
    newline = t.find("\n")
    first_line_end = len(t) if newline == -1 else newline
    for j in range(1, first_line_end + 1):
        if ok[j] and (t[j - 1] in "}." or t[j - 1].isdecimal()):
            return t[:j]
    return None


def key(text: str) -> str:
    """Comparison key for string equality: no spaces, lower case, bare choice letters."""
    k = _WS.sub("", text).lower()
    m = _CHOICE.match(k)
    return m.group(1) if m else k


# --------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Number:
    value: Fraction
    approximate: bool  # written with a decimal point or in scientific notation


_MANT = r"([-+−]?(?:\d+(?:\.\d*)?|\.\d+))"
_EXP = r"\{?\s*([-+−]?\d+)\s*\}?"
_SCI_E = re.compile(r"^" + _MANT + r"\s*[eE]\s*([-+−]?\d+)$")
_SCI_TIMES = re.compile(
    r"^" + _MANT + r"\s*(?:\\times|\\cdot|×|·|\*|x)\s*10\s*(?:\^|\*\*)\s*" + _EXP + r"$"
)
_POW10 = re.compile(r"^([-+−]?)10\s*(?:\^|\*\*)\s*" + _EXP + r"$")
_FRAC = re.compile(r"^([-+−]?)\s*\\frac\s*\{\s*([-+−]?\d+)\s*\}\s*\{\s*([-+−]?\d+)\s*\}$")
_SLASH = re.compile(r"^([-+−]?\d+)\s*/\s*([-+−]?\d+)$")
_PLAIN = re.compile(r"^[-+−]?(?:\d+(?:\.\d*)?|\.\d+)$")
_BASE = re.compile(r"^([0-9A-Za-z]+)_\{?(\d+)\}?$")
_GROUPED = re.compile(r"^([-+−]?)(\d{1,3}(?:(?:,\s?|\s|\{,\}|\u2009|\u202f)\d{3})+)(\.\d+)?$")


def _frac_of(text: str) -> Fraction:
    return Fraction(text.replace("−", "-"))


def read_number(text: str) -> Number | None:
    """The exact value of a plainly written number, or None.

    Accepts leading zeros (AIME ``045``), thousands separators (``1,000``, ``1 000``,
    ``1{,}000``, ``11,\\!111``), decimals, ``3.61e-10`` / ``3.61 \\times 10^{-10}``,
    ``10^{5}``, ``a/b`` and ``\\frac{a}{b}`` with integers.
    """
    t = text.strip().replace("\\!", "").replace("\\,", "")
    if not t or len(t) > _MAX_DIGITS:
        return None
    if _PLAIN.match(t):
        return Number(_frac_of(t), "." in t)
    m = _GROUPED.match(t)
    if m:
        digits = re.sub(r"[^\d]", "", m.group(2))
        return Number(_frac_of(m.group(1) + digits + (m.group(3) or "")), bool(m.group(3)))
    m = _BASE.match(t)
    if m:
        digits, base = m.group(1), int(m.group(2))
        if not 2 <= base <= 36:
            return None
        try:
            return Number(Fraction(int(digits, base)), False)
        except ValueError:
            return None
    m = _SCI_E.match(t) or _SCI_TIMES.match(t)
    if m:
        exp = int(m.group(2).replace("−", "-"))
        if abs(exp) > _MAX_EXPONENT:
            return None
        return Number(_frac_of(m.group(1)) * Fraction(10) ** exp, True)
    m = _POW10.match(t)
    if m:
        exp = int(m.group(2).replace("−", "-"))
        if abs(exp) > _MAX_EXPONENT:
            return None
        sign = -1 if m.group(1) in ("-", "−") else 1
        return Number(sign * Fraction(10) ** exp, False)
    m = _FRAC.match(t)
    if m:
        den = _frac_of(m.group(3))
        if den == 0:
            return None
        sign = -1 if m.group(1) in ("-", "−") else 1
        return Number(sign * _frac_of(m.group(2)) / den, False)
    m = _SLASH.match(t)
    if m:
        den = _frac_of(m.group(2))
        if den == 0:
            return None
        return Number(_frac_of(m.group(1)) / den, False)
    return None


def _close(a: Fraction, b: Fraction, rel: float) -> bool:
    if a == b:
        return True
    return abs(a - b) <= Fraction(rel) * max(abs(a), abs(b))


def numbers_match(answer: Number, a_pct: bool, gold: Number, g_pct: bool, kind: str) -> bool:
    """Exact equality (Minerva: relative 1e-4), reading ``p%`` as p or p/100."""
    answers = [answer.value] + ([answer.value / 100] if a_pct else [])
    golds = [gold.value] + ([gold.value / 100] if g_pct else [])
    rel = MINERVA_REL_TOL if kind == "minerva" else 0.0
    return any(_close(a, g, rel) for a in answers for g in golds)


# --------------------------------------------------------------------------------------
# The judge
# --------------------------------------------------------------------------------------

_IRRATIONAL = re.compile(r"\\sqrt|\\pi|\\log|\\ln|\\sin|\\cos|\\tan|\be\^")
_WORD_GOLD = re.compile(r"^[A-Za-z][A-Za-z ]{2,}$")
_NEGATIONS = frozenset({"not", "neither", "nor", "no", "never"})
_PYTHONISH = re.compile(
    r"\b(?:np|numpy|math|sp|sympy)\.|\*\*|(?<![\\\w])(?:arcsin|arccos|arctan|sqrt|exp|log)\("
)


def judge(answer: str, gold: str, kind: str, *, sympy_ok: bool) -> bool:
    """Is ``answer`` (already extracted) the gold answer?  Pure Python unless needed.

    An answer written entirely in capitals (a model obeying "respond in all capital letters"
    writes ``\\FRAC{1}{2}``, ``90^\\CIRC``, ``X \\IN [-2,7]``) that does not match as
    written is compared once more in lower case: the constraint forbade the lower-case form,
    so the model is not punished for obeying it.
    """
    readings = [answer]
    folded = _lowered_if_all_caps(answer)
    if folded is not None:
        readings.append(folded)
    needs_sympy = False
    for reading in readings:  # either reading matching is a match, so one that needs sympy
        try:                  # does not stop the other from matching in process
            if _judge_as_written(reading, gold, kind, sympy_ok=sympy_ok):
                return True
        except NeedsSympy:
            needs_sympy = True
    if needs_sympy:
        raise NeedsSympy
    return False


def _lowered_if_all_caps(answer: str) -> str | None:
    """``answer.lower()`` when it has capital letters and no lower-case ones, else None."""
    has_upper = False
    for ch in answer:
        if ch.islower():
            return None
        has_upper = has_upper or ch.isupper()
    return answer.lower() if has_upper else None


def _judge_as_written(answer: str, gold: str, kind: str, *, sympy_ok: bool) -> bool:
    a = clean(answer)
    g = clean(gold)
    if not a.text:
        return False
    if _same_key(a, g):
        return True
    if "=" in a.text and "=" not in g.text:
        rhs = a.text.rsplit("=", 1)[1].strip()
        if rhs:
            a = Cleaned(rhs, a.percent)  # "\\frac{dM}{dt} = X" answers X
            if _same_key(a, g):
                return True
    for stage in (_by_numbers, _by_structure):
        decided = stage(a, g, kind)
        if decided is not None:
            return decided
    disproof = _disprove(a, g, kind)
    if disproof is not None:
        return disproof
    if not sympy_ok:
        raise NeedsSympy
    return _symbolic(a, g, kind)


def _same_key(a: Cleaned, g: Cleaned) -> bool:
    return key(a.text) == key(g.text) and a.percent == g.percent


def _by_numbers(a: Cleaned, g: Cleaned, kind: str) -> bool | None:
    """The decision when either side is a number (or exact LaTeX arithmetic), else None."""
    exact_a = latex_arithmetic(a.text) if "\\" in a.text else None
    exact_g = latex_arithmetic(g.text) if exact_a is not None else None
    if exact_a is not None and exact_g is not None:
        return numbers_match(
            Number(exact_a, False), a.percent, Number(exact_g, False), g.percent, kind
        )
    base = _BASE.match(g.text)
    if base is not None and a.text.strip() in (base.group(1), base.group(0)):
        return True  # the digits in the asked-for base, with or without the subscript
    na = read_number(a.text)
    ng = read_number(g.text)
    if na is not None and ng is not None:
        return numbers_match(na, a.percent, ng, g.percent, kind)
    if ng is not None:
        decided = _against_number(a, ng, g.percent, kind)
        if decided is not None:
            return decided
    if na is not None and kind != "minerva" and _IRRATIONAL.search(g.text):
        return False  # an exact rational never equals a gold written with radicals or pi
    if na is not None and _has_free_variable(g.text):
        return False  # a number never equals an expression in a variable
    if _has_free_variable(a.text) and _is_constant_gold(g.text):
        return False
    return None


def _by_structure(a: Cleaned, g: Cleaned, kind: str) -> bool | None:
    """The decision for choices, prose, intervals, lists and word answers, else None."""
    gk = key(g.text)
    if len(gk) == 1 and gk.isalpha() and _CHOICE.match(_WS.sub("", g.text)):
        return key(a.text) == gk or _choice_with_text(a.text) == gk
    if len(_prose_words(a.text)) >= 2 and not _prose_words(g.text):
        return False
    ranged = _compare_intervals(a.text, g.text)
    if ranged is not None:
        return ranged
    listed = _compare_lists(a, g, kind)
    if listed is not None:
        return listed
    if _WORD_GOLD.match(g.text):
        return _words_match(a.text, g.text)
    return None


def _words_match(answer: str, gold: str) -> bool:
    """A gold made of words: the answer's words are them (after at most two lead-in words,
    and no negation)."""
    if any(c.isdigit() for c in answer):
        return False
    words = re.findall(r"[a-z]+", answer.lower())
    gold_words = gold.lower().split()
    if not words:
        return False
    if words == gold_words:
        return True
    return (
        len(words) <= len(gold_words) + 2
        and words[-len(gold_words) :] == gold_words
        and not _NEGATIONS & set(words)
    )


# A choice letter followed by its option's text ("(E) Hyperbola", "C. Plane"): the letter is
# the answer.  The letter must be marked by brackets or punctuation, so "A plane" is not (A).
_CHOICE_WITH_TEXT = re.compile(
    r"^(?:\(\s*([A-E])\s*\)|([A-E])\s*[.):])\s*[A-Za-z][A-Za-z0-9 ,'-]{0,60}$"
)


def _choice_with_text(text: str) -> str | None:
    """The lower-case choice letter of "(E) Hyperbola", or None."""
    m = _CHOICE_WITH_TEXT.match(text.strip())
    if m is None:
        return None
    return (m.group(1) or m.group(2)).lower()


_LATEX_ARITH = (
    (re.compile(r"\\frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}"), r"((\1)/(\2))"),
    (re.compile(r"\^\s*\{([^{}]*)\}"), r"**(\1)"),
    (re.compile(r"\\(?:cdot|times)"), "*"),
)
_ARITH_OK = re.compile(r"^[\d\s.+\-*/()^]+$")
_NUMBER_IN_TEXT = re.compile(r"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?(?![\w.])")


def latex_arithmetic(text: str) -> Fraction | None:
    """Exact value of digit-only LaTeX arithmetic (``\\frac{3}{4}+2^{3}``), else None."""
    t = text.replace("{", "{").replace("\\left", "").replace("\\right", "")
    for _ in range(4):
        before = t
        for pattern, repl in _LATEX_ARITH:
            t = pattern.sub(repl, t)
        if t == before:
            break
    t = t.replace("{", "(").replace("}", ")")
    if not _ARITH_OK.match(t) or len(t) > 200:
        return None
    try:
        tree = safe_expr.parse(t, safe_expr.PRM800K_DIALECT)
    except (safe_expr.ParseError, RecursionError):
        return None
    if safe_expr.contains_float(tree):
        return None
    return safe_expr.exact_value(tree)


def _against_number(a: Cleaned, gold: Number, g_pct: bool, kind: str) -> bool | None:
    """Decide an answer that is not a plain number against a numeric gold, if we can.

    Digit-free text cannot be a number; exact LaTeX arithmetic is evaluated; a short
    phrase holding exactly one number ("12th grade") is read as that number.  Anything
    else (radicals, constants) is left to sympy.
    """
    text = a.text
    parts = _split_top(text)
    if parts is not None and len(parts) > 1:
        return False  # a list of values is not one number
    if text[:1] in "([" and text[-1:] in ")]" and "," in text:
        return False
    if not any(ch.isdigit() for ch in text):
        return None if "\\" in text or "pi" in text.lower() else False
    value = latex_arithmetic(text)
    if value is not None:
        return numbers_match(Number(value, False), a.percent, gold, g_pct, kind)
    if _has_free_variable(text):
        return False  # a free variable: cannot be a number
    bare = _LATEX_CMD.sub(" ", text)
    words = re.findall(r"[A-Za-z]{3,}", bare)
    if words:
        found = _NUMBER_IN_TEXT.findall(bare)
        if len(found) == 1 and _is_phrase(bare, found[0]):
            number = read_number(found[0])
            if number is not None:
                return numbers_match(number, a.percent, gold, g_pct, kind)
        return False
    return None


# A word of a phrase: letters (any script), inner apostrophes or hyphens, a bracket or
# quote around it, one punctuation mark after it.
_PHRASE_WORD = re.compile(r"[(\"'“]?[^\W\d_]+(?:['’-][^\W\d_]+)*[)\"'”]?[,.;:!?]?")
_FORMATTING = str.maketrans("", "", "{}^$~*")
_MAX_PHRASE_WORDS = 16


def _is_phrase(text: str, number: str) -> bool:
    """Is ``text`` a short phrase of words around ``number`` ("12^{th} grade")?

    Only then is its one number read as the answer: text that merely contains a number
    (code, a file path such as ``/tmp/pytest-0/...``, a formula) states nothing.
    """
    tokens = text.translate(_FORMATTING).split()
    if len(tokens) > _MAX_PHRASE_WORDS:
        return False
    seen = False
    for token in tokens:
        if not seen and token.rstrip(",.;:!?%") == number:
            seen = True
        elif not _PHRASE_WORD.fullmatch(token):
            return False
    return seen


_LATEX_CMD = re.compile(r"\\[A-Za-z]+")
_GREEK_VARIABLE = re.compile(
    r"\\(?:alpha|beta|gamma|delta|epsilon|varepsilon|zeta|eta|theta|vartheta|kappa|lambda|mu|nu|"
    r"xi|rho|sigma|tau|phi|varphi|chi|psi|omega|Gamma|Delta|Theta|Lambda|Xi|Sigma|Phi|Psi|"
    r"Omega)(?![A-Za-z])"
)
_SINGLE_LETTER = re.compile(r"(?<![A-Za-z\\])[A-DF-HJ-Za-df-hj-z](?![A-Za-z])")


def _has_free_variable(text: str) -> bool:
    """A single-letter variable (not e or i) or a Greek-letter variable (not pi)."""
    if _GREEK_VARIABLE.search(text):
        return True
    return bool(_SINGLE_LETTER.search(_LATEX_CMD.sub(" ", _TEXT_MACROS.sub(" ", text))))


def _is_constant_gold(text: str) -> bool:
    """The gold is a closed numeric expression (so no answer with a variable can match)."""
    if _has_free_variable(text) or "i" in _LATEX_CMD.sub(" ", text):
        return False
    return approximate(text) is not None


_MATH_WORDS = frozenset(
    {
        "and",
        "or",
        "sqrt",
        "frac",
        "sin",
        "cos",
        "tan",
        "cot",
        "sec",
        "csc",
        "log",
        "exp",
        "infty",
        "inf",
        "arcsin",
        "arccos",
        "arctan",
        "det",
        "max",
        "min",
        "mod",
        "gcd",
        "lcm",
        "begin",
        "end",
        "pmatrix",
        "bmatrix",
        "matrix",
        "cup",
        "cap",
        "cdot",
        "times",
    }
)


def _prose_words(text: str) -> list[str]:
    """Ordinary words (not LaTeX commands or function names) in an answer."""
    bare = _LATEX_CMD.sub(" ", text)
    return [w for w in re.findall(r"[A-Za-z]{3,}", bare) if w.lower() not in _MATH_WORDS]


_OPEN = "([{"
_CLOSE = ")]}"


def _split_top(text: str) -> list[str] | None:
    """Split on top-level commas; None when brackets do not balance."""
    parts: list[str] = []
    depth = 0
    start = 0
    for i, ch in enumerate(text):
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
            if depth < 0:
                return None
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth != 0:
        return None
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _element_value(text: str) -> Fraction | None:
    number = read_number(text)
    if number is not None:
        return number.value
    return latex_arithmetic(text)


_INFINITY = re.compile(r"^([+-]?)\s*(?:\\infty|oo|inf|infinity)$")


def _same_value(x: str, y: str) -> bool | None:
    """Do two list elements / endpoints denote the same number?  None: cannot tell."""
    ix, iy = _INFINITY.match(x.strip()), _INFINITY.match(y.strip())
    if ix or iy:
        if not (ix and iy):
            known = _element_value(x) is not None or _element_value(y) is not None
            return False if known else None
        return (ix.group(1) == "-") == (iy.group(1) == "-")
    x, y = x.strip(), y.strip()
    if x[:1] in "([" and y[:1] in "([" and x[-1:] in ")]" and y[-1:] in ")]":
        inner_x, inner_y = _split_top(x[1:-1]), _split_top(y[1:-1])
        if inner_x is None or inner_y is None:
            return None
        if len(inner_x) != len(inner_y) or (x[0], x[-1]) != (y[0], y[-1]):
            return False
        verdicts = [_same_value(p, q) for p, q in zip(inner_x, inner_y, strict=True)]
        if False in verdicts:
            return False
        return None if None in verdicts else True
    ex, ey = _element_value(x), _element_value(y)
    if ex is not None and ey is not None:
        return ex == ey
    if _has_free_variable(x) or _has_free_variable(y):
        return None
    tx, ty = _formula_tree(x), _formula_tree(y)
    if tx is None or ty is None:
        return None
    exact = exact_form.compare(tx, ty)
    if exact is not None:
        return exact
    vx = safe_expr.probe(tx, 0, _CONSTANTS)
    vy = safe_expr.probe(ty, 0, _CONSTANTS)
    if vx is None or vy is None:
        return None
    if abs(vx - vy) > _DISPROOF_MARGIN * max(abs(vx), abs(vy), 1.0):
        return False  # floats may disprove; only exact arithmetic or sympy may prove
    return None


_UNION = re.compile(r"\\cup|(?<=[\])])\s*U\s*(?=[\[(])")


def _expand(text: str) -> str:
    """``a \\pm b`` -> ``a+b, a-b`` so it compares like a list of two answers."""
    at = text.find("\\pm")
    if at != -1 and "\n" not in text and "\\pm" not in text[at + 3 :] and "," not in text:
        head, tail = text[:at].strip(), text[at + 3 :].strip()
        return f"{head}+{tail}, {head}-{tail}" if head else f"{tail}, -{tail}"
    return text


def _intervals(text: str) -> list[tuple[str, str, str, str]] | None:
    """A union of intervals as (open bracket, start, end, close bracket) tuples."""
    out = []
    for piece in _UNION.split(text):
        piece = piece.strip()
        if len(piece) < 5 or piece[0] not in "([" or piece[-1] not in ")]":
            return None
        parts = _split_top(piece[1:-1])
        if parts is None or len(parts) != 2:
            return None
        out.append((piece[0], parts[0], parts[1], piece[-1]))
    return out


def _compare_intervals(at: str, gt: str) -> bool | None:
    """Unions of intervals: same brackets, same endpoints, in order."""
    if not any("\\cup" in t or _INFINITY_IN.search(t) for t in (at, gt)):
        return None
    ga, aa = _intervals(gt), _intervals(at)
    if ga is None:
        return None
    if aa is None:
        return False if read_number(at) is not None else None
    if len(ga) != len(aa):
        return False
    verdict: bool | None = True
    for (gl, gs, ge, gr), (al, as_, ae, ar) in zip(ga, aa, strict=True):
        if (gl, gr) != (al, ar):
            return False
        for g_end, a_end in ((gs, as_), (ge, ae)):
            same = _same_value(a_end, g_end)
            if same is False:
                return False
            if same is None:
                verdict = None
    return verdict


_INFINITY_IN = re.compile(r"\\infty|\boo\b")


def _compare_lists(a: Cleaned, g: Cleaned, kind: str) -> bool | None:
    """Tuples, intervals and answer lists whose elements are all plain numbers.

    Same brackets and elementwise equal values for tuples/intervals; for bare lists
    (``1, 2``) the order does not matter, as with math-verify's sets.
    """
    at = _expand(a.text.replace("\\{", "{").replace("\\}", "}"))
    gt = _expand(g.text.replace("\\{", "{").replace("\\}", "}"))
    if "," not in gt and "," not in at:
        return None
    bracketed = gt[:1] in _OPEN and gt[-1:] in _CLOSE
    if bracketed and "," in gt and "," not in at and (read_number(at) or latex_arithmetic(at)):
        return False  # one number for a tuple or an interval
    if bracketed:
        inner_g = _split_top(gt[1:-1])
        if inner_g is None or len(inner_g) < 2:
            return None
        if not (at[:1] in _OPEN and at[-1:] in _CLOSE):
            return None
        inner_a = _split_top(at[1:-1])
        if inner_a is None:
            return None
        if len(inner_g) != len(inner_a):
            return False if "," in at else None
        if (at[0], at[-1]) != (gt[0], gt[-1]) and "{" not in (gt[0] + at[0]):
            return False
        if gt[0] == "{":
            return _match_unordered(inner_a, inner_g)
        verdict: bool | None = True
        for x, y in zip(inner_a, inner_g, strict=True):
            same = _same_value(x, y)
            if same is False:
                return False
            if same is None:
                verdict = None
        return verdict
    parts_g = _split_top(gt)
    parts_a = _split_top(at)
    if parts_g is None or parts_a is None or len(parts_g) < 2:
        return None
    gv = [_element_value(x) for x in parts_g]
    av = [_element_value(x) for x in parts_a]
    if any(v is None for v in gv) or any(v is None for v in av):
        return _match_unordered(parts_a, parts_g)
    return sorted(gv) == sorted(av)  # type: ignore[type-var]


def _match_unordered(answers: list[str], golds: list[str]) -> bool | None:
    """Bare answer lists compared as multisets of values (closed forms allowed)."""
    if len(answers) != len(golds):
        return (
            False
            if all(
                _element_value(x) is not None or approximate(x) is not None for x in answers + golds
            )
            else None
        )
    remaining = list(golds)
    for x in answers:
        for j, y in enumerate(remaining):
            if _same_value(x, y):
                del remaining[j]
                break
        else:
            if all(_same_value(x, y) is False for y in remaining):
                return False
            return None
    return True


_LATEX_FUNCS = (
    "arcsin",
    "arccos",
    "arctan",
    "sinh",
    "cosh",
    "tanh",
    "sin",
    "cos",
    "tan",
    "cot",
    "sec",
    "csc",
    "ln",
    "log",
    "exp",
)
_FUNC_NAMES = {"arcsin": "asin", "arccos": "acos", "arctan": "atan"}
_LATEX_SIMPLE = (
    ("\\cdot", "*"),
    ("\\times", "*"),
    ("\\div", "/"),
    ("\\pi", " pi "),
    ("\\infty", " oo "),
)


def _read_group(text: str, i: int) -> tuple[str, int] | None:
    """Argument at ``text[i:]``: a balanced ``{...}`` or one character; (content, end)."""
    while i < len(text) and text[i] == " ":
        i += 1
    if i >= len(text):
        return None
    if text[i] != "{":
        return text[i], i + 1
    end = closing_brace(text, i)
    return None if end is None else (text[i + 1 : end], end + 1)


def latex_to_formula(text: str, depth: int = 0) -> str | None:
    """Rewrite simple LaTeX math as a plain formula for :mod:`safe_expr`, or None."""
    if depth > 20 or len(text) > 500:
        return None
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        step: tuple[str, int] | None
        if c == "\\":
            step = _latex_command(text, i, depth)
        elif c == "_":
            arg = _read_group(text, i + 1)
            if arg is None or not re.fullmatch(r"\\?[A-Za-z0-9]+", arg[0]):
                return None
            if not out or not out[-1].strip():
                return None
            out[-1] = out[-1].rstrip() + "_" + arg[0].lstrip("\\") + " "
            i = arg[1]
            continue
        elif c == "^":
            step = _latex_group(text, i + 1, depth, "**({})")
        elif c == "{":
            step = _latex_group(text, i, depth, "({})")
        else:
            step = c, i + 1
        if step is None:
            return None
        out.append(step[0])
        i = step[1]
    return "".join(out)


def _latex_group(text: str, i: int, depth: int, form: str) -> tuple[str, int] | None:
    """The ``{...}`` group at ``i`` rewritten, inside ``form``; and where it ends."""
    arg = _read_group(text, i)
    if arg is None:
        return None
    inner = latex_to_formula(arg[0], depth + 1)
    return None if inner is None else (form.format(inner), arg[1])


def _latex_command(text: str, i: int, depth: int) -> tuple[str, int] | None:
    """The command at ``i`` (a backslash) rewritten, and where it ends; None if unknown."""
    m = _LATEX_CMD.match(text, i)
    if m is None:
        return None
    name = m.group(0)[1:]
    i = m.end()
    if name == "frac":
        num = _read_group(text, i)
        den = _read_group(text, num[1]) if num else None
        if num is None or den is None:
            return None
        a = latex_to_formula(num[0], depth + 1)
        b = latex_to_formula(den[0], depth + 1)
        if a is None or b is None:
            return None
        return f"(({a})/({b}))", den[1]
    if name == "sqrt":
        return _latex_sqrt(text, i, depth)
    if name in _LATEX_FUNCS:
        return f" {_FUNC_NAMES.get(name, name)} ", i
    if _GREEK_VARIABLE.fullmatch("\\" + name) or name in ("odot", "hbar", "ell"):
        return f" {name} ", i  # a named quantity: a free variable
    for macro, repl in _LATEX_SIMPLE:
        if macro == "\\" + name:
            return repl, i
    return None


def _latex_sqrt(text: str, i: int, depth: int) -> tuple[str, int] | None:
    """``\\sqrt[index]{arg}`` after the command name (at ``i``) rewritten, and its end."""
    index = None
    if i < len(text) and text[i] == "[":
        close = text.find("]", i)
        if close == -1:
            return None
        index = latex_to_formula(text[i + 1 : close], depth + 1)
        i = close + 1
    arg = _read_group(text, i)
    if arg is None:
        return None
    inner = latex_to_formula(arg[0], depth + 1)
    if inner is None:
        return None
    return (f"sqrt({inner})" if index is None else f"root({inner},{index})"), arg[1]


def _formula_tree(text: str) -> safe_expr.Node | None:
    if "=" in text or "i" in re.sub(r"\\[A-Za-z]+|sin|pi", "", text):
        return None  # equations and complex numbers are left to sympy
    formula = latex_to_formula(text)
    if formula is None:
        return None
    try:
        return safe_expr.parse(formula, safe_expr.MATHIF_DIALECT)
    except (safe_expr.ParseError, RecursionError):
        return None


def approximate(text: str, point: int = 0) -> float | None:
    """Float value of an answer (free variables set to fixed probe values), or None."""
    tree = _formula_tree(text)
    if tree is None:
        return None
    return safe_expr.probe(tree, point, _CONSTANTS)


_DISPROOF_MARGIN = 1e-6


def _disprove(a: Cleaned, g: Cleaned, kind: str) -> bool | None:
    """Decide without sympy where that is sound, else None.

    Exact arithmetic (:mod:`exact_form`) may prove equality or difference.  Floats may
    only disprove - except for Minerva items, whose numeric answers the benchmark compares
    with a relative tolerance of 1e-4: two *numbers* (closed forms without variables) that
    agree that closely are accepted there.  Expressions with variables always need an
    exact proof.
    """
    ta = _formula_tree(a.text)
    tg = _formula_tree(g.text)
    if ta is None or tg is None:
        return None
    free = (safe_expr.names_in(ta) | safe_expr.names_in(tg)) - set(_CONSTANTS)
    if free:
        return _probe_identity(ta, tg)
    if kind != "minerva" and not a.percent and not g.percent:
        exact = exact_form.compare(ta, tg)
        if exact is not None:
            return exact
    va = safe_expr.approx(ta, dict(_CONSTANTS))
    vg = safe_expr.approx(tg, dict(_CONSTANTS))
    if va is None or vg is None:
        return None
    candidates = [va, va / 100] if a.percent else [va]
    rel = MINERVA_REL_TOL if kind == "minerva" else _DISPROOF_MARGIN
    if all(abs(v - vg) > rel * max(abs(vg), abs(v), 1e-300) for v in candidates):
        return False
    if kind == "minerva":
        return True
    return None


_CONSTANTS = {"pi": math.pi, "e": math.e, "E": math.e}


def _probe_identity(ta: safe_expr.Node, tg: safe_expr.Node) -> bool | None:
    """Expressions with free variables: an exact proof either way, or a float disproof.

    Exact arithmetic decides first (:mod:`exact_form`).  Otherwise values that differ at
    one of three probe points disprove equality; agreement at the probes proves nothing
    (``x + 10^{-12}`` agrees with ``x`` to twelve digits, and an answer can be built to
    agree exactly at fixed points), so the decision is left to sympy.
    """
    exact = exact_form.compare(ta, tg)
    if exact is not None:
        return exact
    for point in (0, 1, 2):
        va = safe_expr.probe(ta, point, _CONSTANTS)
        vg = safe_expr.probe(tg, point, _CONSTANTS)
        if va is None or vg is None:
            continue
        if abs(va - vg) > _DISPROOF_MARGIN * max(abs(va), abs(vg), 1.0):
            return False
    return None


def _symbolic(a: Cleaned, g: Cleaned, kind: str) -> bool:
    """math-verify's equivalence with its numeric shortcuts made exact; then, for Minerva
    items only, the benchmark's relative tolerance on the two *numbers*."""
    if is_explosive(a.text, g.text):
        return False
    gold_targets = _targets(g)
    pred_targets = _targets(a)
    if not gold_targets or not pred_targets:
        return False
    from math_verify import verify

    _make_math_verify_exact()
    try:
        if verify(gold_targets, pred_targets, timeout_seconds=None):
            return True
    except Exception:
        pass
    if kind != "minerva":
        return False
    return _numeric_agreement(gold_targets, pred_targets, MINERVA_REL_TOL)


def _make_math_verify_exact() -> None:
    """Replace math-verify's numeric comparison by an exact one (worker processes only).

    ``math_verify.grader.sympy_numeric_eq`` (math-verify 0.9.0, pinned) accepts two values
    when ``(a - b).evalf(15, chop=True)`` is 0, or when a decimal rounds to the other at 6
    places: ``\\sqrt{2} + 10^{-20}`` equals ``\\sqrt{2}`` there.  Under mathif's rule numbers
    may only disprove, so the replacement compares exactly (decimals as the rationals they
    write) and leaves everything else to math-verify's symbolic ``simplify(a - b)`` test.
    """
    import math_verify.grader as mv_grader

    if mv_grader.sympy_numeric_eq is not _exact_numeric_eq:
        mv_grader.sympy_numeric_eq = _exact_numeric_eq


def _exact_numeric_eq(a: Any, b: Any, float_rounding: int, numeric_precision: int) -> bool:
    """Exact stand-in for ``math_verify.grader.sympy_numeric_eq`` (same signature)."""
    import math_verify.grader as mv_grader
    import sympy
    from sympy.matrices.expressions import MatrixExpr

    matrix_types = (sympy.MatrixBase, MatrixExpr)
    if isinstance(a, matrix_types) and isinstance(b, matrix_types):
        a = mv_grader.safe_sympy_doit(a)
        b = mv_grader.safe_sympy_doit(b)
        if isinstance(a, sympy.MatrixBase) and isinstance(b, sympy.MatrixBase) and (
            a.shape == b.shape
        ):
            return all(
                _exact_numeric_eq(x, y, float_rounding, numeric_precision)
                for x, y in zip(a.flat(), b.flat(), strict=True)
            )
        return False
    atomic = mv_grader.is_atomic_or_pct_atomic
    if not (atomic(a, sympy.Number) or atomic(b, sympy.Number)):
        return False  # not a number: math-verify's symbolic test decides
    if atomic(a, sympy.Integer) and atomic(b, sympy.Integer):
        return bool(mv_grader.get_pct_val(a, a) == mv_grader.get_pct_val(b, b))
    try:
        ra = sympy.nsimplify(mv_grader.safe_sympy_doit(a), rational=True)
        rb = sympy.nsimplify(mv_grader.safe_sympy_doit(b), rational=True)
        return bool(sympy.simplify(ra - rb) == 0)
    except Exception:
        return False


# A match can only start where a run of digits starts (``(?<!\d)``): otherwise a long run of
# digits with no ``^`` or ``!`` after it is rescanned from each of its digits (quadratic).
# No match is lost, since a match from inside a run implies one from the run's start.
_POWER = re.compile(r"(?<!\d)(\d+(?:\.\d+)?)\s*(?:\^|\*\*)\s*\{?\s*(\d+(?:\.\d+)?)\s*\}?")
_NESTED_POWER = re.compile(r"(?:\^|\*\*)\s*\{[^{}]*(?:\^|\*\*)")
_BIG_FACTORIAL = re.compile(r"(?<!\d)(\d{4,})\s*!|\\?(?:factorial|Gamma)\s*[({]\s*(\d{4,})")
_MAX_RESULT_DIGITS = 10_000


# Binomial coefficients with a numeric top argument: ``\binom{n}{k}`` (also ``\dbinom``,
# ``\tbinom``), ``{n \choose k}`` and ``binomial(n, k)``; group 1 is n, group 2 (or 3) is k.
_BINOMIAL = re.compile(
    r"\\[dt]?binom\s*\{\s*(\d+)\s*\}\s*\{\s*([^{}]*)\}"
    r"|binomial\s*\(\s*(\d+)\s*,\s*([^(),]*)\)"
    r"|(?<!\d)(\d+)\s*\\choose\s*([^{}]*)\}"
)
# An integer exponent of three or more digits: group 1; the base is what precedes the match.
_BIG_EXPONENT = re.compile(r"(?:\^|\*\*)\s*\{?\s*(\d{3,})")
_MAX_EXPONENT_ON_EXPRESSION = 400
_MAX_BASE_CHARS = 200
_RATIONAL_MACROS = re.compile(r"\\(?:[dt]?frac|left|right|cdot|times)(?![A-Za-z])")
_RATIONAL_CHARS = frozenset("0123456789{}()[]/+-*. ")
_NAME = re.compile(r"\\?[A-Za-z]+")


def _base_before(text: str, end: int) -> str | None:
    """The base of the power whose ``^`` is at ``end``: a bracketed group or a name/number,
    scanned backwards at most ``_MAX_BASE_CHARS`` characters (None: longer or unbalanced)."""
    j = end - 1
    while j >= 0 and text[j].isspace():
        j -= 1
    if j < 0:
        return None
    if text[j] in ")]}":
        depth = 0
        for i in range(j, max(-1, j - _MAX_BASE_CHARS), -1):
            if text[i] in ")]}":
                depth += 1
            elif text[i] in "([{":
                depth -= 1
                if depth == 0:
                    k = i - 5 if text[i] == "(" and text[max(0, i - 5) : i] == "\\left" else i
                    return text[k : j + 1]
        return None
    i = j
    while i >= 0 and j - i < _MAX_BASE_CHARS and (text[i].isalnum() or text[i] in "\\."):
        i -= 1
    return text[i + 1 : j + 1]


def _power_is_expensive(base: str | None, exponent: int) -> bool:
    """Would sympy need long to expand ``base ** exponent``?

    A name (``x^{1000}``) stays a symbolic power: cheap.  A rational base costs as many
    digits as it produces.  Any other base (``(x+1)``, ``(2+\\sqrt{3})``) is expanded term
    by term when compared, with coefficients as long as the exponent times the base's
    digits: ``(x+1)^{1000}`` against ``(x+2)^{1000}`` takes 8 s, ``(x+100)^{400}`` against
    ``(x+101)^{400}`` 2 s; refused when that product passes 400.
    """
    if base is None:
        return True
    if _NAME.fullmatch(base):
        return False
    stripped = _RATIONAL_MACROS.sub(" ", base)
    digits = max((len(d) for d in re.findall(r"\d+", stripped)), default=1)
    if set(stripped) <= _RATIONAL_CHARS:
        return exponent * digits > _MAX_RESULT_DIGITS
    return exponent * max(1, digits) > _MAX_EXPONENT_ON_EXPRESSION


# A power of a power written without grouping: ``2^{3}^{4}``, ``x^2^3`` (a tower too).
_CHAINED_POWER = re.compile(r"(?:\^|\*\*)\s*(?:\{[^{}]*\}|[\w.]+)\s*(?:\^|\*\*)")
# math-verify's LaTeX parser takes time exponential in bracket nesting: depth 12 of ``{``
# about 5 s, depth 20 minutes; MathIF's gold answers nest at most 3 deep.
_MAX_NESTING = 8


# Three or more factorial marks in a row (``1!!!!!!``): factorials of factorials.
_FACTORIAL_CHAIN = re.compile(r"!(?:\s*!){2,}")


def _is_tower(text: str) -> bool:
    """A power tower or a chain of factorials: values too large to build."""
    return bool(
        _NESTED_POWER.search(text) or _CHAINED_POWER.search(text) or _FACTORIAL_CHAIN.search(text)
    )


def _bracket_depth(text: str) -> tuple[int, bool]:
    """Deepest nesting of ``( [ {`` (any mix) and whether every bracket is closed in order
    of count (an interval such as ``[0, 1)`` counts as balanced)."""
    depth = deepest = 0
    for ch in text:
        if ch in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")]}":
            depth -= 1
            if depth < 0:
                return deepest, False
    return deepest, depth == 0


def _binomial_digits(n: int, k_text: str) -> float:
    """Decimal digits of ``C(n, k)``; for a ``k`` that is not a number, of the largest one."""
    k_text = k_text.strip()
    k = int(k_text) if k_text.isdigit() and len(k_text) < 12 else n // 2
    k = min(k, n - k) if 0 <= k <= n else 0
    if k <= 0:
        return 1.0
    return (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)) / math.log(10)


def _has_expensive_power(text: str) -> bool:
    for m in _BIG_EXPONENT.finditer(text):
        if len(m.group(1)) > 9:
            return True
        exponent = int(m.group(1))
        j = m.start() - 1
        while j >= 0 and text[j].isspace():
            j -= 1
        if j >= 0 and (text[j].isdigit() or text[j] == "."):
            continue  # a numeric base: the digit-count rule covers it
        if _power_is_expensive(_base_before(text, m.start()), exponent):
            return True
    return False


def is_explosive(answer: str, gold: str) -> bool:
    """Refuse answers whose check cannot finish in a fraction of a second, before sympy.

    A power tower (``9^{9^{9^{9}}}``), a power with a huge numeric result, a big factorial
    or binomial coefficient (``\\binom{10^6}{5 \\cdot 10^5}`` takes sympy minutes;
    ``52+\\binom{200000}{k}-\\binom{200000}{200000-k}`` about a second), a power above 400
    of an expression that sympy must expand (``(x+1)^{1000}`` against ``(x+2)^{1000}``:
    8 s) cannot be compared within a reliable time, so its verdict would depend on machine
    load; rejecting it by size keeps every verdict deterministic.  (Equal forms are still
    recognised before this point: ``(2+x)^{1000}`` equals ``(x+2)^{1000}`` by exact
    arithmetic in the calling process.)  Answers far longer than the gold are refused for
    the same reason.  So are answers nested deeper than eight brackets or with unbalanced
    brackets (math-verify's LaTeX parser needs seconds to minutes on those: 50 nested
    parentheses take 20 s), chained powers (``1^{-2}^{-2}^{-2}...``) and chained
    factorials (``1!!!!!!...``).
    """
    if len(answer) > 3 * len(gold) + 150:
        return True
    if _is_tower(answer) and not _is_tower(gold):
        return True
    depth, balanced = _bracket_depth(answer)
    if not balanced or depth > max(_MAX_NESTING, _bracket_depth(gold)[0]):
        return True
    if _BIG_FACTORIAL.search(answer):
        return True
    for m in _POWER.finditer(answer):
        try:
            base = float(m.group(1))
            exponent = float(m.group(2))
        except ValueError:
            continue
        if base > 1 and exponent * math.log10(base) > _MAX_RESULT_DIGITS:
            return True
    for m in _BINOMIAL.finditer(answer):
        top = m.group(1) or m.group(3) or m.group(5)
        bottom = m.group(2) if m.group(1) else m.group(4) if m.group(3) else m.group(6)
        if len(top) > 12 or _binomial_digits(int(top), bottom or "") > _MAX_RESULT_DIGITS:
            return True
    return _has_expensive_power(answer)


@functools.lru_cache(maxsize=4096)
def _targets(c: Cleaned) -> list[Any]:
    """Parsed forms of a cleaned answer: math-verify's LaTeX reading and our safe parse."""
    out: list[Any] = []
    text = c.text
    if _PYTHONISH.search(text) or not any(ch in text for ch in "\\{}"):
        try:
            tree = safe_expr.parse(text, safe_expr.MATHIF_DIALECT)
            value = safe_expr.to_sympy(tree, euler_e=True)
            out.append(value / 100 if c.percent else value)
        except Exception:
            pass
    if not _PYTHONISH.search(text):
        out.extend(_math_verify_parse(text, c.percent))
    return out


def _math_verify_parse(text: str, percent: bool) -> list[Any]:
    from math_verify import LatexExtractionConfig, parse

    logging.getLogger("math_verify").setLevel(logging.CRITICAL)
    try:
        parsed = parse(
            f"${text}$", extraction_config=[LatexExtractionConfig()], parsing_timeout=None
        )
    except Exception:
        return []
    if not parsed:
        return []
    value = parsed[0]
    if percent:
        try:
            value = value / 100
        except Exception:
            return []
    return [value]


def _numeric_agreement(golds: list[Any], preds: list[Any], rel: float) -> bool:
    """Some gold value and some answer value are numbers within relative ``rel``."""
    gold_values = [v for v in (_as_complex(x) for x in golds) if v is not None]
    pred_values = [v for v in (_as_complex(x) for x in preds) if v is not None]
    for gv in gold_values:
        for pv in pred_values:
            if abs(gv - pv) <= rel * max(abs(gv), abs(pv)) or gv == pv:
                return True
    return False


def _as_complex(value: Any) -> complex | None:
    """A finite numeric value for a sympy object without free symbols, else None."""
    try:
        import sympy

        if not isinstance(value, sympy.Basic) or value.free_symbols or not value.is_number:
            return None
        number = complex(sympy.N(value, 30))
    except Exception:
        return None
    if math.isnan(number.real) or math.isinf(number.real) or math.isinf(number.imag):
        return None
    return number
