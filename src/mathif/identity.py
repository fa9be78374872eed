"""What an item *is*, whatever file it came from: content fingerprints and official keys.

Two runs of the same items can come from differently named files, in another order, with or
without ``key`` fields. Comparing them by file name and line pairs the wrong items, or none.
So an item is identified by its content:

- an item whose question and constraints (names and validated arguments) are those of an
  official MathIF item gets that item's official key, ``"{file stem}:{line}"`` (e.g.
  ``aime_single:3``). The package ships a table from content fingerprints to official keys
  (``resources/mathif_identity.json``), not the data, so this works without the data set;
- any other item gets ``"sha256:" + 16 hex digits`` of its content (source, id, question,
  answer, constraints): stable when files are renamed or reordered, different when anything
  that defines the item changes.

Rebuild the shipped table from the official files (a test checks it equals them):
``python -m mathif.identity path/to/MathIF > src/mathif/resources/mathif_identity.json``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mathif.data import Item

CONTENT_PREFIX = "sha256:"
# 64 bits of sha256: a collision among a few thousand items is out of reach.
DIGITS = 16


def _plain(value: Any) -> Any:
    """JSON-ready copies of validated arguments (read-only mappings become dicts)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _digest(parts: Sequence[Any]) -> str:
    text = json.dumps(_plain(list(parts)), sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:DIGITS]


def task_fingerprint(item: Item) -> str:
    """The fingerprint of what the model is asked: the question and the constraints.

    This is what matches an official item (its gold answer and ``id`` are not part of it, so
    a responses file that re-typed them still matches).
    """
    return _digest([item.question, list(item.constraint_name),
                    [dict(a) for a in item.constraint_args]])


def content_key(item: Item) -> str:
    """The key of a custom item: a fingerprint of everything that defines it."""
    return CONTENT_PREFIX + _digest([item.fields.get("source", item.source), item.id,
                                     item.question, item.answer,
                                     list(item.constraint_name),
                                     [dict(a) for a in item.constraint_args]])


@cache
def official_keys() -> Mapping[str, str]:
    """Task fingerprint -> official key, for the 420 items of the official release."""
    text = resources.files("mathif").joinpath("resources/mathif_identity.json").read_text()
    return MappingProxyType(json.loads(text)["items"])


def official_key(item: Item) -> str | None:
    """The official key of the item this one is (same question and constraints), or None."""
    return official_keys().get(task_fingerprint(item))


def identity(item: Item) -> str:
    """What pairs an item across runs: its official key, else its content key."""
    return official_key(item) or content_key(item)


def identity_table(items: Iterable[Item]) -> dict[str, Any]:
    """The shipped table's content for ``items`` (the official data set)."""
    table = {task_fingerprint(item): item.key for item in items}
    return {"about": "task fingerprint (mathif.identity.task_fingerprint) -> official key",
            "items": dict(sorted(table.items()))}


if __name__ == "__main__":  # pragma: no cover - maintenance command
    from mathif.data import load

    json.dump(identity_table(load(sys.argv[1])), sys.stdout, indent=1)
    sys.stdout.write("\n")
