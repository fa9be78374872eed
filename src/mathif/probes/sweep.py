"""Several values of a probe in one command: ``--force-continue 0,2,4,6,8``,
``--think-budget 512,1024,2048,4096``.

Each value is a normal run folder under ``--out`` (``force-continue-4/``,
``think-budget-1024/``), resumable on its own with the single-value command, with its own
``samples.jsonl`` and ``results.json``. The values are generated together
(:func:`mathif.probes.driver.generate_lanes`): what they have in common, the un-intervened first
phase above all, is generated once. ``--out/sweep.json`` holds the curve (Fig. 7 of the
paper): each value's rates overall and by number of constraints, with intervals.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mathif.config import RunConfig
from mathif.data import Dataset, Selection
from mathif.evaluation import load_selected, resolve_config, run_requests, score_run
from mathif.generation.protocol import Backend
from mathif.generation.store import RunStore, write_json_atomic
from mathif.probes.analysis import SWEEP_FILE, sweep_record
from mathif.probes.driver import generate_lanes
from mathif.run import ScoreResult, check_grading, check_out_dir


@dataclass(frozen=True)
class SweepResult:
    """The runs of a sweep, in the order of the values given, and ``sweep.json``'s content."""

    kind: str
    values: tuple[int, ...]
    folders: tuple[Path, ...]
    results: tuple[ScoreResult, ...]
    summary: dict[str, Any]



def evaluate_sweep(
    config: RunConfig,
    *,
    out: str | os.PathLike[str],
    data: str | os.PathLike[str] | Dataset | None = None,
    selection: Selection | None = None,
    engine: Backend | None = None,
    progress: bool = False,
) -> SweepResult:
    """Run every value of ``config.probe`` into its own folder under ``out``; score each.

    Raises :class:`~mathif.run.UngradedAnswersError` (for the first run with too many
    ungraded answers) after every folder and ``sweep.json`` are written.
    """
    kind = config.probe.kind
    if kind not in ("force_continue", "think_budget"):
        raise ValueError("a sweep varies --force-continue or --think-budget")
    check_out_dir(out)
    root = Path(out)
    dataset = load_selected(data, selection or Selection())
    config = resolve_config(config, engine)
    runs = [replace(config, probe=config.probe.at(v)) for v in config.probe.values()]
    folders = [root / run.probe.folder_name() for run in runs]
    requests = run_requests(config, dataset)
    settings = [run.settings(data_checksum=dataset.checksum,
                             engine={} if engine is not None else None) for run in runs]
    with contextlib.ExitStack() as stack:
        stores = [stack.enter_context(RunStore.open(folder, settings=s, data=dataset.manifest()))
                  for folder, s in zip(folders, settings, strict=True)]
        generate_lanes(list(zip(runs, stores, strict=True)), requests, dataset, engine,
                       progress=progress)
        answers = [{r.id: store.get(*r.id) for r in requests} for store in stores]
        facts = [dict(store.manifest.get("engine") or {}) for store in stores]
    results = [score_run(run, dataset, s, a, f, folder, progress=progress)
               for run, s, a, f, folder in zip(runs, settings, answers, facts, folders,
                                               strict=True)]
    values = tuple(config.probe.values())
    summary = sweep_record(kind, config.probe.to_settings(),
                           [(v, folder.name, r.metrics)
                            for v, folder, r in zip(values, folders, results, strict=True)])
    write_json_atomic(root / SWEEP_FILE, summary)
    for result in results:
        check_grading(result, config.grading.max_ungraded)
    return SweepResult(kind, values, tuple(folders), tuple(results), summary)
