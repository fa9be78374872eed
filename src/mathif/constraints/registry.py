"""The checker protocol and the registry of the 15 MathIF constraints.

Each checker declares its parameters so that items can be validated at load time, can render
its own description (which must equal the item's ``constraint_desc``), and decides a response
with the exact reference semantics (``../shared/SPEC.md`` §4).

The argument rules are the ones the official data needs and nothing looser: every argument the
official items carry is required, no other key is accepted, counts are positive ``int`` (a
``bool`` is not a count), relations are the reference's two, strings are non-blank. The
reference silently replaces a falsy argument (``0``, ``""``, ``[]``) with a random one; mathif
refuses it instead, because a benchmark item must mean the same thing on every run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

RELATIONS = ("less than", "at least")
CATEGORIES = ("length", "lexical", "format", "affix")


class ArgumentError(ValueError):
    """An argument of a constraint is missing, of the wrong type or out of range.

    ``field`` names the offending argument (e.g. ``"relation"``) so that loaders can point at it.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class UnknownConstraintError(ValueError):
    """The constraint id is not one of the 15 MathIF ids."""


Validator = Callable[[str, Any], None]


@dataclass(frozen=True)
class Param:
    """One declared argument of a checker.

    ``check`` runs after the type check and raises :class:`ArgumentError` for a value of the
    right type that is still unusable (a non-positive count, an unknown language, ...).
    """

    name: str
    type: type | tuple[type, ...]
    check: Validator | None = None


@dataclass(frozen=True)
class Checker:
    """A constraint type: identity, parameters, description and decision."""

    id: str
    category: str
    params: tuple[Param, ...]
    describe: Callable[[Mapping[str, Any]], str]
    check: Callable[[str, Mapping[str, Any]], bool]


REGISTRY: dict[str, Checker] = {}


def register(checker: Checker) -> Checker:
    """Add a checker; ids are unique and categories come from the SPEC table."""
    if checker.id in REGISTRY:
        raise RuntimeError(f"duplicate checker id {checker.id}")
    if checker.category not in CATEGORIES:
        raise RuntimeError(f"unknown category {checker.category} for {checker.id}")
    REGISTRY[checker.id] = checker
    return checker


def get(constraint_id: str) -> Checker:
    """The checker for an id, or :class:`UnknownConstraintError`."""
    try:
        return REGISTRY[constraint_id]
    except (KeyError, TypeError):
        raise UnknownConstraintError(f"unknown constraint id {constraint_id!r}") from None


# ---- reusable value rules -------------------------------------------------------------------


def positive(name: str, value: Any) -> None:
    """Counts and thresholds must be >= 1 (the reference would re-draw 0 at random)."""
    if value < 1:
        raise ArgumentError(name, f"must be a positive integer, got {value!r}")


def relation(name: str, value: Any) -> None:
    """Only the reference's two comparison relations exist."""
    if value not in RELATIONS:
        raise ArgumentError(name, f"must be one of {RELATIONS}, got {value!r}")


def non_blank(name: str, value: Any) -> None:
    """An empty pattern or phrase would match everything (the reference would re-draw it)."""
    if not value.strip():
        raise ArgumentError(name, "must be a non-blank string")


def word_list(name: str, value: Any) -> None:
    """A non-empty list of non-blank strings."""
    if not value:
        raise ArgumentError(name, "must be a non-empty list of strings")
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise ArgumentError(name, f"item {index} must be a string, got {type(item).__name__}")
        if not item.strip():
            raise ArgumentError(name, f"item {index} must be a non-blank string")


def _type_name(expected: type | tuple[type, ...]) -> str:
    if isinstance(expected, tuple):
        return " or ".join(t.__name__ for t in expected)
    return expected.__name__


def validate(checker: Checker, args: Mapping[str, Any] | None) -> dict[str, Any]:
    """Normalised arguments for ``checker`` (None -> {}), or :class:`ArgumentError`."""
    if args is None:
        args = {}
    if not isinstance(args, Mapping):
        raise ArgumentError("args", f"must be a mapping or None, got {type(args).__name__}")
    declared = {param.name for param in checker.params}
    for key in args:
        if key not in declared:
            raise ArgumentError(str(key), f"unexpected argument for {checker.id}")
    out: dict[str, Any] = {}
    for param in checker.params:
        if param.name not in args:
            raise ArgumentError(param.name, f"missing argument for {checker.id}")
        value = args[param.name]
        if isinstance(value, bool) or not isinstance(value, param.type):
            raise ArgumentError(
                param.name,
                f"must be {_type_name(param.type)}, got {type(value).__name__}",
            )
        if param.check is not None:
            param.check(param.name, value)
        out[param.name] = list(value) if isinstance(value, list) else value
    return out


# ---- the public functions (re-exported by the package) --------------------------------------


def validate_args(constraint_id: str, args: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check ``args`` against the constraint's declared parameters; return a normalised copy."""
    return validate(get(constraint_id), args)


def category(constraint_id: str) -> str:
    """ "length", "lexical", "format" or "affix" (the SPEC's grouping)."""
    return get(constraint_id).category


def describe(constraint_id: str, args: Mapping[str, Any] | None) -> str:
    """The instruction text, identical to the official ``constraint_desc``."""
    checker = get(constraint_id)
    return checker.describe(validate(checker, args))


def check(constraint_id: str, text: str, args: Mapping[str, Any] | None) -> bool:
    """Whether ``text`` (the answer part) follows the constraint, with reference semantics."""
    checker = get(constraint_id)
    return checker.check(text, validate(checker, args))


def check_all(
    names: Sequence[str], text: str, args: Sequence[Mapping[str, Any] | None]
) -> list[bool]:
    """One verdict per constraint of an item, in the item's order (arguments in the order of
    :func:`check`: constraints, text, their arguments)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__} "
                        "(the order is check_all(names, text, args))")
    if len(names) != len(args):
        raise ValueError(f"{len(names)} constraint names but {len(args)} argument entries")
    return [check(name, text, arg) for name, arg in zip(names, args, strict=True)]
