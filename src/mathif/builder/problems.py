"""Math problems to attach constraints to: from a JSONL file, a Hub dataset or Python rows.

Field names are configurable because every math set names them differently (GSM8K:
``question``/``answer``; MATH: ``problem``/``solution``; ...); a dotted name reaches into a
nested object (``reward_model.ground_truth``). Answers are reduced to the final answer when
they are full solutions (``answer_format="auto"``): the text after the last ``####`` (GSM8K),
else the last ``\\boxed{...}`` (MATH), else the whole string.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mathif.data import read_jsonl
from mathif.errors import InputError
from mathif.grading.extract import last_boxed

ANSWER_FORMATS = ("auto", "raw")
HUB_PREFIX = "hf://datasets/"


@dataclass(frozen=True)
class Problem:
    """One input problem: where it came from (for messages), its text and final answer."""

    index: int
    where: str
    question: str
    answer: str
    source: str
    id: str


@dataclass(frozen=True)
class Fields:
    """Which input fields hold what; ``source`` is the name used when a row has none."""

    question: str = "question"
    answer: str = "answer"
    id: str = "id"
    source_field: str = "source"
    source: str | None = None
    answer_format: str = "auto"


def lookup(row: Mapping[str, Any], name: str) -> Any:
    """``row[name]``, or the nested value a dotted ``name`` points at; ``KeyError`` if absent."""
    if name in row:
        return row[name]
    value: Any = row
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            raise KeyError(name)
        value = value[part]
    return value


def final_answer(text: str, answer_format: str) -> str:
    """The final answer of a reference solution (see the module docstring)."""
    if answer_format == "raw":
        return text
    if "####" in text:
        return text.rsplit("####", 1)[1].strip().replace(",", "")
    boxed = last_boxed(text) if "boxed" in text or "fbox" in text else None
    return boxed.strip() if boxed else text.strip()


def _scalar_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return str(value)
    return None


def problem_of(row: Any, index: int, where: str, fields: Fields, default_source: str
               ) -> Problem:
    """Validate one input row; errors name the place and the field."""
    file, _, line_text = where.rpartition(":")
    line = int(line_text) if line_text.isdigit() else None
    file = file if line is not None else where

    def fail(message: str, field: str | None = None) -> InputError:
        return InputError(message, file=file, line=line, field=field)

    if not isinstance(row, Mapping):
        raise fail(f"expected an object, got {type(row).__name__}")
    values: dict[str, str] = {}
    for role, name in (("question", fields.question), ("answer", fields.answer)):
        try:
            value = _scalar_text(lookup(row, name))
        except KeyError:
            raise fail(f"missing {role} field (choose it with --{role}-field)", name) from None
        if value is None or not value.strip():
            raise fail(f"the {role} must be a non-blank string", name)
        values[role] = value
    answer = final_answer(values["answer"], fields.answer_format)
    if not answer:
        raise fail("no final answer in this field", fields.answer)
    source = fields.source
    if source is None:
        try:
            source = _scalar_text(lookup(row, fields.source_field)) or default_source
        except KeyError:
            source = default_source
    try:
        ident = _scalar_text(lookup(row, fields.id)) or f"{source}-{index}"
    except KeyError:
        ident = f"{source}-{index}"
    return Problem(index, where, values["question"], answer, source, ident)


def _hub_rows(name: str, config: str | None, split: str, revision: str | None
              ) -> Iterator[Mapping[str, Any]]:
    try:
        import datasets
    except ImportError:
        raise InputError("reading a Hub dataset needs the `datasets` package "
                         "(pip install 'mathif[train]')", file=f"{HUB_PREFIX}{name}") from None
    try:
        rows = datasets.load_dataset(name, config, split=split, revision=revision)
    except Exception as exc:
        raise InputError(f"could not load the dataset: {exc}",
                         file=f"{HUB_PREFIX}{name}") from None
    yield from rows


def read_problems(
    origin: str | os.PathLike[str] | Iterable[Mapping[str, Any]],
    fields: Fields,
    *,
    hub_config: str | None = None,
    hub_split: str = "train",
    revision: str | None = None,
    limit: int | None = None,
) -> tuple[list[Problem], str]:
    """The problems of ``origin`` and a name for it (for the build manifest).

    ``origin``: a JSONL file; ``hf://datasets/ORG/NAME`` (read with ``datasets``, the
    ``hub_config`` subset and ``hub_split`` split; ``@REV`` or ``revision`` pins a commit); or
    any iterable of mappings (a ``datasets.Dataset``, a list of dicts).
    """
    problems: list[Problem] = []
    if isinstance(origin, (str, os.PathLike)):
        text = os.fspath(origin)
        if text.startswith(HUB_PREFIX):
            name, _, rev = text[len(HUB_PREFIX):].partition("@")
            default = name.rsplit("/", 1)[-1]
            for index, row in enumerate(_hub_rows(name, hub_config, hub_split,
                                                  rev or revision)):
                if limit is not None and index >= limit:
                    break
                where = f"{text}[{hub_split}]:{index + 1}"
                problems.append(problem_of(row, index, where, fields, default))
            return problems, text
        path = Path(text).expanduser()
        if not path.is_file():
            raise InputError("no such file (give a JSONL file of problems or "
                             "hf://datasets/ORG/NAME)", file=text)
        stem = path.name.split(".", 1)[0]
        for line_index, row in read_jsonl(path):
            if limit is not None and len(problems) >= limit:
                break
            problems.append(problem_of(row, len(problems), f"{path}:{line_index + 1}",
                                       fields, stem))
        return problems, str(path)
    for index, row in enumerate(origin):
        if limit is not None and index >= limit:
            break
        problems.append(problem_of(row, index, f"<rows>:{index + 1}", fields, "rows"))
    return problems, "<rows>"
