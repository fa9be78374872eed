"""One sample: an item, one response to it, its verdict and its grade.

A :class:`Sample` is the unit that ``samples.jsonl`` stores, one line each. The line is written
by :meth:`Sample.to_record` and read back by :meth:`Sample.from_record`: the same code on both
sides, so that a run folder can be re-reported (or re-scored) exactly as it was written.

A line carries, in order: the fields of the input line it came from (the item's fields and
anything else the input held, kept as they were), the response (``response``, ``reasoning``,
and for generated responses the generation facts), then the verdict (``key``, ``sample``,
``follow``, ``hard``, ``soft``, ``answer_part``), the grade when the run was graded
(``correct``, ``extracted_answer``, ``grader``, ``grade_reason``, ``found_by``) and ``error``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mathif.data import Item, parse_item
from mathif.errors import InputError
from mathif.grading import Grade
from mathif.responses import (
    LIST_FIELDS,
    Response,
    Usage,
    as_int,
    as_str,
    raw_text,
    response_of_record,
)
from mathif.split import split_output


@dataclass(frozen=True)
class Verdict:
    """Instruction following of one response: one bool per constraint, in the item's order.

    ``answer_part`` is the text that was checked (and graded): the model's answer, not the
    item's gold ``answer``. ``reasoning`` is the text before it, kept for length statistics.
    """

    follow: tuple[bool, ...]
    hard: bool
    soft: float
    answer_part: str
    reasoning: str = ""
    # --scope reasoning/both: the same constraints checked on the reasoning (else None)
    reasoning_follow: tuple[bool, ...] | None = None

    @property
    def reasoning_hard(self) -> bool | None:
        return None if self.reasoning_follow is None else all(self.reasoning_follow)

    @property
    def reasoning_soft(self) -> float | None:
        rf = self.reasoning_follow
        return None if rf is None else (sum(rf) / len(rf) if rf else 0.0)


@dataclass(frozen=True)
class Sample:
    """An item, one response to it (sample ``index``), its verdict and its grade.

    ``verdict`` is ``None`` until the sample is judged, and for a response that failed to
    generate; ``grade`` is ``None`` when the run is not graded. ``fields`` are the input
    line's own fields, written back untouched.
    """

    item: Item
    index: int
    response: Response
    verdict: Verdict | None = None
    grade: Grade | None = None
    fields: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def key(self) -> str:
        return self.item.key

    @property
    def error(self) -> str | None:
        return self.response.error

    @property
    def scored(self) -> bool:
        """A response that was generated (failed ones are counted, never scored)."""
        return self.response.error is None

    @property
    def follow(self) -> tuple[bool, ...]:
        return self.verdict.follow if self.verdict is not None else ()

    @property
    def hard(self) -> bool:
        return self.verdict is not None and self.verdict.hard

    @property
    def soft(self) -> float:
        return self.verdict.soft if self.verdict is not None else 0.0

    @property
    def correct(self) -> bool | None:
        return self.grade.correct if self.grade is not None else None

    @property
    def answer_part(self) -> str:
        return self.verdict.answer_part if self.verdict is not None else ""

    @property
    def reasoning(self) -> str:
        return self.verdict.reasoning if self.verdict is not None else ""

    def to_record(self) -> dict[str, Any]:
        """This sample's line of ``samples.jsonl``."""
        record = {k: v for k, v in self.fields.items() if k not in LIST_FIELDS}
        response = self.response
        record.update(response.record_fields())
        if record.get("response") != response.text and response.error is None:
            record["response"] = response.text
        if response.reasoning is not None:
            record["reasoning"] = response.reasoning
        record["key"] = self.key
        record["sample"] = self.index
        record["follow"] = list(self.follow)
        record["hard"] = self.hard
        record["soft"] = self.soft
        record["answer_part"] = self.answer_part
        verdict = self.verdict
        if verdict is not None and verdict.reasoning_follow is not None:
            record["reasoning_follow"] = list(verdict.reasoning_follow)
            record["reasoning_hard"] = verdict.reasoning_hard
            record["reasoning_soft"] = verdict.reasoning_soft
        if self.grade is not None:
            record["correct"] = self.grade.correct
            record["extracted_answer"] = self.grade.extracted_answer
            record["grader"] = self.grade.grader
            record["grade_reason"] = self.grade.reason
            record["found_by"] = self.grade.found_by
        record["error"] = response.error
        return record

    @classmethod
    def from_record(
        cls,
        record: Mapping[str, Any],
        *,
        file: str,
        line: int,
        items: dict[str, Item] | None = None,
    ) -> Sample:
        """Read a line of ``samples.jsonl`` back (the inverse of :meth:`to_record`).

        ``items`` shares one :class:`~mathif.data.Item` per key between that key's samples
        (and is filled as lines are read).
        """
        def need(name: str, kind: type | tuple[type, ...]) -> Any:
            if name not in record:
                raise InputError("missing field (is this a samples.jsonl written by mathif?)",
                                 file=file, line=line, field=name)
            value = record[name]
            if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
                raise InputError(f"unexpected type {type(value).__name__}", file=file,
                                 line=line, field=name)
            return value

        def item_of(key: str) -> Item:
            item = items.get(key) if items is not None else None
            if item is None:
                item = parse_item(dict(record), key=key, file=file, line=line)
                if items is not None:
                    items[key] = item
            return item

        key = need("key", str)
        index = as_int(record.get("sample")) or 0
        error = record.get("error")
        if error is not None:
            response = Response(as_str(record.get("response")) or "", error=str(error),
                                usage=Usage.from_record(record))
            return cls(item_of(key), index, response, None, None, record)
        follow = need("follow", list)
        hard = need("hard", bool)
        soft = need("soft", (int, float))
        item = item_of(key)
        response = response_of_record(record)
        text = raw_text(record)
        reasoning = ""
        if text is not None:
            reasoning = split_output(text, response.reasoning)[0]
        elif response.reasoning is not None:
            reasoning = response.reasoning
        inside = record.get("reasoning_follow")
        verdict = Verdict(
            follow=tuple(bool(f) for f in follow),
            hard=bool(hard),
            soft=float(soft),
            answer_part=str(record.get("answer_part") or ""),
            reasoning=reasoning,
            reasoning_follow=tuple(bool(f) for f in inside) if isinstance(inside, list)
            and len(inside) == len(follow) else None,
        )
        correct = record.get("correct")
        grade = None
        if isinstance(correct, bool):
            grade = Grade(correct, as_str(record.get("extracted_answer")),
                          as_str(record.get("grader")) or "",
                          as_str(record.get("grade_reason")) or "",
                          as_str(record.get("found_by")))
        return cls(item, index, response, verdict, grade, record)
