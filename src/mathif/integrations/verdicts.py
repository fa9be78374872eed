"""The one scoring call of both harness tasks, and the item a harness document carries.

A harness hands over a document (lm-eval) or a sample's metadata (Inspect) and the model's
text. The document carries the whole item (its JSON record) so that scoring needs neither
the data files nor a lookup; the key and the question are there too, for matching a logged
run back to the official items (:mod:`mathif.harness_logs`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from mathif.data import ENV_DATA, Dataset, Item, Selection, load, parse_item
from mathif.errors import InputError
from mathif.grading import DEFAULT_TIMEOUT, GRADERS
from mathif.prompts import build_prompt
from mathif.responses import Response
from mathif.samples import Sample
from mathif.scoring import grade_samples, judge_sample

DEFAULT_GRADER = "mathif"


def check_grader(grader: str) -> str:
    if grader not in GRADERS:
        raise ValueError(f"unknown grader {grader!r}; choose from {GRADERS}")
    return grader


@lru_cache(maxsize=8)
def _load(origin: str) -> Dataset:
    return load(origin)


def load_items(
    data: str | os.PathLike[str] | None = None,
    *,
    sources: Iterable[str] | str | None = None,
    counts: Iterable[int | str] | int | str | None = None,
) -> list[Item]:
    """The selected items, from ``data`` (``None``: ``MATHIF_DATA``, else the Hub).

    ``sources`` and ``counts`` accept one value, a comma-separated string or a list, as
    command lines hand them over. The data set is read once per origin and process.
    """
    origin = os.fspath(data) if data is not None else os.environ.get(ENV_DATA) or "hub"
    dataset = _load(origin)
    selected = dataset.select(_selection(sources, counts))
    return list(selected)


def _listed(value: Any) -> list[Any] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, (int, float)):
        return [value]
    return list(value)


def _selection(sources: Any, counts: Any) -> Selection:
    return Selection.of(_listed(sources), _listed(counts))


def item_fields(item: Item, *, constraints: bool = True, template: str = "paper"
                ) -> dict[str, Any]:
    """What a harness document (or sample metadata) holds about ``item``; flat and typed
    simply, so that Arrow (lm-eval's ``datasets``) and Inspect's logs keep it as is."""
    return {
        "key": item.key,
        "question": item.question,
        "answer": item.answer,
        "source": item.source,
        "count": item.count_name,
        "constraint_name": list(item.constraint_name),
        "prompt": build_prompt(item, template=template, constraints=constraints),
        "item": json.dumps(item.to_record(), ensure_ascii=False, sort_keys=True),
    }


@lru_cache(maxsize=1024)
def _item(key: str, record: str) -> Item:
    try:
        value = json.loads(record)
    except json.JSONDecodeError as exc:
        raise InputError(f"the item record does not decode: {exc.msg}", file=key,
                         field="item") from None
    return parse_item(value, key=key, file=f"harness document {key}", line=0)


def item_of(fields: Mapping[str, Any]) -> Item:
    """The item a harness document carries (see :func:`item_fields`)."""
    key, record = fields.get("key"), fields.get("item")
    if not isinstance(key, str) or not isinstance(record, str):
        raise InputError("a MathIF document needs 'key' and 'item' (the item's JSON record); "
                         "was it made by mathif.integrations?", field="item")
    return _item(key, record)


def score_response(item: Item, response: Response, *, grader: str | None = DEFAULT_GRADER,
                   timeout: float = DEFAULT_TIMEOUT) -> Sample:
    """mathif's verdict (and grade) of one response: the same calls ``mathif score`` makes."""
    sample = judge_sample(Sample(item, 0, response))
    if grader is None or sample.verdict is None:
        return sample
    return grade_samples([sample], grader=grader, timeout=timeout, workers=1)[0]
