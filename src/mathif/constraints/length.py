"""Length constraints: the number of words.

Words are ``\\w+`` runs (the reference counts them with ``RegexpTokenizer(r"\\w+")``), so
``x=2`` is two words and ``don't`` is two words.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .registry import Checker, Param, positive, register, relation
from .text import count_words


def compare(count: int, rel: str, threshold: int) -> bool:
    """The reference's comparison: ``less than`` is strict, ``at least`` is inclusive."""
    return count < threshold if rel == "less than" else count >= threshold


def _describe_number_words(args: Mapping[str, Any]) -> str:
    return f"Answer with {args['relation']} {args['num_words']} words."


def _check_number_words(text: str, args: Mapping[str, Any]) -> bool:
    return compare(count_words(text), args["relation"], args["num_words"])


NUMBER_WORDS = register(
    Checker(
        id="length_constraint_checkers:number_words",
        category="length",
        params=(
            Param("num_words", int, positive),
            Param("relation", str, relation),
        ),
        describe=_describe_number_words,
        check=_check_number_words,
    )
)
