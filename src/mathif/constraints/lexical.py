"""Lexical constraints: response language and keywords.

Keyword patterns are regular expressions, used without escaping as in the reference:
``keywords:existence`` and ``keywords:frequency`` search case-insensitively without anchors (so
``find`` matches ``finding``), ``keywords:forbidden_words`` wraps each word in ``\\b``. A keyword
that is not a valid regular expression is matched literally (``re.escape``) instead of crashing
the run, and a keyword with regex syntax runs under a time limit (see
:mod:`mathif.constraints.text`). Compiled patterns are cached.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .length import compare
from .registry import (
    ArgumentError,
    Checker,
    Param,
    non_blank,
    positive,
    register,
    relation,
    word_list,
)
from .text import detect_language, known_languages, user_pattern

#: MathIF's ISO 639-1 -> name table (``constraint_util.LANGUAGE_CODES``), used in descriptions.
LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "es": "Spanish",
    "pt": "Portuguese",
    "ar": "Arabic",
    "hi": "Hindi",
    "fr": "French",
    "ru": "Russian",
    "de": "German",
    "ja": "Japanese",
    "it": "Italian",
    "bn": "Bengali",
    "uk": "Ukrainian",
    "th": "Thai",
    "ur": "Urdu",
    "ta": "Tamil",
    "te": "Telugu",
    "bg": "Bulgarian",
    "ko": "Korean",
    "pl": "Polish",
    "he": "Hebrew",
    "fa": "Persian",
    "vi": "Vietnamese",
    "ne": "Nepali",
    "sw": "Swahili",
    "kn": "Kannada",
    "mr": "Marathi",
    "gu": "Gujarati",
    "pa": "Punjabi",
    "ml": "Malayalam",
    "fi": "Finnish",
}

#: Names for the other codes langdetect knows. The reference has no name for them (it would
#: fail with a KeyError); mathif accepts them and uses their English names.
EXTRA_LANGUAGE_NAMES: dict[str, str] = {
    "af": "Afrikaans",
    "ca": "Catalan",
    "cs": "Czech",
    "cy": "Welsh",
    "da": "Danish",
    "el": "Greek",
    "et": "Estonian",
    "hr": "Croatian",
    "hu": "Hungarian",
    "id": "Indonesian",
    "lt": "Lithuanian",
    "lv": "Latvian",
    "mk": "Macedonian",
    "nl": "Dutch",
    "no": "Norwegian",
    "ro": "Romanian",
    "sk": "Slovak",
    "sl": "Slovenian",
    "so": "Somali",
    "sq": "Albanian",
    "sv": "Swedish",
    "tl": "Tagalog",
    "tr": "Turkish",
    "zh-cn": "Simplified Chinese",
    "zh-tw": "Traditional Chinese",
}


def _language_code(name: str, value: Any) -> None:
    if value not in known_languages():
        raise ArgumentError(name, f"{value!r} is not a language code langdetect knows")


def _describe_language(args: Mapping[str, Any]) -> str:
    code = args["language"]
    language = LANGUAGE_NAMES.get(code) or EXTRA_LANGUAGE_NAMES.get(code, code)
    return f"Your answer should be in {language} language, no other language is allowed. "


def _check_language(text: str, args: Mapping[str, Any]) -> bool:
    detected = detect_language(text)
    return detected is None or detected == args["language"]


RESPONSE_LANGUAGE = register(
    Checker(
        id="language:response_language",
        category="lexical",
        params=(Param("language", str, _language_code),),
        describe=_describe_language,
        check=_check_language,
    )
)


def _describe_existence(args: Mapping[str, Any]) -> str:
    return f'Include keywords "{sorted(args["keywords"])}" in the response.'


def _check_existence(text: str, args: Mapping[str, Any]) -> bool:
    return all(user_pattern("", kw, "", re.IGNORECASE).search(text) for kw in args["keywords"])


EXISTENCE = register(
    Checker(
        id="keywords:existence",
        category="lexical",
        params=(Param("keywords", list, word_list),),
        describe=_describe_existence,
        check=_check_existence,
    )
)


def _describe_frequency(args: Mapping[str, Any]) -> str:
    return (
        f'In your response, the word "{args["keyword"].strip()}" should appear '
        f"{args['relation']} {args['frequency']} times."
    )


def _check_frequency(text: str, args: Mapping[str, Any]) -> bool:
    found = user_pattern("", args["keyword"].strip(), "", re.IGNORECASE).count(text)
    return compare(found, args["relation"], args["frequency"])


FREQUENCY = register(
    Checker(
        id="keywords:frequency",
        category="lexical",
        params=(
            Param("keyword", str, non_blank),
            Param("frequency", int, positive),
            Param("relation", str, relation),
        ),
        describe=_describe_frequency,
        check=_check_frequency,
    )
)


def _describe_forbidden(args: Mapping[str, Any]) -> str:
    return f'Do not include keywords "{sorted(set(args["forbidden_words"]))}" in the response.'


def _check_forbidden(text: str, args: Mapping[str, Any]) -> bool:
    return not any(
        user_pattern(r"\b", word, r"\b", re.IGNORECASE).search(text)
        for word in args["forbidden_words"]
    )


FORBIDDEN_WORDS = register(
    Checker(
        id="keywords:forbidden_words",
        category="lexical",
        params=(Param("forbidden_words", list, word_list),),
        describe=_describe_forbidden,
        check=_check_forbidden,
    )
)
