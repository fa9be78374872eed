"""The text helpers equal the straightforward reference computations they replace.

* capital-word counts vs ``nltk.word_tokenize`` itself (the real NLTK, with the real English
  punkt_tab data when it can be found, otherwise with the shipped tables written out as a
  punkt_tab directory), on real responses, long reasoning answers and crafted texts;
* language detection vs langdetect's own seeded Detector, and order independence;
* the linear bullet count vs ``re.findall`` with the reference patterns.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from constraints_shared import external_responses, reasoning_answers

from mathif.constraints import text as T
from mathif.constraints.format import bullet_count, highlight_count

PUNKT_FILES = ("abbrev_types.txt", "collocations.tab", "sent_starters.txt", "ortho_context.tab")

CRAFTED = [
    "I CAN'T. YOU CAN'T.",
    "I CAN'T do it. YOU WON'T EITHER!",
    "THE ANSWER IS 42. \\BOXED{42}",
    "HELLO, WORLD: THIS IS A TEST; OK? YES!",
    '"QUOTED TEXT," HE SAID. "AND MORE."',
    "(A) FIRST. (B) SECOND. [C] THIRD.",
    "MR. SMITH WENT TO WASHINGTON D.C. ON JAN. 5.",
    "U.S.A. IS BIG. E.G. THIS.",
    "CANNOT GONNA GOTTA WANNA LEMME GIMME 'TIS 'TWAS D'YE MORE'N",
    "IT'S, WE'LL, THEY'RE, I'VE, HE'D, SHE'S, I'M",
    "**BOLD** *ITALIC* __UNDER__ `CODE` ``DOUBLE``",
    "A--B -- C... D.. E. F? G!",
    "END.) NEXT. END.\" NEXT. END.' NEXT.",
    "$X$ AND $$Y$$ WITH \\(Z\\) AND {W} <V>",
    "«GUILLEMETS» “CURLY” ‘SINGLE’ „LOW“",
    "MIXEDCase Words, AND lower, AND UPPER.",
    "ÉCOLE ÜBER STRASSE ΑΒΓ ДОМ",
    "A.\nB.\n\nC.\tD.\rE.",
    "x\x1cY\x1dZ\x1eW\x1fV. FINAL.",
    "",
    "   ",
    "lower only text, no capitals at all.",
    "1234 5678",
]


def _fuzz_texts(n: int, seed: int = 7) -> list[str]:
    """Random sentences from chunks that exercise every tokenizer rule near capitals."""
    rng = random.Random(seed)
    pieces = [
        "A",
        "AB",
        "ABC",
        "The",
        "the",
        "I",
        "X1",
        "Mr.",
        "Dr.",
        "U.S.",
        "e.g.",
        "St.",
        "CAN'T",
        "can't",
        "DON'T",
        "I'm",
        "I'LL",
        "WE'RE",
        "it's",
        "'TIS",
        "cannot",
        "GONNA",
        "A.",
        "B,",
        "C:",
        "D;",
        "E?",
        "F!",
        "(G)",
        "[H]",
        "{I}",
        "<J>",
        "*K*",
        "**L**",
        "$M$",
        '"N"',
        "'O'",
        "``P''",
        "Q--R",
        "S...",
        "T.)",
        'U."',
        "V-W",
        "x^2",
        "\\boxed{Y}",
        "5.",
        "3.14",
        "1,000",
        "Z:5",
        "a",
        "of",
        "...",
        "--",
        "-",
        "*",
        '"',
        "'",
        "”",
        "“",
    ]
    seps = [" ", " ", " ", "\n", "\n\n", "  ", "\t"]
    out = []
    for _ in range(n):
        words = [rng.choice(pieces) for _ in range(rng.randint(1, 14))]
        text = ""
        for word in words:
            text += word + rng.choice(seps)
        out.append(text.strip() if rng.random() < 0.7 else text)
    return out


def _write_punkt_tab(root: Path) -> Path:
    """The shipped parameters in NLTK's punkt_tab layout (so the real NLTK can load them)."""
    params = T.punkt_parameters()
    folder = root / "tokenizers" / "punkt_tab" / "english"
    folder.mkdir(parents=True)
    (folder / "abbrev_types.txt").write_text("".join(a + "\n" for a in sorted(params.abbrev_types)))
    (folder / "sent_starters.txt").write_text(
        "".join(s + "\n" for s in sorted(params.sent_starters))
    )
    (folder / "collocations.tab").write_text(
        "".join("\t".join(c) + "\n" for c in sorted(params.collocations))
    )
    (folder / "ortho_context.tab").write_text(
        "".join(f"{w}\t{f}\n" for w, f in sorted(params.ortho_context.items()))
    )
    return folder


def _real_punkt_dir() -> Path | None:
    """The original English punkt_tab directory, if this machine has it."""
    candidates = []
    if os.environ.get("MATHIF_PUNKT_TAB"):
        candidates.append(Path(os.environ["MATHIF_PUNKT_TAB"]))
    # Where .ci/fetch_punkt.py puts the original data in CI.
    candidates.append(Path(__file__).resolve().parents[2] / ".ci" / "cache" / "nltk_data"
                      / "tokenizers" / "punkt_tab" / "english")
    import nltk

    with contextlib.suppress(LookupError):
        candidates.append(Path(str(nltk.data.find("tokenizers/punkt_tab/english/"))))
    for path in candidates:
        if all((path / name).is_file() for name in PUNKT_FILES):
            return path
    return None


@pytest.fixture(scope="module")
def nltk_word_tokenize(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[str], list[str]]]:
    """The real ``nltk.word_tokenize``, loading English punkt_tab from disk as NLTK does."""
    import nltk
    from nltk.tokenize import _get_punkt_tokenizer

    real = _real_punkt_dir()
    if real is not None:
        root = real.parents[2]
        sys.stderr.write(f"\nusing the original punkt_tab data at {real}\n")
    else:
        root = _write_punkt_tab(tmp_path_factory.mktemp("nltk_data")).parents[2]
        sys.stderr.write("\noriginal punkt_tab data not found; using the shipped tables\n")
    nltk.data.path.insert(0, str(root))
    _get_punkt_tokenizer.cache_clear()
    try:
        yield nltk.word_tokenize
    finally:
        nltk.data.path.remove(str(root))
        _get_punkt_tokenizer.cache_clear()


def test_shipped_punkt_tables_equal_the_original_data() -> None:
    real = _real_punkt_dir()
    if real is None:
        pytest.skip(
            "original punkt_tab/english not found (run .ci/fetch_punkt.py or set "
            "MATHIF_PUNKT_TAB); the shipped tables "
            "were generated from it and record its SHA-256 digests"
        )
    import hashlib

    from mathif.constraints import _punkt_english

    for name in PUNKT_FILES:
        digest = hashlib.sha256((real / name).read_bytes()).hexdigest()
        assert _punkt_english.SOURCE_SHA256[name] == digest, name
    import nltk
    from nltk.tokenize.punkt import PunktTokenizer

    nltk.data.path.insert(0, str(real.parents[2]))
    try:
        original = PunktTokenizer("english")._params
    finally:
        nltk.data.path.remove(str(real.parents[2]))
    shipped = T.punkt_parameters()
    assert original.abbrev_types == shipped.abbrev_types
    assert set(original.collocations) == set(shipped.collocations)  # a list in NLTK 3.9
    assert original.sent_starters == shipped.sent_starters
    # ortho_context is a defaultdict: lookups of unseen words (by other tests) add zeros.
    def nonzero(table: dict[str, int]) -> dict[str, int]:
        return {word: flags for word, flags in table.items() if flags}

    assert nonzero(original.ortho_context) == nonzero(shipped.ortho_context)


def test_capital_count_matches_nltk_on_crafted_and_fuzzed_texts(
    nltk_word_tokenize: Callable[[str], list[str]],
) -> None:
    for text in CRAFTED + _fuzz_texts(1500):
        expected = sum(tok.isupper() for tok in nltk_word_tokenize(text))
        assert T.capital_word_count(text) == expected, text
    assert T.capital_word_count("I CAN'T. YOU CAN'T.") == 6


def test_capital_count_matches_nltk_on_real_responses(
    nltk_word_tokenize: Callable[[str], list[str]],
) -> None:
    texts = external_responses()
    assert len(texts) == 1082
    texts += [t.upper() for t in texts[:150]]
    texts += reasoning_answers()[::25]
    for text in texts:
        expected = sum(tok.isupper() for tok in nltk_word_tokenize(text))
        assert T.capital_word_count(text) == expected, text[:200]


def test_word_tokenize_helper_equals_nltk(nltk_word_tokenize: Callable[[str], list[str]]) -> None:
    for text in CRAFTED + _fuzz_texts(200, seed=11):
        assert T.word_tokenize(text) == nltk_word_tokenize(text)


def test_count_words_is_regexp_w_plus() -> None:
    assert T.count_words("x=2, don't stop_here") == 5
    assert T.count_words("") == 0


def test_re_whitespace_is_str_isspace() -> None:
    """The bullet scan uses ``str.isspace`` for ``re``'s ``\\s``; they must agree everywhere."""
    every = "".join(map(chr, range(0x110000)))
    every = every.replace("\ud800", "")  # surrogates are still single code points in str
    assert re.findall(r"\s", every) == [ch for ch in every if ch.isspace()]


def test_bullet_count_equals_reference_regexes() -> None:
    def reference(text: str) -> int:
        a = re.findall(r"^\s*\*[^\*].*$", text, flags=re.MULTILINE)
        b = re.findall(r"^\s*-.*$", text, flags=re.MULTILINE)
        return len(a) + len(b)

    rng = random.Random(3)
    alphabet = [" ", "\n", "\n", "*", "*", "-", "a", "\t", "\r", "\u2028", "\xa0"]
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        assert bullet_count(text) == reference(text), repr(text)
    for text in external_responses():
        assert bullet_count(text) == reference(text)


def test_highlight_count_examples() -> None:
    # "*a*" (single) and "**b**" (double); "**", "** **" and "* *" have blank insides.
    assert highlight_count("*a* **b** ** ** * *") == 2
    assert highlight_count("*" * 10) == 0


def _langdetect_reference(text: str) -> str | None:
    from langdetect.lang_detect_exception import LangDetectException

    detector = T.langdetect_factory().create()
    detector.append(text)
    try:
        return str(detector.detect())
    except LangDetectException:
        return None


MULTILINGUAL = [
    "Xin chào các bạn, hôm nay trời đẹp quá.",
    "Xin cha\u0300o ca\u0301c ba\u0323n",  # combining marks (normalize_vi)
    "Привет, как дела? Сегодня хорошая погода.",
    "สวัสดีครับ วันนี้อากาศดีมาก",
    "こんにちは、今日はいい天気ですね。カタカナ",
    "你好，今天天气很好。",
    "안녕하세요 오늘 날씨가 좋네요",
    "مرحبا كيف حالك اليوم",
    "नमस्ते आप कैसे हैं",
    "Write to me at someone@example.com or visit https://example.com/page?x=1 today please.",
    "ALL CAPS ENGLISH TEXT ABOUT THE WEATHER TODAY.",
    "ᎠᎡᎢ 123",
    "",
    "12345",
    "Ș ș Ț ț ș",
]


def test_language_detection_equals_langdetect() -> None:
    texts = (
        MULTILINGUAL + external_responses()[::4] + [t.lower() for t in external_responses()[:40]]
    )
    for text in texts:
        assert T.detect_language(text) == _langdetect_reference(text), text[:100]


def test_language_detection_equals_global_seeded_langdetect() -> None:
    import langdetect
    from langdetect import DetectorFactory
    from langdetect.lang_detect_exception import LangDetectException

    old = DetectorFactory.seed
    DetectorFactory.seed = 0
    try:
        for text in MULTILINGUAL + external_responses()[1::12]:
            try:
                expected: str | None = langdetect.detect(text)
            except LangDetectException:
                expected = None
            assert T.detect_language(text) == expected
    finally:
        DetectorFactory.seed = old


def test_fast_and_pure_python_detection_agree() -> None:
    # langdetect_rs does the work when installed; the pure-Python port is the fallback. Both
    # must give langdetect's answers (checked against langdetect itself above).
    assert T._rs_factory() is not None, "langdetect_rs is a dependency; it should be installed"
    texts = (
        MULTILINGUAL + external_responses()[::3] + [t.upper() for t in external_responses()[:30]]
    )
    for text in texts:
        assert T.detect_language_python(text) == T.detect_language(text), text[:100]
        assert T.detect_language_python(text) == _langdetect_reference(text), text[:100]


def test_language_detection_is_order_independent() -> None:
    texts = MULTILINGUAL + external_responses()[:60]
    T.clear_caches()
    forward = [T.detect_language(t) for t in texts]
    T.clear_caches()
    backward = [T.detect_language(t) for t in reversed(texts)][::-1]
    T.clear_caches()
    random.Random(5).shuffle(shuffled := list(range(len(texts))))
    mixed = {i: T.detect_language(texts[i]) for i in shuffled}
    assert forward == backward == [mixed[i] for i in range(len(texts))]


def test_user_pattern_fallbacks(monkeypatch: pytest.MonkeyPatch) -> None:
    assert T.user_pattern("", "f(x", "", re.IGNORECASE).search("F(X) = 1")
    assert not T.user_pattern("", "f(x", "", re.IGNORECASE).search("fx")
    assert T.user_pattern(r"\b", "a)", r"\b", 0).count(" a)b a)b a) ") == 2
    assert T.user_pattern("", "a|b", "", 0).count("abc") == 2
    # A pathological pattern is cut off and matched literally instead.
    monkeypatch.setattr(T, "USER_REGEX_TIMEOUT", 0.2)
    T.user_pattern.cache_clear()
    evil = T.user_pattern("", "(a+)+$", "", 0)
    assert evil.count("aaa") == 1  # fine as a regex
    assert evil.count("a" * 3000 + "! (a+)+$!") == 1  # times out -> the literal match
    T.user_pattern.cache_clear()
