"""Word and capital-word counts are NLTK 3.9.1's, the benchmark's release.

``number_words`` counts ``RegexpTokenizer(r"\\w+")`` tokens, which NLTK 3.9.1 runs on the stdlib
``re`` engine (3.10 moved it to the ``regex`` module, whose ``\\w`` differs on combining marks,
viramas, ZWJ and ``½ ² ①``); ``capital_word_frequency`` counts upper-case ``word_tokenize``
tokens, which 3.10 also changed (dashes, leading apostrophes). The golden counts were computed
with NLTK 3.9.1 in the pinned reference environment (tests/official); the live test compares
with it on generated text.
"""

from __future__ import annotations

import random
import time
from importlib.metadata import version

import pytest
from tests.official import official

from mathif.constraints import check
from mathif.constraints import text as T

# (text, RegexpTokenizer(r"\w+") count, capital-word count), both from NLTK 3.9.1.
# NLTK 3.10 gives 5 words for "नमस्ते दुनिया" -> 2, 4 -> 1 for "क्षत्रिय", 5 -> 3 for
# "½ of x² is ①", and 2 capital words for "WORD—WORD", 1 for "'TIS so", 6 for "A–B C‒D E―F".
GOLDEN = [
    ("cafe\u0301 naïve", 2, 0),
    ("नमस्ते दुनिया", 5, 0),
    ("क्षत्रिय", 4, 0),
    ("ஸ்ரீ", 2, 0),
    ("👨\u200d👩\u200d👧 family", 1, 0),
    ("a\u200db", 2, 0),
    ("½ of x² is ①", 5, 0),
    ("Ⅻ ٣ 𝟙𝟚", 3, 1),
    ("\u0301x", 1, 0),
    ("ﬁne ǅemal", 2, 0),
    ("WORD—WORD", 2, 1),
    ("'TIS so", 2, 2),
    ("IT'S 'TWAS", 3, 4),
    ("“HELLO” world", 2, 1),
    ("A–B C‒D E―F", 6, 3),
    ("DON'T STOP", 3, 3),
    ("NASA's ROVER", 3, 2),
    ("ÉCOLE CAFÉ", 2, 2),
    ("X²", 1, 1),
    ("ΣΟΦΙΑ КНИГА", 2, 2),
]


def test_nltk_is_the_benchmarks_release() -> None:
    assert version("nltk") == "3.9.1"


@pytest.mark.parametrize(("text", "words", "capitals"), GOLDEN)
def test_golden_counts(text: str, words: int, capitals: int) -> None:
    assert T.count_words(text) == words
    assert T.capital_word_count(text) == capitals
    assert T.reference_capital_word_count(text) == capitals


def _count_cases(text: str, words: int, capitals: int) -> list[tuple[str, dict[str, object], bool]]:
    """(constraint, args, expected verdict) pinning both counts exactly (thresholds >= 1)."""
    number_words = "length_constraint_checkers:number_words"
    capital = "change_case:capital_word_frequency"
    cases: list[tuple[str, dict[str, object], bool]] = [
        (number_words, {"num_words": words + 1, "relation": "less than"}, True),
        (capital, {"capital_frequency": capitals + 1, "capital_relation": "less than"}, True),
    ]
    if words:
        cases.append((number_words, {"num_words": words, "relation": "less than"}, False))
    if capitals:
        cases.append((capital, {"capital_frequency": capitals, "capital_relation": "less than"},
                      False))
    return cases


@pytest.mark.parametrize(("text", "words", "capitals"), GOLDEN)
def test_checkers_use_these_counts(text: str, words: int, capitals: int) -> None:
    for name, args, expected in _count_cases(text, words, capitals):
        assert check(name, text, args) is expected, (name, args)


def test_capital_count_is_linear_on_space_runs() -> None:
    """NLTK 3.9.1's end-of-sentence rule is quadratic on spaces after a period; not here."""
    text = "THE END." + " " * 200_000 + "ÉCOLE x"
    start = time.monotonic()
    assert T.capital_word_count(text) == 3  # "THE", "END", "ÉCOLE"
    assert T.reference_capital_word_count(text) == 3
    assert time.monotonic() - start < 20  # hang detector (quadratic: many minutes)


PIECES = [
    "word", "WORD", "Word", "x", "X", "IT'S", "'TIS", "'twas", "don't", "O'NEIL", "rock'n'roll",
    "—", "–", "‒", "―", "-", "--", "WORD—WORD", "A–b", "“", "”", "‘", "’", "«", "»", '"', "'",
    "`", "``", "''", ".", "...", ",", ";", ":", "!", "?", "(", ")", "[", "]", "½", "²", "①", "Ⅻ",
    "٣", "𝟙", "\u0301", "e\u0301", "É", "नमस्ते", "क्ष", "\u094d", "\u200d", "\u200c", "👨\u200d👩",
    "ﬁ", "ǅ", "ΣΟΦΙΑ", "КНИГА", "U.S.", "MR.", "e.g.", "3.5", "1,000", "x_1", "\xa0", "\x1c",
    " ", " ", " ", "  ", "\n", "\n\n", "\t",
]


def generated_texts(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        parts = [rng.choice(PIECES) for _ in range(rng.randint(1, 30))]
        joiner = rng.choice(["", " ", " ", "  "])
        out.append(joiner.join(parts))
    return out


def test_counts_equal_the_pinned_environment_live() -> None:
    """Exact counts, read off two official verdicts per text (below n+1 and not below n)."""
    o = official()
    texts = [t for t in generated_texts(3000) if t.strip()]
    cases = [
        (name, args, text, expected)
        for text in texts
        for name, args, expected in _count_cases(
            text, T.count_words(text), T.capital_word_count(text)
        )
    ]
    verdicts = o.check([(name, args, text) for name, args, text, _ in cases])
    wrong = [case for case, verdict in zip(cases, verdicts, strict=True) if verdict is not case[3]]
    assert wrong == []
    # and the checkers (which decide from bounds when they can) give the official verdicts
    ours = [check(name, text, args) for name, args, text, _ in cases]
    assert [c for c, a, b in zip(cases, ours, verdicts, strict=True) if a is not b] == []


def test_capital_range_golden() -> None:
    assert T.capital_word_range("no capitals here") == (0, 0)
    assert T.capital_word_range("THE END is NEAR. (OK) Fine") == (4, 4)  # plain chunks: exact
    assert T.capital_word_range("IT'S done") == (0, 3)  # "IT'S": 2 tokens, 3 capitals
    assert T.capital_word_range("WORD—WORD X") == (1, 9)


def _capital_texts() -> list[str]:
    return [t for t, _, _ in GOLDEN] + generated_texts(3000, seed=1)


def test_capital_range_bounds_the_count() -> None:
    for text in _capital_texts():
        low, high = T.capital_word_range(text)
        assert low <= T.reference_capital_word_count(text) <= high, text


@pytest.mark.parametrize("relation", ["less than", "at least"])
def test_capital_checker_decides_as_the_exact_count(relation: str) -> None:
    name = "change_case:capital_word_frequency"
    decided_by_bounds = 0
    for text in _capital_texts():
        if not text.strip():
            continue
        exact = T.reference_capital_word_count(text)
        low, high = T.capital_word_range(text)
        for n in range(max(1, low - 1), high + 3):
            expected = exact < n if relation == "less than" else exact >= n
            args = {"capital_frequency": n, "capital_relation": relation}
            assert check(name, text, args) is expected, (text, n)
            decided_by_bounds += (low < n) == (high < n)
    assert decided_by_bounds > 1000  # the shortcut is exercised, not only the tokenizer


@pytest.mark.parametrize(
    "text",
    [
        "IT'S " * 40_000,  # every chunk is hard: the bounds and then Punkt
        "A" * 200_000,
        "É" * 100_000 + " x",
        "(A)." * 50_000,
        "'TIS " * 30_000 + "." + " " * 100_000,
        "\\FRAC{A}{B} " * 20_000,
    ],
    ids=lambda t: repr(t[:12]),
)
def test_capital_word_bounds_on_hostile_text_are_fast_and_hold(text: str) -> None:
    start = time.monotonic()
    low, high = T.capital_word_range(text)
    exact = T.capital_word_count(text)
    for relation in ("less than", "at least"):
        check("change_case:capital_word_frequency", text,
              {"capital_frequency": max(1, exact), "capital_relation": relation})
    assert low <= exact <= high
    assert time.monotonic() - start < 30  # hang detector (linear: about a second)
