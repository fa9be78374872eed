"""The checker protocol and the registry of the 15 MathIF constraints.

Each checker declares its parameters so that items can be validated at load time, can render
its own description (which must equal the item's ``constraint_desc``), and decides a response
with the exact reference semantics (``../shared/SPEC.md`` §4).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


class ArgumentError(ValueError):
    """An argument of a constraint is missing, of the wrong type or out of range.

    ``field`` names the offending argument (e.g. ``"relation"``) so that loaders can point at it.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Param:
    """One declared argument of a checker."""

    name: str
    type: type | tuple[type, ...]
    choices: tuple[Any, ...] | None = None
    required: bool = True
    doc: str = ""


@dataclass(frozen=True)
class Checker:
    """A constraint type: identity, parameters, description and decision."""

    id: str
    category: str  # "length" | "lexical" | "format" | "affix"
    params: tuple[Param, ...]
    describe: Callable[[Mapping[str, Any]], str]
    check: Callable[[str, Mapping[str, Any]], bool]
    validate_extra: Callable[[Mapping[str, Any]], None] | None = field(default=None)


REGISTRY: dict[str, Checker] = {}


def register(checker: Checker) -> Checker:
    if checker.id in REGISTRY:
        raise RuntimeError(f"duplicate checker id {checker.id}")
    REGISTRY[checker.id] = checker
    return checker
