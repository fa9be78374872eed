"""Scoring orchestration: read responses, judge, grade, aggregate, write the run folder.

The CLI calls these functions and nothing else. Outputs are written atomically: every file goes
to a temporary name in the same folder and is renamed into place only when all of them are
complete, so a failed run leaves no half-written ``samples.jsonl`` or ``results.json``.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mathif.data import Dataset, Item, load, parse_item, read_jsonl
from mathif.errors import InputError
from mathif.metrics import SCHEMA_VERSION, aggregate
from mathif.scoring import Response, Verdict, align, attach_grades, judge
from mathif.version import __version__

# From this many responses on, a grading worker is started before the constraints are checked.
WARM_UP_AT = 200
# Where a line keeps its responses, in the official scorer's order of preference.
RESPONSE_FIELDS = ("output", "responses", "response")


@dataclass(frozen=True)
class ScoreResult:
    """What :func:`score` returns: one verdict per (item, sample) and the aggregate results."""

    items: tuple[Item, ...]
    verdicts: tuple[Verdict, ...]
    results: dict[str, Any]
    records: tuple[dict[str, Any], ...] = field(default=(), repr=False)
    control_verdicts: tuple[Verdict, ...] = ()
    control_records: tuple[dict[str, Any], ...] | None = field(default=None, repr=False)

    @property
    def metrics(self) -> dict[str, Any]:
        return self.results["metrics"]


@dataclass(frozen=True)
class ScoredInput:
    """Responses read from a file: the item, its samples, and the input line's own fields."""

    item: Item
    samples: list[Response]
    fields: dict[str, Any]


def _record_extra(value: Mapping[str, Any]) -> dict[str, Any]:
    return dict(value)


def _samples_from_value(value: Any, *, file: str, line: int, name: str) -> list[Response]:
    if isinstance(value, str):
        return [Response(value)]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return [Response(v) for v in value]
    if isinstance(value, list) and not value:
        raise InputError("empty list of outputs", file=file, line=line, field=name)
    raise InputError(
        f"expected a string or a list of strings, got {type(value).__name__}",
        file=file,
        line=line,
        field=name,
    )


def _response_of(record: dict[str, Any], *, file: str, line: int) -> list[Response]:
    for name in RESPONSE_FIELDS:
        if name in record and record[name] is not None:
            return _samples_from_value(record[name], file=file, line=line, name=name)
    raise InputError(
        "missing field: give 'response' (string) or 'output' (list of strings)",
        file=file, line=line, field="response",
    )


def read_scoring_input(path: str | os.PathLike[str]) -> list[ScoredInput]:
    """Read a JSONL whose lines hold an item's fields plus ``response`` or ``output``.

    The item key is the line's ``key`` field when present, else ``"{file stem}:{line index}"``.
    All other fields of the line are kept untouched in the output records.
    """
    path = Path(path)
    stem = path.name.removesuffix(".jsonl")
    out: list[ScoredInput] = []
    seen: dict[str, int] = {}
    for index, record in read_jsonl(path):
        line = index + 1
        if not isinstance(record, dict):
            raise InputError(f"expected a JSON object, got {type(record).__name__}",
                             file=str(path), line=line)
        key = record.get("key", f"{stem}:{index}")
        if not isinstance(key, str) or not key:
            raise InputError("expected a non-empty string", file=str(path), line=line,
                             field="key")
        if key in seen:
            raise InputError(f"duplicate key {key!r} (first on line {seen[key]})",
                             file=str(path), line=line, field="key")
        seen[key] = line
        item = parse_item(record, key=key, file=str(path), line=line)
        samples = _response_of(record, file=str(path), line=line)
        out.append(ScoredInput(item, samples, record))
    if not out:
        raise InputError("no records", file=str(path))
    return out


def read_aligned_responses(
    dataset: Sequence[Item], path: str | os.PathLike[str]
) -> list[ScoredInput]:
    """Read the official pipeline's output: one line per item of ``dataset``, in order.

    A line is a JSON object with ``output`` (list of strings or a string), ``responses`` or
    ``response`` — the fields the official scorer reads — or a bare JSON string.
    """
    path = Path(path)
    lines = list(read_jsonl(path))
    if len(lines) != len(dataset):
        raise InputError(
            f"{len(lines)} responses for {len(dataset)} items: the responses file must have "
            "exactly one line per item, in the data's order",
            file=str(path),
        )
    out = []
    for item, (index, record) in zip(dataset, lines, strict=True):
        line = index + 1
        if isinstance(record, str):
            samples = [Response(record)]
            record = {"response": record}
        elif isinstance(record, dict):
            samples = _response_of(record, file=str(path), line=line)
        else:
            raise InputError(f"expected a JSON object or string, got {type(record).__name__}",
                             file=str(path), line=line)
        fields = {**item.to_record(), **{k: v for k, v in record.items() if k != "key"}}
        out.append(ScoredInput(item, samples, fields))
    return out


def sample_base(fields: Mapping[str, Any], response: Response) -> dict[str, Any]:
    """The input fields of one sample's record, with that sample's own response text.

    Every record carries the text it was scored on (``response``; ``reasoning`` when it came
    separately), so a run folder can be re-scored or reported without its input file. The
    input's list of samples (``output`` / ``responses``) is not repeated on every line: each
    line has its own sample as ``response``.
    """
    base = {k: v for k, v in fields.items() if k not in ("output", "responses")}
    base.update(response.extra)
    if base.get("response") != response.text and response.error is None:
        base["response"] = response.text
    if response.reasoning is not None:
        base["reasoning"] = response.reasoning
    return base


def verdict_record(base: Mapping[str, Any], verdict: Verdict) -> dict[str, Any]:
    """One line of ``samples.jsonl``: the input fields plus the verdict."""
    record = dict(base)
    record["key"] = verdict.key
    record["sample"] = verdict.sample
    record["follow"] = list(verdict.follow)
    record["hard"] = verdict.hard
    record["soft"] = verdict.soft
    record["answer_part"] = verdict.answer
    if verdict.grader is not None:
        record["correct"] = verdict.correct
        record["extracted_answer"] = verdict.extracted_answer
        record["grader"] = verdict.grader
        record["grade_reason"] = verdict.grade_reason
    record["error"] = verdict.error
    return record


def manifest_of(dataset: Dataset | None, **extra: Any) -> dict[str, Any]:
    manifest: dict[str, Any] = {"mathif_version": __version__}
    if dataset is not None:
        manifest["data"] = dataset.manifest()
    manifest.update({k: v for k, v in extra.items() if v is not None})
    return manifest


def score_inputs(
    inputs: Sequence[ScoredInput],
    *,
    grader: str | None = "mathif",
    control: Sequence[ScoredInput] | None = None,
    manifest: Mapping[str, Any] | None = None,
    timeout: float = 5.0,
    workers: int | None = None,
    progress: bool = False,
) -> ScoreResult:
    """Judge and grade every sample of ``inputs``; aggregate; build the output records."""
    pairs: list[tuple[Item, Verdict]] = []
    bases: list[Mapping[str, Any]] = []
    if grader is not None and sum(len(e.samples) for e in inputs) >= WARM_UP_AT:
        from mathif.grading import warm_up

        warm_up()  # a grading worker starts on the other core while constraints are checked
    for entry in inputs:
        for sample, response in enumerate(entry.samples):
            pairs.append((entry.item, judge(entry.item, response, sample)))
            bases.append(sample_base(entry.fields, response))
    verdicts = [v for _, v in pairs]
    if grader is not None:
        verdicts = attach_grades(pairs, grader=grader, timeout=timeout, workers=workers,
                                 progress=progress)
        pairs = [(item, v) for (item, _), v in zip(pairs, verdicts, strict=True)]
    control_pairs: list[tuple[Item, Verdict]] | None = None
    control_records: tuple[dict[str, Any], ...] | None = None
    if control is not None:
        if grader is None:
            raise ValueError("a control run is compared on correctness: it needs a grader")
        control_pairs = []
        control_bases: list[Mapping[str, Any]] = []
        for entry in control:
            for sample, response in enumerate(entry.samples):
                control_pairs.append((entry.item, judge(entry.item, response, sample)))
                control_bases.append(sample_base(entry.fields, response))
        graded = attach_grades(control_pairs, grader=grader, timeout=timeout, workers=workers,
                               progress=progress)
        control_pairs = [(item, v) for (item, _), v in zip(control_pairs, graded, strict=True)]
        control_records = tuple(
            verdict_record(b, v) for b, v in zip(control_bases, graded, strict=True)
        )
    results = {
        "schema_version": SCHEMA_VERSION,
        "mathif_version": __version__,
        "manifest": dict(manifest or {}),
        "metrics": aggregate(pairs, control=control_pairs, generation=bases),
    }
    records = tuple(verdict_record(b, v) for b, v in zip(bases, verdicts, strict=True))
    return ScoreResult(
        items=tuple({e.item.key: e.item for e in inputs}.values()),
        verdicts=tuple(verdicts),
        results=results,
        records=records,
        control_verdicts=tuple(v for _, v in control_pairs or ()),
        control_records=control_records,
    )


def score(
    items: Sequence[Item],
    responses: Sequence[Any] | Mapping[str, Any],
    *,
    grader: str | None = "mathif",
    control: Sequence[Any] | Mapping[str, Any] | None = None,
    timeout: float = 5.0,
    workers: int | None = None,
) -> ScoreResult:
    """Score responses to MathIF items.

    ``responses`` is aligned with ``items`` (or a mapping from item key); each value is the raw
    model output (a string), a :class:`~mathif.scoring.Response` (for a separate reasoning
    field or a generation error), or a list of those (one per sample). ``grader`` is
    ``"mathif"`` (default), ``"reference"`` (the official grader's verdicts) or ``None`` (no
    correctness). ``control`` holds the responses of the run without constraints.

    >>> items = mathif.load("MathIF/", limit=2)                      # doctest: +SKIP
    >>> result = mathif.score(items, ["<think>..</think> \\boxed{3}", "..."])  # doctest: +SKIP
    >>> result.verdicts[0].follow, result.metrics["overall"]["hacc"]  # doctest: +SKIP
    """

    def as_inputs(values: Sequence[Any] | Mapping[str, Any]) -> list[ScoredInput]:
        return [
            ScoredInput(item, [Response(s) if isinstance(s, str) else s for s in samples],
                        item.to_record())
            for item, samples in align(items, values)
        ]

    manifest = manifest_of(items if isinstance(items, Dataset) else None, grader=grader)
    return score_inputs(
        as_inputs(responses),
        grader=grader,
        control=as_inputs(control) if control is not None else None,
        manifest=manifest,
        timeout=timeout,
        workers=workers,
    )


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()


def _dump_line(record: Mapping[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, sort_keys=False) + "\n"


def write_run(out_dir: str | os.PathLike[str], result: ScoreResult) -> dict[str, Path]:
    """Write ``samples.jsonl``, ``results.json`` (and ``control_samples.jsonl`` when there is a
    control run) into ``out_dir`` atomically."""
    control_records = result.control_records
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {
        "samples.jsonl": "".join(_dump_line(r) for r in result.records),
        "results.json": json.dumps(result.results, indent=2, ensure_ascii=False) + "\n",
    }
    if control_records is not None:
        files["control_samples.jsonl"] = "".join(_dump_line(r) for r in control_records)
    temps: list[tuple[Path, Path]] = []
    try:
        for name, text in files.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=out)
            os.fchmod(fd, _FILE_MODE)  # mkstemp makes 0600 files; results are for sharing
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            temps.append((Path(tmp), out / name))
    except BaseException:
        for tmp, _ in temps:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, final in temps:
        os.replace(tmp, final)
    return {name: out / name for name in files}


def match_control(
    inputs: Sequence[ScoredInput], control: Sequence[ScoredInput], *, file: str
) -> list[ScoredInput]:
    """Re-key control entries onto the main run's items.

    A control entry belongs to the main item with the same key; files written without a
    ``key`` field get keys from their own file name, so those fall back to the question text
    (all 420 questions are distinct, SPEC §1).
    """
    by_key = {e.item.key: e.item for e in inputs}
    by_question = {e.item.question: e.item for e in inputs}
    out = []
    for entry in control:
        item = by_key.get(entry.item.key) or by_question.get(entry.item.question)
        if item is None:
            raise InputError(
                f"control response for item {entry.item.key!r}, which is not in the main run",
                file=file,
            )
        out.append(ScoredInput(item, entry.samples, entry.fields))
    return out


def score_file(
    path: str | os.PathLike[str],
    *,
    data: str | None = None,
    grader: str | None = "mathif",
    control: str | os.PathLike[str] | None = None,
    sources: Iterable[str] | None = None,
    counts: Iterable[int | str] | None = None,
    limit: int | None = None,
    timeout: float = 5.0,
    workers: int | None = None,
    progress: bool = False,
) -> ScoreResult:
    """Score a responses file, as ``mathif score`` does.

    Without ``data``, ``path`` holds item fields plus ``response``/``output`` on each line.
    With ``data`` (a dataset source), ``path`` is the official pipeline's output aligned line
    by line with the loaded (and filtered) items. ``control`` is a file of the same shape with
    the responses of the run without constraints.
    """
    dataset: Dataset | None = None
    if data is not None:
        dataset = load(data, sources=sources, counts=counts, limit=limit)
        inputs = read_aligned_responses(dataset, path)
        control_inputs = read_aligned_responses(dataset, control) if control else None
    else:
        inputs = read_scoring_input(path)
        control_inputs = read_scoring_input(control) if control else None
    if control_inputs is not None:
        control_inputs = match_control(inputs, control_inputs, file=str(control))
    manifest = manifest_of(dataset, responses=str(path), control=str(control) if control
                           else None, grader=grader)
    return score_inputs(
        inputs,
        grader=grader,
        control=control_inputs,
        manifest=manifest,
        timeout=timeout,
        workers=workers,
        progress=progress,
    )
