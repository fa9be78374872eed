"""Strict, bounded parsing of untrusted JSON: input files, the run store, server replies.

Every JSON text mathif reads comes from outside (data files, responses files, a run store
another tool may have edited, an HTTP server), so one parser applies the same rules to all:

- the bytes must be UTF-8 (a bad byte is an error located by line and byte column);
- ``NaN``, ``Infinity`` and numbers that overflow to infinity are errors: they are not
  JSON, and a value read as ``inf`` would be written back out as invalid JSON;
- a key repeated in one object is an error (which of the two would be meant?);
- nesting deeper than the interpreter can follow is an error with a message, not a
  ``RecursionError`` traceback;
- **lone surrogates** (a ``"\\ud800"`` escape not part of a pair) are replaced with U+FFFD
  and counted. They cannot be encoded as UTF-8, so a text holding one would make every later
  write fail (after all the scoring work); replacing them where they enter keeps every later
  step simple. The count is recorded: :func:`recording_repairs` collects it for the run's
  results, and :class:`InputRepairWarning` says where it happened.

Parsing stays linear in the size of the text: the standard library's C scanner does the work,
with three small hooks.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import math
import re
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

# Any surrogate code point left in a decoded str is a lone one: the decoder joins valid pairs.
_SURROGATE = re.compile("[\ud800-\udfff]")
# A ``\uD800``-``\uDFFF`` escape in JSON text: the only way a surrogate gets into decoded JSON
# whose bytes were valid UTF-8. Without one, the decoded value needs no scan.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")
REPLACEMENT = "\ufffd"
# How many repaired places a :class:`InputRepairs` remembers (the count is always exact).
MAX_WHERE = 20


class JSONLineError(ValueError):
    """A JSON text that mathif refuses; ``column`` is 1-based when known."""

    def __init__(self, message: str, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.column = column

    def describe(self) -> str:
        return self.message if self.column is None else f"{self.message} (column {self.column})"


class InputRepairWarning(UserWarning):
    """Something in an input was repaired (lone surrogates replaced with U+FFFD)."""


@dataclass
class InputRepairs:
    """What reading inputs repaired: the exact count and the first places (``file:line``)."""

    replaced_surrogates: int = 0
    where: list[str] = field(default_factory=list)

    def add(self, count: int, place: str) -> None:
        if count <= 0:
            return
        self.replaced_surrogates += count
        if len(self.where) < MAX_WHERE:
            self.where.append(place)

    def to_dict(self) -> dict[str, Any]:
        return {"replaced_surrogates": self.replaced_surrogates, "where": list(self.where)}


_ACTIVE: contextvars.ContextVar[InputRepairs | None] = contextvars.ContextVar(
    "mathif_input_repairs", default=None)


@contextlib.contextmanager
def recording_repairs() -> Iterator[InputRepairs]:
    """Collect the repairs of every input read inside the ``with`` block.

    >>> with recording_repairs() as repairs:            # doctest: +SKIP
    ...     inputs = read_scoring_input("responses.jsonl")
    >>> repairs.replaced_surrogates                     # doctest: +SKIP
    """
    repairs = InputRepairs()
    token = _ACTIVE.set(repairs)
    try:
        yield repairs
    finally:
        _ACTIVE.reset(token)


def note_repairs(count: int, place: str) -> None:
    """Add ``count`` replacements at ``place`` to the collector of :func:`recording_repairs`."""
    active = _ACTIVE.get()
    if active is not None:
        active.add(count, place)


def warn_repairs(count: int, place: str, first: str | None = None) -> None:
    """Warn that ``count`` lone surrogates were replaced in ``place`` (first at ``first``)."""
    if count:
        at = f" (first at {first})" if first else ""
        warnings.warn(
            f"{place}: replaced {count} lone surrogate(s) with U+FFFD{at}; such text cannot be "
            "written as UTF-8",
            InputRepairWarning,
            stacklevel=3,
        )


def scrub_text(text: str) -> tuple[str, int]:
    """``text`` with every lone surrogate replaced by U+FFFD, and how many there were."""
    if text.isascii() or _SURROGATE.search(text) is None:
        return text, 0
    return _SURROGATE.subn(REPLACEMENT, text)


def scrub(value: Any) -> tuple[Any, int]:
    """``value`` (decoded JSON) with lone surrogates replaced in every string and key.

    Lists and dicts are fixed in place (they are freshly decoded); iterative, so a deep value
    cannot exhaust the stack.
    """
    if isinstance(value, str):
        return scrub_text(value)
    if not isinstance(value, (dict, list)):
        return value, 0
    total = 0
    stack: list[dict[str, Any] | list[Any]] = [value]
    while stack:
        node = stack.pop()
        slots: Iterable[tuple[Any, Any]] = (
            enumerate(node) if isinstance(node, list) else list(node.items()))
        for slot, item in slots:
            if isinstance(item, str):
                fixed, n = scrub_text(item)
                if n:
                    node[slot] = fixed
                    total += n
            elif isinstance(item, (dict, list)):
                stack.append(item)
        if isinstance(node, dict) and any(_SURROGATE.search(key) for key in node):
            total += _rekey(node)
    return value, total


def _rekey(node: dict[str, Any]) -> int:
    """Replace lone surrogates in the keys of ``node`` (in place, order kept)."""
    total = 0
    pairs = list(node.items())
    node.clear()
    for key, item in pairs:
        fixed, n = scrub_text(key)
        if fixed in node:
            raise JSONLineError(f"duplicate key {fixed!r} (after replacing lone surrogates)")
        node[fixed] = item
        total += n
    return total


def _no_constant(name: str) -> Any:
    raise JSONLineError(f"{name} is not valid JSON (only finite numbers are accepted)")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        shown = text if len(text) <= 24 else text[:24] + "..."
        raise JSONLineError(f"number {shown} is too large (it would be infinite)")
    return value


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            shown = key if len(key) <= 60 else key[:60] + "..."
            raise JSONLineError(f"duplicate key {shown!r} in one object")
        out[key] = value
    return out


_DECODER = json.JSONDecoder(object_pairs_hook=_object, parse_constant=_no_constant,
                            parse_float=_finite)


def parse(raw: bytes | str) -> tuple[Any, int]:
    """Decode one JSON text by the rules above: ``(value, lone surrogates replaced)``.

    Raises :class:`JSONLineError` (a ``ValueError``) with a message fit for a user.
    """
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JSONLineError(f"not UTF-8 text: {exc.reason} (byte {exc.start + 1})") from None
        raw_surrogates = False  # strict UTF-8 decoding never yields one
    else:
        text = raw
        raw_surrogates = not text.isascii() and _SURROGATE.search(text) is not None
    try:
        value = _DECODER.decode(text)
    except JSONLineError:
        raise
    except json.JSONDecodeError as exc:
        raise JSONLineError(f"invalid JSON: {exc.msg}", exc.colno) from None
    except RecursionError:
        raise JSONLineError("invalid JSON: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise JSONLineError(f"invalid JSON: {exc}") from None
    if not raw_surrogates and _SURROGATE_ESCAPE.search(text) is None:
        return value, 0
    return scrub(value)
