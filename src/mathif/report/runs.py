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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mathif.data import Item, read_jsonl
from mathif.errors import InputError
from mathif.identity import identity
from mathif.metrics import CISettings, aggregate, sample_lengths
from mathif.report import paper
from mathif.results import Metrics, Results
from mathif.samples import Sample

SAMPLES = "samples.jsonl"
RESULTS = "results.json"
# Where a run keeps its "w/o constraint" control samples, in the order we look.
CONTROL_FILES = ("control_samples.jsonl", "control/samples.jsonl")
MODEL_KEYS = ("hf_id", "model_id", "name", "model", "id", "path")


@dataclass
class Run:
    """One run as a report sees it: its samples, recomputed metrics, manifest."""

    label: str
    path: Path
    manifest: dict[str, Any]
    metrics: Metrics
    samples: list[Sample] = field(default_factory=list)
    control_samples: list[Sample] | None = None
    length_unit: str = "words"
    lengths: list[tuple[float, float] | None] = field(default_factory=list)
    schema_version: Any = None
    model: str | None = None
    _identities: dict[str, str] | None = field(default=None, repr=False, compare=False)

    @property
    def has_samples(self) -> bool:
        return bool(self.samples)

    @property
    def paper_row(self) -> paper.PaperRow | None:
        return paper.find(self.model) or paper.find(self.label)

    def values(self, metric: Callable[[Sample], float | None]) -> dict[str, list[float]]:
        """Per item identity, the values of ``metric`` (e.g. HAcc: ``hard``) over scored
        samples."""
        ids = self.identities()
        out: dict[str, list[float]] = {}
        for s in self.samples:
            if not s.scored:
                continue
            value = metric(s)
            if value is None:
                continue
            out.setdefault(ids[s.key], []).append(float(value))
        return out

    def items(self) -> dict[str, Item]:
        return {s.key: s.item for s in self.samples}

    def identities(self) -> dict[str, str]:
        """Item key -> what the item is (:func:`mathif.identity.identity`: its official key,
        else a content fingerprint): runs are paired by this, not by file names and lines."""
        if self._identities is None:
            self._identities = {key: identity(item) for key, item in self.items().items()}
        return self._identities

    @property
    def data_checksum(self) -> str | None:
        """The fingerprint of the data files the run was made from, when it recorded one."""
        data = self.manifest.get("data")
        checksum = data.get("checksum") if isinstance(data, Mapping) else None
        return checksum if isinstance(checksum, str) and checksum else None


def read_samples(path: Path, items: dict[str, Item] | None = None) -> list[Sample]:
    """The samples of a ``samples.jsonl``.

    Items are parsed once per key and shared by that key's samples, so every later grouping
    (by item, by source) sees one object per item.
    """
    items = {} if items is None else items
    samples: list[Sample] = []
    for index, record in read_jsonl(path):
        if not isinstance(record, dict):
            raise InputError("expected a JSON object", file=str(path), line=index + 1)
        samples.append(Sample.from_record(record, file=str(path), line=index + 1,
                                          items=items))
    return samples


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
    length_binning: str = "quantile",
) -> Run:
    """Read a run folder (or a ``samples.jsonl`` file) and recompute its metrics.

    ``length_binning``: the bins of reasoning length (``quantile`` or ``equal-width``).
    """
    ci = CISettings() if ci is None else ci
    given = Path(path)
    folder = given.parent if given.is_file() else given
    samples_path = given if given.is_file() else folder / SAMPLES
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
    if not samples_path.exists():
        if not results:
            raise InputError(f"neither {SAMPLES} nor {RESULTS} in this folder", file=str(folder))
        try:
            metrics = Results.from_record(results).metrics
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            raise InputError(f"not a mathif results file: {exc}",
                             file=str(results_path)) from None
        return Run(label=name, path=folder, manifest=manifest, metrics=metrics,
                   schema_version=results.get("schema_version"), model=model)
    samples = read_samples(samples_path, {})
    control: list[Sample] | None = None
    if any(s.fields.get("phase") == "control" for s in samples):
        control = [s for s in samples if s.fields.get("phase") == "control"]
        samples = [s for s in samples if s.fields.get("phase") != "control"]
    else:
        for name_ in CONTROL_FILES:
            if (folder / name_).exists():
                control = read_samples(folder / name_, {})
                break
    if not samples:
        raise InputError("no samples of the main run", file=str(samples_path))
    metrics = aggregate(samples, control, ci=ci, length_binning=length_binning)
    unit, lengths = sample_lengths(samples)
    return Run(
        label=name,
        path=folder,
        manifest=manifest,
        metrics=metrics,
        samples=samples,
        control_samples=control,
        length_unit=unit,
        lengths=lengths,
        schema_version=results.get("schema_version"),
        model=model,
    )


def sweep_members(path: str | os.PathLike[str]) -> list[tuple[Path, str]] | None:
    """The run folders of a sweep folder (one with ``sweep.json``) and each value's label,
    in value order; ``None`` for any other path."""
    from mathif.probes.analysis import SWEEP_FILE, SWEEP_FORMAT, value_label

    file = Path(path) / SWEEP_FILE
    if not file.is_file():
        return None
    try:
        summary = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"unreadable sweep summary: {exc}", file=str(file)) from None
    points = summary.get("points") if isinstance(summary, dict) else None
    if summary.get("format") != SWEEP_FORMAT or not isinstance(points, list):
        raise InputError(f"not a mathif sweep summary ({SWEEP_FORMAT})", file=str(file))
    out = []
    for point in points:
        run, value = (point.get("run"), point.get("value")) if isinstance(point, dict) \
            else (None, None)
        if not isinstance(run, str) or Path(run).name != run or run in ("", ".", ".."):
            raise InputError("a point's run must be a folder name inside the sweep",
                             file=str(file), field="points[].run")
        kind = str(summary.get("kind", ""))
        out.append((Path(path) / run, value_label(kind, value if isinstance(value, int)
                                                  else None)))
    return out


def load_runs(
    paths: list[str], *, labels: Sequence[str | None] | None = None,
    ci: CISettings | None = None, suffixes: list[str | None] | None = None,
    length_binning: str = "quantile",
) -> list[Run]:
    """Load several runs; labels are made unique so tables and charts can tell them apart.

    ``suffixes`` are appended to the labels (a sweep's values: ``"K=4"``).
    """
    labels = list(labels or [])
    runs = [load_run(p, label=labels[i] if i < len(labels) else None, ci=ci,
                     length_binning=length_binning)
            for i, p in enumerate(paths)]
    for run, suffix in zip(runs, suffixes or [], strict=False):
        if suffix:
            run.label = f"{run.label} · {suffix}"
    seen: dict[str, int] = {}
    for run in runs:
        count = seen.get(run.label, 0)
        seen[run.label] = count + 1
        if count:
            run.label = f"{run.label} ({count + 1})"
    return runs
