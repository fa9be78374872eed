"""Text measurements the checkers share: word counts, capital-word counts, language, patterns.

Every function here reproduces what the reference scorer (IFEval's checkers as MathIF runs them)
computes, and is written so that it is fast and cannot hang on untrusted input:

* ``count_words`` is the reference's ``RegexpTokenizer(r"\\w+")`` count, i.e. the number of
  ``re.findall(r"\\w+", text)`` matches. NLTK 3.9.1, the benchmark's release, runs that
  tokenizer on the stdlib ``re`` engine; later releases (3.10) switched to the ``regex`` module,
  whose ``\\w`` also matches combining marks, viramas, joiners (ZWJ) and differs on ``½ ² ①``,
  which changes word counts. We count with ``re``, as the benchmark did.
* ``capital_word_count`` equals ``sum(t.isupper() for t in nltk.word_tokenize(text))`` with
  NLTK 3.9.1 (pinned: 3.10 splits ``WORD—WORD`` at the dash and ``'TIS`` differently) and the
  English Punkt model, fully offline: the model's parameters ship with mathif
  (``_punkt_english.py``, Apache-2.0 NLTK data) and are handed to NLTK's own
  ``PunktSentenceTokenizer``; nothing is downloaded, ever. Most of the text never goes through
  the tokenizers at all (see ``capital_word_count`` for the argument why that is exact).
* ``detect_language`` is ``langdetect``'s detector with the seed fixed to 0, run by
  ``langdetect_rs`` (a bit-identical Rust port) or, where that is not installed, by a pure-Python
  re-implementation with the same arithmetic and random stream; profiles are loaded in sorted
  language order so the result does not depend on the file system's directory order. Results
  are cached per text. Note that Python 3.12 changed ``sum()`` of floats (Neumaier summation),
  which langdetect uses: its verdicts can differ in the last bits between Python versions.
* ``user_pattern`` compiles the regular expressions that come from item arguments (keywords,
  section markers). They are used unescaped, as the reference does. A pattern the ``re`` module
  rejects is matched literally instead (``re.escape``) rather than crashing a run. A pattern
  that contains regex syntax runs on the ``regex`` engine (in its ``re``-compatible VERSION0
  mode) under a time limit of ``USER_REGEX_TIMEOUT`` seconds per call; if the limit is hit the
  keyword is matched literally instead, so a pathological pattern cannot stall scoring. Plain
  words (every keyword of the official data) always use the stdlib ``re`` engine.
"""

from __future__ import annotations

import functools
import os
import random
import re
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import repeat
from operator import add, and_, mul, truediv
from typing import Any

import regex

#: Seconds a user-supplied regular expression may run on one text before it is treated
#: literally instead (see the module docstring).
USER_REGEX_TIMEOUT = 2.0

_WORD_RE = re.compile(r"\w+")
_REGEX_META = frozenset(".^$*+?{}[]\\|()")


def count_words(text: str) -> int:
    """Number of ``\\w+`` runs: the reference's word count for ``number_words``."""
    return len(_WORD_RE.findall(text))


# --------------------------------------------------------------------------------------------
# User-supplied patterns
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserPattern:
    """A compiled item pattern with the fallbacks described in the module docstring."""

    source: str
    exact: re.Pattern[str]
    literal: re.Pattern[str]
    guarded: Any | None  # a ``regex`` pattern when the user part contains regex syntax

    def _run(self, method: str, text: str) -> Any:
        if self.guarded is None:
            return getattr(self.exact, method)(text)
        try:
            return getattr(self.guarded, method)(text, timeout=USER_REGEX_TIMEOUT)
        except TimeoutError:
            return getattr(self.literal, method)(text)

    def search(self, text: str) -> bool:
        """Whether the pattern occurs anywhere (``re.search``)."""
        return self._run("search", text) is not None

    def count(self, text: str) -> int:
        """Number of non-overlapping matches (``len(re.findall(...))``)."""
        return len(self._run("findall", text))

    def split_len(self, text: str) -> int:
        """Length of ``re.split(pattern, text)`` (captured groups included, as in ``re``)."""
        return len(self._run("split", text))


@functools.lru_cache(maxsize=4096)
def user_pattern(prefix: str, user: str, suffix: str, flags: int = 0) -> UserPattern:
    """Compile ``prefix + user + suffix``; ``user`` is the item-supplied part.

    Cached, because the same few keywords are checked against every response.
    """
    literal = re.compile(prefix + re.escape(user) + suffix, flags)
    try:
        exact = re.compile(prefix + user + suffix, flags)
    except re.error:
        return UserPattern(prefix + user + suffix, literal, literal, None)
    guarded = None
    if any(ch in _REGEX_META for ch in user):
        try:
            guarded = regex.compile(prefix + user + suffix, flags | regex.VERSION0)
        except regex.error:
            return UserPattern(prefix + user + suffix, literal, literal, None)
    return UserPattern(prefix + user + suffix, exact, literal, guarded)


# --------------------------------------------------------------------------------------------
# Language detection (langdetect 1.0.9, seed 0)
# --------------------------------------------------------------------------------------------

LANGDETECT_SEED = 0


@dataclass(frozen=True)
class _Profiles:
    langs: tuple[str, ...]
    table: dict[str, list[float]]
    keys: frozenset[str]  # n-grams the extraction can emit and the profiles know


@functools.lru_cache(maxsize=1)
def _profiles() -> _Profiles:
    """langdetect's profiles, loaded once, in sorted file order (see module docstring)."""
    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

    names = sorted(n for n in os.listdir(PROFILES_DIRECTORY) if not n.startswith("."))
    blobs = []
    for name in names:
        with open(os.path.join(PROFILES_DIRECTORY, name), encoding="utf-8") as handle:
            blobs.append(handle.read())
    factory = DetectorFactory()
    factory.load_json_profile(blobs)
    table = factory.word_lang_prob_map
    keys = frozenset(k for k in table if k not in (" ", "  ") and not (len(k) == 3 and k[1] == " "))
    return _Profiles(tuple(factory.langlist), table, keys)


def langdetect_factory() -> Any:
    """A ``langdetect`` DetectorFactory with the same profile order and seed as mathif uses.

    For tests and baselines: ``factory.create()`` gives langdetect's own (slow) detector, whose
    ``detect()`` must agree with :func:`detect_language`.
    """
    from langdetect.detector_factory import DetectorFactory

    profiles = _profiles()
    factory = DetectorFactory()
    factory.langlist = list(profiles.langs)
    factory.word_lang_prob_map = profiles.table
    factory.seed = LANGDETECT_SEED
    return factory


@functools.lru_cache(maxsize=1)
def known_languages() -> tuple[str, ...]:
    """The language codes langdetect can answer with (its profile files are named by code)."""
    from langdetect.detector_factory import PROFILES_DIRECTORY

    return tuple(sorted(n for n in os.listdir(PROFILES_DIRECTORY) if not n.startswith(".")))


_SPACE_RUN = re.compile(" {2,}")
_VI_MARK = re.compile("[\u0300\u0301\u0303\u0309\u0323]")
_LATIN = re.compile("[A-z]")
_NON_LATIN = re.compile("[\u0300-\U0010ffff]")
_NORMALIZED: dict[int, str] = {}
_SEEN: set[str] = set()


def _normalize(text: str) -> str:
    """``NGram.normalize`` applied to every character, with a per-character memo."""
    from langdetect.utils.ngram import NGram

    new = set(text) - _SEEN
    for ch in new:
        out = NGram.normalize(ch)
        if out != ch:
            _NORMALIZED[ord(ch)] = out
    _SEEN.update(new)
    return text.translate(_NORMALIZED)


def _ngrams(text: str, keys: frozenset[str]) -> list[str]:
    """The n-gram list of ``Detector._extract_ngrams``, in the same order.

    The reference walks the text one character at a time keeping a 3-character buffer that
    restarts after a space; the n-grams it emits at position k are the substrings of
    ``" " + text`` ending at k that have no space in their interior (a 2-gram of two spaces is
    never emitted, nor the 1-gram " "), all skipped when both the character and its predecessor
    are upper case ("capital word"). Built here with whole-list operations instead.
    """
    padded = " " + _normalize(text)
    if len(padded) < 2:
        return []
    upper = list(map(str.isupper, padded))
    capital = list(map(and_, upper[1:], upper))
    pairs = list(map(add, padded, padded[1:]))
    triples = [None, *(t if t[1] != " " else None for t in map(add, padded, pairs[1:]))]
    return [
        gram
        for cap, one, two, three in zip(capital, padded[1:], pairs, triples, strict=True)
        if not cap
        for gram in (one, two, three)
        if gram in keys
    ]


def _prepared(text: str) -> str:
    """``Detector.append`` followed by ``Detector.cleaning_text``."""
    from langdetect.detector import Detector
    from langdetect.utils.ngram import NGram

    # The three substitutions only run where they can match (same result, less work).
    if "http" in text:
        text = Detector.URL_RE.sub(" ", text)
    if "@" in text:
        text = Detector.MAIL_RE.sub(" ", text)
    if _VI_MARK.search(text):
        text = NGram.normalize_vi(text)
    text = _SPACE_RUN.sub(" ", text[:10000])
    latin = len(_LATIN.findall(text))
    # langdetect compares a block number with a block name here, so the exclusion of
    # "Latin Extended Additional" it intends never happens: every char >= U+0300 counts.
    non_latin = len(_NON_LATIN.findall(text))
    if latin * 2 < non_latin:
        text = _LATIN.sub("", text)
    return text


@functools.lru_cache(maxsize=512)
def detect_language(text: str) -> str | None:
    """langdetect's answer for ``text`` with seed 0, or None where langdetect raises.

    None means "no features in text" (langdetect's ``LangDetectException``), which every
    language-dependent checker counts as followed. The detection runs in ``langdetect_rs``
    (a Rust port that reproduces langdetect 1.0.9 bit for bit, about 30x faster) when it is
    installed, else in :func:`detect_language_python`; the tests hold both to langdetect's own
    detector on thousands of real responses.
    """
    factory = _rs_factory()
    if factory is None:
        return detect_language_python(text)
    detector = factory.create()
    detector.append(text)
    try:
        return str(detector.detect())
    except factory.error:
        return None


@functools.lru_cache(maxsize=1)
def _rs_factory() -> Any:
    """A ``langdetect_rs`` factory with langdetect's profiles in sorted order and seed 0."""
    if os.environ.get("MATHIF_PURE_LANGDETECT"):
        return None
    try:
        import langdetect_rs
    except ImportError:
        return None
    factory = langdetect_rs.DetectorFactory()
    try:
        # The profiles compiled into langdetect_rs (the same 55 files), loaded in name order
        # by its core: ten times faster than parsing the JSON in Python.
        from langdetect_rs import _core

        names = sorted(_core.builtin_files())
        if tuple(names) != known_languages():
            raise AttributeError("langdetect_rs carries other profiles than langdetect")
        factory._core.load_builtin(names)
        factory.langlist[:] = factory._core.langs()
    except AttributeError:  # a langdetect_rs without these internals: the public way
        from langdetect.detector_factory import PROFILES_DIRECTORY

        factory = langdetect_rs.DetectorFactory()
        blobs = []
        for name in known_languages():
            with open(os.path.join(PROFILES_DIRECTORY, name), encoding="utf-8") as handle:
                blobs.append(handle.read())
        factory.load_json_profile(blobs)
    factory.seed = LANGDETECT_SEED
    factory.error = langdetect_rs.LangDetectException
    return factory


def detect_language_python(text: str) -> str | None:
    """:func:`detect_language` in pure Python, for platforms without ``langdetect_rs``.

    The arithmetic is the reference's, operation for operation (``p * (weight + q)``, then
    division by the plain ``sum``), and the random stream is consumed in the same order (one
    ``gauss`` per trial, one ``choice`` per update), so the answer is bit-identical to
    ``Detector.detect()`` with seed 0.
    """
    profiles = _profiles()
    table = profiles.table
    ngrams = _ngrams(_prepared(text), profiles.keys)
    if not ngrams:
        return None
    vectors = [table[gram] for gram in ngrams]
    n_langs = len(profiles.langs)
    langprob = [0.0] * n_langs
    rng = random.Random()
    rng.seed(LANGDETECT_SEED)
    # ``rng.choice(seq)`` is ``seq[rng._randbelow(len(seq))]``, and ``_randbelow`` draws
    # ``getrandbits(n.bit_length())`` until the value is below n; inlined, same stream.
    getrandbits = rng.getrandbits
    n_grams = len(vectors)
    bits = n_grams.bit_length()
    for _ in range(7):
        prob = [1.0 / n_langs] * n_langs
        weight = (0.5 + rng.gauss(0.0, 1.0) * 0.05) / 10000
        shift = weight.__add__
        i = 0
        while True:
            r = getrandbits(bits)
            while r >= n_grams:
                r = getrandbits(bits)
            prob = list(map(mul, prob, map(shift, vectors[r])))
            if i % 5 == 0:
                prob = list(map(truediv, prob, repeat(sum(prob), n_langs)))
                if max(prob) > 0.99999 or i >= 1000:
                    break
            i += 1
        langprob = [a + p / 7 for a, p in zip(langprob, prob, strict=True)]
    best_lang, best_p = None, 0.1
    for lang, p in zip(profiles.langs, langprob, strict=True):
        if p > best_p:
            best_lang, best_p = lang, p
    return best_lang if best_lang is not None else "unknown"


# --------------------------------------------------------------------------------------------
# Capital-word count (nltk.word_tokenize, English Punkt, offline)
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def punkt_parameters() -> Any:
    """NLTK ``PunktParameters`` for English, built from the shipped tables."""
    _import_nltk_tokenize()
    from nltk.tokenize.punkt import PunktParameters

    from . import _punkt_english as data

    params = PunktParameters()
    params.abbrev_types = set(data.ABBREV_TYPES)
    params.collocations = set(data.COLLOCATIONS)
    params.sent_starters = set(data.SENT_STARTERS)
    ortho: defaultdict[str, int] = defaultdict(int)
    for flags, words in data.ORTHO_CONTEXT.items():
        for word in words:
            ortho[word] = flags
    params.ortho_context = ortho
    return params


@functools.lru_cache(maxsize=1)
def _sentence_tokenizer() -> Any:
    from nltk.tokenize.punkt import PunktSentenceTokenizer

    return PunktSentenceTokenizer(punkt_parameters())


@functools.lru_cache(maxsize=1)
def _word_tokenizer() -> Any:
    _import_nltk_tokenize()
    from nltk.tokenize import NLTKWordTokenizer

    return NLTKWordTokenizer()


def _import_nltk_tokenize() -> None:
    """Import ``nltk.tokenize`` without letting NLTK pull in SciPy.

    ``import nltk`` runs NLTK's whole package init, whose collocation metrics import
    ``scipy.stats`` when SciPy is installed: 1.3 s of a 1.6 s import, for a function the
    tokenizers never call. When SciPy is not loaded yet, it is hidden for the duration of this
    import (NLTK falls back as if SciPy were absent, for its Fisher exact test only) and made
    visible again afterwards, so later ``import scipy`` works normally.
    """
    if "nltk.tokenize" in sys.modules or "scipy" in sys.modules:
        import nltk.tokenize
        return
    sys.modules["scipy"] = None  # type: ignore[assignment]
    try:
        import nltk.tokenize  # noqa: F401
    finally:
        if sys.modules.get("scipy", 0) is None:
            del sys.modules["scipy"]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentence spans exactly as ``nltk.sent_tokenize(text, "english")`` cuts them."""
    return list(_sentence_tokenizer().span_tokenize(text))


def word_tokenize(text: str) -> list[str]:
    """``nltk.word_tokenize(text)`` with the shipped English Punkt model (no data lookup)."""
    return [tok for start, end in sentence_spans(text) for tok in _words(text[start:end])]


_SPACE_RUN = re.compile(" {2,}")


def _words(sentence: str) -> list[str]:
    """NLTK's Treebank tokens of one sentence, in linear time.

    NLTK 3.9.1 (the benchmark's release) runs its end-of-sentence rule on the stdlib ``re``
    engine, which backtracks quadratically over a long run of spaces after a period. Runs of
    spaces are collapsed first: tokens are split on whitespace, so no token changes.
    """
    return list(_word_tokenizer().tokenize(_SPACE_RUN.sub(" ", sentence)))


def reference_capital_word_count(text: str) -> int:
    """The straightforward count: ``sum(t.isupper() for t in word_tokenize(text))``."""
    return sum(tok.isupper() for tok in word_tokenize(text))


# A chunk (whitespace-delimited run) whose cased characters form one run of ASCII word
# characters, surrounded only by punctuation that no tokenizer rule can push into that run.
_PLAIN_CHUNK = re.compile(r"[*(\[{<$]*([A-Za-z0-9_]+)[*)\]}>$,.:;?!]*")
# Words NLTK's tokenizer splits in the middle (MacIntyre contractions).
_SPLIT_WORDS = frozenset({"cannot", "gimme", "gonna", "gotta", "lemme", "wanna"})
# Whitespace for ``str.split`` that the ``regex`` engine's ``\s`` does not match.
_ODD_SPACE = re.compile("[\x1c-\x1f]")
_CHUNK = re.compile(r"\S+")


def _has_upper(text: str) -> bool:
    if text.islower():
        return False
    return any(ch.isupper() for ch in set(text))


def capital_word_count(text: str) -> int:
    """``sum(t.isupper() for t in nltk.word_tokenize(text))``, computed cheaply and exactly.

    Why the shortcuts are exact:

    1. A token is a piece of one whitespace-delimited chunk of the text (tokenizer rules only
       insert spaces and turn ``"`` into other quote marks), and ``isupper`` needs an upper-case
       character. So a text, or a chunk, without upper-case characters adds nothing.
    2. For a chunk that matches ``_PLAIN_CHUNK`` - one run W of ``[A-Za-z0-9_]`` plus leading /
       trailing brackets, ``*``, ``$`` and ``,.:;?!`` - no rule inserts a space inside W (rules
       split next to quote marks and punctuation, and W contains neither; the only in-word
       splits are the contractions in ``_SPLIT_WORDS``, excluded), and a sentence boundary can
       only fall after ``.?!`` or at whitespace. The token holding W is W plus uncased
       punctuation, every other token of the chunk is uncased, so the chunk adds
       ``W.isupper()`` whatever the sentence context.
    3. Only sentences containing another kind of chunk with an upper-case letter are run
       through Punkt and the Treebank tokenizer, exactly as ``word_tokenize`` would.
    """
    if not _has_upper(text):
        return 0
    if _ODD_SPACE.search(text):
        return reference_capital_word_count(text)
    plain_total = 0
    plain_at: list[tuple[int, int]] = []  # (start of W, W.isupper()) for plain chunks
    hard: list[tuple[int, int]] = []  # spans of chunks that need the real tokenizer
    fullmatch = _PLAIN_CHUNK.fullmatch
    for m in _CHUNK.finditer(text):
        chunk = m.group()
        if chunk.islower() or not _has_upper(chunk):
            continue
        plain = fullmatch(chunk)
        if plain is not None and plain.group(1).lower() not in _SPLIT_WORDS:
            is_upper = int(plain.group(1).isupper())
            plain_total += is_upper
            if is_upper:
                plain_at.append((m.start() + plain.start(1), is_upper))
            continue
        hard.append(m.span())
    if not hard:
        return plain_total
    return _count_with_sentences(text, plain_at, hard)


def _count_with_sentences(
    text: str, plain_at: list[tuple[int, int]], hard: list[tuple[int, int]]
) -> int:
    """Tokenize the sentences that overlap a hard chunk; add plain chunks elsewhere."""
    words = _words
    total = 0
    hard_iter: Iterator[tuple[int, int]] = iter(hard)
    plain_iter: Iterator[tuple[int, int]] = iter(plain_at)
    next_hard = next(hard_iter, None)
    next_plain = next(plain_iter, None)
    for start, end in sentence_spans(text):
        while next_hard is not None and next_hard[1] <= start:
            next_hard = next(hard_iter, None)
        is_hard = next_hard is not None and next_hard[0] < end
        if is_hard:
            total += sum(tok.isupper() for tok in words(text[start:end]))
        while next_plain is not None and next_plain[0] < end:
            if not is_hard and next_plain[0] >= start:
                total += next_plain[1]
            next_plain = next(plain_iter, None)
    return total


def clear_caches() -> None:
    """Forget cached detections and patterns (tests use it to check order independence)."""
    detect_language.cache_clear()
    user_pattern.cache_clear()


__all__ = [
    "LANGDETECT_SEED",
    "USER_REGEX_TIMEOUT",
    "UserPattern",
    "capital_word_count",
    "clear_caches",
    "count_words",
    "detect_language",
    "known_languages",
    "langdetect_factory",
    "punkt_parameters",
    "reference_capital_word_count",
    "sentence_spans",
    "user_pattern",
    "word_tokenize",
]
