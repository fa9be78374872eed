"""Scoring orchestration: read responses, judge, grade, aggregate, write the run folder.

The CLI calls these functions and nothing else. A command owns its output folder: the output
set (``samples.jsonl``, ``results.json``, ``control_samples.jsonl``) is written to temporary
names in that folder and renamed into place only when every file is complete, and a member of
the set that this run does not produce (a ``control_samples.jsonl`` of an earlier run with a
control) is removed, so a folder never mixes two runs. A failed run leaves no half-written file
and no temporary file behind.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mathif import harness_logs
from mathif.config import MAX_UNGRADED_PERCENT
from mathif.data import Dataset, Item, Selection, load
from mathif.errors import InputError, MathIFError
from mathif.grading import DEFAULT_TIMEOUT
from mathif.metrics import aggregate
from mathif.responses import (
    Entry,
    entries_of,
    match_control,
    match_responses,
    read_items_with_responses,
)
from mathif.results import Metrics, Results
from mathif.samples import Sample
from mathif.scoring import judge_and_grade, judge_samples
from mathif.version import __version__

# From this many responses on, a grading worker is started before the constraints are checked.
WARM_UP_AT = 200
SAMPLES_FILE = "samples.jsonl"
RESULTS_FILE = "results.json"
CONTROL_FILE = "control_samples.jsonl"
# Everything `score` and `eval` write from their results: replaced as a whole on each run.
OUTPUT_SET = (SAMPLES_FILE, RESULTS_FILE, CONTROL_FILE)


class UngradedAnswersError(MathIFError):
    """Too many answers could not be graded; ``result`` holds the run anyway."""

    def __init__(self, message: str, result: ScoreResult) -> None:
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class ScoreResult:
    """What scoring returns: every sample (item, response, verdict, grade) and the results."""

    samples: tuple[Sample, ...]
    results: Results
    control_samples: tuple[Sample, ...] | None = None

    @property
    def metrics(self) -> Metrics:
        return self.results.metrics

    @property
    def items(self) -> tuple[Item, ...]:
        """The scored items, each once, in order."""
        return tuple({s.key: s.item for s in self.samples}.values())


def manifest_of(dataset: Dataset | None, **extra: Any) -> dict[str, Any]:
    manifest: dict[str, Any] = {"mathif_version": __version__}
    if dataset is not None:
        manifest["data"] = dataset.manifest()
    manifest.update({k: v for k, v in extra.items() if v is not None})
    return manifest


def _scored(entries: Sequence[Entry], grader: str | None, timeout: float,
            workers: int | None, progress: bool, scope: str) -> list[Sample]:
    """Verdicts (and grades, with a grader) of ``entries``' samples."""
    samples = [Sample(e.item, e.index, e.response, fields=e.fields) for e in entries]
    if grader is None:
        return judge_samples(samples, scope=scope)
    return judge_and_grade(samples, grader=grader, timeout=timeout, workers=workers,
                           progress=progress, scope=scope)


def score_entries(
    entries: Sequence[Entry],
    *,
    grader: str | None = "mathif",
    control: Sequence[Entry] | None = None,
    manifest: Mapping[str, Any] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    workers: int | None = None,
    progress: bool = False,
    scope: str = "answer",
) -> ScoreResult:
    """Judge and grade every sample of ``entries`` (and of ``control``); aggregate.

    ``scope`` ``"reasoning"``/``"both"`` also checks the constraints on the reasoning.
    """
    if control is not None and grader is None:
        raise ValueError("a control run is compared on correctness: it needs a grader")
    if grader is not None and len(entries) >= WARM_UP_AT:
        from mathif.grading import warm_up

        warm_up(grader)  # a grading worker starts on the other core while constraints are checked
    samples = _scored(entries, grader, timeout, workers, progress, scope)
    control_samples = None
    if control is not None and grader is not None:
        control_samples = _scored(control, grader, timeout, workers, progress, "answer")
    results = Results(aggregate(samples, control_samples), dict(manifest or {}))
    return ScoreResult(tuple(samples), results,
                       tuple(control_samples) if control_samples is not None else None)


def check_grading(result: ScoreResult, max_percent: float | None = MAX_UNGRADED_PERCENT) -> None:
    """Raise :class:`UngradedAnswersError` when more than ``max_percent`` of the graded answers
    (main and control runs together) timed out or failed in the grader (``None``: no limit)."""
    if max_percent is None:
        return
    parts = [result.metrics.grading]
    if result.metrics.control is not None:
        parts.append(result.metrics.control.grading)
    graded = sum(g.counts.n_graded for g in parts if g is not None)
    timeouts = sum(g.counts.timeout for g in parts if g is not None)
    errors = sum(g.counts.error for g in parts if g is not None)
    if not graded or 100.0 * (timeouts + errors) / graded <= max_percent:
        return
    share = 100.0 * (timeouts + errors) / graded
    raise UngradedAnswersError(
        f"{timeouts + errors} of {graded} answers ({share:.1f}%) could not be graded "
        f"({timeouts} timeout(s), {errors} grader error(s)); more than the {max_percent:g}% "
        "allowed. They count as wrong, so correctness is too low by up to "
        f"{share:.1f} points. Raise --grade-timeout (grade_timeout=), or accept them with "
        "--max-ungraded PERCENT (max_ungraded=).",
        result,
    )


def score(
    items: Sequence[Item],
    responses: Sequence[Any] | Mapping[str, Any],
    *,
    grader: str | None = "mathif",
    control: Sequence[Any] | Mapping[str, Any] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    workers: int | None = None,
    max_ungraded: float | None = MAX_UNGRADED_PERCENT,
    scope: str = "answer",
) -> ScoreResult:
    """Score responses to MathIF items.

    ``responses`` is aligned with ``items`` (or a mapping from item key); each value is the raw
    model output (a string), a :class:`~mathif.responses.Response` (for a separate reasoning
    field or a generation error), or a list of those (one per sample). ``grader`` is
    ``"mathif"`` (default), ``"reference"`` (the official grader's verdicts) or ``None`` (no
    correctness). ``control`` holds the responses of the run without constraints.
    ``max_ungraded``: the share (percent) of answers that may time out or fail in the grader
    before :class:`UngradedAnswersError` is raised (``None``: no limit). ``scope``
    ``"reasoning"`` (or ``"both"``) also checks the constraints on the reasoning.

    >>> items = mathif.load("MathIF/", limit=2)                      # doctest: +SKIP
    >>> result = mathif.score(items, ["<think>..</think> \\boxed{3}", "..."])  # doctest: +SKIP
    >>> result.samples[0].follow, result.metrics.overall.hacc       # doctest: +SKIP
    """
    manifest = manifest_of(items if isinstance(items, Dataset) else None, grader=grader,
                           scope=scope if scope != "answer" else None)
    result = score_entries(
        entries_of(items, responses),
        grader=grader,
        control=entries_of(items, control) if control is not None else None,
        manifest=manifest,
        timeout=timeout,
        workers=workers,
        scope=scope,
    )
    check_grading(result, max_ungraded)
    return result


def score_file(
    path: str | os.PathLike[str],
    *,
    data: str | os.PathLike[str] | None = None,
    grader: str | None = "mathif",
    control: str | os.PathLike[str] | None = None,
    sources: Iterable[str] | None = None,
    counts: Iterable[int | str] | None = None,
    limit: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    workers: int | None = None,
    progress: bool = False,
    max_ungraded: float | None = MAX_UNGRADED_PERCENT,
    quick: int | None = None,
    scope: str = "answer",
) -> ScoreResult:
    """Score a responses file, as ``mathif score`` does.

    Without ``data``, ``path`` holds item fields plus ``response``/``output`` on each line.
    With ``data`` (a dataset source), ``path`` holds responses matched to the loaded items
    (by key, question, or line position; see :mod:`mathif.responses`). ``control`` is a file
    of the same shape with the responses of the run without constraints. The filters
    (``sources``, ``counts``, then ``limit`` or ``quick``; see
    :class:`~mathif.data.Selection`) choose the items that are scored, either way.
    """
    selection = Selection.of(sources, counts, limit, quick)
    dataset: Dataset | None = None
    harness = harness_logs.describe(path)
    if data is not None or harness:
        # A harness log (lm-eval samples, Inspect) names its items by key or question: it is
        # matched to the data (MATHIF_DATA or the Hub when --data is not given), and covers
        # the items its run covered (a --limit run scores those few).
        dataset = load(data, selection=selection)
        entries = match_responses(path, dataset, complete=not harness)
        if harness:
            dataset = _covered(dataset, entries)
        control_entries = (match_responses(control, dataset,
                                           complete=not harness_logs.kind_of(control))
                           if control else None)
    else:
        entries, universe = read_items_with_responses(path, selection)
        selected = list({e.item.key: e.item for e in entries}.values())
        control_entries = match_control(control, universe, selected) if control else None
    manifest = manifest_of(
        dataset, responses=str(path), control=str(control) if control else None,
        grader=grader,
        selection=_selection_record(selection) if dataset is None else None,
        model=harness.pop("model", None),
        harness=harness or None,
        scope=scope if scope != "answer" else None,
    )
    result = score_entries(entries, grader=grader, control=control_entries,
                           manifest=manifest, timeout=timeout, workers=workers,
                           progress=progress, scope=scope)
    check_grading(result, max_ungraded)
    return result


def _covered(dataset: Dataset, entries: Sequence[Entry]) -> Dataset:
    """The items of ``dataset`` that ``entries`` answer (a harness run may cover a subset)."""
    keys = {entry.item.key for entry in entries}
    return replace(dataset, items=tuple(i for i in dataset.items if i.key in keys),
                   loaded=dataset.all_items)


def _selection_record(selection: Selection) -> dict[str, Any] | None:
    return None if selection.is_everything else selection.to_record()


# --- the output folder ---------------------------------------------------------------------


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()


def _dump_line(record: Mapping[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, sort_keys=False) + "\n"


def check_out_dir(out_dir: str | os.PathLike[str]) -> None:
    """Fail now, with one clear line, when ``out_dir`` cannot receive a run's files.

    Checked before any work, so that a long scoring or generation does not end in a
    traceback: a path that is a file, a folder that cannot be written, a full disk. Nothing
    is created: a folder that does not exist yet is created when the files are written.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError("is a file, not a folder: give a folder for the run's files",
                         file=str(out))
    probe_dir = out
    while not probe_dir.exists():
        if probe_dir.parent == probe_dir:
            break
        probe_dir = probe_dir.parent
    if not probe_dir.is_dir():
        raise InputError(f"cannot create the output folder: {probe_dir} is a file",
                         file=str(out))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".mathif-probe.", dir=probe_dir)
    except OSError as exc:
        raise InputError(f"cannot write into {probe_dir}: {exc.strerror or exc}",
                         file=str(out)) from None
    try:
        try:
            os.write(fd, b"\n" * 4096)
            os.fsync(fd)
        except OSError as exc:
            reason = "the disk is full" if exc.errno == errno.ENOSPC else exc.strerror
            raise InputError(f"cannot write into {probe_dir}: {reason}",
                             file=str(out)) from None
    finally:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _write_temp(folder: Path, name: str, text: str, temps: list[Path]) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=folder)
    temps.append(Path(tmp))  # registered first: removed even if the write fails
    os.fchmod(fd, _FILE_MODE)  # mkstemp makes 0600 files; results are for sharing
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    return Path(tmp)


def write_run(out_dir: str | os.PathLike[str], result: ScoreResult) -> dict[str, Path]:
    """Replace the output set in ``out_dir``: ``samples.jsonl``, ``results.json`` and, with a
    control run, ``control_samples.jsonl`` (an earlier run's control file is removed)."""
    out = Path(out_dir)
    check_out_dir(out)
    files: dict[str, str] = {
        SAMPLES_FILE: "".join(_dump_line(s.to_record()) for s in result.samples),
        RESULTS_FILE: result.results.to_json(),
    }
    if result.control_samples is not None:
        files[CONTROL_FILE] = "".join(_dump_line(s.to_record()) for s in result.control_samples)
    out.mkdir(parents=True, exist_ok=True)
    temps: list[Path] = []
    try:
        ready = {name: _write_temp(out, name, text, temps) for name, text in files.items()}
        for name in OUTPUT_SET:
            if name not in ready:
                (out / name).unlink(missing_ok=True)  # not this run's: stale
        for name in (SAMPLES_FILE, CONTROL_FILE, RESULTS_FILE):  # results.json last
            if name in ready:
                os.replace(ready[name], out / name)
    finally:
        for tmp in temps:
            tmp.unlink(missing_ok=True)
    _fsync_dir(out)
    return {name: out / name for name in files}


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not possible on every platform
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
