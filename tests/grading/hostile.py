"""Generated hostile answer texts: the inputs that make regular expressions and scans blow up.

Catastrophic backtracking and quadratic scans show up on *repetitions*: of a pattern's own
tokens (``per`` in a unit pattern, spaces before ``percent``, ``\\boxed{`` openers that never
close), of pairs of tokens, and of runs of one character (spaces, braces, backslashes, digits).
``families`` builds such strings from a token list, at a chosen repetition count, inside the
contexts where the graders meet them (a bare answer, a box, an answer phrase, a closing line).

Used by ``tests/grading/test_hostile.py`` (hang detection under a generous wall-clock bound)
and ``benchmarks/bench_hostile.py`` (10,000 of them through both graders).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator

# Tokens taken from the grading and constraint patterns (each a piece a pattern can repeat)
# plus the characters that runs are made of.
TOKENS: tuple[str, ...] = (
    " ",
    "\t",
    "\n",
    "\u2009",
    "{",
    "}",
    "\\",
    "$",
    "$$",
    "\\(",
    "\\)",
    "\\[",
    "\\]",
    "%",
    "\\%",
    "percent",
    "per",
    "/",
    "\\cdot",
    "^",
    "^{",
    "^{-2}",
    "**",
    "_",
    "_{",
    "=",
    ".",
    ",",
    "1",
    "0",
    "9",
    "12",
    "1,000",
    "-",
    "+",
    "*",
    "!",
    "(",
    ")",
    "[",
    "]",
    "&",
    "\\\\",
    "#",
    "####",
    "m",
    "x",
    "e",
    "meter",
    "cm",
    "inch",
    "\\boxed{",
    "\\BOXED{",
    "\\fbox{",
    "\\boxed ",
    "\\text{",
    "\\text{ ",
    "\\frac{",
    "\\frac",
    "\\sqrt{",
    "\\sqrt",
    "\\pi",
    "\\left(",
    "\\right)",
    "\\left",
    "\\!",
    "\\,",
    "{,}",
    "\\circ",
    "\\approx",
    "\\in",
    "\\pm",
    "\\cup",
    "\\infty",
    "\\times 10^",
    "\\begin{pmatrix}",
    "\\end{pmatrix}",
    "\\binom{",
    "answer",
    "answer:",
    "the answer is ",
    "is ",
    "be ",
    ": ",
    ". ",
    "Ответ:",
    "答案是",
    "**",
    "*a*",
    "<think>",
    "</think>",
    "<answer>",
    "</answer>",
    "JSON",
    "```",
    "P.S.",
    "SECTION",
    "a",
    "A",
    "é",
)

# The contexts a hostile string is graded in: {} is the repeated material.
CONTEXTS: tuple[str, ...] = (
    "{}",
    "1 {}!",
    "1{}1",
    "\\boxed{{{}}}",
    "\\boxed{{1 {}}}",
    "\\boxed{{1{}1}}",
    "\\boxed{{1 {}!}}",
    "The answer is {}",
    "The answer is {}.",
    "#### {}",
    "Therefore the total is {}.",
    "\\boxed{{52}} {}",
)


def repeat(token: str, chars: int) -> str:
    """``token`` repeated to about ``chars`` characters."""
    return token * max(1, chars // max(1, len(token)))


def families(chars: int, *, pairs: int = 400, seed: int = 0) -> Iterator[str]:
    """Hostile strings of about ``chars`` characters of repeated material each.

    Every token alone, in every context; then ``pairs`` seeded token pairs (``(a+b)*k``) and
    nested boxes.  The same ``chars`` and ``seed`` give the same strings.
    """
    for token in TOKENS:
        body = repeat(token, chars)
        for context in CONTEXTS:
            yield context.format(body)
    rng = random.Random(seed)
    all_pairs = list(itertools.combinations(TOKENS, 2))
    for a, b in rng.sample(all_pairs, min(pairs, len(all_pairs))):
        body = repeat(a + b, chars)
        yield body
        yield "\\boxed{1 " + body + "}"
    depth = max(1, chars // 8)
    yield "\\boxed{" * depth + "1" + "}" * depth
    yield "\\boxed{" * depth
    yield "}" * depth + "\\boxed{1}"
    yield ("\\boxed{}" * depth) + "\\boxed{7}" + ("\\boxed{}" * depth)


def sample(count: int, *, seed: int = 0, max_chars: int = 20_000) -> list[str]:
    """``count`` seeded hostile strings of varied sizes (up to ``max_chars`` of material)."""
    rng = random.Random(seed)
    out: list[str] = []
    sizes = [64, 512, 4096, max_chars]
    while len(out) < count:
        chars = rng.choice(sizes)
        kind = rng.random()
        if kind < 0.6:
            token = rng.choice(TOKENS)
            body = repeat(token, chars)
        elif kind < 0.9:
            a, b = rng.choice(TOKENS), rng.choice(TOKENS)
            body = repeat(a + b, chars)
        else:
            pieces = [rng.choice(TOKENS) for _ in range(rng.randint(2, 6))]
            body = repeat("".join(pieces), chars)
        out.append(rng.choice(CONTEXTS).format(body))
    return out


GOLDS: tuple[str, ...] = (
    "52",
    "0",
    "\\frac{1}{2}",
    "(1,2)",
    "x",
    "\\pi",
    "1000",
    "2\\sqrt{2}",
    "3.61e-10",
    "[-2,7]",
    "\\text{(C)}",
    "x^2+1",
)
