"""Finding the final answer in an answer part, for the mathif grader.

The official extractor looks for ``\\boxed`` case-sensitively and for English phrases only,
so answers written under MathIF's own constraints (all capitals, another language, a
quoted response, an end phrase after the answer, no commas) are often lost.  This
extractor accepts those forms; it only *finds* text and never interprets it, so it is
cheap and safe on any string.

Every step is linear in the length of the text, which is scanned whole (a box followed by
megabytes of text is still found): boxes are matched in one pass over the braces, each
regular expression here either has a single way to match at each position or runs on a
window of bounded length, and searches for closing delimiters never rescan text that is
already known not to contain one (``tests/grading/test_hostile.py`` checks this on generated
pathological strings).
"""

from __future__ import annotations

import functools
import re

from mathif.grading.braces import closing_brace, closing_braces

# ``\boxed{`` / ``\fbox{`` in any letter case (``\BOXED{42}`` under an all-caps rule).
_BOX_OPEN = re.compile(r"\\(?:boxed|fbox)\s*\{", re.IGNORECASE)
_BOX_BARE = re.compile(r"\\boxed\s+([^\s$]+)", re.IGNORECASE)

# Phrases that announce the answer, in English and in the languages MathIF asks for,
# each with a literal anchor: a phrase pattern is only tried when its anchor occurs in the
# (lower-cased) text, which keeps extraction fast on long answer parts.
_ANSWER_PHRASES: tuple[tuple[str, str], ...] = (
    # English
    ("answer", r"final answer\s*(?:is|:|=)"),
    ("answer", r"the answer is"),
    ("answer", r"answer is"),
    ("answer", r"answer\s*:"),
    ("answers", r"answers are"),
    ("result", r"the result is"),
    ("result", r"final result\s*(?:is|:)"),
    # Spanish, Portuguese, Italian
    ("respuesta", r"respuesta (?:final )?es"),
    ("respuesta", r"respuesta(?: final)?\s*:"),
    ("resposta", r"resposta (?:final )?é"),
    ("resposta", r"resposta(?: final)?\s*:"),
    ("risposta", r"risposta (?:finale )?è"),
    ("risposta", r"risposta(?: finale)?\s*:"),
    # German
    ("antwort", r"antwort ist"),
    ("antwort", r"antwort lautet"),
    ("antwort", r"antwort\s*:"),
    ("ergebnis", r"ergebnis ist"),
    ("ergebnis", r"ergebnis\s*:"),
    # French
    ("réponse", r"réponse (?:finale )?est"),
    ("réponse", r"réponse(?: finale)?\s*:"),
    # Russian, Bulgarian
    ("ответ", r"ответ(?:ът)?\s*(?::|—|-|е|равен|будет)"),
    ("отговор", r"отговор(?:ът)?\s*(?::|е)"),
    # Vietnamese, Swahili
    ("đáp án", r"đáp án(?: là|\s*:)"),
    ("câu trả lời", r"câu trả lời(?: là|\s*:)"),
    ("kết quả", r"kết quả(?: là|\s*:)"),
    ("jibu", r"jibu(?: ni|\s*:)"),
    # Hebrew
    ("תשובה", r"התשובה(?: היא|\s*:)"),
    ("תשובה", r"תשובה\s*:"),
    # Chinese, Japanese, Korean
    ("答案", r"答案(?:是|为|為|：|:)"),
    ("答案", r"最终答案(?:是|为|：|:)"),
    ("答え", r"答え(?:は|：|:)"),
    ("解答", r"解答(?:は|：|:)"),
    ("정답", r"정답(?:은|:)"),
    ("답", r"답(?:은|:)"),
    # Thai
    ("คำตอบ", r"คำตอบ(?:คือ|\s*:)"),
    # Hindi / Marathi / Nepali, Bengali, Punjabi, Tamil, Kannada
    ("उत्तर", r"उत्तर(?: है| आहे| हो|\s*:)"),
    ("উত্তর", r"উত্তর(?: হল|\s*:)"),
    ("ਜਵਾਬ", r"ਜਵਾਬ(?: ਹੈ|\s*:)"),
    ("பதில்", r"பதில்\s*:"),
    ("ಉತ್ತರ", r"ಉತ್ತರ\s*:"),
)


_ANCHORS: tuple[str, ...] = tuple(dict.fromkeys(anchor for anchor, _ in _ANSWER_PHRASES))


@functools.lru_cache(maxsize=256)
def _phrase_regex(anchors: frozenset[str], flags: int) -> re.Pattern[str]:
    patterns = [p for anchor, p in _ANSWER_PHRASES if anchor in anchors]
    return re.compile("|".join(f"(?:{p})" for p in patterns), flags)


_HASHES = "####"
# A number as people write it: signs, thousands separators (comma, space, thin space),
# decimals, scientific notation, simple fractions and a trailing percent.
_NUMBER_TOKEN = re.compile(
    r"[-+−]?\d{1,3}(?:(?:,|\\,|\{,\}| |\u2009|\u202f)\d{3})+(?:\.\d+)?%?"
    r"|[-+−]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?:\s*/\s*\d+)?%?"
    r"|[-+−]?\.\d+%?"
)
# The same, standing alone: not part of an identifier, a path or a longer token.
_STANDALONE_NUMBER = re.compile(r"(?<![\w/\\.])(?:" + _NUMBER_TOKEN.pattern + r")(?![\w/])")
_SENTENCE_END = re.compile(r"(?<!\d)\.(?:\s|$)|\.\s|[\n。！!？?]")
_WORDY = re.compile(r"[^\W\d_]{3,}")
# Texts up to this length are remembered (a run grades each response once per grader; the
# cache serves re-grading and the reference/mathif pair), longer ones are not kept alive.
_CACHED_MAX_CHARS = 65_536


def extract_answer(answer_text: str) -> str | None:
    """The final answer marked in ``answer_text``: the last box (any case), else the last
    ``####`` line; None when neither is there.

    The mathif grader goes on to read the closing passage as prose when there is no mark:
    :func:`mathif.grading.prose.find_answer` (which calls this module, not the reverse).
    The text is returned as written (trimmed of decoration) so the verdict can record
    exactly what was compared.  The whole text is scanned, in time linear in its length.
    """
    if len(answer_text) <= _CACHED_MAX_CHARS:
        return _extract_cached(answer_text)
    return _extract(answer_text)


@functools.lru_cache(maxsize=8192)
def _extract_cached(answer_text: str) -> str | None:
    return _extract(answer_text)


def _extract(answer_text: str) -> str | None:
    if not answer_text or not answer_text.strip():
        return None
    text = answer_text
    boxed = last_boxed(text)
    if boxed is not None:
        return boxed
    return _after_hashes(text)


def last_boxed(text: str) -> str | None:
    """Content of the last non-empty ``\\boxed{...}``/``\\fbox{...}`` (any case), nested braces.

    A brace written ``\\{`` or ``\\}`` does not count.  A box that never closes is skipped
    (an earlier one may still hold the answer).  One pass pairs every brace after the first
    box with its partner, so the cost is linear however many boxes are left open.
    """
    starts = [m.end() for m in _BOX_OPEN.finditer(text)]
    if starts:
        end = closing_brace(text, starts[-1] - 1, escapes=True)  # usually the last box is fine
        if end is not None and text[starts[-1] : end].strip():
            return text[starts[-1] : end].strip()
        closing = closing_braces(text, starts[0] - 1, escapes=True)
        for start in reversed(starts):
            end = closing.get(start - 1)
            if end is not None:
                content = text[start:end].strip()
                if content:
                    return content
    last = None
    for match in _BOX_BARE.finditer(text):
        last = match
    if last is not None:
        return last.group(1).strip()
    return None


def _after_hashes(text: str) -> str | None:
    idx = text.rfind(_HASHES)
    if idx == -1:
        return None
    rest = text[idx + len(_HASHES) :].lstrip(" #\t")
    line = rest.split("\n", 1)[0]
    return _reduce(line)


def _reduce(rest: str) -> str | None:
    """Cut the announced answer out of the sentence that follows a phrase or ``####``."""
    rest = rest.strip().lstrip(":：=").strip()
    rest = rest.replace("**", "").strip()
    if not rest:
        return None
    end = _SENTENCE_END.search(rest, 0, 4000)
    sentence = rest[: end.start()] if end else rest[:4000]
    segments = math_segments(sentence)
    if not segments and rest.lstrip().startswith(("$", "\\(", "\\[")):
        segments = math_segments(rest[:2000])[:1]
    if segments:
        inner = segments[-1]
        inner_box = last_boxed(inner)
        if inner_box is not None:
            return inner_box
        if "=" in inner and len(segments) == 1 and not _WORDY.search(_strip_latex_words(inner)):
            inner = inner.rsplit("=", 1)[1]
        return _trim(inner) or None
    sentence = _trim(sentence)
    if not sentence:
        return None
    if not _WORDY.search(_strip_latex_words(sentence)):
        return sentence
    numbers = list(_STANDALONE_NUMBER.finditer(sentence))
    if numbers:
        return numbers[-1].group(0).strip()
    return sentence if len(sentence) <= 60 else None


# Math delimiters: (opener, closer), tried in this order at each position.
_DELIMITERS: tuple[tuple[str, str], ...] = (
    ("$$", "$$"),
    ("$", "$"),
    ("\\(", "\\)"),
    ("\\[", "\\]"),
)
_OPENER = re.compile(r"\$|\\[(\[]")


def math_segments(text: str) -> list[str]:
    r"""Contents of the math segments of ``text``, left to right: ``$$...$$``, ``$...$``,
    ``\(...\)``, ``\[...\]`` (each non-empty, closed by the first closer after it).

    The same segments as ``re.finditer`` with the lazy pattern
    ``\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]`` (DOTALL) finds, but in linear time:
    that pattern rescans to the end of the text from every opener that is never closed,
    while here a closer known to be absent after some position is not searched for again.
    """
    out: list[str] = []
    absent_from: dict[str, int] = {}  # closer -> a position after which it does not occur
    i = 0
    n = len(text)
    while i < n:
        m = _OPENER.search(text, i)
        if m is None:
            break
        i = m.start()
        for opener, closer in _DELIMITERS:
            if not text.startswith(opener, i):
                continue
            begin = i + len(opener)
            if begin >= n:
                continue
            if begin + 1 >= absent_from.get(closer, n + 1):
                continue
            end = text.find(closer, begin + 1)
            if end == -1:
                absent_from[closer] = min(absent_from.get(closer, n + 1), begin + 1)
                continue
            out.append(text[begin:end])
            i = end + len(closer)
            break
        else:
            i += 1
    return out


def _strip_latex_words(text: str) -> str:
    """Remove LaTeX command names so ``\\frac`` does not count as a word."""
    return re.sub(r"\\[A-Za-z]+", " ", text)


def _trim(text: str) -> str:
    """Drop decoration around an answer: spaces, quotes, bold marks, final punctuation."""
    out = text.strip()
    for _ in range(3):
        before = out
        out = out.strip().strip('"“”«»「」').strip()
        out = out.strip("*").strip()
        while out and out[-1] in ".,;:!?。！？、":
            out = out[:-1].rstrip()
        if out == before:
            break
    return out
