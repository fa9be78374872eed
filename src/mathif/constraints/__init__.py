"""The 15 MathIF constraint checkers (IFEval's checkers under MathIF ids).

Public API::

    CONSTRAINT_IDS                      the 15 ids, in the SPEC's order
    category(constraint_id)             "length" | "lexical" | "format" | "affix"
    validate_args(constraint_id, args)  normalised args, or ArgumentError / UnknownConstraintError
    describe(constraint_id, args)       the instruction text (== the official constraint_desc)
    check(constraint_id, text, args)    the verdict on an answer part, reference semantics
    check_all(names, text, args)        one verdict per constraint of an item

``text`` is the answer part; the rule "an empty or whitespace answer fails every constraint" is
the caller's (checkers themselves accept any string, including an empty one).
"""

from __future__ import annotations

from . import affix, length, lexical, markup  # noqa: F401  (importing registers the checkers)
from .registry import (
    REGISTRY,
    ArgumentError,
    UnknownConstraintError,
    category,
    check,
    check_all,
    describe,
    validate_args,
)

CONSTRAINT_IDS: tuple[str, ...] = (
    "length_constraint_checkers:number_words",
    "language:response_language",
    "keywords:existence",
    "keywords:frequency",
    "keywords:forbidden_words",
    "detectable_format:number_bullet_lists",
    "detectable_format:number_highlighted_sections",
    "detectable_format:multiple_sections",
    "change_case:english_capital",
    "change_case:english_lowercase",
    "change_case:capital_word_frequency",
    "punctuation:no_comma",
    "combination:repeat_prompt",
    "startend:end_checker",
    "startend:quotation",
)

if set(CONSTRAINT_IDS) != set(REGISTRY) or len(REGISTRY) != len(CONSTRAINT_IDS):
    raise RuntimeError("constraint registry and CONSTRAINT_IDS disagree")

__all__ = [
    "CONSTRAINT_IDS",
    "REGISTRY",
    "ArgumentError",
    "UnknownConstraintError",
    "category",
    "check",
    "check_all",
    "describe",
    "validate_args",
]
