"""The one reader of response files: ``mathif score``, the replay backend and the report.

What a line holds, in this order of preference:

1. ``error`` (a non-empty string): a response that failed to generate; it is replayed and
   reported as that error, never scored as an empty answer;
2. an integer ``sample`` with a string ``response`` or ``text``: one sample per line (mathif's
   ``samples.jsonl`` and ``completions.jsonl``);
3. the first of ``output``, ``responses``, ``response``, ``text`` that is present and not
   null: a string is sample 0, a list of strings holds samples 0..n-1 (the official
   pipeline's ``output``).

A single response may come with a separate ``reasoning`` string (OpenAI-compatible servers);
the line's ``finish_reason``, ``prompt_tokens``, ``completion_tokens``, ``reasoning_tokens``
and ``latency_s`` describe its responses. A line with a ``phase`` field (``main`` or
``control``) counts only for that phase.

Which item a line answers, in this order: its ``key`` field; its ``question`` text (all MathIF
questions are distinct, SPEC §1); its position, for lines with neither, when the file has
exactly one line per item (of the whole data set, or of the selected items). A file of items
with responses (``mathif score FILE``) is its own data set: each line is an item, keyed by
its ``key`` field, else by what it is (:mod:`mathif.identity`): the official key
``"{file stem}:{line}"`` of the MathIF item with the same question and constraints, else a
fingerprint of its content. Neither depends on the file's name or the order of its lines, so
two runs of the same items pair item by item in a report.

The data filters (:class:`~mathif.data.Selection`) apply after matching: a line for an item
that the filters leave out is skipped.

A file written by another harness (an lm-evaluation-harness samples file, an Inspect ``.eval``
or ``.json`` log) is read as lines of this shape by :mod:`mathif.harness_logs`, then matched
by the same rule.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mathif.data import Dataset, Item, Selection, parse_item, read_jsonl
from mathif.errors import InputError
from mathif.harness_logs import response_lines
from mathif.identity import CONTENT_PREFIX, identity

if TYPE_CHECKING:
    from mathif.generation.protocol import Completion

# Where a line keeps its responses, in the official scorer's order of preference (then
# ``text``, the field of mathif's completions.jsonl).
RESPONSE_FIELDS = ("output", "responses", "response", "text")
# An input line's list of samples: not repeated on every output line (each has its own
# ``response``).
LIST_FIELDS = ("output", "responses")
MISSING_ERROR = "no completion was generated for this request"
PHASES = ("main", "control")

Number = int | float


def as_number(value: Any) -> Number | None:
    """A JSON number of untrusted input (``bool`` is not a number), else ``None``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return None


def as_int(value: Any) -> int | None:
    """A JSON integer of untrusted input (``bool`` is not one), else ``None``."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def as_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Usage:
    """What the generator reported about one response; every field is optional.

    Token counts are kept as the JSON numbers they were recorded as: statistics that need
    whole tokens check for integers themselves.
    """

    finish_reason: str | None = None
    prompt_tokens: Number | None = None
    completion_tokens: Number | None = None
    reasoning_tokens: Number | None = None
    latency_s: Number | None = None

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Usage:
        return cls(
            finish_reason=as_str(record.get("finish_reason")),
            prompt_tokens=as_number(record.get("prompt_tokens")),
            completion_tokens=as_number(record.get("completion_tokens")),
            reasoning_tokens=as_number(record.get("reasoning_tokens")),
            latency_s=as_number(record.get("latency_s")),
        )


@dataclass(frozen=True)
class Response:
    """One model output for one item and sample.

    ``reasoning`` is a separate reasoning field (OpenAI-compatible servers), ``None`` when the
    reasoning, if any, is inside ``text``. ``error`` is set when the response failed to
    generate; it is then never scored as an empty answer. ``generated`` marks a response that
    a backend produced in this run: its generation facts (``usage``, ``seed``) are written
    into its sample's line; a response read from a file keeps the facts its line already had.
    """

    text: str
    reasoning: str | None = None
    error: str | None = None
    usage: Usage = field(default_factory=Usage)
    seed: int | None = None
    generated: bool = False

    @classmethod
    def from_completion(cls, completion: Completion | None) -> Response:
        """The response of a stored completion (``None``: the request never completed)."""
        if completion is None:
            return cls("", error=MISSING_ERROR)
        usage = Usage(
            finish_reason=completion.finish_reason,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            reasoning_tokens=completion.reasoning_tokens,
            latency_s=completion.latency_s,
        )
        return cls(completion.text, reasoning=completion.reasoning, error=completion.error,
                   usage=usage, seed=completion.seed, generated=True)

    def record_fields(self) -> dict[str, Any]:
        """The generation facts this response adds to its line (none when read from a file)."""
        if not self.generated:
            return {}
        fields: dict[str, Any] = {"response": self.text}
        if self.reasoning is not None:
            fields["reasoning"] = self.reasoning
        fields.update(
            finish_reason=self.usage.finish_reason,
            prompt_tokens=self.usage.prompt_tokens,
            completion_tokens=self.usage.completion_tokens,
            latency_s=self.usage.latency_s,
            seed=self.seed,
        )
        if self.usage.reasoning_tokens is not None:  # probes count them exactly
            fields["reasoning_tokens"] = self.usage.reasoning_tokens
        return fields


@dataclass(frozen=True)
class Entry:
    """One response read from a file, matched to its item: sample ``index`` of ``item``.

    ``fields`` are the line's own fields, kept for the output record.
    """

    item: Item
    index: int
    response: Response
    fields: Mapping[str, Any]


# --- what one line holds ------------------------------------------------------------------


def responses_in(record: Mapping[str, Any], *, file: str, line: int) -> dict[int, Response]:
    """The responses one line holds, by sample index (see the module docstring)."""
    usage = Usage.from_record(record)
    reasoning = as_str(record.get("reasoning"))
    sample = as_int(record.get("sample"))
    error = record.get("error")
    if isinstance(error, str) and error:
        text = as_str(record.get("response")) or ""
        return {sample or 0: Response(text, error=error, usage=usage)}
    if sample is not None and sample >= 0:
        for name in ("response", "text"):
            value = record.get(name)
            if isinstance(value, str):
                return {sample: Response(value, reasoning, usage=usage)}
    for name in RESPONSE_FIELDS:
        value = record.get(name)
        if value is None:
            continue
        if isinstance(value, str):
            return {0: Response(value, reasoning, usage=usage)}
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return {i: Response(v, usage=usage) for i, v in enumerate(value)}
        if isinstance(value, list) and not value:
            raise InputError("empty list of outputs", file=file, line=line, field=name)
        raise InputError(f"expected a string or a list of strings, got {type(value).__name__}",
                         file=file, line=line, field=name)
    raise InputError("missing field: give 'response' (string) or 'output' (list of strings)",
                     file=file, line=line, field="response")


def raw_text(record: Mapping[str, Any]) -> str | None:
    """The raw output of the sample a ``samples.jsonl`` line holds (``response``, or
    ``output[sample]``), or ``None`` when the line does not carry it."""
    response = record.get("response")
    if isinstance(response, str):
        return response
    output = record.get("output")
    if isinstance(output, str):
        return output
    if isinstance(output, list):
        sample = record.get("sample", 0)
        if isinstance(sample, int) and 0 <= sample < len(output):
            return as_str(output[sample])
    return None


def response_of_record(record: Mapping[str, Any]) -> Response:
    """The response of the sample a ``samples.jsonl`` line holds."""
    return Response(raw_text(record) or "", as_str(record.get("reasoning")),
                    usage=Usage.from_record(record))


# --- matching lines to items --------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    number: int  # 1-based
    position: int  # 0-based among the lines of its phase
    record: dict[str, Any]


def _lines(path: Path, phase: str) -> list[_Line]:
    """The object lines of ``path`` that count for ``phase`` (a bare string is a response).

    An lm-evaluation-harness samples file or an Inspect log is read record by record as such
    lines (:mod:`mathif.harness_logs`).
    """
    out: list[_Line] = []
    for index, record in response_lines(path):
        if isinstance(record, str):
            record = {"response": record}
        if not isinstance(record, dict):
            raise InputError(f"expected a JSON object, got {type(record).__name__}",
                             file=str(path), line=index + 1)
        if record.get("phase", phase) != phase:
            continue
        out.append(_Line(index + 1, len(out), record))
    return out


class _Matcher:
    """Finds the item of a line: by key, then question, then position."""

    def __init__(self, lines: Sequence[_Line], universe: Sequence[Item],
                 selected: Sequence[Item]) -> None:
        self.by_key = {item.key: item for item in universe}
        self.by_question = {item.question: item for item in universe}
        unlabelled = [ln for ln in lines if not self._labelled(ln.record)]
        self.positions: Sequence[Item] | None = None
        self.n_lines, self.n_items = len(lines), len(universe)
        if unlabelled and len(lines) == len(universe):
            self.positions = universe
        elif unlabelled and len(lines) == len(selected):
            self.positions = selected

    @staticmethod
    def _labelled(record: Mapping[str, Any]) -> bool:
        return isinstance(record.get("key"), str) or isinstance(record.get("question"), str)

    def item(self, ln: _Line, *, file: str) -> Item:
        key, question = ln.record.get("key"), ln.record.get("question")
        found = self.by_key.get(key) if isinstance(key, str) else None
        if found is None and isinstance(question, str):
            found = self.by_question.get(question)
        if found is None and not self._labelled(ln.record) and self.positions is not None:
            found = self.positions[ln.position]
        if found is not None:
            return found
        if not self._labelled(ln.record):
            raise InputError(
                f"{self.n_lines} responses for {self.n_items} items: a line without 'key' or "
                "'question' is matched by its position, which needs exactly one line per "
                "item, in the data's order",
                file=file, line=ln.number)
        shown = f"key {key!r}" if isinstance(key, str) else "question"
        raise InputError(f"this line's {shown} matches no item of the data", file=file,
                         line=ln.number, field="key" if isinstance(key, str) else "question")


def match_responses(
    path: str | os.PathLike[str],
    data: Sequence[Item],
    *,
    phase: str = "main",
    complete: bool = True,
) -> list[Entry]:
    """Read ``path`` and match its lines to the items of ``data`` (a :class:`Dataset` or items).

    Lines for items that ``data``'s filters left out are skipped. With ``complete``, every
    selected item needs a response (``mathif score --data``); the replay backend turns a
    missing one into an error completion instead. A second response for the same (item,
    sample) is an error. ``fields`` of each entry are the item's fields updated with the
    line's (its ``key`` aside).
    """
    path = Path(path)
    file = str(path)
    selected = list(data)
    universe = list(data.all_items) if isinstance(data, Dataset) else selected
    wanted = {item.key for item in selected}
    lines = _lines(path, phase)
    matcher = _Matcher(lines, universe, selected)
    found: dict[tuple[str, int], tuple[int, Entry]] = {}
    for ln in lines:
        item = matcher.item(ln, file=file)
        if item.key not in wanted:
            continue
        fields = {**item.to_record(), **{k: v for k, v in ln.record.items() if k != "key"}}
        for index, response in responses_in(ln.record, file=file, line=ln.number).items():
            entry = Entry(item, index, response, fields)
            held = found.get((item.key, index))
            if held is not None and complete:
                raise InputError(f"a second response for item {item.key} sample {index} "
                                 f"(the first is on line {held[0]})", file=file,
                                 line=ln.number)
            if held is None or held[1].response.error is not None:
                # as the run store answers: the first success, else the latest error
                found[item.key, index] = (ln.number, entry)
    if complete:
        have = {key for key, _ in found}
        missing = [item.key for item in selected if item.key not in have]
        if missing:
            raise InputError(f"no response for {len(missing)} item(s), e.g. {missing[0]}",
                             file=file)
    order = {item.key: n for n, item in enumerate(selected)}
    return sorted((entry for _, entry in found.values()),
                  key=lambda e: (order[e.item.key], e.index))


def _item_of_line(record: dict[str, Any], items: dict[str, Item], provisional: str, *,
                  file: str, line: int) -> Item:
    """The item a line of items-with-responses carries (one object per key, shared by that
    key's lines): keyed by its ``key`` field, else by its identity."""
    key = record.get("key")
    if key is not None and (not isinstance(key, str) or not key):
        raise InputError("expected a non-empty string", file=file, line=line, field="key")
    if isinstance(key, str) and key in items:
        return items[key]
    item = parse_item(record, key=key or provisional, file=file, line=line)
    if key is None:
        item = replace(item, key=identity(item))
    return items.setdefault(item.key, item)


def _duplicate(key: str, first: int, explicit: bool) -> str:
    if explicit:
        return f"duplicate key {key!r} (first on line {first})"
    what = ("the same item" if key.startswith(CONTENT_PREFIX)
            else f"the same MathIF item ({key})")
    return (f"this line holds {what} as line {first} (same question and constraints): "
            "give the lines of one item distinct 'sample' indices, or distinct 'key' fields "
            "if they are different items")


def read_items_with_responses(
    path: str | os.PathLike[str], selection: Selection | None = None
) -> tuple[list[Entry], list[Item]]:
    """Read a file whose lines hold an item's fields plus its response(s).

    Returns the entries of the items that ``selection`` keeps, and every item of the file
    (against which a control file is matched). A line's key is its ``key`` field, else its
    item's identity (:func:`mathif.identity.identity`: the official key of the same question
    and constraints, else a content fingerprint); lines that share a key are samples of one
    item (each with its own ``sample`` index). All fields of a line are kept in its output
    records.
    """
    path = Path(path)
    file = str(path)
    stem = path.name.removesuffix(".jsonl")
    items: dict[str, Item] = {}
    first_line: dict[tuple[str, int], int] = {}
    raw: list[tuple[Item, int, Response, dict[str, Any]]] = []
    for index, record in read_jsonl(path):
        line = index + 1
        if not isinstance(record, dict):
            raise InputError(f"expected a JSON object, got {type(record).__name__}",
                             file=file, line=line)
        if record.get("phase", "main") != "main":
            continue
        item = _item_of_line(record, items, f"{stem}:{index}", file=file, line=line)
        key = item.key
        for sample, response in responses_in(record, file=file, line=line).items():
            if (key, sample) in first_line:
                raise InputError(_duplicate(key, first_line[key, sample], "key" in record),
                                 file=file, line=line, field="key")
            first_line[key, sample] = line
            raw.append((item, sample, response, record))
    if not raw:
        raise InputError("no records", file=file)
    kept = {item.key for item in (selection or Selection()).apply(items.values())}
    entries = [Entry(item, sample, response, fields)
               for item, sample, response, fields in raw if item.key in kept]
    return entries, list(items.values())


def match_control(
    path: str | os.PathLike[str], universe: Sequence[Item], selected: Sequence[Item]
) -> list[Entry]:
    """The control responses (the run without constraints) of a self-contained responses file:
    matched to the main file's items by key, question or position; its fields are its own."""
    path = Path(path)
    file = str(path)
    wanted = {item.key for item in selected}
    lines = _lines(path, "main")
    matcher = _Matcher(lines, universe, selected)
    found: dict[tuple[str, int], int] = {}
    out: list[Entry] = []
    for ln in lines:
        item = matcher.item(ln, file=file)
        if item.key not in wanted:
            continue
        for index, response in responses_in(ln.record, file=file, line=ln.number).items():
            if (item.key, index) in found:
                raise InputError(f"a second control response for item {item.key} sample "
                                 f"{index} (the first is on line {found[item.key, index]})",
                                 file=file, line=ln.number)
            found[item.key, index] = ln.number
            out.append(Entry(item, index, response, ln.record))
    if not out and lines:
        raise InputError("no control response for the selected items", file=file)
    return out


# --- responses given in memory (the Python API) --------------------------------------------


def _as_responses(value: Any, where: str) -> list[Response]:
    if isinstance(value, str):
        return [Response(value)]
    if isinstance(value, Response):
        return [value]
    if isinstance(value, Sequence) and all(isinstance(v, (str, Response)) for v in value):
        if not value:
            raise ValueError(f"{where}: no responses")
        return [Response(v) if isinstance(v, str) else v for v in value]
    raise TypeError(f"{where}: expected a string, a Response or a list of them, "
                    f"got {type(value).__name__}")


def entries_of(
    items: Sequence[Item], responses: Sequence[Any] | Mapping[str, Any]
) -> list[Entry]:
    """Entries for responses given in memory: aligned with ``items``, or keyed by item key.

    Each value is a string (the raw output), a :class:`Response`, or a list of those (one per
    sample).
    """
    if isinstance(responses, Mapping):
        by_key = {item.key: item for item in items}
        unknown = [k for k in responses if k not in by_key]
        if unknown:
            raise KeyError(f"responses for unknown item keys: {unknown[:5]}")
        pairs = [(by_key[k], _as_responses(v, k)) for k, v in responses.items()]
    else:
        if len(responses) != len(items):
            raise ValueError(f"{len(responses)} responses for {len(items)} items")
        pairs = [(item, _as_responses(value, item.key))
                 for item, value in zip(items, responses, strict=True)]
    return [Entry(item, index, response, item.to_record())
            for item, samples in pairs for index, response in enumerate(samples)]
