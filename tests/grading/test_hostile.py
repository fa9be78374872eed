"""Hostile model text: every regular expression and scan finishes, whatever the text.

The model text here is the attacker.  Catastrophic backtracking and quadratic scans show
up on repetitions of a pattern's own tokens, so ``hostile.families`` generates them (each
token and pairs of tokens, runs of spaces, braces, backslashes, digits, nested and unclosed
boxes) in the contexts where the graders meet them, and every stage that runs in the
calling process - the answer split, both extractors, cleaning, both graders' in-process
decisions and the 15 constraint checkers - must finish each one within a generous
wall-clock bound.  The bound detects hangs (exponential, cubic or quadratic behaviour at
these sizes takes minutes); it is not a speed requirement.
"""

from __future__ import annotations

import contextlib
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mathif import split
from mathif.constraints import CONSTRAINT_IDS, check_all
from mathif.grading import api, equivalence, extract, grade, grade_many, reference

from .hostile import GOLDS, TOKENS, families, sample

# Bounds that detect hangs, generous for a loaded machine: in-process calls take at most
# a few hundred milliseconds; calls that may start a worker process get far longer.
HANG_SECONDS = 20.0
REASONS = {"match", "mismatch", "no_answer", "ambiguous", "timeout", "error"}
WORKER_HANG_SECONDS = 300.0


class Hang(BaseException):
    """A call ran past the hang-detection bound (not an ``Exception``: the graders score
    any ``Exception`` raised inside a check as "error", which would hide the hang)."""


@contextlib.contextmanager
def hang_guard(seconds: float, what: str) -> Iterator[None]:
    """Interrupt the block (regex matching included) once ``seconds`` have passed."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def _raise(signum: int, frame: Any) -> None:
        raise Hang(f"still running after {seconds:.0f} s: {what}")

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def finishes(fn: Callable[[], Any], what: str, seconds: float = HANG_SECONDS) -> Any:
    with hang_guard(seconds, what):
        return fn()


# --------------------------------------------------------------------------------------
# The reproductions from the issue, each a test of its own
# --------------------------------------------------------------------------------------


def test_unit_tail_per_repeats() -> None:
    """Exponential before: 40 repeats of ``per`` never finished."""
    for repeats in (40, 400, 40_000):
        answer = "\\boxed{1 " + "per" * repeats + "!}"
        result = finishes(
            lambda a=answer: grade(a, "1"), f"unit tail x{repeats}", WORKER_HANG_SECONDS
        )
        assert result.reason in ("match", "mismatch")
        assert finishes(
            lambda r=repeats: equivalence.clean("12 " + "per" * r + "!"), "clean"
        ).text.startswith("12")


def test_percent_after_spaces() -> None:
    """Cubic before: 5,000 spaces between two digits never finished."""
    for spaces in (5_000, 19_000):
        answer = "\\boxed{1" + " " * spaces + "1}"
        result = finishes(
            lambda a=answer: grade(a, "2"), f"percent, {spaces} spaces", WORKER_HANG_SECONDS
        )
        assert not result.correct
    assert equivalence.clean("45" + " " * 10_000 + "\\%").percent


def test_unclosed_boxes() -> None:
    """Quadratic before: 30,000 unclosed ``\\boxed{`` took minutes (56 KB: 22 s)."""
    text = "\\boxed{" * 30_000
    assert finishes(lambda: extract.last_boxed(text), "last_boxed") is None
    assert finishes(lambda: grade(text, "3").reason, "grade", WORKER_HANG_SECONDS) == "no_answer"
    text = "\\boxed{7} " + "\\BOXED{" * 300_000  # 2 MB: extracted whole, in a worker
    assert finishes(lambda: grade(text, "7").reason, "2 MB", WORKER_HANG_SECONDS) == "match"


@pytest.fixture
def raised_recursion_limit() -> Iterator[None]:
    """The calling process's recursion limit as torch's compiler leaves it (vLLM on CPU
    compiles with inductor, which raises it to 2,000): more depth for pylatexenc to
    backtrack through before ``RecursionError`` stops it."""
    import sys

    before = sys.getrecursionlimit()
    sys.setrecursionlimit(max(before, 3_000))
    try:
        yield
    finally:
        sys.setrecursionlimit(before)


NESTED_LATEX = [
    "1" + "\\frac{" * 80,               # the hostile sample that ran for hours in CI
    "\\frac{" * 20 + "}",
    "\\dfrac { x + " * 30,
    "\\sqrt[" * 40 + "]" * 40,
    "x = \\frac{1}{2} " + "\\tfrac{" * 12,
]


@pytest.mark.parametrize("text", NESTED_LATEX, ids=lambda t: t[:12])
def test_unclosed_latex_nesting_is_bounded_whatever_the_recursion_limit(
        text: str, raised_recursion_limit: None) -> None:
    """pylatexenc backtracks exponentially on unclosed arguments: in process it only ever
    sees text the nesting scan lets through; the rest goes to a worker (deadline)."""
    assert reference.latex_is_explosive(text)
    assert api._fast(("reference", text, "1/2", "", False, "")) is None
    assert api._fast(("reference", "1/2", text, "", False, "")) is None
    for answer in (text, "\\boxed{" + text + "}"):
        result = finishes(lambda a=answer: grade(a, "1/2", grader="reference", timeout=2.0),
                          f"reference grade of {text[:20]!r}", WORKER_HANG_SECONDS)
        assert result.reason in ("mismatch", "timeout", "error")


def test_the_nesting_scan() -> None:
    """Golden cases of ``latex_is_explosive``: unclosed ``{`` at the end and ``[`` depth."""
    limit = reference._LATEX_NEST_LIMIT
    assert not reference.latex_is_explosive("\\frac{" * limit)
    assert reference.latex_is_explosive("\\frac{" * (limit + 1))
    assert not reference.latex_is_explosive("\\frac{" * 50 + "}" * 50)  # closed: fast
    assert not reference.latex_is_explosive("}" * 50 + "{" * limit)  # stray closes
    assert not reference.latex_is_explosive("[" * limit + "]" * limit)
    assert reference.latex_is_explosive("[" * (limit + 1) + "]" * (limit + 1))
    assert not reference.latex_is_explosive("[]" * 100 + "{}" * 100)
    assert not reference.latex_is_explosive("\\frac{1}{2} + \\sqrt[3]{8}")


def test_nested_boxes_keep_their_meaning() -> None:
    assert extract.last_boxed("\\boxed{" * 5000 + "1" + "}" * 5000) == "1"  # the innermost
    assert extract.last_boxed("\\boxed{" * 5000 + "\\boxed{}" + "}" * 5000) == "\\boxed{}"
    assert extract.last_boxed("\\boxed{}" * 5000 + "\\boxed{7}" + "\\boxed{ }" * 5000) == "7"
    assert extract.last_boxed("\\boxed{\\{1\\}}") == "\\{1\\}"


# --------------------------------------------------------------------------------------
# The fuzz test: every stage, every generated family
# --------------------------------------------------------------------------------------

_CONSTRAINT_ARGS: dict[str, dict[str, Any] | None] = {
    "length_constraint_checkers:number_words": {"num_words": 100, "relation": "less than"},
    "language:response_language": {"language": "en"},
    "keywords:existence": {"keywords": ["answer", "per"]},
    "keywords:frequency": {"keyword": "boxed", "frequency": 2, "relation": "at least"},
    "keywords:forbidden_words": {"forbidden_words": ["meter", "x"]},
    "detectable_format:number_bullet_lists": {"num_bullets": 3},
    "detectable_format:number_highlighted_sections": {"num_highlights": 2},
    "detectable_format:multiple_sections": {"section_spliter": "SECTION", "num_sections": 2},
    "change_case:english_capital": None,
    "change_case:english_lowercase": None,
    "change_case:capital_word_frequency": {"capital_frequency": 3, "capital_relation": "at least"},
    "punctuation:no_comma": None,
    "combination:repeat_prompt": {"prompt_to_repeat": "Write"},
    "startend:end_checker": {"end_phrase": "Any other questions?"},
    "startend:quotation": {},
}


def _in_process_stages(text: str) -> None:
    """Everything the calling process does with one answer text, both graders."""
    answer = split.answer_part(text)
    found = api.extract_answer(answer)  # marks, then the prose reader
    _, ref_found = reference.extract(answer)
    if found:
        equivalence.clean(found)
        for gold in GOLDS[:4]:
            api._fast(("mathif", found, gold, "", False, ""))
    for gold in GOLDS[:2]:
        api._fast(("reference", ref_found, gold, "", False, ""))


def test_fuzz_extraction_and_graders_in_process(raised_recursion_limit: None) -> None:
    """~1,500 generated strings of ~20,000 characters through every in-process stage.

    Each string has its own bound, and the whole loop one more (a stage that is quadratic
    at this size costs seconds per string, which adds up to far beyond it).
    """
    start = time.monotonic()
    count = 0
    with hang_guard(15 * 60, "the whole fuzz loop"):
        for text in families(20_000, pairs=150):
            finishes(lambda t=text: _in_process_stages(t), repr(text[:80]))
            count += 1
    assert count > 1000
    print(f"\n{count} hostile strings, in-process stages: {time.monotonic() - start:.1f} s")


def test_fuzz_extraction_long() -> None:
    """Extraction reads the whole text: linear on ~200,000 characters of each token."""
    for token in TOKENS:
        for context in ("{}", "\\boxed{{1 {}", "The answer is {}", "\\boxed{{52}} {}"):
            text = context.format(token * max(1, 200_000 // len(token)))
            finishes(lambda t=text: api.extract_answer(t), f"extract {token!r} x")
            finishes(lambda t=text: reference.extract(t), f"reference extract {token!r} x")
            finishes(lambda t=text: split.answer_part(t), f"split {token!r} x")


def test_fuzz_constraint_checkers() -> None:
    """The 15 checkers on each token repeated to ~20,000 characters, in every context."""
    ids = list(CONSTRAINT_IDS)
    args = [_CONSTRAINT_ARGS[c] for c in ids]
    for text in families(20_000, pairs=60):
        finishes(lambda t=text: check_all(ids, t, args), f"constraints on {text[:60]!r}")


def test_fuzz_both_graders_end_to_end() -> None:
    """A sample through ``grade_many`` (workers included): verdicts, no crash, no hang."""
    texts = list(families(4_000, pairs=40))[::7]
    pairs = [(t, GOLDS[i % len(GOLDS)], None) for i, t in enumerate(texts)]
    for grader in ("mathif", "reference"):
        results = finishes(
            lambda g=grader: grade_many(pairs, grader=g, timeout=5.0), grader, WORKER_HANG_SECONDS
        )
        assert len(results) == len(pairs)
        reasons = {r.reason for r in results}
        # "error": the check raised and was scored wrong (e.g. a 2,000-letter product
        # nests deeper than Python's recursion limit); never an exception out of grading
        assert reasons <= REASONS, reasons


@pytest.mark.slow
def test_hostile_batch_within_count_times_deadline(raised_recursion_limit: None) -> None:
    """1,000 hostile answers (1 % past the in-process limit) through both graders: a verdict
    for every one, no exception, and far less wall time than count x deadline (the
    10,000-answer version is ``benchmarks/bench_hostile.py``)."""
    count, deadline = 1_000, 5.0
    texts = sample(count, seed=1, max_chars=20_000)
    pairs = [
        (split.answer_part(t + (" filler" * 45_000 if i % 100 == 99 else "")), GOLDS[i % 12], None)
        for i, t in enumerate(texts)
    ]
    for grader in ("mathif", "reference"):
        start = time.monotonic()
        results = finishes(
            lambda g=grader: grade_many(pairs, grader=g, timeout=deadline),
            f"{count} answers, {grader}",
            count * deadline,
        )
        elapsed = time.monotonic() - start
        assert len(results) == count
        reasons = {r.reason for r in results}
        assert reasons <= REASONS, reasons
        print(f"\n{grader}: {elapsed:.1f} s for {count} hostile answers")


# --------------------------------------------------------------------------------------
# Linear rewrites decide exactly as the patterns they replace (on inputs those can finish)
# --------------------------------------------------------------------------------------

_OLD_PERCENT = re.compile(r"\s*(?:\\%|%|\\text\{\s*percent\s*\}|\s+percent)\s*$", re.IGNORECASE)
_OLD_UNIT_TAIL = re.compile(
    r"^(.*?[\d}.])\s+((?:[A-Za-z]+\.?)(?:\s*\^\s*\{?-?\d\}?)?"
    r"(?:\s*(?:/|\\cdot|per)\s*[A-Za-z]+(?:\s*\^\s*\{?-?\d\}?)?)*"
    r"(?:\s+[A-Za-z]+){0,3})$"
)
_OLD_MATH_SEGMENT = re.compile(
    r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL
)


def _random_strings(pieces: list[str], count: int, longest: int, seed: int) -> Iterator[str]:
    import random

    rng = random.Random(seed)
    for _ in range(count):
        yield "".join(rng.choice(pieces) for _ in range(rng.randint(0, longest)))


def test_percent_rewrite_is_equivalent() -> None:
    pieces = [" ", "\t", "\n", "%", "\\%", "\\", "percent", "PERCENT", "\\text{", "\\TEXT{", "}"]
    pieces += ["5", "a", "\u2009"]
    for t in _random_strings(pieces, 30_000, 7, seed=1):
        m = _OLD_PERCENT.search(t)
        expected = (t[: m.start()], True) if m else (t, False)
        assert equivalence._strip_percent(t) == expected, t


def test_unit_tail_rewrite_is_equivalent() -> None:
    pieces = [" ", " ", "\n", "\t", "1", "2", ".", "}", "{", "^", "-", "/", "\\cdot", "per"]
    pieces += ["p", "e", "r", "m", "s", "km", "x", "\\", "c", "dot", "\u0663", "ab"]
    accepted = 0
    for t in _random_strings(pieces, 60_000, 10, seed=2):
        m = _OLD_UNIT_TAIL.match(t)
        expected = m.group(1) if m else None
        assert equivalence._unit_tail_head(t) == expected, t
        accepted += expected is not None
    assert accepted > 500  # the comparison covers both outcomes


def test_math_segments_rewrite_is_equivalent() -> None:
    pieces = ["$", "$$", "\\(", "\\)", "\\[", "\\]", "a", " ", "\n", "\\", "(", "x=1"]
    for t in _random_strings(pieces, 30_000, 12, seed=3):
        expected = [
            next(g for g in m.groups() if g is not None) for m in _OLD_MATH_SEGMENT.finditer(t)
        ]
        assert extract.math_segments(t) == expected, t


def _old_last_boxed(text: str) -> str | None:
    starts = [m.end() for m in re.finditer(r"\\(?:boxed|fbox)\s*\{", text, re.IGNORECASE)]
    for start in reversed(starts):
        depth, i = 1, start
        while i < len(text):
            c = text[i]
            if c == "\\" and i + 1 < len(text) and text[i + 1] in "{}":
                i += 2
                continue
            depth += c == "{"
            depth -= c == "}"
            if depth == 0:
                if text[start:i].strip():
                    return text[start:i].strip()
                break
            i += 1
    bare = list(re.finditer(r"\\boxed\s+([^\s$]+)", text, re.IGNORECASE))
    return bare[-1].group(1).strip() if bare else None


def test_box_scan_rewrite_is_equivalent() -> None:
    pieces = ["\\boxed{", "\\BOXED {", "\\fbox{", "{", "}", "\\{", "\\}", "\\", "1", " "]
    pieces += ["\\boxed ", "$"]
    for t in _random_strings(pieces, 40_000, 12, seed=4):
        assert extract.last_boxed(t) == _old_last_boxed(t), t


@pytest.mark.parametrize(
    "pattern",
    [equivalence._POWER, equivalence._BIG_FACTORIAL],
    ids=["power", "factorial"],
)
def test_digit_run_patterns_linear_and_equivalent(pattern: re.Pattern[str]) -> None:
    """Anchoring at the start of a digit run loses no match (and removes the quadratic scan)."""
    unanchored = re.compile(pattern.pattern.replace("(?<!\\d)", ""))
    pieces = ["1", "23", ".", "^", "**", "{", "}", " ", "!", "x", "factorial(", "1000"]
    for t in _random_strings(pieces, 20_000, 10, seed=5):
        old = [m.groups() for m in unanchored.finditer(t)]
        new = [m.groups() for m in pattern.finditer(t)]
        assert new == old, t
    finishes(lambda: pattern.search("1" * 500_000 + "x"), "digit run")
