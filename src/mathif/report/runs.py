"""Read run folders (written by ``mathif score`` / ``mathif eval``) back into verdicts.

A report recomputes the metrics from ``samples.jsonl`` instead of trusting ``results.json``:
the per-sample records are the source of truth, so an old run folder gets the current schema,
intervals with the seed asked for, and statistics (lengths, truncation) that the run's own
``results.json`` may not have had. ``results.json`` still supplies the manifest; a folder that
only has ``results.json`` is reported from it, without the per-item parts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mathif.data import Item, parse_item, read_jsonl
from mathif.errors import InputError
from mathif.metrics import CISettings, aggregate, sample_lengths
from mathif.report import paper
from mathif.scoring import Verdict
from mathif.split import split_output

SAMPLES = "samples.jsonl"
RESULTS = "results.json"
# Where a run keeps its "w/o constraint" control samples, in the order we look.
CONTROL_FILES = ("control_samples.jsonl", "control/samples.jsonl")
MODEL_KEYS = ("hf_id", "model_id", "name", "model", "id", "path")


@dataclass
class Run:
    """One run as a report sees it: verdicts, records, recomputed metrics, manifest."""

    label: str
    path: Path
    manifest: dict[str, Any]
    metrics: dict[str, Any]
    pairs: list[tuple[Item, Verdict]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    control_pairs: list[tuple[Item, Verdict]] | None = None
    control_records: list[dict[str, Any]] | None = None
    length_unit: str = "words"
    lengths: list[tuple[float, float] | None] = field(default_factory=list)
    schema_version: Any = None
    model: str | None = None

    @property
    def has_samples(self) -> bool:
        return bool(self.pairs)

    @property
    def paper_row(self) -> paper.PaperRow | None:
        return paper.find(self.model) or paper.find(self.label)

    def values(self, metric: str) -> dict[str, list[float]]:
        """Per item key, the values of ``metric`` (hard, soft, correct) over scored samples."""
        out: dict[str, list[float]] = {}
        for item, v in self.pairs:
            if not v.scored:
                continue
            value = getattr(v, metric)
            if value is None:
                continue
            out.setdefault(item.key, []).append(float(value))
        return out

    def items(self) -> dict[str, Item]:
        return {item.key: item for item, _ in self.pairs}


def raw_text(record: Mapping[str, Any]) -> str | None:
    """The model's raw output of this sample (``response``, or ``output[sample]``)."""
    response = record.get("response")
    if isinstance(response, str):
        return response
    output = record.get("output")
    if isinstance(output, str):
        return output
    if isinstance(output, list):
        sample = record.get("sample", 0)
        if isinstance(sample, int) and 0 <= sample < len(output) and isinstance(
                output[sample], str):
            return output[sample]
    return None


def _verdict(record: Mapping[str, Any], *, file: str, line: int) -> Verdict:
    def need(name: str, kind: type | tuple[type, ...]) -> Any:
        if name not in record:
            raise InputError("missing field (is this a samples.jsonl written by mathif?)",
                             file=file, line=line, field=name)
        value = record[name]
        if not isinstance(value, kind):
            raise InputError(f"unexpected type {type(value).__name__}", file=file, line=line,
                             field=name)
        return value

    error = record.get("error")
    key = need("key", str)
    sample = record.get("sample", 0)
    if error is not None:
        return Verdict(key, sample, (), False, 0.0, "", "", error=str(error))
    follow = need("follow", list)
    text = raw_text(record)
    separate = record.get("reasoning")
    reasoning = ""
    if text is not None:
        reasoning = split_output(text, separate if isinstance(separate, str) else None)[0]
    elif isinstance(separate, str):
        reasoning = separate
    return Verdict(
        key=key,
        sample=sample,
        follow=tuple(bool(f) for f in follow),
        hard=bool(need("hard", bool)),
        soft=float(need("soft", (int, float))),
        answer=str(record.get("answer_part") or ""),
        reasoning=reasoning,
        correct=record.get("correct"),
        extracted_answer=record.get("extracted_answer"),
        grader=record.get("grader"),
        grade_reason=record.get("grade_reason"),
    )


def read_samples(
    path: Path, items: dict[str, Item] | None = None
) -> tuple[list[tuple[Item, Verdict]], list[dict[str, Any]]]:
    """(item, verdict) pairs and the raw records of a ``samples.jsonl``.

    Items are parsed once per key and shared by that key's samples, so every later grouping
    (by item, by source) sees one object per item.
    """
    items = {} if items is None else items
    pairs: list[tuple[Item, Verdict]] = []
    records: list[dict[str, Any]] = []
    for index, record in read_jsonl(path):
        line = index + 1
        if not isinstance(record, dict):
            raise InputError("expected a JSON object", file=str(path), line=line)
        verdict = _verdict(record, file=str(path), line=line)
        item = items.get(verdict.key)
        if item is None:
            item = parse_item(record, key=verdict.key, file=str(path), line=line)
            items[verdict.key] = item
        pairs.append((item, verdict))
        records.append(record)
    return pairs, records


def model_name(manifest: Mapping[str, Any]) -> str | None:
    """The model a run used, from its manifest (a string or an object with a name/id)."""
    model = manifest.get("model")
    if isinstance(model, str) and model:
        return model
    if isinstance(model, Mapping):
        for key in MODEL_KEYS:
            value = model.get(key)
            if isinstance(value, str) and value:
                return value
    for key in ("hf_id", "model_name", "model_id"):
        value = manifest.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def load_run(
    path: str | os.PathLike[str],
    *,
    label: str | None = None,
    ci: CISettings | None = None,
) -> Run:
    """Read a run folder (or a ``samples.jsonl`` file) and recompute its metrics."""
    ci = CISettings() if ci is None else ci
    given = Path(path)
    folder = given.parent if given.is_file() else given
    samples = given if given.is_file() else folder / SAMPLES
    results_path = folder / RESULTS
    if not folder.exists():
        raise InputError("no such run folder", file=str(given))
    results: dict[str, Any] = {}
    if results_path.exists():
        try:
            results = json.loads(results_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError(f"invalid JSON: {exc.msg}", file=str(results_path),
                             line=exc.lineno) from None
    manifest = dict(results.get("manifest") or {})
    model = model_name(manifest)
    name = label or model or (folder.name if given.is_dir() else given.stem)
    if not samples.exists():
        if not results:
            raise InputError(f"neither {SAMPLES} nor {RESULTS} in this folder", file=str(folder))
        return Run(label=name, path=folder, manifest=manifest, metrics=results["metrics"],
                   schema_version=results.get("schema_version"), model=model)
    items: dict[str, Item] = {}
    pairs, records = read_samples(samples, items)
    control_pairs: list[tuple[Item, Verdict]] | None = None
    control_records: list[dict[str, Any]] | None = None
    phases = [r.get("phase") for r in records]
    if "control" in phases:
        control_pairs = [p for p, ph in zip(pairs, phases, strict=True) if ph == "control"]
        control_records = [r for r, ph in zip(records, phases, strict=True) if ph == "control"]
        pairs = [p for p, ph in zip(pairs, phases, strict=True) if ph != "control"]
        records = [r for r, ph in zip(records, phases, strict=True) if ph != "control"]
    else:
        for name_ in CONTROL_FILES:
            if (folder / name_).exists():
                control_pairs, control_records = read_samples(folder / name_, {})
                break
    if not pairs:
        raise InputError("no samples of the main run", file=str(samples))
    metrics = aggregate(pairs, control_pairs, generation=records, ci=ci)
    unit, lengths = sample_lengths([v for _, v in pairs], records)
    return Run(
        label=name,
        path=folder,
        manifest=manifest,
        metrics=metrics,
        pairs=pairs,
        records=records,
        control_pairs=control_pairs,
        control_records=control_records,
        length_unit=unit,
        lengths=lengths,
        schema_version=results.get("schema_version"),
        model=model,
    )


def load_runs(
    paths: list[str], *, labels: list[str] | None = None, ci: CISettings | None = None
) -> list[Run]:
    """Load several runs; labels are made unique so tables and charts can tell them apart."""
    labels = labels or []
    runs = [load_run(p, label=labels[i] if i < len(labels) else None, ci=ci)
            for i, p in enumerate(paths)]
    seen: dict[str, int] = {}
    for run in runs:
        count = seen.get(run.label, 0)
        seen[run.label] = count + 1
        if count:
            run.label = f"{run.label} ({count + 1})"
    return runs
