"""Text measurements the checkers share: word counts, capital-word counts, language, patterns.

Every function here reproduces what the reference scorer (IFEval's checkers as MathIF runs them)
computes, and is written so that it is fast and cannot hang on untrusted input:

* ``count_words`` is the reference's ``RegexpTokenizer(r"\\w+")`` count, i.e. the number of
  ``re.findall(r"\\w+", text)`` matches. NLTK 3.9.1, the benchmark's release, runs that
  tokenizer on the stdlib ``re`` engine; later releases (3.10) switched to the ``regex`` module,
  whose ``\\w`` also matches combining marks, viramas, joiners (ZWJ) and differs on ``½ ² ①``,
  which changes word counts. We count with ``re``, as the benchmark did.
* ``capital_word_count`` equals ``sum(t.isupper() for t in nltk.word_tokenize(text))`` with the
  English Punkt model and NLTK 3.9.1 (the benchmark's release, pinned), fully offline: NLTK's
  ``punkt_tab/english`` files ship with mathif as package data (``resources/punkt_tab``,
  Apache-2.0) and are read by NLTK's own ``load_punkt_params``; nothing is downloaded, ever.
  Most of the text never goes through the tokenizers at all, and what does is bounded (see
  ``capital_word_count`` for the argument why both are exact).
* ``detect_language`` is ``langdetect``'s detector with the seed fixed to 0, run by
  ``langdetect_rs`` (a bit-identical Rust port, through its public langdetect-compatible API)
  or, where that cannot be imported, by langdetect itself; profiles are loaded in sorted
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

import contextlib
import functools
import importlib
import importlib.util
import os
import re
import string
import sys
import threading
import types
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

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


@functools.lru_cache(maxsize=1)
def known_languages() -> tuple[str, ...]:
    """The language codes langdetect can answer with (its profile files are named by code)."""
    from langdetect.detector_factory import PROFILES_DIRECTORY

    return tuple(sorted(n for n in os.listdir(PROFILES_DIRECTORY) if not n.startswith(".")))


def _profile_blobs() -> list[str]:
    """langdetect's profile files, read in sorted name order.

    langdetect itself loads them in ``os.listdir`` order, which varies between file systems
    and changes the last bits of its probabilities; sorting makes the answer the same
    everywhere.
    """
    from langdetect.detector_factory import PROFILES_DIRECTORY

    blobs = []
    for name in known_languages():
        with open(os.path.join(PROFILES_DIRECTORY, name), encoding="utf-8") as handle:
            blobs.append(handle.read())
    return blobs


def langdetect_factory(engine: str = "langdetect") -> Any:
    """A DetectorFactory of ``engine`` with langdetect's profiles in sorted order and seed 0.

    ``engine`` is ``"langdetect"`` (the reference itself) or ``"langdetect_rs"`` (its
    bit-identical Rust port, about 30 times faster); both expose the same public API
    (``load_json_profile``, ``set_seed``, ``create``). Tests use ``langdetect`` as the
    baseline that :func:`detect_language` must reproduce.
    """
    module = importlib.import_module(engine)
    factory = module.DetectorFactory()
    factory.load_json_profile(_profile_blobs())
    factory.set_seed(LANGDETECT_SEED)
    return factory


@functools.lru_cache(maxsize=1)
def _detection_engine() -> tuple[Any, type[Exception]]:
    """The factory :func:`detect_language` uses and the exception that means "no features".

    ``langdetect_rs`` when it can be imported (a dependency, with wheels for the usual
    platforms), else langdetect itself: the same answers, only slower (and, as langdetect
    does, by re-seeding Python's global ``random`` on every detection, so not thread-safe).
    """
    try:
        import langdetect_rs
    except ImportError:
        import langdetect

        return langdetect_factory("langdetect"), langdetect.LangDetectException
    return langdetect_factory("langdetect_rs"), langdetect_rs.LangDetectException


def detection_engine_name() -> str:
    """``"langdetect_rs"`` or ``"langdetect"``: which library answers :func:`detect_language`."""
    factory, _ = _detection_engine()
    return str(type(factory).__module__.split(".")[0])


@functools.lru_cache(maxsize=512)
def detect_language(text: str) -> str | None:
    """langdetect's answer for ``text`` with seed 0, or None where langdetect raises.

    None means "no features in text" (langdetect's ``LangDetectException``), which every
    language-dependent checker counts as followed. A fresh detector per text, seeded with 0,
    so the answer does not depend on which texts were detected before (cached per text).
    """
    factory, no_features = _detection_engine()
    detector = factory.create()
    detector.append(text)
    try:
        return str(detector.detect())
    except no_features:
        return None


# --------------------------------------------------------------------------------------------
# Capital-word count (nltk.word_tokenize, English Punkt, offline)
# --------------------------------------------------------------------------------------------

#: NLTK's English ``punkt_tab`` model, shipped as package data (Apache-2.0, see NOTICE there).
PUNKT_TABLES = "resources/punkt_tab/english"


def punkt_directory() -> Path:
    """The folder that holds the shipped English Punkt tables (NLTK's four files)."""
    return Path(str(resources.files("mathif").joinpath(PUNKT_TABLES)))


@dataclass(frozen=True)
class _Tokenizers:
    """NLTK's English sentence splitter (with its parameters) and its word tokenizer."""

    params: Any
    sentences: Any
    words: Any


# NLTK's modules that the two tokenizers and the model loader live in.
_NLTK_MODULES = ("nltk.tokenize.punkt", "nltk.tokenize.destructive", "nltk.tabdata")
_NLTK_LOCK = threading.Lock()


@functools.lru_cache(maxsize=1)
def _tokenizers() -> _Tokenizers:
    """The tokenizers ``nltk.word_tokenize`` uses, built once from the shipped Punkt files.

    ``nltk.word_tokenize`` finds the same four files under ``tokenizers/punkt_tab/english`` in
    NLTK's data path and reads them with the same loader (``load_punkt_params``); here we
    only say where they are, so nothing is ever looked up or downloaded.
    """
    _check_nltk_release()
    with _NLTK_LOCK, _nltk_modules() as modules:
        # Built inside the block: the loader imports nltk.tabdata when it is called.
        params = modules["nltk.tokenize.punkt"].load_punkt_params(str(punkt_directory()))
        sentences = modules["nltk.tokenize.punkt"].PunktSentenceTokenizer(params)
        words = modules["nltk.tokenize.destructive"].NLTKWordTokenizer()
    return _Tokenizers(params, sentences, words)


#: The NLTK release whose tokenizers define the benchmark's capital-word counts (SPEC §6).
NLTK_RELEASE = "3.9.1"


def _check_nltk_release() -> None:
    """Refuse another NLTK: later releases split dashes and curly quotes differently (other
    counts, other verdicts) and no longer read model files from a package's own folder."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("nltk")
    except PackageNotFoundError:
        found = "none"
    if found != NLTK_RELEASE:
        raise RuntimeError(
            f"mathif counts capital words with nltk {NLTK_RELEASE}, the benchmark's release; "
            f"this environment has nltk {found}: pip install nltk=={NLTK_RELEASE}"
        )


@contextlib.contextmanager
def _nltk_modules() -> Iterator[dict[str, Any]]:
    """The three NLTK modules we use, imported without running NLTK's package ``__init__``.

    ``import nltk`` imports some 240 modules (taggers, corpora, translation metrics, SciPy
    when it is installed): 0.1 s on an idle machine and over 0.5 s on a loaded one, for the
    seven modules the tokenizers need. When NLTK is not imported yet, its two packages are
    stood in for by empty package objects while those modules load, and every ``nltk``
    entry is removed from ``sys.modules`` afterwards: the tokenizers keep their own copy, and
    a later ``import nltk`` by anyone loads NLTK whole and unchanged. When NLTK is already
    imported, its modules are used as they are.
    """
    if "nltk" in sys.modules:
        yield {name: importlib.import_module(name) for name in _NLTK_MODULES}
        return
    spec = importlib.util.find_spec("nltk")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("mathif needs nltk (pip install nltk==3.9.1)")
    root = list(spec.submodule_search_locations)
    stand_ins = {"nltk": root, "nltk.tokenize": [os.path.join(path, "tokenize") for path in root]}
    try:
        for name, path in stand_ins.items():
            package = types.ModuleType(name)
            package.__path__ = path
            sys.modules[name] = package
        yield {name: importlib.import_module(name) for name in _NLTK_MODULES}
    finally:
        for name in [n for n in sys.modules if n == "nltk" or n.startswith("nltk.")]:
            del sys.modules[name]


def punkt_parameters() -> Any:
    """NLTK ``PunktParameters`` for English, read from the shipped tables by NLTK's loader."""
    return _tokenizers().params


# Three or more whitespace characters (``re``'s ``\s`` is ``str.isspace``; a test checks it).
_LONG_SPACE = re.compile(r"\s{3,}")
_ASCII_SPACE = frozenset(string.whitespace)


def _short_space(match: re.Match[str]) -> str:
    run = match.group()
    inner = run[1:-1]
    keep = "\n" if "\n" in inner else next((ch for ch in inner if ch in _ASCII_SPACE), "")
    return run[0] + keep + run[-1]


def squeeze_space(text: str) -> str:
    """``text`` with every whitespace run of three or more characters cut to two or three.

    A run keeps its first and last character and, from its inside, one newline if it holds
    one, else one ASCII whitespace character if it holds one. ``nltk.word_tokenize`` gives the
    same tokens for both texts: no token spans a whitespace run, and no rule of Punkt or of the
    word tokenizer looks into a run beyond its first character (``' `` and contraction rules
    need a space after), its last one (`` `` `` needs a space before), its length being one
    or more (a spaced ellipsis ``. . .`` needs single characters; runs stay at two or more),
    whether it holds a newline (Punkt reads line by line) or an ASCII whitespace character
    (Punkt finds the word before a period by the last ``string.whitespace`` character). The
    tests hold the two equal on texts built around such runs.

    Why: NLTK 3.9.1's final-period rule backtracks over a run of spaces after a period, which
    costs the square of its length (a period and 100,000 spaces take minutes).
    """
    if _LONG_SPACE.search(text) is None:
        return text
    return _LONG_SPACE.sub(_short_space, text)


def _sentences(text: str) -> Iterator[tuple[int, int]]:
    """Sentence spans exactly as ``nltk.sent_tokenize(text, "english")`` cuts them."""
    spans: Iterator[tuple[int, int]] = _tokenizers().sentences.span_tokenize(text)
    return spans


def word_tokenize(text: str) -> list[str]:
    """``nltk.word_tokenize(text)`` with the shipped English Punkt model (no data lookup)."""
    text = squeeze_space(text)
    words = _tokenizers().words.tokenize
    return [tok for start, end in _sentences(text) for tok in words(text[start:end])]


def reference_capital_word_count(text: str) -> int:
    """The straightforward count: ``sum(t.isupper() for t in word_tokenize(text))``."""
    return sum(tok.isupper() for tok in word_tokenize(text))


# A chunk (whitespace-delimited run) whose cased characters form one run of ASCII word
# characters, surrounded only by punctuation that no tokenizer rule can push into that run.
_PLAIN_CHUNK = re.compile(r"[*(\[{<$]*([A-Za-z0-9_]+)[*)\]}>$,.:;?!]*")
# Words NLTK's tokenizer splits in the middle (MacIntyre contractions).
_SPLIT_WORDS = frozenset({"cannot", "gimme", "gonna", "gotta", "lemme", "wanna"})
_CHUNK = re.compile(r"\S+")


def _has_upper(text: str) -> bool:
    if text.islower():
        return False
    return any(ch.isupper() for ch in set(text))


def capital_word_count(text: str) -> int:
    """``sum(t.isupper() for t in nltk.word_tokenize(text))``, computed cheaply and exactly.

    The reference is NLTK 3.9.1 (the benchmark's version, pinned), whose rules differ from
    later releases on dashes and curly quotes. Why the shortcuts are exact:

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
       through Punkt and the word tokenizer, exactly as ``word_tokenize`` would, on the text
       with long whitespace runs shortened (:func:`squeeze_space`: same tokens, and the
       tokenizers' time stays linear in the length of the text). NLTK 3.9.1 runs its
       patterns on the stdlib ``re`` engine without time limits, so the count never depends
       on the machine's load.
    """
    if not _has_upper(text):
        return 0
    text = squeeze_space(text)
    scan = _scan_chunks(text)
    if not scan.hard:
        return scan.plain_total
    return _count_with_sentences(text, scan.plain_at, scan.hard)


def capital_word_range(text: str) -> tuple[int, int]:
    """Bounds ``(low, high)`` of :func:`capital_word_count`, without the tokenizers.

    ``low`` counts the plain chunks (each adds ``W.isupper()`` in any sentence context, see
    :func:`capital_word_count`); every other chunk adds at least nothing and at most its
    number of upper-case characters (its tokens are disjoint pieces of it, and an upper-case
    token holds at least one). A check against a threshold that both bounds decide alike
    needs no sentence splitting.
    """
    if not _has_upper(text):
        return 0, 0
    scan = _scan_chunks(squeeze_space(text))
    return scan.plain_total, scan.plain_total + scan.hard_upper


class _ChunkScan(NamedTuple):
    plain_total: int  # plain chunks whose word is upper-case
    plain_at: list[tuple[int, int]]  # (start of W, W.isupper()) for upper plain chunks
    hard: list[tuple[int, int]]  # spans of chunks that need the real tokenizer
    hard_upper: int  # upper-case characters in those chunks


def _scan_chunks(text: str) -> _ChunkScan:
    plain_total = 0
    hard_upper = 0
    plain_at: list[tuple[int, int]] = []
    hard: list[tuple[int, int]] = []
    fullmatch = _PLAIN_CHUNK.fullmatch
    for m in _CHUNK.finditer(text):
        chunk = m.group()
        if chunk.isascii():
            if chunk.lower() == chunk:  # in ASCII, lower() changes exactly A-Z
                continue
        elif chunk.islower() or not _has_upper(chunk):
            continue
        plain = fullmatch(chunk)
        if plain is not None and plain.group(1).lower() not in _SPLIT_WORDS:
            is_upper = int(plain.group(1).isupper())
            plain_total += is_upper
            if is_upper:
                plain_at.append((m.start() + plain.start(1), is_upper))
            continue
        hard.append(m.span())
        hard_upper += sum(1 for ch in chunk if ch.isupper())
    return _ChunkScan(plain_total, plain_at, hard, hard_upper)


def _count_with_sentences(
    text: str, plain_at: list[tuple[int, int]], hard: list[tuple[int, int]]
) -> int:
    """Tokenize the sentences that overlap a hard chunk; add plain chunks elsewhere."""
    words = _tokenizers().words.tokenize
    total = 0
    hard_iter: Iterator[tuple[int, int]] = iter(hard)
    plain_iter: Iterator[tuple[int, int]] = iter(plain_at)
    next_hard = next(hard_iter, None)
    next_plain = next(plain_iter, None)
    for start, end in _sentences(text):
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
    "NLTK_RELEASE",
    "PUNKT_TABLES",
    "USER_REGEX_TIMEOUT",
    "UserPattern",
    "capital_word_count",
    "capital_word_range",
    "clear_caches",
    "count_words",
    "detect_language",
    "detection_engine_name",
    "known_languages",
    "langdetect_factory",
    "punkt_directory",
    "punkt_parameters",
    "reference_capital_word_count",
    "squeeze_space",
    "user_pattern",
    "word_tokenize",
]
