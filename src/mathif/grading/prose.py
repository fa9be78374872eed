"""Finding the final answer in prose, for the mathif grader (the step after box and ``####``).

Models that do not box their answer end in a sentence ("So, Lindsay has missed 15 socks."),
often followed by junk: a stray prompt echo, a code fence, or the solution started over and
cut off by the token limit.  This module reads the *closing passage* as a person would:

1. the passage is the last :data:`WINDOW` characters, with prompt echoes, code blocks and
   fences removed (:func:`closing_passage`);
2. it is split into sentences; going backwards from the end, the first sentence that states
   the answer decides, unless something after it withdraws or doubts it;
3. inside that sentence the value is chosen by reading the question: what is asked (a count of
   guests, a price, a time, a choice letter) and which numbers merely repeat the question
   ("in 3 years", "after the 30% discount", "from 1:00 PM to 5:00 PM").

When a sentence states two different values and nothing decides between them, the result is
*ambiguous*: the grader marks it wrong rather than guess.  Every result records the rule that
found it (:attr:`Found.rule`) so reports can show how answers were found.

Model text is the attacker here: every scan is a hand-written loop or a regex without nested
quantifiers over a bounded window, so the cost is linear in :data:`WINDOW`, whatever the input.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass
from fractions import Fraction

from mathif.grading import extract


def _words(text: str) -> frozenset[str]:
    """A set of words written as one string (easier to read than a literal of quoted words)."""
    return frozenset(text.split())


# How much of the end of an answer part is read (characters).  Closing passages, including a
# restarted solution cut off by the token limit, fit comfortably; longer text is derivation.
WINDOW = 4000
# How much of the question is read (its ask is at the end).
QUESTION_WINDOW = 3000
_MAX_SENTENCE = 1200


@dataclass(frozen=True)
class Found:
    """Where the final answer was found.

    ``answer`` is the text compared with the gold (None when no answer is stated);
    ``rule`` names the rule that decided (``box``, ``hashes``, ``phrase``, ``conclusion``,
    ``closing``, ``loop``, ``display``, ``choice``); ``candidates`` lists the distinct values
    when the passage states several and nothing decides (the verdict is then ``ambiguous``).
    """

    answer: str | None
    rule: str | None
    candidates: tuple[str, ...] = ()

    @property
    def ambiguous(self) -> bool:
        return len(self.candidates) > 1


NOTHING = Found(None, None)


@functools.lru_cache(maxsize=8192)
def find_answer(answer_text: str, question: str | None = None) -> Found:
    """The final answer of ``answer_text`` for the mathif grader, and how it was found.

    Precedence: the last box (any case), the last ``####`` line, then the closing passage
    read as prose (:func:`locate`).  ``question`` (the item's question) lets the prose reader
    tell the asked quantity from numbers that repeat the question; without it the reader
    still works, with less to go on.
    """
    if not answer_text or not answer_text.strip():
        return NOTHING
    boxed = extract.last_boxed(answer_text)  # the whole text, in linear time
    if boxed is not None:
        return Found(boxed, "box")
    hashed = extract._after_hashes(answer_text)
    if hashed is not None:
        return Found(hashed, "hashes")
    return locate(answer_text[-_PROSE_SCAN:], question)


# The prose reader looks at the closing passage; it is given at most this much of the end.
_PROSE_SCAN = 200_000


def locate(text: str, question: str | None = None) -> Found:
    """The answer stated by the closing passage of ``text`` (no box or ``####`` involved)."""
    passage, finished = closing_passage(text)
    if not passage.strip():
        return NOTHING
    target = read_question(question or "")
    closed = False
    if not finished:
        passage, closed = _close_cut_math(passage)
    sentences = _join_lead_ins(split_sentences(passage))
    if not sentences:
        return NOTHING
    if closed:
        # the text stopped right after a display giving the asked letter its value
        value = _solved_value(sentences[-1].text, target.variable, marked=False)
        if value is not None:
            return Found(value, "display")
    if not finished and not closed:
        last = sentences[-1]
        if _is_cut_copy(last, sentences[:-1]) or not _complete_statement(last):
            sentences = sentences[:-1]
            cut = _cut_conclusion(last, sentences, target)
            if cut is not None:
                return cut
    opening = _opening(text)
    restarts = [_is_restart(s, opening, target) for s in sentences]
    stated = False
    for i, s in enumerate(sentences):
        if restarts[i] and not stated:
            restarts[i] = False  # the solution's own beginning, not a restart
        stated = stated or _DIGIT.search(s.text) is not None or "\\" in s.text
    found = _decide(sentences, target, finished, restarts)
    if found.answer is not None and not found.answer.isascii():
        return Found(_latex_symbols(found.answer), found.rule, found.candidates)
    return found


_UNICODE_MATH = str.maketrans(
    {"π": "\\pi ", "²": "^2", "³": "^3", "⁴": "^4", "−": "-", "·": "\\cdot ", "×": "\\times "}
)
_ROOT = re.compile(r"√\s?(\d+(?:\.\d+)?|[a-z](?![a-z]))")


def _latex_symbols(answer: str) -> str:
    """``[π²/8, 5π²/4]`` as LaTeX (``[\\pi ^2/8, 5\\pi ^2/4]``), so that it can be compared."""
    answer = _ROOT.sub(lambda m: "\\sqrt{" + m.group(1) + "}", answer)
    return answer.replace("√", "sqrt").translate(_UNICODE_MATH).strip()


# --------------------------------------------------------------------------------------
# The closing passage
# --------------------------------------------------------------------------------------

# Lines that start a prompt echo or a new, unrelated task (base models continue their
# training format after answering).
_ECHO_LINE = re.compile(
    r"(?m)^[ \t]*(?:You are (?:an? )?(?:AI |helpful |)assistant|You are an AI"
    r"|User will (?:you )?(?:give|ask)|Task:|Please determine whether|Question:|Instruction:"
    r"|User:|Human:|Assistant:|### (?:Instruction|Human|User|Input|Response)\b|<\|)"
)
_FENCE = re.compile(r"(?m)^[ \t]*```[ \t]*([A-Za-z]*)[^\n]*$")
_CODE_LINE = re.compile(
    r"^\s*(?:#|import |from \w+ import|def |print\(|return\b|for \w+ in |if .*:$|\w+\s*=[^=])"
)
_TERMINAL = frozenset(".!。)]$*")


def closing_passage(text: str) -> tuple[str, bool]:
    """The last :data:`WINDOW` characters without echoes and code; and whether it ends cleanly.

    A passage that does not end with sentence punctuation (or a closing math delimiter) was
    cut off mid-sentence by the token limit.
    """
    m = _ECHO_LINE.search(text)
    if m is not None and text[: m.start()].strip():
        text = text[: m.start()]
    tail = text[-WINDOW:]
    if len(text) > WINDOW:
        cut = tail.find("\n")
        if 0 <= cut < 400:
            tail = tail[cut + 1 :]
    tail = _drop_code(tail)
    stripped = tail.rstrip()
    finished = bool(stripped) and (stripped[-1] in _TERMINAL or stripped.endswith("\\]"))
    if re.search(r"\n\s*(?:\d{1,4}[.)]|Step \d{1,3}[:.]?|[-*•])\s*$", stripped[-12:]):
        finished = False  # cut right after a list marker
    last_open = max(stripped.rfind("\\["), stripped.rfind("\\("))
    if last_open > max(stripped.rfind("\\]"), stripped.rfind("\\)")):
        finished = False  # cut inside display or inline math
    return stripped, finished


def _close_cut_math(passage: str) -> tuple[str, bool]:
    """``\\[ x = 45 \\`` at the very end: math cut off in its closing delimiter, its content
    whole.  Returns the passage with the delimiter completed, and whether that was done."""
    if not passage.endswith("\\") or passage.endswith("\\\\"):
        return passage, False
    display = passage.rfind("\\[")
    inline = passage.rfind("\\(")
    if max(display, inline) <= max(passage.rfind("\\]"), passage.rfind("\\)")):
        return passage, False
    return passage + ("]" if display > inline else ")"), True


def _drop_code(text: str) -> str:
    """Remove fenced code and output blocks; keep prose a model wrapped in a fence."""
    out: list[str] = []
    pos = 0
    inside = False
    keep = True
    for m in _FENCE.finditer(text):
        if not inside:
            out.append(text[pos : m.start()])
            lang = m.group(1).lower()
            inside = True
            keep = lang == "" and not _looks_like_code(text[m.end() : m.end() + 400])
        else:
            if keep:
                out.append(text[pos : m.start()])
            inside = False
        pos = m.end()
    if not inside or keep:
        out.append(text[pos:])
    return "".join(out)


def _looks_like_code(block: str) -> bool:
    lines = [line for line in block.splitlines()[:6] if line.strip()]
    if not lines:
        return False
    return sum(1 for line in lines if _CODE_LINE.match(line)) * 2 >= len(lines)


# --------------------------------------------------------------------------------------
# Sentences
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sentence:
    text: str
    start: int
    marker: str = ""  # the list marker that opened the line ("3.", "Step 1:", "-")


_ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "st", "vs", "etc", "e.g", "i.e", "approx", "no", "fig", "eq", "jr"}
)
_LIST_MARK = re.compile(r"^\s*(?:(?:\d{1,3}|[a-z])[.)](?=\s)|[-*•]\s|#{1,6}\s|Step \d{1,3}\s*:)\s*")


_SPECIAL = re.compile(r"[\\$\n.!?。！？]")


def split_sentences(passage: str) -> list[Sentence]:
    """Split into sentences: newlines and ``. ! ?`` end them, math and decimals do not.

    Display math (``\\[ ... \\]``, ``$$ ... $$``) stays inside the sentence that introduces
    it ("we get: \\[ x = 5 \\]"); list markers ("3.", "-", "Step 2:") are dropped.
    """
    out: list[Sentence] = []
    n = len(passage)
    i = 0
    start = 0
    while i < n:
        m = _SPECIAL.search(passage, i)
        if m is None:
            break
        i = m.start()
        c = passage[i]
        math: str | None = None  # the closing delimiter of a math segment opened here
        if c == "\\" and i + 1 < n and passage[i + 1] in "[(":
            math = "\\]" if passage[i + 1] == "[" else "\\)"
        elif c == "$":
            if passage.startswith("$$", i):
                math = "$$"
            elif _inline_dollar_math(passage, i):
                math = "$"
        if math is not None:
            close = passage.find(math, i + len(math) if math != "$" else i + 1)
            i = n if close == -1 else close + len(math)
            continue
        if c == "\n":
            if not (
                _ends_with_colon(passage, start, i)
                and passage.startswith(("\\[", "$$"), _next_nonspace(passage, i))
            ):
                _emit(out, passage, start, i)
                start = i + 1
        elif (
            c in ".!?。！？"
            and (i + 1 >= n or passage[i + 1] in " \t\n")
            and not (
                c == "."
                and (_abbreviation_before(passage, start, i) or _list_number(passage, start, i))
            )
        ):
            _emit(out, passage, start, i + 1)
            start = i + 1
        i += 1
    _emit(out, passage, start, n)
    return out


_BARE_MARK = re.compile(r"\d{1,4}[.)]|[-*•#]+")
_DIGIT = re.compile(r"\d")


def _emit(out: list[Sentence], passage: str, start: int, end: int) -> None:
    raw = passage[start:end]
    if not raw or raw.isspace():
        return
    m = _LIST_MARK.match(raw)
    offset = m.end() if m else 0
    text = raw[offset:].replace("**", "").strip()
    if len(text) <= 5 and _BARE_MARK.fullmatch(text):
        return  # a list number or bullet on its own ("151." where a loop was cut)
    if len(text) > _MAX_SENTENCE:
        text = text[-_MAX_SENTENCE:]
    if text:
        out.append(Sentence(text, start + offset, raw[:offset].strip()))


def _list_number(s: str, start: int, dot: int) -> bool:
    """The dot of a list marker ("87. The total is ..."): only a short number before it."""
    if dot - start > 8:
        return False
    head = s[start:dot].strip()
    return 0 < len(head) <= 3 and (head.isdigit() or (len(head) == 1 and head.isalpha()))


def _next_nonspace(s: str, i: int) -> int:
    """Index of the next non-blank character, looking at most 16 characters ahead."""
    n = min(len(s), i + 16)
    j = i
    while j < n and s[j] in " \t\n":
        j += 1
    return j


def _ends_with_colon(s: str, start: int, end: int) -> bool:
    j = end - 1
    low = max(start, end - 16)
    while j >= low and s[j] in " \t*\n":
        j -= 1
    return j >= low and s[j] in ":="


def _abbreviation_before(s: str, start: int, dot: int) -> bool:
    j = dot
    while j > start and (s[j - 1].isalpha() or s[j - 1] == "."):
        j -= 1
        if dot - j > 6:
            return False
    return s[j:dot].lower() in _ABBREVIATIONS


def _inline_dollar_math(s: str, i: int) -> bool:
    """``$`` opens inline math (not a currency sign) when a closing ``$`` follows soon and
    the content is not a price phrase such as "$5 and the rest costs $3"."""
    close = s.find("$", i + 1, i + 400)
    if close == -1:
        return False
    inner = s[i + 1 : close]
    if "\n\n" in inner or not inner.strip():
        return False
    if inner[:1].isspace() or inner[-1:].isspace() or inner[-1:] in "+-*/=,(":
        return False  # "$100 + $125 = $225": prices around an operator, not math
    if inner[:1].isdigit() or inner[:1] in ".,":
        # "$28 on shoes and $3" is money; "$3x+1$" or "$12$" is math
        return not re.search(r"[A-Za-z]{3,}|\s\w+\s", inner) or "\\" in inner
    return True


# --------------------------------------------------------------------------------------
# The question's target
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    units: frozenset[str]  # words that name what is asked ("guests", "dollars", "hours")
    money: bool
    percent: bool
    choice: bool  # the question offers lettered options
    cents: bool
    echoes: frozenset[tuple[str, str]]  # (value, next word) and (previous word, value)
    values: frozenset[Fraction]  # every number in the question
    ask_words: frozenset[str]  # content words of the asking sentence
    text_key: str = ""  # the question without spaces, to recognise copied formulas
    formulas: frozenset[str] = frozenset()  # the question's formulas, without spaces
    bounds: tuple[Fraction, Fraction] | None = None  # "a residue from 0 to 82"
    who: bool = False  # the question asks for a person ("who would earn the most?")
    variable: str = ""  # the letter asked for ("What is the value of $n$?")


_NO_TARGET = Target(frozenset(), False, False, False, False, frozenset(), frozenset(), frozenset())

_WORD = re.compile(r"[A-Za-z]+")
_HOW_MANY = re.compile(r"\bhow\s+many\s+((?:[A-Za-z-]+\s+){0,6}[A-Za-z-]+)", re.IGNORECASE)
_HOW_MUCH = re.compile(r"\bhow\s+much\s+([A-Za-z-]+)?", re.IGNORECASE)
_IN_UNITS = re.compile(
    r"\b(?:in|as|expressed in)\s+((?:square|cubic)?\s*[A-Za-z]+(?:\s+per\s+[A-Za-z]+)?)\s*[?.,]",
    re.IGNORECASE,
)
_HOW_UNITS = {
    "old": ("years", "old", "year"),
    "long": (
        "hours",
        "hour",
        "minutes",
        "minute",
        "seconds",
        "second",
        "days",
        "day",
        "weeks",
        "years",
        "months",
        "feet",
        "inches",
        "meters",
        "miles",
        "cm",
    ),
    "far": ("miles", "mile", "kilometers", "km", "meters", "feet", "yards", "inches"),
    "fast": ("mph", "miles", "km", "kilometers", "meters", "feet", "per"),
    "tall": ("feet", "foot", "inches", "inch", "meters", "cm"),
    "heavy": ("pounds", "kg", "kilograms", "grams", "ounces"),
}
_MONEY_WORDS = re.compile(
    r"\b(?:money|dollars?|cents?|cost|costs|spend|spent|pay|paid|earn|earns|earned|make|makes|"
    r"save|saves|profit|price|charge|raise|owe|worth|budget)\b",
    re.IGNORECASE,
)
_STOP = _words("""
    a an the of to in on at for from by with and or is are was were be been does do did
    how many much what which who whom whose when where will would can could should shall may
    might must has have had his her their its this that these those there than then it he she
    they them we you your our i me my if each every all any some more less most least into per
    about after before over under find compute calculate determine express answer value total
    number""")


_NOT_UNITS = _words("terms form simplest interval notation base degrees")
_HOW_MUCH_VERBS = _words("money more less did does do will would is was must should can has have")


def _asked_units(ask: str) -> set[str]:
    """Words naming what is asked: "how many guests", "how old", "in dollars", "which shape"."""
    units: set[str] = set()
    for m in _HOW_MANY.finditer(ask):
        head = _head_noun(m.group(1))
        if head:
            units.add(head)
            units.add(_singular(head))
    for m in re.finditer(r"\bhow\s+(old|long|far|fast|tall|heavy)\b", ask, re.IGNORECASE):
        units.update(_HOW_UNITS[m.group(1).lower()])
    for m in _IN_UNITS.finditer(ask):
        for w in _WORD.findall(m.group(1)):
            wl = w.lower()
            if wl not in _STOP and wl not in _NOT_UNITS:
                units.add(wl)
                units.add(_singular(wl))
    for m in re.finditer(r"\b(?:which|what)\s+([A-Za-z]+)\b", ask, re.IGNORECASE):
        noun = m.group(1).lower()
        if noun not in _STOP and noun not in _VERBISH and len(noun) > 2:
            units.add(noun)
            units.add(_singular(noun))
    return units


def _asks_money(q: str, ask: str, units: set[str]) -> bool:
    """Whether an amount of money is asked ("how much did he spend?"); adds the noun of
    "how much X" to ``units``."""
    money = False
    mm = _HOW_MUCH.search(ask)
    if mm is not None:
        word = (mm.group(1) or "").lower()
        if word in _HOW_MUCH_VERBS or _MONEY_WORDS.search(ask):
            money = "$" in q or "dollar" in q.lower() or "€" in q or "cent" in ask.lower()
        if word and word not in _STOP and word != "money":
            units.add(word)
    if re.search(
        r"\bhow\s+many\s+(?:dollars|cents)\b|\bin\s+dollars\b|\bin\s+cents\b", ask, re.IGNORECASE
    ):
        money = True
    return money


def _question_numbers(q: str) -> tuple[frozenset[tuple[str, str]], frozenset[Fraction]]:
    """The question's numbers, and each with its neighbouring words (to recognise echoes)."""
    echoes: set[tuple[str, str]] = set()
    values: set[Fraction] = set()
    for cand in _scan_numbers(q):
        key = _value_key(cand.value)
        if isinstance(cand.value, Fraction):
            values.add(cand.value)
        if cand.next_word:
            echoes.add((key, cand.next_word))
        if cand.prev_word:
            echoes.add((cand.prev_word, key))
    return frozenset(echoes), frozenset(values)


def _ask_words(ask: str) -> frozenset[str]:
    """Content words of the asking sentence.  LaTeX commands ("\\frac") are not words of the
    question, unless the question is only a formula ("What is the value of $\\sqrt{53}$?"),
    where they are all there is to go on."""
    words = frozenset(
        w.lower()
        for w in _WORD.findall(_LATEX_COMMAND.sub(" ", ask))
        if len(w) >= 4 and w.lower() not in _STOP
    )
    if words - _IMPERATIVE_VERBS:
        return words
    return (
        words
        | _FORMULA_WORDS
        | frozenset(w.lower() for w in _WORD.findall(ask) if len(w) >= 4 and w.lower() not in _STOP)
    )


@functools.lru_cache(maxsize=2048)
def read_question(question: str) -> Target:
    """What the question asks for and which of its numbers an answer sentence may repeat."""
    q = question[-QUESTION_WINDOW:]
    if not q.strip():
        return _NO_TARGET
    ask = _ask_sentence(q)
    units = _asked_units(ask)
    money = _asks_money(q, ask, units)
    percent = bool(re.search(r"\bpercent(?:age)?\b|%\s*\?", ask, re.IGNORECASE))
    cents = bool(re.search(r"\bhow\s+many\s+cents\b|\bin\s+cents\b", ask, re.IGNORECASE))
    choice = bool(re.search(r"\(\s*[A-E]\s*\)|\\textbf\{\s*\(\s*[A-E]\s*\)", q))
    echoes, values = _question_numbers(q)
    ask_words = _ask_words(ask)
    formulas = frozenset(
        key for a, b, c, d in math_spans(ask) if 4 <= len(key := _formula_key(ask[c:d])) <= 80
    )
    return Target(
        frozenset(units),
        money,
        percent,
        choice,
        cents,
        echoes,
        values,
        ask_words,
        re.sub(r"\s+", "", q),
        formulas,
        _bounds(q),
        re.search(r"\bwho(?:se)?\b", ask, re.IGNORECASE) is not None,
        _asked_variable(ask),
    )


_LATEX_COMMAND = re.compile(r"\\[A-Za-z]+")
_IMPERATIVE_VERBS = _words("evaluate simplify calculate determine express solve")
# what a sentence calls the value of a formula question ("the expression simplifies to 0.09")
_FORMULA_WORDS = _words("expression")
_RANGE_WORDS = re.compile(
    r"\b(?:residue|remainder|answer|integer|value|number)\b[^.?]{0,40}?\bfrom\s+\$?(-?\d+)\$?"
    r"\s+(?:to|through)\s+\$?(-?\d+)\$?",
    re.IGNORECASE,
)
_RANGE_MATH = re.compile(
    r"\$\s*(-?\d+)\s*(?:\\le(?:q)?|<|≤)\s*[a-z]\s*(?:\\le(?:q)?|<|≤)\s*(-?\d+)\s*\$"
)


def _bounds(ask: str) -> tuple[Fraction, Fraction] | None:
    """The range the answer must lie in, when the question states one."""
    m = _RANGE_WORDS.search(ask) or _RANGE_MATH.search(ask)
    if m is None:
        return None
    low, high = Fraction(int(m.group(1))), Fraction(int(m.group(2)))
    return (low, high) if low <= high else None


_SUPERSCRIPTS = str.maketrans({"²": "^2", "³": "^3", "⁴": "^4", "−": "-", "·": "*"})


def _formula_key(text: str) -> str:
    """A formula without spaces, braces or ``\\left``/``\\right``, for loose comparison."""
    t = text.translate(_SUPERSCRIPTS).replace("\\left", "").replace("\\right", "")
    return re.sub(r"[\s{}$]+", "", t).strip(".,;:")


_NOT_NOUNS = _words(
    "more fewer less times different other total of the a an in on at for to from with by "
    "one two three four five six seven eight nine ten hundred thousand first second"
)
_VERBISH = _words(
    "are is was were do does did can could will would should has have had must might may "
    "need needs there"
)


def _head_noun(phrase: str) -> str:
    """The counted noun of "how many <phrase>": the last noun before a verb or "of"
    ("pink plastic flamingos were" -> flamingos, "of the first hundred integers" ->
    integers, "cards of all colors" -> cards)."""
    words = [w.lower() for w in _WORD.findall(phrase)]
    head = ""
    for w in words:
        if w in _VERBISH:
            break
        if w == "of" and head:
            break
        if w not in _NOT_NOUNS and w not in _STOP:
            head = w
    return head


_IMPERATIVE = re.compile(
    r"(?:^|(?<=[.!:?$]\s)|(?<=[.!:?]\s\s)|(?<=\n))\s{0,3}(?:find|compute|calculate|determine|"
    r"what|express|simplify|evaluate|solve|how|write|enter)\b",
    re.IGNORECASE,
)


_ASKED_VARIABLE = re.compile(
    r"\b(?:value of|solve for|find|compute|what is|determine)\s{1,3}(?:the (?:integer |positive )?"
    r"value of\s{1,3})?(?:\$|\\\()\s?([a-zA-Z])\s?(?:\$|\\\))",
    re.IGNORECASE,
)


def _asked_variable(ask: str) -> str:
    """The single letter the question asks for ("What is the value of $n$?"), or ""."""
    m = _ASKED_VARIABLE.search(ask)
    return m.group(1) if m is not None else ""


_SOLVED_MARK = re.compile(
    r"=>|⇒|\\Rightarrow|\\implies|\b(?:so|thus|therefore|hence|gives|get|solving|we have)\b",
    re.IGNORECASE,
)
_CONDITIONAL = re.compile(
    r"\b(?:if|try|trying|test|testing|suppose|assume|assuming|plug|plugging|substitute|"
    r"substituting|check|checking|say)\b",
    re.IGNORECASE,
)
_SOLVED_NUMBER = r"(-?\d{1,12}(?:\.\d{1,12})?(?:/\d{1,12})?|-?\\frac\{\d{1,12}\}\{\d{1,12}\})"


def _solved_value(text: str, variable: str, *, marked: bool = True) -> str | None:
    """ "Solving for n: 4n = 76 => n = 19.": the sentence ends by giving the asked letter a
    number.  With ``marked``, a concluding word or arrow must precede it and nothing
    conditional ("if", "try", "plugging in") may."""
    if not variable or "=" not in text:
        return None
    tail = text[-120:]
    m = re.search(
        rf"(?<![A-Za-z\\]){variable}\s?=\s?{_SOLVED_NUMBER}\s?(?:\\\)|\$|\\\])?\s?[.,]?\s?$",
        tail,
    )
    if m is None:
        return None
    head = text[: len(text) - len(tail) + m.start()]
    if marked and (_SOLVED_MARK.search(head[-200:]) is None or _CONDITIONAL.search(head)):
        return None
    return m.group(1)


def _ask_sentence(q: str) -> str:
    """The asking part: the last sentence with a question mark or an imperative."""
    end = q.rfind("?")
    if end != -1:
        start = max(q.rfind(". ", 0, end), q.rfind("\n", 0, end), q.rfind("? ", 0, end))
        return q[start + 1 : end + 1]
    last = None
    for last in _IMPERATIVE.finditer(q):  # noqa: B007 - the last match is wanted
        pass
    return q[last.start() :] if last is not None else q[-300:]


def _singular(word: str) -> str:
    if len(word) > 3 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("es") and word[-3] in "sxz":
        return word[:-2]
    if len(word) > 2 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


# --------------------------------------------------------------------------------------
# Numbers and values in a sentence
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    text: str  # as written, for the verdict record
    value: Fraction | str  # exact number, or the formula without spaces
    start: int
    end: int
    prev_word: str
    next_word: str
    percent: bool
    money: bool


_NUM = re.compile(
    # not the tail of a hyphenated word either: ``pytest-0`` in a path is not the number 0
    r"(?<![\w.^_/])(?<!\w-)(?P<money>[$€£]\s?)?(?P<sign>[-−])?"
    r"(?P<num>\d{1,3}(?:(?:,|\\,|\{,\}| |\u2009|\u202f)\d{3})+(?![\d,])(?:\.\d+)?"
    r"|\d+(?:\.\d+)?|\.\d+)"
    r"(?:\s*/\s*(?P<den>\d+)(?!\d|\.\d))?"
    r"(?P<ord>st|nd|rd|th)?(?P<pct>\s?%|\s?\\%|\s?percent\b)?(?P<pi>\s?(?:π|\\pi\b))?"
    r"(?![\w^])"
)
_TIME = re.compile(r"\b\d{1,2}:\d{2}\b")
_WORD_NUMBERS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "hundred": 100,
}


def _value_key(value: Fraction | str) -> str:
    return str(value)


def math_spans(s: str) -> list[tuple[int, int, int, int]]:
    """Math segments of ``s`` as (start, end, inner start, inner end): ``\\( \\)``,
    ``\\[ \\]``, ``$$ $$`` and ``$ $`` (a ``$`` before a price is not math)."""
    out: list[tuple[int, int, int, int]] = []
    i = 0
    n = len(s)
    while i < n:
        c = s[i]
        if c == "\\" and i + 1 < n and s[i + 1] in "([":
            closer = "\\)" if s[i + 1] == "(" else "\\]"
            end = s.find(closer, i + 2)
            if end == -1:
                break
            out.append((i, end + 2, i + 2, end))
            i = end + 2
            continue
        if c == "$":
            if s.startswith("$$", i):
                end = s.find("$$", i + 2)
                if end == -1:
                    break
                out.append((i, end + 2, i + 2, end))
                i = end + 2
                continue
            if _inline_dollar_math(s, i):
                end = s.find("$", i + 1)
                out.append((i, end + 1, i + 1, end))
                i = end + 1
                continue
        i += 1
    return out


def _scan_numbers(s: str, skip: list[tuple[int, int, int, int]] | None = None) -> list[Candidate]:
    """Every plainly written number in ``s`` with the words around it (times excluded, and
    numbers inside the ``skip`` spans)."""
    times = [(m.start(), m.end()) for m in _TIME.finditer(s)]
    times.extend((a, b) for a, b, _, _ in skip or ())
    inside = _Spans(times)
    out: list[Candidate] = []
    for m in _NUM.finditer(s):
        if inside.covers(m.start()):
            continue
        if m.group("ord") and m.group("den"):
            continue
        try:
            value = Fraction(re.sub(r"[^\d.]", "", m.group("num")))
            if m.group("den"):
                den = int(m.group("den"))
                if den == 0:
                    continue
                value = value / den
        except (ValueError, ZeroDivisionError):
            continue
        if m.group("sign"):
            value = -value
        if m.group("pi"):
            text = m.group(0).strip()  # "12π": a multiple of pi, compared as written
            out.append(
                Candidate(
                    text,
                    re.sub(r"\s+", "", text),
                    m.start(),
                    m.end(),
                    _word_before(s, m.start()),
                    _word_after(s, m.end()),
                    False,
                    False,
                )
            )
            continue
        out.append(
            Candidate(
                text=m.group(0).strip(),
                value=value,
                start=m.start(),
                end=m.end(),
                prev_word=_word_before(s, m.start()),
                next_word=_word_after(s, m.end()),
                percent=m.group("pct") is not None,
                money=m.group("money") is not None,
            )
        )
    return out


class _Spans:
    """Membership in a set of [start, end) spans for increasing positions, in linear time."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        self._spans = sorted(spans)
        self._k = 0
        self._reach = -1  # the furthest end among spans that start at or before the position

    def covers(self, pos: int) -> bool:
        while self._k < len(self._spans) and self._spans[self._k][0] <= pos:
            self._reach = max(self._reach, self._spans[self._k][1])
            self._k += 1
        return pos < self._reach


def _word_before(s: str, i: int) -> str:
    j = i
    while j > 0 and s[j - 1] in " \t$€£(":
        j -= 1
    k = j
    while k > 0 and s[k - 1].isalpha() and j - k < 30:
        k -= 1
    return s[k:j].lower()


def _word_after(s: str, i: int) -> str:
    j = i
    n = len(s)
    while j < n and s[j] in " \t-":
        j += 1
    if s.startswith("\\text{", j):
        j += 6
    if s.startswith("\\", j):
        j += 1
    k = j
    while k < n and s[k].isalpha() and k - j < 30:
        k += 1
    return _singular(s[j:k].lower())


# --------------------------------------------------------------------------------------
# Statements
# --------------------------------------------------------------------------------------

_PHRASE = re.compile(
    r"(?:\bfinal\s+answer\s*(?:is|:|=|would be|should be)?|\bthe\s+(?:correct\s+)?answer\s+"
    r"(?:is|would be|should be|will be)|\banswer\s*:|\banswers?\s+(?:is|are)|"
    r"\bfinal\s+result\s*(?:is|:))\s*:?",
    re.IGNORECASE,
)
_PHRASE_AFTER = re.compile(
    r"\bis\s+(?:the|our|my)\s+(?:correct\s+|final\s+)?answer\b", re.IGNORECASE
)
_CONCLUSION = re.compile(
    r"^\W*(?:therefore|thus|so|hence|in summary|to summarize|in conclusion|finally|overall|"
    r"consequently|as a result|altogether|in total|this means|this gives|we (?:can )?conclude)\b",
    re.IGNORECASE,
)
_HEDGE = re.compile(
    r"\b(?:perhaps|maybe|possibly|probably|presumably|i guess|not sure|unsure|"
    r"i'm not certain|might be|could be|may be|might have|should be around)\b",
    re.IGNORECASE,
)
_WITHDRAW = re.compile(
    r"\b(?:incorrect|not correct|isn't correct|is wrong|was wrong|be wrong|that's wrong|"
    r"made a mistake|an error|a mistake|contradiction|discrepancy|does not satisfy|"
    r"doesn't satisfy|do not satisfy|not valid|invalid|not the (?:correct|right|minimum|"
    r"maximum|smallest|largest|answer)|not possible|can't be right|cannot be right|"
    r"doesn't make sense|does not make sense|not (?:an? )?integer|misread|misunderstood|"
    r"overlooked|i forgot|a miscalculation|miscalculated|too straightforward|too easy|"
    r"too simple)\b",
    re.IGNORECASE,
)
_NEGATED = re.compile(
    r"\b(?:didn't|did not|don't|do not|no|not|without|avoid|any|make sure|check for|"
    r"checking for|there's no|there is no)\W+(?:\w+\W+){0,2}$",
    re.IGNORECASE,
)


def _withdrawal(text: str) -> re.Match[str] | None:
    """The first withdrawal in ``text`` ("that is incorrect", "I made a mistake") that is
    not negated ("to make sure I didn't make a mistake")."""
    for m in _WITHDRAW.finditer(text):
        if _NEGATED.search(text[max(0, m.start() - 30) : m.start()]) is None:
            return m
    return None


_COPULA = _words(
    "is are was were be been equals equal equaling makes gives get gets got has have had "
    "needs need costs cost spent spends spend pays pay paid earns earn earned makes make made "
    "saves save saved takes take took sold sells buys bought uses used invite ate eats "
    "left receive received weighs collect collects raises raised owes will"
)
_PREPOSITIONS = _words(
    "in of for from to by after with per at on than over about within between among into "
    "each before during under around near out across since until"
)
_MEASURE_NOUNS = _words(
    "total sum average mean profit cost price value speed area volume difference remainder "
    "distance length perimeter product rate amount weight height balance loss gain income "
    "salary fee bill score count probability"
)
_SUBORDINATE = re.compile(
    r"\b(?:consisting of|including|such as|i\.e\.|namely|"
    r"compared to|instead of|rather than|out of|because|since|given that|where)\b|"
    # ", as 53 cannot be factored": "as" meaning "because"
    r",\s{0,3}as\s(?=[\w$\\{}]{1,30}\s(?:is|are|was|were|can|cannot|has|have|does|do|did|"
    r"will|would|equals|divides)\b)",
    re.IGNORECASE,
)


_ASCII_ANCHORS = tuple(a for a in extract._ANCHORS if a.isascii())


def _last_phrase(text: str) -> int | None:
    """End of the last answer phrase in ``text`` (English, or any language of
    :data:`mathif.grading.extract._ANSWER_PHRASES`), or None."""
    end = None
    low = text.lower()
    if text.isascii() and not any(a in low for a in _ASCII_ANCHORS):
        return None
    if "answer" in low or "result" in low:
        for m in _PHRASE.finditer(text):
            end = m.end()
    present = frozenset(a for a in extract._ANCHORS if a in low)
    if present:
        same = len(low) == len(text)
        regex = extract._phrase_regex(present, 0 if same else re.IGNORECASE)
        for m in regex.finditer(low if same else text):
            if end is None or m.end() > end:
                end = m.end()
    return end


def _is_cut_copy(last: Sentence, earlier: list[Sentence]) -> bool:
    """The cut-off last line of a loop: a prefix of a line stated before."""
    prefix = last.text.strip()
    if len(prefix) < 4:
        return True
    return any(s.text.startswith(prefix) and len(s.text) > len(prefix) for s in earlier[-40:])


def _complete_statement(s: Sentence) -> bool:
    """An unpunctuated last line that still states an answer ("Answer: 16", "240")."""
    t = s.text.strip()
    if _NUM.fullmatch(t) and not s.marker:
        return True
    if _last_phrase(t) is None:
        return False
    # a number or bracket followed by at most three words ("Answer: 16 apples")
    tail = t[-60:]
    k = len(tail)
    while k > 0 and not (tail[k - 1].isdigit() or tail[k - 1] in ")}"):
        k -= 1
    return k > 0 and len(tail[k:].split()) <= 3 and not any(ch.isdigit() for ch in tail[k:])


@dataclass(frozen=True)
class _Reading:
    """What one sentence says: a value (or ambiguous values), a doubt, or nothing."""

    kind: str  # "value", "ambiguous", "doubt", "none"
    answer: str | None = None
    rule: str | None = None
    candidates: tuple[str, ...] = ()
    explicit: bool = False
    on_target: bool = False
    score: int = 0  # how strongly the sentence states its value (see :func:`_candidates`)
    strong: bool = False  # the value is what the question asks (its unit, or its formula)


_RESTART = re.compile(
    r"^(?:Step-by-step (?:explanation|solution)\s*:?$|(?:Explanation|Solution)\s*:$|"
    r"To solve (?:the|this) problem|Let's solve (?:the|this) problem|Let's break (?:it|this)"
    r" down|Let's solve this step by step|To (?:find|determine|calculate|compute|solve|convert|"
    r"simplify|evaluate|answer)\b[^.]{0,200}\bwe (?:can|need to|will|must) (?:follow these"
    r" steps|break (?:it|this|the problem) down)\b)",
    re.IGNORECASE,
)


def _opening(text: str) -> str:
    """The first words of the answer part, to recognise a solution that starts over."""
    head = text.lstrip()[:200]
    first = head.split("\n", 1)[0]
    return re.sub(r"\W+", "", first)[:40].lower()


def _is_restart(s: Sentence, opening: str, target: Target = _NO_TARGET) -> bool:
    """``s`` starts the solution again (a model that reached its answer and began anew),
    or repeats the question from its beginning (the prelude of a new attempt)."""
    if s.marker and s.marker.startswith("Step 1") and s.marker[6:].strip() == ":":
        return True
    if _opens_question(s, target):
        return True
    if _RESTART.match(s.text):
        return True
    if len(opening) < 20 or not s.text[:1].isalnum() or s.text[:1].lower() != opening[:1]:
        return False
    key = re.sub(r"\W+", "", s.text[:80])[:40].lower()
    return key.startswith(opening[:30])


_LEAD_IN = re.compile(
    r"^(?:therefore|thus|hence|so|finally|in conclusion|in summary|as a result)\s?,?\s?:$",
    re.IGNORECASE,
)


def _join_lead_ins(sentences: list[Sentence]) -> list[Sentence]:
    """ "Therefore:" on its own line introduces the next line ("Total = 729 - 192 + 3 = 540.")."""
    out: list[Sentence] = []
    pending: Sentence | None = None
    for s in sentences:
        if pending is not None:
            s = Sentence(f"{pending.text} {s.text}", pending.start, pending.marker)
            pending = None
        if _LEAD_IN.match(s.text.strip()):
            pending = s
            continue
        out.append(s)
    if pending is not None:
        out.append(pending)
    return out


def _question_key(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _copies_question(s: Sentence, target: Target) -> bool:
    """The sentence is copied from the question ("Grace weighs 125 pounds." when the question
    says so): a restatement, not a result."""
    if not target.text_key:
        return False
    key = _question_key(s.text)
    return len(key) >= 15 and key in target.text_key


def _opens_question(s: Sentence, target: Target) -> bool:
    """The sentence repeats the question's opening words: the question is being restated."""
    head = target.text_key[:40]
    if len(head) < 15:
        return False
    key = _question_key(s.text[:200])
    return len(key) >= 15 and (key.startswith(head) or head.startswith(key))


_CUT_LEAD = re.compile(
    r"^\W*(?:therefore|thus|so|hence|finally|in conclusion|in summary)\b[, ]*(?:the\s)?",
    re.IGNORECASE,
)


def _cut_conclusion(cut: Sentence, before: list[Sentence], target: Target) -> Found | None:
    """Cut off while concluding: "Distance = 10 / sqrt(5) = 2 * sqrt(5). Therefore, the shortest
    distance from" states the value computed for the asked quantity just before."""
    m = _CUT_LEAD.match(cut.text)
    if m is None or not before or not target.ask_words:
        return None
    named = {w.lower() for w in _WORD.findall(cut.text[m.end() :])[:4]}
    prev = before[-1].text
    eq = prev.find("=")
    if not named & target.ask_words or eq == -1 or "$" in prev or "\\" in prev:
        return None
    lhs = {w.lower() for w in _WORD.findall(prev[:eq])}
    if not (lhs & named & target.ask_words) or len(lhs) > 4:
        return None  # "Distance = ...", where the cut sentence names the distance
    reading = _value_in(prev, target, "conclusion")
    if reading.kind != "value" or reading.answer is None or reading.score < 1:
        return None
    return Found(reading.answer, "conclusion")


def _decide(
    sentences: list[Sentence], target: Target, finished: bool, restarts: list[bool]
) -> Found:
    loop = _loop_answer(sentences, target) if not finished else None
    if loop is not None:
        return loop
    # A solution started over after its answer: in the restarted part (often cut off), only
    # an explicit answer statement counts, and the answer before the restart stands.
    restart = max((i for i, r in enumerate(restarts) if r), default=None)
    checking = False  # whether the zone after ``restart`` is a check rather than a restart
    if (
        restart is not None
        and finished
        and not any(_last_phrase(s.text) is not None for s in sentences[:restart])
    ):
        restart = None  # a finished text that started over runs to its own conclusion
    if not finished:
        # a check cut off by the token limit: its partial results are not answers either
        base = max(0, len(sentences) - 80)
        check = max(
            (i for i in range(base, len(sentences)) if _CHECKING.search(sentences[i].text)),
            default=None,
        )
        if check is not None and (restart is None or check > restart):
            restart, checking = check, True
    found = _walk_back(sentences, target, finished, restarts, restart, checking)
    if found is None and restart is not None:
        found = _walk_back(sentences, target, finished, restarts, None)
    if found is not None and (found.answer is not None or found.ambiguous or finished):
        return found
    if finished:
        loop = _loop_answer(sentences, target)
    return loop if loop is not None else (found or NOTHING)


def _walk_back(
    sentences: list[Sentence],
    target: Target,
    finished: bool,
    restarts: list[bool],
    restart: int | None,
    checking: bool = False,
) -> Found | None:
    """The latest statement of an answer, going backwards; NOTHING after a doubt.

    From ``restart`` on, the text restarted the solution (only an answer phrase counts there)
    or, when ``checking``, re-checks a result (a concluding sentence about exactly what the
    question asks counts too: "So, 20 feet per minute is 4 inches per second.")."""
    quiet_after = True  # no sentence after the current one states a number
    undecided = False  # a later sentence looks for other solutions ("one possible solution")
    for index in range(len(sentences) - 1, -1, -1):
        s = sentences[index]
        quiet = quiet_after
        quiet_after = quiet_after and not _states_number(s)
        undecided = undecided or _MORE_CASES.search(s.text) is not None
        closing = (finished and index == len(sentences) - 1) or (
            index + 1 < len(sentences) and restarts[index + 1] and not restarts[index]
        )
        if _ELABORATION.match(s.text) and index > 0:
            continue  # "This includes 600 employees and 21 tour guides."
        if _copies_question(s, target):
            continue  # the question restated ("Grace weighs 125 pounds."), not a result
        reading = _read(s, target, closing)
        if reading.kind == "doubt":
            return NOTHING
        if reading.kind == "none":
            continue
        if (
            restart is not None
            and index >= restart
            and reading.rule not in ("phrase", "choice")
            and not (checking and reading.explicit and reading.strong and reading.kind == "value")
        ):
            continue
        # away from the end, a concluding sentence counts when nothing but closing remarks
        # follow it, or when it is about what the question asks (in a cut-off text,
        # "Therefore, a = 4." may conclude one step of a restarted derivation)
        if not (closing or reading.rule in ("phrase", "choice")) and not (
            reading.explicit and (reading.on_target or (finished and quiet))
        ):
            continue
        if undecided and reading.rule not in ("phrase", "choice"):
            return NOTHING  # "a = 41 ... that's one possible solution; other b's next": open
        if reading.kind == "ambiguous":
            return Found(None, reading.rule, reading.candidates)
        return Found(reading.answer, reading.rule)
    return None


_MORE_CASES = re.compile(
    r"\b(?:one possible (?:solution|value|answer)|other (?:possible )?(?:solutions|values)|"
    r"other possible)\b",
    re.IGNORECASE,
)


_CASE = re.compile(
    r"\b(?:(?:from|for|at) (?:starting )?(?:point|vertex|city) [A-Z]\b|in (?:each|the "
    r"(?:first|second|third|other)) case|for (?:each|the (?:first|second|third)) case|"
    r"(?:in|for) case \d|in the case (?:of|where|when))",
    re.IGNORECASE,
)
_CHECKING = re.compile(
    r"\b(?:let me (?:just )?(?:double-check|verify|check|make sure|confirm|recheck)|"
    r"let's (?:double-check|verify|check|confirm)|to (?:double-check|verify|confirm)|"
    r"just to (?:be (?:thorough|sure|safe)|make sure|double-check|confirm|check))\b",
    re.IGNORECASE,
)
_ELABORATION = re.compile(
    r"^(?:(?:This|That|These|It)\s+(?:includes?|consists?|comprises?|is made up|breaks? down|"
    r"accounts?|is (?:split|divided)|represents?)|To (?:verify|check|confirm|double-check))\b",
    re.IGNORECASE,
)


def _states_number(s: Sentence) -> bool:
    """The sentence holds a digit or math (closing remarks and checks do not)."""
    return _DIGIT.search(s.text) is not None or "$" in s.text or "\\" in s.text


def _loop_answer(sentences: list[Sentence], target: Target) -> Found | None:
    """A repetition loop: the last statements that state a value all state the same one,
    three times or more ("The answer is 75." ... "The answer is 75." ... cut off)."""
    recent = sentences[-60:]
    seen: dict[str, int] = {}
    for s in recent:
        seen[s.text] = seen.get(s.text, 0) + 1
    if sum(1 for s in recent[-8:] if seen[s.text] >= 2) < 2 and (
        sum(1 for s in recent[-8:] if _last_phrase(s.text) is not None) < 3
    ):
        return None  # the end does not repeat itself: no loop
    # the statements, latest first, until eight values are known
    stated: list[tuple[Fraction | str, str, bool]] = []
    for s in reversed(recent):
        if sum(1 for *_, e in stated if e) >= 8:
            break
        if not _triggered(s.text) and seen[s.text] < 2:
            continue
        if _withdrawal(s.text) or _HEDGE.search(s.text) or _copies_question(s, target):
            continue
        explicit = _last_phrase(s.text) is not None or _CONCLUSION.search(s.text) is not None
        if not explicit and (seen[s.text] < 2 or _COMPUTATION.search(s.text)):
            continue  # a derivation step, not a repeated statement
        reading = _read(s, target, closing=True)
        if not explicit and (
            not reading.on_target or reading.score < 1 or s.text.rstrip().endswith(":")
        ):
            continue
        if reading.kind == "value" and reading.answer is not None:
            firm = explicit and (reading.score >= 1 or reading.on_target)
            stated.append((_normal(reading.answer), reading.answer, firm))
    # when the loop concludes explicitly with a result ("Therefore: Total = 729 - 192 + 3 =
    # 540."), its other repeated sentences are steps ("... with two lanes empty is 3.")
    if sum(1 for *_, e in stated if e) >= 3:
        stated = [v for v in stated if v[2]]
    values = [(v, a) for v, a, _ in stated[:8]]
    if len(values) < 3 or len({v for v, _ in values[:3]}) > 1:
        return None  # the last three statements disagree
    last = values[0][0]
    if sum(v == last for v, _ in values) >= 4:
        return Found(values[0][1], "loop")
    return None


_COMPUTATION = re.compile(r"[=*+×]|\bbecause\b")


def _normal(answer: str) -> Fraction | str:
    for cand in _scan_numbers(answer):
        if cand.start == 0 or answer[: cand.start].strip() in ("$", "€", "£"):
            return cand.value
    return re.sub(r"\s+", "", answer)


_TRIGGERS = _words("""
    answer answers result therefore thus so hence summary summarize conclusion conclude
    finally overall consequently altogether total means gives incorrect correct wrong mistake
    error contradiction discrepancy satisfy valid invalid possible right sense integer misread
    misunderstood overlooked forgot perhaps maybe possibly probably presumably guess sure
    unsure certain might could may should seems result""") | frozenset(
    a for a in extract._ANCHORS if a.isascii() and " " not in a
)
_LOWER_WORD = re.compile(r"[a-z]+")


def _triggered(text: str) -> bool:
    """Whether the sentence holds a word that can make it a statement or a doubt (a cheap
    test that spares the regexes on plain derivation lines)."""
    if not text.isascii():
        return True
    return not _TRIGGERS.isdisjoint(_LOWER_WORD.findall(text[:_MAX_SENTENCE].lower()))


def _read(s: Sentence, target: Target, closing: bool) -> _Reading:
    """What one sentence says."""
    return _read_text(s.text, target, closing)


def _phrase_reading(text: str, phrase_end: int | None, target: Target) -> _Reading | None:
    """The value an answer phrase announces: after it ("The answer is 67 kilometers.") or,
    for "... is the answer", before it."""
    if phrase_end is not None:
        plural = _PLURAL.search(text[max(0, phrase_end - 40) : phrase_end]) is not None
        reading = _value_after(text[phrase_end:], target, "phrase", plural=plural)
        if reading.kind != "none":
            return _Reading(
                reading.kind,
                reading.answer,
                "choice" if reading.rule == "choice" else "phrase",
                reading.candidates,
                explicit=True,
                on_target=True,
            )
    after = _PHRASE_AFTER.search(text)
    if after is not None:
        reading = _value_in(text[: after.start()], target, "phrase", prefer_last=True)
        if reading.kind != "none":
            return _Reading(
                reading.kind,
                reading.answer,
                "phrase",
                reading.candidates,
                explicit=True,
                on_target=True,
            )
    return None


@functools.lru_cache(maxsize=4096)
def _read_text(text: str, target: Target, closing: bool) -> _Reading:
    """What a sentence's text says (cached by text: loops repeat sentences)."""
    if not closing and not _triggered(text) and not (target.variable and "=" in text):
        return _Reading("none")
    phrase_end = _last_phrase(text)
    withdrawn = _withdrawal(text)
    if withdrawn is not None and (phrase_end is None or phrase_end < withdrawn.end()):
        return _Reading("doubt")  # "..., and the correct answer is 7" survives its own "not"
    asked = text.rstrip().endswith("?")
    hedged = _HEDGE.search(text) is not None or asked
    phrased = _phrase_reading(text, phrase_end, target)
    if phrased is not None:
        return _Reading("doubt") if hedged else phrased
    solved = _solved_value(text, target.variable)
    if solved is not None and withdrawn is None:
        if hedged:
            return _Reading("doubt")
        return _Reading(
            "value", solved, "conclusion", explicit=True, on_target=True, score=3, strong=True
        )
    marked = _CONCLUSION.search(text) is not None
    if not (marked or closing) or (asked and not marked):
        return _Reading("none")  # a derivation step, or a question restated
    if _CASE.search(text):
        return _Reading("none")  # "from starting point C, the minimum is 13": one case only
    rule = "conclusion" if marked else "closing"
    subject = _PLURAL_SUBJECT.search(text)
    listed = _listed_values(text[subject.end() :], target) if subject is not None else None
    if listed is not None:
        reading = _Reading("value", listed, rule, on_target=True)
    else:
        reading = _value_in(text, target, rule)
    if reading.kind == "none":
        return reading
    if hedged:
        return _Reading("doubt")
    return _Reading(
        reading.kind,
        reading.answer,
        reading.rule,
        reading.candidates,
        explicit=marked,
        on_target=reading.on_target,
        score=reading.score,
        strong=reading.strong,
    )


# --------------------------------------------------------------------------------------
# Choosing the value
# --------------------------------------------------------------------------------------

_MATH_SPAN = re.compile(
    r"\\\[(?P<d1>.{1,600}?)\\\]|\$\$(?P<d2>.{1,600}?)\$\$|\\\((?P<i1>.{1,400}?)\\\)",
    re.DOTALL,
)
_SPAN_WORDS = _words(
    "sqrt frac pi and cdot times infty in cup cap le ge leq geq circ dfrac tfrac left right"
    " text mathrm"
)
_BARE_WORD = re.compile(r"[A-Za-z]{2,}")
_CHOICE_LETTER = re.compile(r"^\(?\s*([A-F])\s*\)?(?=[\s.,:;)]|$)")
_RHS = re.compile(r"=(?![^(]*\))")


_PLURAL_SUBJECT = re.compile(
    r"\b(?:roots|solutions|zeros|zeroes|values|answers)\b[^.;]{0,60}?\b(?:are|were)\b:?",
    re.IGNORECASE,
)
_PLURAL = re.compile(r"\b(?:answers|solutions|roots|values)\s+(?:are|is)\b", re.IGNORECASE)
_LIST_JOINER = re.compile(r"^(?:\s*(?:,|and|or|,\s*and)\s*)$")


def _value_after(rest: str, target: Target, rule: str, *, plural: bool = False) -> _Reading:
    """The value announced right after an answer phrase ("The answer is 67 kilometers.");
    after "the answers are", every value listed ("1 and -2" -> "1, -2")."""
    rest = rest.lstrip(" :=\t*").replace("**", "")
    if not rest.strip():
        return _Reading("none")
    if plural:
        listed = _listed_values(rest, target)
        if listed is not None:
            return _Reading("value", listed, rule, on_target=True)
    if target.choice:
        m = _CHOICE_LETTER.match(rest.replace("\\textbf{", "").replace("\\text{", ""))
        if m is not None:
            return _Reading("value", f"({m.group(1)})", "choice", on_target=True)
    found = _leading_math(rest)
    if found is not None and _BARE_WORD.fullmatch(found[0].strip()):
        found = None  # "Provide the final answer in hours.": a word, not a value
    if found is not None:
        lead, after = found
        if (
            not _candidates(after, target)
            or len(_candidates(rest, target)) <= 1
            or _starts_with_formula(rest)
            or after.lstrip()[:1] in (",", ";", "(", "—")
        ):
            return _Reading("value", lead, rule, on_target=True)
    return _value_in(rest, target, rule)


def _listed_values(rest: str, target: Target) -> str | None:
    """``1 and -2``, ``x = 1, x = 2, and x = 3``: the values joined by commas, or None when
    the text is not just such a list."""
    cands = [c for c, _ in _candidates(rest, target)]
    if len(cands) < 2:
        return None
    end = rest.find(".", cands[-1].end)
    tail = rest[cands[-1].end : end if end != -1 else len(rest)]
    if tail.strip(" .;") and len(tail.split()) > 3:
        return None
    for a, b in itertools.pairwise(cands):
        between = re.sub(r"\$|\\\(|\\\)|\b[a-z]\s*=", " ", rest[a.end : b.start])
        if not _LIST_JOINER.match(between):
            return None
    return ", ".join(_answer_text(c, rest) for c in cands)


def _starts_with_formula(rest: str) -> bool:
    """``(16/49, 48/49, 24/49)``, ``15x - 80``, ``5x - 7y + 11z + 4 = 0``: a formula, not a
    number that opens a sentence ("8 pens will cost $12.00")."""
    r = rest.strip()
    return r[:1] in "([{\\$" or bool(re.match(r"[-−]?\d+(?:\.\d+)?\s*[A-Za-z](?![A-Za-z])", r))


def _leading_math(rest: str) -> tuple[str, str] | None:
    """A formula or value at the start of ``rest`` (``$...$``, ``\\(..\\)`` or bare math),
    and the text after it."""
    r = rest.strip()
    delimited, found = _delimited_math(r)
    if delimited:
        return found
    return _bare_math(r)


def _delimited_math(r: str) -> tuple[bool, tuple[str, str] | None]:
    """Math opening ``r`` between delimiters: whether there is some, and its value with the
    text after it (None when the math holds no value)."""
    for opener, closer in (("\\(", "\\)"), ("\\[", "\\]"), ("$$", "$$")):
        if r.startswith(opener):
            end = r.find(closer, len(opener), 1200)
            if end != -1:
                value = _rhs(r[len(opener) : end])
                return True, ((value, r[end + len(closer) :]) if value else None)
    if r.startswith("$") and _inline_dollar_math(r, 0):
        end = r.find("$", 1)
        value = _rhs(r[1:end])
        return True, ((value, r[end + 1 :]) if value else None)
    return False, None


def _bare_math(r: str) -> tuple[str, str] | None:
    """Bare math opening ``r``: digits, operators, brackets, single letters and a few
    function names, up to the first ordinary word."""
    out: list[str] = []
    words = 0
    i = 0
    n = min(len(r), 300)
    while i < n:
        c = r[i]
        if c.isalpha():
            j = i
            while j < n and r[j].isalpha():
                j += 1
            word = r[i:j]
            if (
                len(word) >= 2
                and word.lower() not in _SPAN_WORDS
                and not (i > 0 and r[i - 1] == "\\")
            ):
                break
            if word.lower() == "and" and not _mixed_number(r, i):
                break
            words += len(word) >= 2
            out.append(word)
            i = j
            continue
        if c in ".,;" and (i + 1 >= n or r[i + 1] in " \n"):
            if c == "," and _list_continues(r, i):
                out.append(c)
                i += 1
                continue
            break
        if c == "\n":
            break
        out.append(c)
        i += 1
    span = "".join(out).strip()
    if not span or (not any(ch.isdigit() for ch in span) and not re.search(r"[A-Za-z]", span)):
        return None
    if not re.search(r"[\d)}\]πA-Za-z]", span[-1:]):
        span = span.rstrip("=+-*/^ ")
    if not span or (
        not any(ch.isdigit() for ch in span)
        and len(span) > 2
        and "\\" not in span
        and "π" not in span
    ):
        return None
    span = re.sub(r"(\d)\s+and\s+(\d+)\s*/\s*(\d+)", r"\1\\frac{\2}{\3}", span)
    return (span, r[i:]) if span else None


def _mixed_number(r: str, i: int) -> bool:
    """``137 and 1/2``: a whole number, "and", a fraction."""
    return bool(re.match(r"and\s+\d+\s*/\s*\d+", r[i : i + 20])) and bool(
        re.search(r"\d\s*$", r[max(0, i - 12) : i])
    )


def _list_continues(r: str, i: int) -> bool:
    """A comma inside ``(16/49, 48/49, 24/49)`` or ``1, 2, 3`` rather than ending a clause."""
    depth = r.count("(", 0, i) - r.count(")", 0, i) + r.count("[", 0, i) - r.count("]", 0, i)
    if depth > 0:
        return True
    return bool(re.match(r",\s*[-−]?\d", r[i : i + 6])) and bool(re.search(r"\d\s*$", r[:i][-4:]))


_CONGRUENCE = re.compile(r"\\equiv|≡|\\cong")


def _drop_modulus(t: str) -> str:
    """``44 \\pmod{83}`` -> ``44``; ``44 (mod 83)`` -> ``44``."""
    t = t.rstrip()
    for opener in ("\\pmod", "(\\mod", "(mod", "\\mod", "\\bmod"):
        k = t.rfind(opener)
        if k != -1 and len(t) - k <= 50 and t[-1:] in "})" + "0123456789":
            return t[:k].rstrip()
    return t


def _rhs(math: str) -> str | None:
    """The right-hand side of the last ``=`` (or ``\\equiv``) in a formula, or the formula;
    a trailing ``\\pmod{n}`` is dropped."""
    m = math.strip()
    if not m:
        return None
    if _CONGRUENCE.search(m):
        m = _drop_modulus(_CONGRUENCE.split(m)[-1]).strip() or m
    if "=" in m and not re.search(r"[<>]|\\le|\\ge", m):
        parts = m.split("=")
        rhs = parts[-1].strip()
        lhs = parts[0].strip()
        if rhs and (len(parts) > 2 or not _looks_like_equation_answer(lhs, rhs)):
            return rhs
    return m


def _looks_like_equation_answer(lhs: str, rhs: str) -> bool:
    """``5x - 7y + 11z + 4 = 0`` or ``y = -2x`` is itself the answer (an equation)."""
    return rhs in ("0",) and len(re.findall(r"[a-z]", lhs)) >= 2


def _value_in(text: str, target: Target, rule: str, *, prefer_last: bool = False) -> _Reading:
    """The value a sentence states, read with the question's target in mind."""
    cands = _candidates(text, target)
    if not cands and target.who:
        name = _named_answer(text)
        if name is not None:
            return _Reading("value", name, rule, on_target=True, score=1)
    if not cands:
        word = _number_word(text)
        if word is not None:
            return _Reading("value", word, rule, on_target=_mentions_target(text, target))
        return _Reading("none")
    best = max(score for _, score in cands)
    top = [c for c, score in cands if score == best]
    if prefer_last:
        top = [top[-1]]
    if target.money and not target.cents:
        top = _dollars_over_cents(top, [c for c, _ in cands])
    values = {c.value for c in top}
    if len(values) > 1:
        # a tie between a number copied from the question and a new one: the new one
        fresh = [c for c in top if not _in_question(c, target)]
        if fresh and len({c.value for c in fresh}) == 1:
            top = fresh
            values = {c.value for c in top}
    strong = best >= 3 or _formula_match(text, target)
    on_target = strong or _mentions_target(text, target)
    if len(values) == 1:
        chosen = top[-1]
        if rule == "closing" and text[chosen.start : chosen.start + 2] in ("\\[", "$$"):
            rule = "display"
        return _Reading(
            "value",
            _answer_text(chosen, text),
            rule,
            on_target=on_target,
            score=best,
            strong=strong,
        )
    return _Reading(
        "ambiguous",
        None,
        rule,
        tuple(dict.fromkeys(_answer_text(c, text) for c in top)),
        on_target=on_target,
    )


def _in_question(c: Candidate, target: Target) -> bool:
    """The candidate's number is written in the question (``999`` in ``$999_{10}$``)."""
    if not isinstance(c.value, Fraction):
        return False
    if c.value in target.values:
        return True
    if c.value.denominator != 1 or not target.text_key:
        return False
    digits = str(abs(c.value.numerator))
    k = target.text_key.find(digits)
    while k != -1:
        before = target.text_key[k - 1 : k]
        after = target.text_key[k + len(digits) : k + len(digits) + 1]
        if not before.isdigit() and not after.isdigit():
            return True
        k = target.text_key.find(digits, k + 1)
    return False


def _dollars_over_cents(top: list[Candidate], others: list[Candidate]) -> list[Candidate]:
    """ "100 cents (or $1)": one amount in two units; keep the unit the question uses."""
    cents = [c for c in top if c.next_word == "cent" and isinstance(c.value, Fraction)]
    if not cents:
        return top
    amounts = {c.value / 100 for c in cents}  # type: ignore[operator]
    dollars = [c for c in others if (c.money or c.next_word == "dollar") and c.value in amounts]
    if dollars and len(amounts) == 1:
        return [c for c in top if c not in cents] + dollars
    return top


def _answer_text(c: Candidate, text: str) -> str:
    t = c.text
    if c.money and t[:1] in "$€£":
        t = t[1:].strip()
    return re.sub(r"(?<=\d)(?:st|nd|rd|th)$", "", t)


def _formula_match(text: str, target: Target) -> bool:
    """The sentence writes a formula of the question ("So, AF² + BF² + CF² = 3R²")."""
    if not target.formulas:
        return False
    key = _formula_key(text)
    return any(f in key for f in target.formulas)


def _mentions_target(text: str, target: Target) -> bool:
    if _formula_match(text, target):
        return True
    words = {w.lower() for w in _WORD.findall(text)}
    singular = {_singular(w) for w in words}
    if target.units & (words | singular):
        return True
    return len(target.ask_words & (words | singular)) >= 1


def _last_display(text: str) -> tuple[str, int] | None:
    """The last display-math block of a sentence, reduced to its final value."""
    last = None
    for m in _MATH_SPAN.finditer(text):
        body = m.group("d1") or m.group("d2") or m.group("i1") or ""
        if m.group("i1") is not None:
            continue
        last = (body, m.end())
    if last is None:
        return None
    rhs = _rhs(last[0])
    if rhs is None or re.search(r"[A-Za-z]{4,}", re.sub(r"\\[A-Za-z]+", "", rhs)):
        return None
    return rhs.rstrip(" .,"), last[1]


def _inline_math_value(text: str) -> str | None:
    """The last inline formula (``$...$`` or ``\\(...\\)``) of a sentence, reduced."""
    last = None
    i = 0
    n = len(text)
    while i < n:
        if text.startswith("\\(", i):
            end = text.find("\\)", i + 2)
            if end == -1:
                break
            last = text[i + 2 : end]
            i = end + 2
            continue
        if text[i] == "$" and _inline_dollar_math(text, i):
            end = text.find("$", i + 1)
            last = text[i + 1 : end]
            i = end + 1
            continue
        i += 1
    if last is None:
        return None
    return _rhs(last)


_NAME = re.compile(r"\b([A-Z][a-z]{1,20}(?:\s[A-Z][a-z]{1,20})?)\b")
_NOT_NAMES = _words(
    "The So Therefore Thus Hence Finally Final Answer In This That It He She They We"
)


def _named_answer(text: str) -> str | None:
    """The person a sentence names, for "who" questions ("Navin earns the most.")."""
    for m in _NAME.finditer(text[:200]):
        if m.group(1).split()[0] not in _NOT_NAMES:
            return m.group(1)
    return None


def _number_word(text: str) -> str | None:
    m = re.search(
        r"\b(?:is|are|was|be|of|has|have|read|total)\s+(" + "|".join(_WORD_NUMBERS) + r")\b",
        text,
        re.IGNORECASE,
    )
    if m is None:
        return None
    return str(_WORD_NUMBERS[m.group(1).lower()])


_VARIABLE = re.compile(
    r"\\?[A-Za-z]{1,6}(?:_\{?[A-Za-z0-9]{1,3}\}?)?(?:\^\{?[A-Za-z0-9]\}?)?(?:\([A-Za-z]\))?"
)


def _math_atoms(
    text: str, spans: list[tuple[int, int, int, int]], target: Target
) -> list[Candidate]:
    """Each math segment of a sentence as one candidate (its right-hand side)."""
    out: list[Candidate] = []
    for start, end, a, b in spans:
        inner = text[a:b].strip()
        rhs = _rhs(inner)
        if not rhs:
            continue
        rhs = rhs.strip().rstrip(".,;")
        if _VARIABLE.fullmatch(rhs):
            continue  # "$x$", "$a_n$", "$f(x)$": the unknown's name, not a value
        number = _plain_value(rhs)
        percent = rhs.endswith("\\%") or rhs.endswith("%")
        out.append(
            Candidate(
                text=rhs,
                value=number if number is not None else re.sub(r"\s+", "", rhs),
                start=start,
                end=end,
                prev_word=_word_before(text, start),
                next_word=_word_after(text, end),
                percent=percent,
                money=False,
            )
        )
    return out


_TUPLE_WORDS = re.compile(r"\\[A-Za-z]+|sqrt|infinity|\binf\b|\bpi\b")


def _plain_tuples(text: str, spans: list[tuple[int, int, int, int]]) -> list[Candidate]:
    """``(2,4)``, ``(16/49, 48/49, 24/49)``, ``[-2, 7]``, ``(3*sqrt(2)/2, 5/2)`` written
    outside math: one value each.  A bracket scan (at most 120 characters per opening)."""
    out: list[Candidate] = []
    inside = _Spans([(a, b) for a, b, _, _ in spans])
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        if c not in "([" or (i > 0 and (text[i - 1].isalnum() or text[i - 1] in "^_\\")):
            i += 1
            continue
        if inside.covers(i):
            i += 1
            continue
        depth = 0
        commas = 0
        end = -1
        for j in range(i, min(n, i + 120)):
            ch = text[j]
            if ch in "([":
                depth += 1
            elif ch in ")]":
                depth -= 1
                if depth == 0:
                    end = j + 1
                    break
            elif ch == "," and depth == 1:
                commas += 1
            elif ch in ".;" and j + 1 < n and text[j + 1] == " " and depth == 1:
                break  # a sentence inside brackets, not a tuple
        if end == -1 or commas == 0 or commas > 6:
            i += 1
            continue
        body = text[i:end]
        inner = body[1:-1]
        parts = [p.strip() for p in inner.split(",")]
        if (
            not any(ch.isdigit() for ch in body)
            or any(not p for p in parts)
            or re.search(r"[A-Za-z]{3,}", _TUPLE_WORDS.sub("", body))
        ):
            i += 1
            continue
        out.append(
            Candidate(
                body,
                re.sub(r"\s+", "", body),
                i,
                end,
                _word_before(text, i),
                _word_after(text, end),
                False,
                False,
            )
        )
        i = end
    return out


_COPULA_AT = re.compile(
    r"\b(?:is|are|equals|becomes)\s+(?=[-−(]?\d|[-−(]?[a-z][\s^+\-*/=]|sqrt\(|√)"
)
_HAS_VARIABLE = re.compile(r"(?<![A-Za-z\\])[a-z](?![a-z])")
# "15 + 39/40 inches": a mixed number written as whole + proper fraction
_MIXED_SUM = re.compile(r"(\d{1,9})\s?\+\s?(\d{1,9})\s?/\s?(\d{1,9})")


def _copula_formulas(text: str, spans: list[tuple[int, int, int, int]]) -> list[Candidate]:
    """``the plane is 5x - 7y + 11z + 4 = 0.``, ``the expression is 15x - 80``: a formula in
    a variable written in prose after "is", as one value (numbers alone are found elsewhere)."""
    out: list[Candidate] = []
    for m in list(_COPULA_AT.finditer(text))[-3:]:
        start = m.end()
        if any(a <= start < b for a, b, _, _ in spans):
            continue
        window = text[start : start + 300]
        found = _leading_math(window)
        if found is None:
            continue
        span, after = found
        mixed = _MIXED_SUM.fullmatch(span.strip())
        if mixed is not None and int(mixed.group(2)) >= int(mixed.group(3)):
            mixed = None  # "15 + 41/40" is a sum, not a mixed number
        root = ("sqrt(" in span or "√" in span) and any(ch.isdigit() for ch in span)
        if (
            mixed is None
            and not root  # "sqrt(93) / 3"
            and not (_HAS_VARIABLE.search(span) and any(ch.isdigit() for ch in span))
        ):
            continue
        if not any(op in span for op in "+-−=^*/"):
            continue
        stripped = window.strip()
        end = start + (len(window) - len(window.lstrip())) + len(stripped) - len(after)
        out.append(
            Candidate(
                span,
                re.sub(r"\s+", "", span),
                start,
                end,
                _word_before(text, start),
                _word_after(text, end),
                False,
                False,
            )
        )
    return out


_PLAIN_RHS = re.compile(r"=\s*([^=\n]{1,80}?)\s*[.;]?\s*$")


def _plain_rhs(text: str, spans: list[tuple[int, int, int, int]]) -> list[Candidate]:
    """``AF² + BF² + CF² = 3R².``: the right-hand side of a closing plain-text equation
    when it is a formula (numbers alone are found by :func:`_scan_numbers`)."""
    m = _PLAIN_RHS.search(text[-200:])
    if m is None:
        return []
    offset = max(0, len(text) - 200)
    start = offset + m.start(1)
    if any(a <= start < b for a, b, _, _ in spans):
        return []
    rhs = m.group(1).strip().translate(_SUPERSCRIPTS)
    if not rhs or _plain_value(rhs) is not None:
        return []
    if re.search(r"[A-Za-z]{2,}", re.sub(r"\\[A-Za-z]+|sqrt|pi", "", rhs)):
        return []  # "2 is (2,4)", "15 cm 2": prose after the equation, not a formula
    return [
        Candidate(
            rhs,
            re.sub(r"\s+", "", rhs),
            start,
            offset + m.end(1),
            _word_before(text, start),
            "",
            False,
            False,
        )
    ]


def _plain_value(t: str) -> Fraction | None:
    t = re.sub(r"\s*(?:\^\s*\{?\\circ\}?|°)$", "", t)
    m = _NUM.fullmatch(t.replace("\\%", "%").replace("\\$", "$").strip())
    if m is None or m.group("ord"):
        return None
    found = _scan_numbers(t)
    if len(found) == 1 and isinstance(found[0].value, Fraction):
        return found[0].value
    return None


def _candidates(text: str, target: Target) -> list[tuple[Candidate, int]]:
    """Numbers and formulas of a sentence that could be its answer, each with a score."""
    spans = math_spans(text)
    atoms = _math_atoms(text, spans, target)
    tuples = _plain_tuples(text, spans)
    formulas = _copula_formulas(text, spans)
    skip = spans + [(c.start, c.end, c.start, c.end) for c in tuples + formulas]
    raw = sorted(
        _scan_numbers(text, skip) + atoms + tuples + formulas + _plain_rhs(text, spans),
        key=lambda c: c.start,
    )
    if not raw:
        return []
    out: list[Candidate] = []
    operands: set[Fraction | str] = set()
    for i, c in enumerate(raw):
        if _is_operand(text, c):
            operands.add(c.value)
            continue
        if c.prev_word == "step" or (i == 0 and c.start == 0 and text[c.end : c.end + 1] in ".)"):
            operands.add(c.value)
            continue
        out.append(c)
    if not out:
        out = [raw[-1]]
    subordinate = _subordinate_region(text)
    last_eq = text.rfind("=")
    return [(c, _score(c, text, target, operands, subordinate, last_eq)) for c in out]


def _score(
    c: Candidate,
    text: str,
    target: Target,
    operands: set[Fraction | str],
    subordinate: tuple[int, int] | None,
    last_eq: int,
) -> int:
    """How strongly the sentence states ``c`` as its answer (see :func:`_candidates`)."""
    score = 0
    if c.value in operands and not _equals_before(text, c):
        score -= 1  # an input of the sentence's own computation
    if last_eq != -1 and c.start > last_eq and _equals_before(text, c):
        score += 1  # the result of the computation
    if isinstance(c.value, str) and _FUNCTION_VALUE.fullmatch(c.value):
        score -= 2  # "g(6)": a value named, not given
    if _subject_matches(text, c, target):
        score += 1  # "the remainder is 2" when the remainder is asked
    score += _question_score(text, c, target)
    score += _unit_score(text, c, target)
    if c.prev_word in _COPULA or _equals_before(text, c):
        score += 1
    if c.prev_word == "of" and _word_before(text, _start_of_word(text, c.start)) in (
        _MEASURE_NOUNS
    ):
        score += 1  # "a total of 540 meters", "a profit of $10,000"
    elif c.prev_word in _PREPOSITIONS:
        score -= 1
    if subordinate is not None and subordinate[0] < c.start < subordinate[1]:
        score -= 1
    return score


def _question_score(text: str, c: Candidate, target: Target) -> int:
    """Penalties for what the question already says: its formulas, its equations, numbers
    next to the same words ("in 3 years"), values outside the range it asks for."""
    score = 0
    if isinstance(c.value, str) and len(c.value) >= 2 and c.value in target.text_key:
        # a formula copied from the question, unless stated as the value ("the simplest
        # form of $\\sqrt{53}$ is $\\sqrt{53}$")
        score -= 1 if c.prev_word in _COPULA else 3
    if _copied_equation(text, c, target):
        score -= 3  # "the line y=2" where the question names the line y=2
    if (
        target.bounds is not None
        and isinstance(c.value, Fraction)
        and not (target.bounds[0] <= c.value <= target.bounds[1])
    ):
        score -= 3  # outside the range the question asks for ("a residue from 0 to 82")
    key = _value_key(c.value)
    after = bool(c.next_word) and (key, c.next_word) in target.echoes
    before = bool(c.prev_word) and (c.prev_word, key) in target.echoes
    if after and before:
        score -= 3  # "in 3 years" where the question says "in 3 years"
    elif after or before or (c.value in target.values and c.prev_word in _PREPOSITIONS):
        score -= 2
    return score


def _unit_score(text: str, c: Candidate, target: Target) -> int:
    """Bonuses for the asked unit, money or percentage (and a penalty for a stray one)."""
    score = 0
    if target.units and (c.next_word in target.units or _unit_phrase(text, c, target)):
        score += 3
    if target.money and (c.money or c.next_word == "dollar"):
        score += 3 if not target.cents else 2
    elif target.money and c.next_word == "cent":
        score += 3 if target.cents else 2
    if c.percent and not target.percent:
        score -= 1
    if target.percent and c.percent:
        score += 2
    return score


_FUNCTION_VALUE = re.compile(r"[A-Za-z]\(.{1,30}\)")


def _copied_equation(text: str, c: Candidate, target: Target) -> bool:
    """``y=2`` in "the line y=2 is ..." when the question says ``y=2``: a name, not a value."""
    j = c.start
    while j > 0 and text[j - 1] in " \t":
        j -= 1
    if j == 0 or text[j - 1] != "=":
        return False
    k = j - 1
    while k > 0 and text[k - 1] in " \t":
        k -= 1
    if k == 0 or not text[k - 1].isalpha() or (k > 1 and text[k - 2].isalpha()):
        return False
    return f"{text[k - 1]}={c.text}" in target.text_key


_FRONTED = frozenset({"because", "since", "given that", "where"})


def _subordinate_region(text: str) -> tuple[int, int] | None:
    """Where a subordinate clause lies: from its marker to the end, or for a fronted clause
    ("Since 78 = 4 * 19 + 2, the remainder is 2.") to its comma."""
    m = _SUBORDINATE.search(text)
    if m is None:
        return None
    before = text[: m.start()].rstrip()
    if m.group(0).lower() in _FRONTED and (
        not before.strip(" ,;:") or before.endswith((".", "$$", "\\]", ":"))
    ):
        comma = text.find(",", m.end())
        return (m.start(), comma if comma != -1 else len(text))
    return (m.start(), len(text))


def _subject_matches(text: str, c: Candidate, target: Target) -> bool:
    """The words just before "is"/"=" name what the question asks ("the remainder is 2")."""
    if not (c.prev_word in _COPULA or _equals_before(text, c)) or not target.ask_words:
        return False
    head = text[max(0, c.start - 60) : c.start]
    words = {w.lower() for w in _WORD.findall(head)[-6:]}
    return bool(words & target.ask_words)


def _unit_phrase(text: str, c: Candidate, target: Target) -> bool:
    """The number is followed, within three words, by a word naming what is asked."""
    after = text[c.end : c.end + 40]
    words = [_singular(w.lower()) for w in _WORD.findall(after)[:3]]
    units = {_singular(u) for u in target.units}
    hit = next((k for k, w in enumerate(words) if w in units), None)
    if hit is None:
        return False
    # "15 liters of water": a measure "of" the asked substance; other prepositions detach
    return not any(w in _PREPOSITIONS and w != "of" for w in words[:hit])


def _start_of_word(text: str, i: int) -> int:
    """Index just before the word preceding position ``i`` (for two-word lookbehind)."""
    j = i
    while j > 0 and text[j - 1] in " \t$€£(":
        j -= 1
    while j > 0 and text[j - 1].isalpha():
        j -= 1
    return j


def _equals_before(text: str, c: Candidate) -> bool:
    j = c.start
    while j > 0 and text[j - 1] in " \t$€£":
        j -= 1
    return j > 0 and text[j - 1] in "=:≈"


def _is_operand(text: str, c: Candidate) -> bool:
    """Part of a computation, not its result: followed by an operator or ``=``, possibly
    after a unit and a note ("243 (total post-it notes) - 80 = 163", "5 hours x 7 days")."""
    n = len(text)
    j = c.end
    k = j
    # a unit: words joined by spaces, "/", "-" or "'" ("pineapples/harvest", "post-it")
    while (
        k < n
        and k - j < 40
        and (text[k].isalpha() or (text[k] in " /'-" and k + 1 < n and text[k + 1].isalpha()))
    ):
        k += 1
    while k < n and text[k] in " \t":
        k += 1
    if k < n and text[k] == "(":
        close = text.find(")", k, k + 60)
        if close != -1:
            k = close + 1
            while k < n and text[k] in " \t":
                k += 1
    for start in (j, k):
        i = start
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            continue
        ch = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if ch in "+*×÷=·":
            return True
        if ch in "-−/" and nxt in " \t$" and i > c.end:
            return True  # "55 degrees - 6 degrees", "90 pieces / 6 pieces"
        if ch in "-−/" and i == c.end and nxt in " \t":
            return True
        if ch == "x" and nxt == " " and i > c.end:
            return True
        if text.startswith(("\\times", "\\cdot", "\\div"), i):
            return True
    return False
