"""Options declared once: a dataclass field that carries its help, its valid values, its flag.

Run settings and backend options are frozen dataclasses whose fields are made with
:func:`option`. From that one declaration come the command-line flags (``mathif.cli`` builds
them), the check of values given through the Python API (``check_fields`` in
``__post_init__``), the parse-time rejection of bad flag values (``nan``, ``inf``, negative
numbers, ...), and which settings decide a run's outputs (``output=True``: stored in the run
manifest and compared on resume).
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import MISSING, Field, dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class Kind:
    """What values an option takes: how a flag's text becomes one, and which ones are valid."""

    expect: str  # for messages: "a positive integer"
    convert: Callable[[str], Any]
    valid: Callable[[Any], bool]

    def parse(self, text: str) -> Any:
        """A flag's value (argparse ``type=``): bad values are rejected at parse time."""
        try:
            value = self.convert(text)
        except (ValueError, TypeError) as exc:
            detail = f" ({exc})" if isinstance(exc, json.JSONDecodeError) else ""
            raise argparse.ArgumentTypeError(f"expected {self.expect}, got {text!r}{detail}"
                                             ) from None
        if not self.valid(value):
            raise argparse.ArgumentTypeError(f"expected {self.expect}, got {text!r}")
        return value

    def check(self, name: str, value: Any) -> None:
        """Raise ``ValueError`` for a value given through the API that the flag would refuse
        (``None`` means "the default" and is always accepted)."""
        if value is not None and not self.valid(value):
            raise ValueError(f"{name} must be {self.expect}, got {value!r}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def _json_object(text: str) -> dict[str, Any]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def _seed(text: str) -> int | None:
    return None if text.lower() == "none" else int(text)


POSITIVE_INT = Kind("a positive integer", int, lambda v: _is_int(v) and v >= 1)
NON_NEGATIVE_INT = Kind("an integer >= 0", int, lambda v: _is_int(v) and v >= 0)
POSITIVE_FLOAT = Kind("a finite number > 0", float, lambda v: _is_real(v) and v > 0)
NON_NEGATIVE_FLOAT = Kind("a finite number >= 0", float, lambda v: _is_real(v) and v >= 0)
PROBABILITY = Kind("a number in (0, 1]", float, lambda v: _is_real(v) and 0 < v <= 1)
OPEN_UNIT = Kind("a number strictly between 0 and 1", float,
                 lambda v: _is_real(v) and 0 < v < 1)
PERCENT = Kind("a percentage in [0, 100]", float, lambda v: _is_real(v) and 0 <= v <= 100)
TEXT = Kind("a non-empty text", str, lambda v: isinstance(v, str) and v != "")
JSON_OBJECT = Kind("a JSON object, e.g. '{\"key\": 1}'", _json_object,
                   lambda v: isinstance(v, dict))
SEED = Kind("an integer >= 0 or 'none'", _seed, lambda v: _is_int(v) and v >= 0)
FLAG = Kind("true or false", lambda t: t, lambda v: isinstance(v, bool))


@dataclass(frozen=True)
class Spec:
    """How one option is offered: its help text, values, and place in the run settings."""

    help: str
    kind: Kind = TEXT
    metavar: str | None = None
    choices: Sequence[str] | None = None
    many: bool = False  # several values after the flag (a list)
    output: bool = False  # changes what the model outputs: part of the resume key


def option(
    default: Any = None,
    *,
    help: str,
    kind: Kind = TEXT,
    metavar: str | None = None,
    choices: Sequence[str] | None = None,
    many: bool = False,
    output: bool = False,
) -> Any:
    """A dataclass field declared as an option (see the module docstring)."""
    spec = Spec(help, kind, metavar, tuple(choices) if choices else None, many, output)
    if isinstance(default, (list, dict)):
        raise TypeError("give mutable defaults as None")
    return field(default=default, metadata={"option": spec})


def spec_of(f: Field[Any]) -> Spec | None:
    spec = f.metadata.get("option")
    return spec if isinstance(spec, Spec) else None


def option_fields(cls: Any) -> list[tuple[Field[Any], Spec]]:
    """The declared options of a dataclass, in declaration order."""
    out = []
    for f in fields(cls):
        spec = spec_of(f)
        if spec is not None:
            out.append((f, spec))
    return out


def default_of(f: Field[Any]) -> Any:
    return None if f.default is MISSING else f.default


def check_fields(obj: Any) -> None:
    """Check every declared option of ``obj`` against its kind (``__post_init__``)."""
    for f, spec in option_fields(obj):
        value = getattr(obj, f.name)
        if spec.many and value is not None:
            values = [value] if isinstance(value, str) else list(value)
            for v in values:
                spec.kind.check(f.name, v)
            if not values:
                raise ValueError(f"{f.name} needs at least one value")
        else:
            spec.kind.check(f.name, value)
        # Choices are enforced by the flags; through the API the code that uses the value
        # names the valid ones (a backend object brings its own backend name).
