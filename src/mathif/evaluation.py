"""``mathif.evaluate`` and ``mathif eval``: generate with a model, store, score, write results.

The flow is the project's one-way pipeline: items -> requests -> backend -> run store ->
verdicts -> results. Generation is resumable: completions live in the run folder's store
(:mod:`mathif.generation.store`), so re-running the same command generates only what is
missing (and retries what failed), then scores everything. Scoring and the output files are
shared with ``mathif score`` (:mod:`mathif.run`), so both commands write the same
``samples.jsonl`` and ``results.json``. What a run is comes from one :class:`RunConfig`
(:mod:`mathif.config`); :func:`evaluate` builds one from keyword arguments.

This module is named ``evaluation`` rather than ``evaluate`` because a submodule
``mathif.evaluate`` would replace the function ``mathif.evaluate`` on the package once
imported.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from mathif.config import MAX_UNGRADED_PERCENT, GradeSettings, RunConfig
from mathif.data import Dataset, Item, Selection, load
from mathif.generation.chat import build_messages
from mathif.generation.engines import BackendOptions, make_backend
from mathif.generation.progress import Progress
from mathif.generation.protocol import PHASES, Backend, Completion, Request, Sampling, derive_seed
from mathif.generation.store import RunStore, stored_successes
from mathif.grading import DEFAULT_TIMEOUT
from mathif.probes.settings import (
    DEFAULT_BRIDGE,
    DEFAULT_CONTINUE,
    DEFAULT_MARKER,
    DEFAULT_REMINDER,
    ProbeSettings,
)
from mathif.responses import Entry, Response
from mathif.run import (
    ScoreResult,
    check_grading,
    check_out_dir,
    manifest_of,
    score_entries,
    write_run,
)

__all__ = ["RunConfig", "build_requests", "entries_of_run", "evaluate", "evaluate_config"]


def build_requests(
    items: Sequence[Item],
    *,
    samples: int,
    sampling: Sampling,
    seed: int | None,
    phases: Sequence[str] = ("main",),
    prompt_template: str = "paper",
    system_prompt: str | None = None,
) -> list[Request]:
    """Every request of a run, phase by phase, item by item, sample by sample."""
    requests = []
    for phase in phases:
        if phase not in PHASES:
            raise ValueError(f"unknown phase {phase!r}")
        for item in items:
            messages = build_messages(item, template=prompt_template,
                                      constraints=phase == "main", system_prompt=system_prompt)
            for sample in range(samples):
                requests.append(Request(key=item.key, sample=sample, messages=messages,
                                        sampling=sampling, seed=derive_seed(seed, item.key,
                                                                            sample),
                                        phase=phase))
    return requests


def entries_of_run(
    items: Sequence[Item],
    answers: Mapping[tuple[str, str, int], Completion | None],
    *,
    phase: str,
    samples: int,
) -> list[Entry]:
    """The responses of ``phase``, item by item, sample by sample (a missing completion is an
    error response, never an empty answer)."""
    out = []
    for item in items:
        for s in range(samples):
            completion = answers.get((phase, item.key, s))
            fields = item.to_record()
            if completion is not None and completion.phases:
                fields.update(probe_fields(completion))
            out.append(Entry(item, s, Response.from_completion(completion), fields))
    return out


def probe_fields(completion: Completion) -> dict[str, Any]:
    """What a probe's sample line says about its phases (the step log has everything)."""
    return {"probe_phases": len(completion.phases),
            "probe_inserted": [p.get("inserted") for p in completion.phases
                               if p.get("inserted")]}


def _generate(
    store: RunStore,
    pending: Sequence[Request],
    *,
    total: int,
    engine: Backend,
    progress: bool,
) -> None:
    store.record_engine(engine.describe())
    wanted = {r.id for r in pending}
    seen: set[tuple[str, str, int]] = set()
    with Progress(total, done=total - len(pending), enabled=progress) as bar:

        def on_complete(completion: Completion) -> None:
            # Only what was asked, once: a backend bug must not duplicate or mix records.
            if completion.id not in wanted or completion.id in seen:
                return
            seen.add(completion.id)
            store.append(completion)
            bar.update(completion)

        engine.generate(pending, on_complete)


def start_backend(config: RunConfig, dataset: Dataset, first: Request) -> Backend:
    """Build the named backend of ``config`` and check that it can answer ``first``.

    Called before the run folder is created or touched: a model that cannot be loaded, or a
    server that refuses or is not there, stops the command with one clear line and leaves no
    manifest behind (which would refuse the corrected command).
    """
    assert config.model is not None  # resolved configs name their model
    built = make_backend(config.backend, config.model, options=config.options,
                         chat_template_kwargs=config.chat_template_kwargs, items=dataset)
    try:
        preflight(built, first)
    except BaseException:
        built.close()
        raise
    return built


def preflight(engine: Backend, first: Request) -> None:
    """The backend's own check before a run, when it has one (one request to a server)."""
    check = getattr(engine, "preflight", None)
    if callable(check):
        check(first)


def _generate_missing(
    store: RunStore,
    requests: Sequence[Request],
    config: RunConfig,
    dataset: Dataset,
    engine: Backend | None,
    progress: bool,
) -> None:
    """Generate the requests the store has no success for (a named backend is built, checked
    and closed again, only when there is something to generate)."""
    pending = [r for r in requests if not store.has_success(r.id)]
    if not pending:
        return
    if engine is not None:
        _generate(store, pending, total=len(requests), engine=engine, progress=progress)
        return
    built = start_backend(config, dataset, pending[0])  # another process left work after all
    try:
        _generate(store, pending, total=len(requests), engine=built, progress=progress)
    finally:
        built.close()


def resolve_config(config: RunConfig, engine: Backend | None) -> RunConfig:
    """``config`` ready to run: for ``engine`` (a backend object), or resolved for this
    machine (see :meth:`RunConfig.resolved`)."""
    return _for_backend_object(config, engine) if engine is not None else config.resolved()


def _for_backend_object(config: RunConfig, engine: Backend) -> RunConfig:
    """The config of a run whose backend is an object the caller built."""
    if config.options is not None and config.options.given():
        raise ValueError("options apply to named backends; configure your backend object")
    model = config.model or str(getattr(engine, "model_name", None)
                                or getattr(engine, "model", None) or engine.name)
    return replace(config, backend=engine.name, model=model, options=None)


def load_selected(data: str | os.PathLike[str] | Dataset | None,
                  selection: Selection) -> Dataset:
    """The run's items: ``data`` (a source or a loaded data set) filtered by ``selection``."""
    if isinstance(data, Dataset):
        return data.select(selection)
    return load(data, selection=selection)


def run_requests(config: RunConfig, dataset: Dataset) -> list[Request]:
    """Every request of the run ``config`` over ``dataset``."""
    phases = PHASES if config.with_control else ("main",)
    return build_requests(dataset.items, samples=config.samples, sampling=config.sampling,
                          seed=config.seed, phases=phases,
                          prompt_template=config.prompt_template,
                          system_prompt=config.system_prompt)


def score_run(
    config: RunConfig,
    dataset: Dataset,
    settings: Mapping[str, Any],
    answers: Mapping[tuple[str, str, int], Completion | None],
    engine_facts: Mapping[str, Any],
    out: str | os.PathLike[str],
    *,
    progress: bool = False,
) -> ScoreResult:
    """Score the completions of a run and write its ``samples.jsonl`` and ``results.json``."""
    grading = config.grading
    manifest = manifest_of(
        dataset, model=config.model, backend=config.backend, samples=config.samples,
        with_control=config.with_control, grader=grading.grader, run=dict(settings),
        engine=dict(engine_facts), run_dir=str(Path(out).resolve()),
        scope=grading.scope if grading.scope != "answer" else None,
    )
    control = (entries_of_run(dataset.items, answers, phase="control", samples=config.samples)
               if config.with_control else None)
    result = score_entries(
        entries_of_run(dataset.items, answers, phase="main", samples=config.samples),
        grader=grading.grader, control=control, manifest=manifest,
        timeout=grading.grade_timeout, workers=grading.workers, progress=progress,
        scope=grading.scope,
    )
    write_run(out, result)
    return result


def evaluate_config(
    config: RunConfig,
    *,
    out: str | os.PathLike[str],
    data: str | os.PathLike[str] | Dataset | None = None,
    selection: Selection | None = None,
    engine: Backend | None = None,
    progress: bool = False,
) -> ScoreResult:
    """Run ``config`` on ``data`` (filtered by ``selection``) into the run folder ``out``.

    ``engine``: a backend object to generate with instead of the one ``config.backend``
    names. A probe (``config.probe``) runs its phases through :mod:`mathif.probes`; a sweep
    (several values) is :func:`mathif.probes.sweep.evaluate_sweep`. See :func:`evaluate` for
    the rest.
    """
    if config.probe.is_sweep:
        raise ValueError("several probe values make a sweep: use "
                         "mathif.probes.sweep.evaluate_sweep (or `mathif eval`)")
    selection = selection or Selection()
    check_out_dir(out)
    dataset = load_selected(data, selection)
    config = resolve_config(config, engine)
    settings = config.settings(data_checksum=dataset.checksum,
                               engine={} if engine is not None else None)
    requests = run_requests(config, dataset)
    # Settings and the model are checked before the run folder is created or touched.
    done = stored_successes(out, settings)
    pending = [r for r in requests if r.id not in done]
    built: Backend | None = None
    if pending and engine is None:
        first = pending[0]
        if config.probe.active:  # its first step stops at the marker: the continuation
            first = replace(first, stop=(config.probe.think_marker,))  # endpoint is checked
        built = start_backend(config, dataset, first)
    backend = engine if engine is not None else built
    try:
        with RunStore.open(out, settings=settings, data=dataset.manifest()) as store:
            if config.probe.active:
                from mathif.probes.driver import generate_lanes

                generate_lanes([(config, store)], requests, dataset, backend,
                               progress=progress)
            else:
                _generate_missing(store, requests, config, dataset, backend, progress)
            answers = {r.id: store.get(*r.id) for r in requests}
            engine_facts = dict(store.manifest.get("engine") or {})
    finally:
        if built is not None:
            built.close()
    result = score_run(config, dataset, settings, answers, engine_facts, out,
                       progress=progress)
    check_grading(result, config.grading.max_ungraded)
    return result


def evaluate(
    model: str | None = None,
    *,
    backend: str | Backend = "auto",
    data: str | os.PathLike[str] | Dataset | None = None,
    out: str | os.PathLike[str],
    sources: Sequence[str] | None = None,
    counts: Sequence[int | str] | None = None,
    limit: int | None = None,
    quick: int | None = None,
    samples: int = 1,
    seed: int | None = 0,
    temperature: float = 1.0,
    top_p: float = 0.95,
    max_tokens: int = 16384,
    prompt_template: str = "paper",
    system_prompt: str | None = None,
    chat_template_kwargs: Mapping[str, Any] | None = None,
    with_control: bool = False,
    grader: str | None = "mathif",
    grade_timeout: float = DEFAULT_TIMEOUT,
    workers: int | None = None,
    max_ungraded: float | None = MAX_UNGRADED_PERCENT,
    options: BackendOptions | Mapping[str, Any] | None = None,
    progress: bool = False,
    force_continue: int | None = None,
    remind_constraints: bool = False,
    think_budget: int | None = None,
    think_marker: str = DEFAULT_MARKER,
    continue_text: str = DEFAULT_CONTINUE,
    remind_template: str = DEFAULT_REMINDER,
    budget_bridge: str = DEFAULT_BRIDGE,
    scope: str = "answer",
) -> ScoreResult:
    """Generate MathIF responses with ``model``, store them in ``out``, score them.

    ``backend``: ``"auto"`` (vLLM with a GPU, else transformers), ``"vllm"``, ``"hf"``,
    ``"openai"`` (any OpenAI-compatible server; ``options["base_url"]``), ``"replay"``
    (``model`` is a file of recorded responses), or any object implementing
    :class:`~mathif.generation.Backend`. ``options`` holds backend options: a mapping, or the
    backend's options object (:mod:`mathif.generation.engines`, e.g. ``OpenAIOptions``).
    Decoding defaults are the paper's; ``seed`` gives every (item, sample) its own derived
    seed (``None``: unseeded). ``with_control`` also runs the prompts without constraints,
    for "correct w/o constraints". The filters (``sources``, ``counts``, then ``limit`` or
    ``quick``: see :class:`~mathif.data.Selection`) apply to ``data`` whether it is a source
    or an already loaded :class:`~mathif.data.Dataset`.
    ``max_ungraded``: see :func:`mathif.score`; the files are written before the error.

    Probes (:mod:`mathif.probes`, one per run): ``force_continue`` K replaces the first K ends
    of the reasoning (``think_marker``) with ``continue_text``; ``remind_constraints``
    replaces the first end with ``remind_template`` (``{constraints}``: the item's
    constraints); ``think_budget`` N closes the reasoning after N tokens with the marker and
    ``budget_bridge``. ``max_tokens`` bounds the tokens of all phases together. Several values
    (a sweep) go to :func:`mathif.probes.sweep.evaluate_sweep`. ``scope`` ``"reasoning"`` (or
    ``"both"``) also checks the constraints on the reasoning.

    The run folder ``out`` is resumable: calling again with the same settings generates only
    what is missing and retries failed requests; other settings raise
    :class:`~mathif.generation.SettingsMismatchError`. Settings, and for a named backend the
    model (a missing folder, an unreachable Hub) and the server (the openai backend's one
    preflight request), are checked before the folder is created, so a failed start leaves
    nothing behind. Failed
    requests are reported as errors in the results, never scored as empty answers. Writes
    ``manifest.json``, ``completions.jsonl``, ``samples.jsonl``, ``results.json`` (and
    ``control_samples.jsonl``).

    >>> result = mathif.evaluate("Qwen/Qwen3-0.6B", out="runs/qwen3", limit=10)  # doctest: +SKIP
    >>> result.metrics.overall.hacc                                          # doctest: +SKIP
    """
    engine = None if isinstance(backend, str) else backend
    if engine is not None and options:
        raise ValueError("options apply to named backends; configure your backend object")
    name = backend if isinstance(backend, str) else "auto"
    config = RunConfig(
        model=model,
        backend=name,
        prompt_template=prompt_template,
        system_prompt=system_prompt,
        chat_template_kwargs=chat_template_kwargs,
        sampling=Sampling(temperature=temperature, top_p=top_p, max_tokens=max_tokens),
        seed=seed,
        samples=samples,
        with_control=with_control,
        grading=GradeSettings(grader=grader, grade_timeout=grade_timeout, workers=workers,
                              max_ungraded=max_ungraded, scope=scope),
        options=None if engine is not None else _options(name, options),
        probe=ProbeSettings(force_continue=force_continue,
                            remind_constraints=remind_constraints, think_budget=think_budget,
                            think_marker=think_marker, continue_text=continue_text,
                            remind_template=remind_template, budget_bridge=budget_bridge),
    )
    return evaluate_config(config, out=out, data=data,
                           selection=Selection.of(sources, counts, limit, quick),
                           engine=engine,
                           progress=progress)


def _options(name: str, options: BackendOptions | Mapping[str, Any] | None
             ) -> BackendOptions | None:
    from mathif.generation.engines import backend_options, resolve_backend

    if options is None or isinstance(options, BackendOptions):
        return options
    return backend_options(resolve_backend(name), options)
