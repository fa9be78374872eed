"""A held-out-like corpus of hard responses, and its comparison with the official scorer.

Every case is a raw model output for one of the 420 official items (read in place from
``../shared/mathif``; nothing of it is stored in the project), built from three independent
choices:

* a **layout** of think / answer tags (a second ``<think>`` in the reasoning or in the answer,
  ``<answer>`` tags, truncated outputs, nested and stray tags, ...);
* an **answer form** for the final answer (Python-only readings such as XOR, ``and``/``or``,
  hex literals, ``abs``/``max``; Minerva notation that only ``N()`` reads; leading zeros;
  pylatexenc symbols and macros; matrices; right and wrong values, ...) and a sentence that
  states it;
* a **body** that follows or breaks each of the item's constraints (keywords, word and
  capital-word counts with combining marks, viramas, ZWJ and ``½ ² ①``, languages, sections,
  bullets, quotes, end phrases, case, commas, ...).

``measure`` scores the cases with mathif (``answer_part``, the constraint checkers and the
``reference`` grader) and with the official scorer in its pinned environment
(``tests/official``), and counts agreement. ``tests/test_official_heldout.py`` runs a seeded
subset live; ``benchmarks/conformance_reference.py`` runs the full measurement.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

# --------------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    key: str
    source: str
    gold: str
    layout: str
    form: str
    raw: str
    constraints: tuple[tuple[str, dict[str, Any]], ...]


@dataclass
class Agreement:
    """Counts of one measurement, with a few examples of each kind of difference."""

    cases: int = 0
    split_same: int = 0
    constraint_total: int = 0
    constraint_same: int = 0
    correct_same: int = 0
    official_correct: int = 0
    by_form: Counter[str] = field(default_factory=Counter)
    by_layout: Counter[str] = field(default_factory=Counter)
    by_constraint: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"cases {self.cases}: answer split identical {self.split_same}/{self.cases}",
            f"constraint verdicts identical {self.constraint_same}/{self.constraint_total} "
            f"({100 * self.constraint_same / max(1, self.constraint_total):.2f}%)",
            f"reference correctness identical {self.correct_same}/{self.cases} "
            f"({100 * self.correct_same / max(1, self.cases):.2f}%; officially correct: "
            f"{self.official_correct})",
        ]
        for name, counter in (("form", self.by_form), ("layout", self.by_layout),
                              ("constraint", self.by_constraint)):
            if counter:
                lines.append(f"differences by {name}: {dict(counter.most_common(15))}")
        lines += self.examples
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Answer forms: (gold, rng, other gold) -> the stated answer, or None when not applicable
# --------------------------------------------------------------------------------------------

Form = Callable[[str, random.Random, str], "str | None"]


def _int(gold: str) -> int | None:
    text = gold.strip().replace(",", "")
    if re.fullmatch(r"-?\d{1,12}", text):
        return int(text)
    return None


def _number(gold: str) -> float | None:
    text = gold.strip().replace(",", "")
    if re.fullmatch(r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", text):
        return float(text)
    return None


def _fraction(gold: str) -> tuple[str, str] | None:
    m = re.fullmatch(r"\s*(-?)\\[dt]?frac\{(\d+)\}\{(\d+)\}\s*", gold)
    if m:
        return m.group(1) + m.group(2), m.group(3)
    m = re.fullmatch(r"\s*(-?\d+)/(\d+)\s*", gold)
    return (m.group(1), m.group(2)) if m else None


def _tuple(gold: str) -> list[str] | None:
    m = re.fullmatch(r"\s*\$?\\?\(?\s*\(([^()]*)\)\s*\$?\s*", gold)
    if m and "," in m.group(1):
        return [p.strip() for p in m.group(1).split(",")]
    return None


def _sci(value: float, rng: random.Random) -> tuple[str, str] | None:
    if value == 0:
        return None
    mantissa, exponent = f"{value:.{rng.choice([2, 3, 4])}e}".split("e")
    return mantissa.rstrip("0").rstrip("."), str(int(exponent))


def _if_int(fn: Callable[[int, random.Random], str]) -> Form:
    def form(gold: str, rng: random.Random, other: str) -> str | None:
        value = _int(gold)
        return None if value is None else fn(value, rng)

    return form


def _if_number(fn: Callable[[float, random.Random], str | None]) -> Form:
    def form(gold: str, rng: random.Random, other: str) -> str | None:
        value = _number(gold)
        return None if value is None else fn(value, rng)

    return form


def _wrap(template: str) -> Form:
    return lambda gold, rng, other: template.replace("@", gold)


def _sci_caret(value: float, rng: random.Random) -> str | None:
    parts = _sci(value, rng)
    if parts is None:
        return None
    m, e = parts
    return rng.choice([f"{m}*10^{e}", f"{m}*10^({e})", f"{m} * 10^{e}", f"{m}*10**{e}"])


def _sci_latex(value: float, rng: random.Random) -> str | None:
    parts = _sci(value, rng)
    if parts is None:
        return None
    m, e = parts
    return rng.choice([f"{m} \\times 10^{{{e}}}", f"{m}\\cdot10^{{{e}}}", f"{m}e{e}",
                       f"{m}E{e}", f"{m} \\times 10^{e}"])


def _frac_form(kind: str) -> Form:
    def form(gold: str, rng: random.Random, other: str) -> str | None:
        parts = _fraction(gold)
        if parts is None:
            return None
        a, b = parts
        if kind == "slash":
            return f"{a}/{b}"
        if kind == "decimal":
            return f"{float(Fraction(int(a), int(b))):.6g}"
        if kind == "unreduced":
            return f"\\frac{{{2 * int(a)}}}{{{2 * int(b)}}}"
        return f"\\{kind}{{{a}}}{{{b}}}"

    return form


def _tuple_form(kind: str) -> Form:
    def form(gold: str, rng: random.Random, other: str) -> str | None:
        parts = _tuple(gold)
        if parts is None:
            return None
        if kind == "pmatrix":
            return "\\begin{pmatrix} " + " \\\\ ".join(parts) + " \\end{pmatrix}"
        if kind == "bmatrix":
            return "\\begin{bmatrix} " + " & ".join(parts) + " \\end{bmatrix}"
        if kind == "brackets":
            return "[" + ", ".join(parts) + "]"
        if kind == "swapped":
            return "(" + ", ".join(reversed(parts)) + ")"
        return "\\left( " + ", ".join(parts) + " \\right)"

    return form


def _leading_zero_sum(value: int, rng: random.Random) -> str:
    return rng.choice([f"{2 * value}/2", f"{value - 1}+1", f"{value + 3}-3", f"{value}*1"])


FORMS: dict[str, Form] = {
    "gold": _wrap("@"),
    "dollars": _wrap("$@$"),
    "other_gold": lambda gold, rng, other: other,
    "off_by_one": _if_int(lambda v, r: str(v + 1)),
    "nested_box": _wrap("\\boxed{@}"),
    # Python semantics of parse_expr
    "xor_zero": _if_int(lambda v, r: f"{v}^0"),
    "xor_one": _if_int(lambda v, r: f"{v}^1"),
    "xor_twice": _if_int(lambda v, r: f"({v}^{(k := r.randint(1, 99))})^{k}"),
    "xor_spaced": _if_int(lambda v, r: f"{v} ^ {r.choice([0, 2, 3])}"),
    "and": _if_int(lambda v, r: f"{r.randint(1, 999)} and {v}"),
    "and_zero": _if_int(lambda v, r: f"0 and {v}"),
    "or": _if_int(lambda v, r: r.choice([f"0 or {v}", f"{v} or {r.randint(1, 9)}"])),
    "if_else": _if_int(lambda v, r: r.choice([f"{v} if 1 else {v + 1}", f"{v + 1} if 0 else {v}",
                                             f"{v} if {v} > 0 else 0"])),
    "not": _if_int(lambda v, r: "not 0" if v == 1 else f"not {v}"),
    "hex": _if_int(lambda v, r: hex(v) if v >= 0 else f"-{hex(-v)}"),
    "oct_bin": _if_int(lambda v, r: r.choice([oct(abs(v)), bin(abs(v)), hex(abs(v)).upper()])),
    "abs": _if_int(lambda v, r: f"abs({-v})"),
    "max_min": _if_int(lambda v, r: r.choice([f"max({v}, {v - 5})", f"min({v}, {v + 7})",
                                             f"max({v},x)", f"Max({v}, 1)"])),
    "true_false": _if_int(lambda v, r: {0: "False", 1: "True"}.get(v, f"True + {v - 1}")),
    "underscore": _if_int(lambda v, r: f"{v:_}" if abs(v) >= 1000 else f"{v}_0"),
    "shift_bitops": _if_int(lambda v, r: r.choice([f"{v} << 0", f"({v} << 2) >> 2", f"{v} | 0",
                                                  f"{v} & {v}", f"~{-v - 1}", f"{v} % {v + 1}",
                                                  f"{2 * v} // 2"])),
    "float_zero": _if_int(lambda v, r: r.choice([f"({v}.0 - {v}.0) ^ {v}", f"0.0*{v} ^ {v}",
                                                f"{v} ^ 0.0*3", f"(1.0 - 1) or {v}"])),
    "bool_arith": _if_int(lambda v, r: r.choice([f"{v} * True", f"True * {v}", f"{v} + False",
                                                f"{v} - True + 1", f"True / {v}"])),
    "compare": _if_int(lambda v, r: r.choice([f"{v} if 1 < 2 < 3 else 0", f"({v} > 0) and {v}",
                                             f"{v} == {v}.0", f"{v} if {v} != {v}.0 else 0"])),
    "pow_builtin": _if_int(lambda v, r: r.choice([f"pow({v}, 1)", f"round({v}.2)", f"{v}.0",
                                                 f"{v}**1"])),
    # the N() fallback: parse_expr raises (float ^ int), N() reads ^ as a power
    "sci_caret": _if_number(_sci_caret),
    "sci_latex": _if_number(_sci_latex),
    "float_caret": _if_number(lambda v, r: f"{v}^1" if r.random() < 0.5 else f"{v / 4}*2^2"),
    "caret_power": _if_int(lambda v, r: f"{v}^1.0" if r.random() < 0.5 else f"2^{v.bit_length()}"),
    # leading zeros
    "leading_zero": _if_int(lambda v, r: f"0{v}" if v >= 0 else str(v)),
    "symbolic_only": _if_int(_leading_zero_sum),
    # pylatexenc: symbols it prints or drops, macros whose arguments vanish, fractions, matrices
    "blacksquare": _wrap("$x = @$ \\quad $\\blacksquare$"),
    "square": _wrap("@ \\square"),
    "therefore": _wrap("\\therefore @"),
    "checkmark": _wrap("@ \\checkmark"),
    "neg": _wrap("\\neg @"),
    "bullet": _wrap("\\bullet @"),
    "surd": _wrap("\\surd @"),
    "lbrace": _wrap("\\lbrace @ \\rbrace"),
    "item": _wrap("\\item @"),
    "textsf": _wrap("\\textsf{@}"),
    "texttt": _wrap("\\texttt{@}"),
    "textup": _wrap("\\textup{@}"),
    "textbf": _wrap("\\textbf{@}"),
    "mathbf": _wrap("\\mathbf{@}"),
    "mathrm": _wrap("\\mathrm{@}"),
    "emph": _wrap("\\emph{@}"),
    "text": _wrap("\\text{@}"),
    "color": lambda g, r, o: r.choice([f"\\color{{red}}{{{g}}}", f"{{\\color{{blue}} {g}}}",
                                       f"\\textcolor{{red}}{{{g}}}"]),
    "phantom": _wrap("\\phantom{0}@"),
    "vphantom": _wrap("\\vphantom{1}@"),
    "hphantom": _wrap("@\\hphantom{00}"),
    "displaystyle": _wrap("\\displaystyle @"),
    "spacing": lambda g, r, o: r.choice([f"\\,{g}\\,", f"\\;{g}", f"{g}\\!", f"~{g}",
                                         f"\\quad{g}\\qquad", f"\\ {g}"]),
    "left_right": _wrap("\\left( @ \\right)"),
    "degrees": _wrap("@^\\circ"),
    "percent": _wrap("@\\%"),
    "dollar_sign": _wrap("\\$@"),
    "units": lambda g, r, o: f"{g} " + r.choice(["\\text{ cm}", "\\mbox{ meters}", "dollars",
                                                "\\text{ inches}^2", "\\ \\mathrm{kg}"]),
    "operatorname": _wrap("\\operatorname{@}"),
    "symbols_mix": lambda g, r, o: r.choice([f"{g} \\Rightarrow", f"\\approx {g}", f"{g}\\dots",
                                             f"\\{{{g}\\}}", f"\\langle {g} \\rangle",
                                             f"{g} \\pm 0", "\\infty", f"{g}\\ell",
                                             f"\\hbar {g}", f"{g}\\cdots", f"\\ldots {g}",
                                             f"\\lfloor {g} \\rfloor", f"\\mid {g} \\mid"]),
    "cfrac": _frac_form("cfrac"),
    "nicefrac": _frac_form("nicefrac"),
    "tfrac": _frac_form("tfrac"),
    "dfrac": _frac_form("dfrac"),
    "slash_frac": _frac_form("slash"),
    "decimal_frac": _frac_form("decimal"),
    "unreduced": _frac_form("unreduced"),
    "pmatrix": _tuple_form("pmatrix"),
    "bmatrix": _tuple_form("bmatrix"),
    "brackets": _tuple_form("brackets"),
    "swapped": _tuple_form("swapped"),
    "left_tuple": _tuple_form("left"),
    "decimal": _if_number(lambda v, r: f"{v:.{r.choice([3, 5, 8])}g}"),
    "near_miss": _if_number(lambda v, r: f"{v * (1 + r.choice([3e-5, -8e-5, 2e-4, 1e-3])):.8g}"),
    "percent_scale": _if_number(lambda v, r: r.choice([f"{v * 100:g}", f"{v / 100:g}"])),
    "thousands": _if_int(lambda v, r: r.choice([f"{v:,}", f"{v:,}".replace(",", "{,}"),
                                               f"{v:,}".replace(",", "\\,")])),
    "sqrt": lambda g, r, o: r.choice([f"\\sqrt{{{g}}}^2", f"\\sqrt{{{g}^2}}", f"sqrt({g})**2"]),
    "pi": lambda g, r, o: r.choice([f"{g}\\pi", f"\\pi {g}", f"{g}*pi/pi", "2\\pi"]),
    "caps": lambda g, r, o: f"\\BOXED{{{g}}}",
}


# Sentences that state the answer (@ stands for the answer form).
STATEMENTS = [
    "\\boxed{@}",
    "The answer is @.",
    "The answer is $@$.",
    "Final answer: $@$",
    "Therefore, the result is \\boxed{@}.",
    "So we get @",
    "**Answer:** @",
    "@",
    "Thus $x = @$.",
    "The final answer is $\\boxed{@}$. Any other questions?",
    "\\[\n\\boxed{@}\n\\]",
    "ANSWER: \\boxed{@}",
    "answer is @\n",
    "We conclude that @ is the answer",
]

# --------------------------------------------------------------------------------------------
# Bodies: text that follows or breaks each constraint
# --------------------------------------------------------------------------------------------

ENGLISH = [
    "We first set up the equation and simplify both sides carefully.",
    "Next, we substitute the known values and check the arithmetic.",
    "This gives a consistent result, which we verify once more.",
    "Let us count the cases one by one and add them up.",
    "The total follows from the previous step without any further work.",
]
UNICODE_WORDS = [
    "café", "cafe\u0301", "naïve", "नमस्ते", "क्षत्रिय", "ஸ்ரீ", "স্কুল", "ਪੰਜਾਬੀ",
    "👨\u200d👩\u200d👧", "a\u200db", "½", "x²", "①②", "٣", "Ⅻ", "ﬁne", "𝟙𝟚", "\u0301x",
    "don't", "o'clock", "U.S.A.", "e.g.", "—", "3.5", "1,000", "x_1", "über", "ǅemal",
]
CAPS_HARD = [
    "NASA's", "DON'T", "\"QUOTED\"", "(NOTE)", "U.S.", "ÉCOLE", "IT'S", "CAFÉ", "Ä-B",
    "X²", "NO.1", "A-B", "MR.", "OK?!", "'TIS", "ÇA", "“HELLO”", "WORD—WORD", "I", "A",
    "ﬁNE", "ΣΟΦΙΑ", "КНИГА", "AB\u0301C",
]
LANGUAGE_TEXT = {
    "ne": "म गणित समस्या समाधान गर्दैछु र उत्तर तल दिइएको छ।",
    "vi": "Chúng ta giải bài toán này từng bước và kết quả được trình bày dưới đây.",
    "es": "Resolvemos el problema paso a paso y el resultado aparece a continuación.",
    "pa": "ਅਸੀਂ ਇਸ ਸਮੱਸਿਆ ਨੂੰ ਕਦਮ ਦਰ ਕਦਮ ਹੱਲ ਕਰਦੇ ਹਾਂ ਅਤੇ ਜਵਾਬ ਹੇਠਾਂ ਹੈ।",
    "he": "אנו פותרים את הבעיה צעד אחר צעד והתשובה מופיעה למטה.",
    "ru": "Мы решаем задачу шаг за шагом, и ответ приведён ниже.",
    "bn": "আমরা ধাপে ধাপে সমস্যাটি সমাধান করি এবং উত্তর নিচে দেওয়া হলো।",
    "it": "Risolviamo il problema passo dopo passo e il risultato è riportato qui sotto.",
    "mr": "आम्ही ही समस्या टप्प्याटप्प्याने सोडवतो आणि उत्तर खाली दिले आहे.",
    "de": "Wir lösen die Aufgabe Schritt für Schritt und das Ergebnis steht unten.",
    "sw": "Tunatatua tatizo hili hatua kwa hatua na jibu liko hapa chini.",
    "bg": "Решаваме задачата стъпка по стъпка и отговорът е даден по-долу.",
    "pt": "Resolvemos o problema passo a passo e o resultado está abaixo.",
    "ja": "この問題を段階的に解き、答えを以下に示します。",
    "ta": "இந்த கணக்கை படிப்படியாக தீர்க்கிறோம், விடை கீழே உள்ளது.",
    "th": "เราแก้โจทย์นี้ทีละขั้นตอนและคำตอบอยู่ด้านล่าง",
    "kn": "ನಾವು ಈ ಸಮಸ್ಯೆಯನ್ನು ಹಂತ ಹಂತವಾಗಿ ಪರಿಹರಿಸುತ್ತೇವೆ ಮತ್ತು ಉತ್ತರ ಕೆಳಗಿದೆ.",
}


def _words(rng: random.Random, n: int) -> str:
    pool = [w for s in ENGLISH for w in s.rstrip(".").split()]
    out = []
    for _ in range(n):
        out.append(rng.choice(UNICODE_WORDS) if rng.random() < 0.15 else rng.choice(pool))
    return " ".join(out)


def _body(constraints: Sequence[tuple[str, dict[str, Any]]], rng: random.Random,
          answer: str) -> str:
    """An answer part that follows or breaks each constraint (a coin per constraint)."""
    follow = {name: rng.random() < 0.55 for name, _ in constraints}
    parts: list[str] = [rng.choice(ENGLISH)]
    if rng.random() < 0.4:
        parts.append(_words(rng, rng.randint(3, 25)))
    prefix = ""
    suffix = ""
    case = None
    quote = False
    for name, args in constraints:
        ok = follow[name]
        if name == "keywords:existence":
            words = args["keywords"] if ok else args["keywords"][:-1]
            parts.append(" ".join(f"The {w} matters." for w in words))
        elif name == "keywords:frequency":
            k = args["frequency"] + rng.choice([-1, 0, 0, 1])
            parts.append(" ".join([args["keyword"]] * max(0, k)))
        elif name == "keywords:forbidden_words":
            if not ok:
                parts.append(rng.choice(args["forbidden_words"]).upper())
        elif name == "language:response_language":
            lang = args["language"] if ok else rng.choice(sorted(LANGUAGE_TEXT))
            parts = [LANGUAGE_TEXT.get(lang, LANGUAGE_TEXT["es"])] * rng.randint(1, 3)
        elif name == "length_constraint_checkers:number_words":
            n = args["num_words"] + rng.choice([-2, -1, 0, 1, 2]) - 12
            parts.append(_words(rng, max(0, n)))
        elif name == "detectable_format:number_bullet_lists":
            n = args["num_bullets"] + (0 if ok else rng.choice([-1, 1]))
            marker = rng.choice(["* ", "- ", "*  "])
            parts.append("\n".join(f"{marker}{rng.choice(ENGLISH)}" for _ in range(max(0, n))))
        elif name == "detectable_format:number_highlighted_sections":
            n = args["num_highlights"] + (0 if ok else -1)
            parts.append(" ".join(rng.choice(["*key step*", "**bold**", "*½ part*", "* *"])
                                  for _ in range(max(0, n))))
        elif name == "detectable_format:multiple_sections":
            n = args["num_sections"] + (0 if ok else rng.choice([-1, 1]))
            spl = args["section_spliter"]
            parts.append("\n\n".join(f"{spl} {i + 1}\n{rng.choice(ENGLISH)}" for i in range(n)))
        elif name == "combination:repeat_prompt":
            prompt = args["prompt_to_repeat"]
            prefix = prompt + "\n" if ok else prompt[1:] + "\n"
        elif name == "startend:end_checker":
            suffix = args["end_phrase"] + (rng.choice(["", "  ", "\n"]) if ok else " Bye.")
        elif name == "startend:quotation":
            quote = ok
        elif name == "change_case:capital_word_frequency":
            n = args["capital_frequency"] + rng.choice([-2, -1, 0, 0, 1])
            caps = [rng.choice(CAPS_HARD) if rng.random() < 0.4 else rng.choice(
                ["ALPHA", "BETA", "TOTAL", "SUM", "X"]) for _ in range(max(0, n))]
            parts.append(" ".join(caps))
        elif name == "change_case:english_capital":
            case = "upper" if ok else None
        elif name == "change_case:english_lowercase":
            case = "lower" if ok else None
        elif name == "punctuation:no_comma":
            if ok:
                parts = [p.replace(",", "") for p in parts]
            else:
                parts.append("First, second, third.")
    text = prefix + "\n\n".join(parts) + "\n\n" + answer
    if suffix:
        text = text.rstrip() + " " + suffix
    if case == "upper":
        text = text.upper()
    elif case == "lower":
        text = text.lower()
    if quote:
        text = '"' + text + '"'
    if follow.get("punctuation:no_comma"):
        text = text.replace(",", "")
    return text


# --------------------------------------------------------------------------------------------
# Layouts of think / answer tags: (reasoning, answer part text) -> raw output
# --------------------------------------------------------------------------------------------

REASONING = [
    "Let me compute. 3 + 4 = 7, so maybe the answer is \\boxed{7}. Wait, check again.",
    "First, the total is 12. Then we divide by 4 to get 3.",
    "I think the answer is 5, but let me verify with another approach.",
    "Okay, so the problem asks for the value. Let's see: x = 2.",
]

Layout = Callable[[str, str, random.Random], str]
LAYOUTS: dict[str, Layout] = {
    "think": lambda r, a, g: f"<think>\n{r}\n</think>\n\n{a}",
    "r1": lambda r, a, g: f"{r}\n</think>\n\n{a}",
    "no_tags": lambda r, a, g: a,
    "truncated": lambda r, a, g: f"<think>\n{r} {a}",
    "truncated_r1": lambda r, a, g: f"{r} and then {a}",
    "reopened": lambda r, a, g: f"<think>{r}</think>{a}<think>more thought</think>Final: 1",
    "nested_think": lambda r, a, g: f"<think>{r}<think>{a}</think>tail \\boxed{{0}}",
    "think_in_answer": lambda r, a, g: f"<think>{r}</think>{a}\n(I used a <think> block.)",
    "think_mention_early": lambda r, a, g: f"<think>{r}</think>The <think> tag. {a}",
    "r1_reopened": lambda r, a, g: f"{r}<think>again</think>{a}",
    "answer_tags": lambda r, a, g: f"<think>{r}</think>\n<answer>{a}</answer>",
    "answer_open": lambda r, a, g: f"<think>{r}</think>pre <answer>{a}",
    "answer_close": lambda r, a, g: f"<think>{r}</think>{a}</answer> post",
    "answer_nested": lambda r, a, g: f"<think>{r}</think><answer>x<answer>{a}</answer></answer>",
    "double_close": lambda r, a, g: f"<think>{r}</think>{a}</think>extra \\boxed{{1}}",
    "close_first": lambda r, a, g: f"{r}</think>x<think>{r}</think>{a}",
    "empty_answer": lambda r, a, g: f"<think>{r} {a}</think>",
    "blank_answer": lambda r, a, g: f"<think>{r} {a}</think>  \n\t",
    "empty_think": lambda r, a, g: f"<think></think>{a}",
    "answer_in_think": lambda r, a, g: f"<think><answer>{a}</answer></think>{r}",
    "stray_tags": lambda r, a, g: f"<think>{r}</think><think </think> {a}",
    "tag_soup": lambda r, a, g: g.choice([f"<answer><think>{r}</think>{a}</answer>",
                                          f"</answer>{r}</think>{a}<answer>",
                                          f"<think><think>{r}</think></think>{a}"]),
}


# --------------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------------


def generate(items: Sequence[Any], *, per_item: int, seed: int = 0) -> list[Case]:
    """``per_item`` cases for every item: layouts and forms cycle, bodies are random."""
    rng = random.Random(seed)
    layouts = sorted(LAYOUTS)
    forms = sorted(FORMS)
    cases: list[Case] = []
    golds = [item.answer for item in items]
    for n_item, item in enumerate(items):
        constraints = tuple(
            (name, {k: v for k, v in dict(args).items() if v is not None})
            for name, args in zip(item.constraint_name, item.constraint_args, strict=True)
        )
        applicable = [f for f in forms if FORMS[f](item.answer, random.Random(0), "0") is not None]
        for k in range(per_item):
            layout = layouts[(n_item * 7 + k) % len(layouts)]
            form = applicable[(n_item * 13 + k * 5 + rng.randrange(3)) % len(applicable)]
            other = golds[rng.randrange(len(golds))]
            stated = FORMS[form](item.answer, rng, other) or item.answer
            statement = rng.choice(STATEMENTS).replace("@", stated)
            answer = _body(constraints, rng, statement)
            raw = LAYOUTS[layout](rng.choice(REASONING), answer, rng)
            cases.append(Case(item.key, item.source, item.answer, layout, form, raw, constraints))
    return cases


# --------------------------------------------------------------------------------------------
# Measurement
# --------------------------------------------------------------------------------------------


def measure(oracle: Any, cases: Sequence[Case], *, timeout: float = 30.0) -> Agreement:
    """Score ``cases`` with mathif and with ``oracle`` (tests.official.Official)."""
    from mathif import constraints as checkers
    from mathif.grading import grade_many
    from mathif.split import answer_part

    out = Agreement(cases=len(cases))
    ours = [answer_part(case.raw) for case in cases]
    theirs = oracle.split([case.raw for case in cases])
    out.split_same = sum(a == b for a, b in zip(ours, theirs, strict=True))
    for case, a, b in zip(cases, ours, theirs, strict=True):
        if a != b:
            out.examples.append(f"SPLIT {case.layout}: {case.raw[:120]!r}")

    requests = []
    mine = []
    for case, text in zip(cases, ours, strict=True):
        for name, args in case.constraints:
            requests.append((name, args, text))
            mine.append(bool(text.strip()) and checkers.check(name, text, args))
    official = oracle.check(requests)
    out.constraint_total = len(requests)
    out.constraint_same = sum(a == b for a, b in zip(mine, official, strict=True))
    for (name, args, text), a, b in zip(requests, mine, official, strict=True):
        if a != b:
            out.by_constraint[name] += 1
            out.examples.append(f"CHECK {name} {args} mathif={a} official={b}: {text[:200]!r}")

    grades = grade_many([(text, case.gold, case.source) for case, text in zip(cases, ours,
                                                                              strict=True)],
                        grader="reference", timeout=timeout)
    scores = oracle.score([(text, case.gold) for case, text in zip(cases, ours, strict=True)])
    for case, text, g, s in zip(cases, ours, grades, scores, strict=True):
        out.official_correct += bool(s)
        if g.correct == bool(s):
            out.correct_same += 1
        else:
            out.by_form[case.form] += 1
            out.by_layout[case.layout] += 1
            out.examples.append(
                f"GRADE {case.form}/{case.layout} gold={case.gold!r} mathif={g.correct} "
                f"({g.reason}, extracted {g.extracted_answer!r}) official={s}: {text[-160:]!r}"
            )
    return out
