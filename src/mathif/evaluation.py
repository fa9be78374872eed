"""``mathif.evaluate`` and ``mathif eval``: generate with a model, store, score, write results.

The flow is the project's one-way pipeline: items -> requests -> backend -> run store ->
verdicts -> results. Generation is resumable: completions live in the run folder's store
(:mod:`mathif.generation.store`), so re-running the same command generates only what is
missing (and retries what failed), then scores everything. Scoring and the output files are
shared with ``mathif score`` (:mod:`mathif.run`), so both commands write the same
``samples.jsonl`` and ``results.json``.

This module is named ``evaluation`` rather than ``evaluate`` because a submodule
``mathif.evaluate`` would replace the function ``mathif.evaluate`` on the package once
imported.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mathif.data import Dataset, Item, load
from mathif.generation.chat import build_messages
from mathif.generation.engines import (
    backend_options,
    make_backend,
    output_settings,
    resolve_backend,
)
from mathif.generation.progress import Progress
from mathif.generation.protocol import (
    PHASES,
    Backend,
    Completion,
    Request,
    Sampling,
    derive_seed,
)
from mathif.generation.store import RunStore
from mathif.responses import Entry, Response
from mathif.run import ScoreResult, manifest_of, score_entries, write_run


def run_settings(
    *,
    model: str,
    backend: str,
    dataset: Dataset,
    prompt_template: str,
    system_prompt: str | None,
    chat_template_kwargs: Mapping[str, Any] | None,
    sampling: Sampling,
    seed: int | None,
    engine: Mapping[str, Any],
) -> dict[str, Any]:
    """The settings that decide a run's outputs: stored in the manifest, compared on resume.

    Item selection (sources, counts, limit) and the number of samples are deliberately left
    out: they choose *which* (item, sample) pairs are wanted, not what each one is.
    """
    return {
        "model": model,
        "backend": backend,
        "prompt_template": prompt_template,
        "system_prompt": system_prompt,
        "chat_template_kwargs": dict(chat_template_kwargs or {}),
        "sampling": sampling.to_dict(),
        "seed": seed,
        "engine": dict(engine),
        "data_checksum": dataset.checksum,
    }


def build_requests(
    items: Sequence[Any],
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


def _model_id(backend: str, model: str) -> str:
    """Local paths are stored absolute, so a resume from another folder still matches."""
    if backend in ("hf", "vllm", "replay") and Path(model).exists():
        return str(Path(model).resolve())
    return model


def entries_of_run(
    items: Sequence[Item],
    answers: Mapping[tuple[str, str, int], Completion | None],
    *,
    phase: str,
    samples: int,
) -> list[Entry]:
    """The responses of ``phase``, item by item, sample by sample (a missing completion is an
    error response, never an empty answer)."""
    return [
        Entry(item, s, Response.from_completion(answers.get((phase, item.key, s))),
              item.to_record())
        for item in items
        for s in range(samples)
    ]


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


def evaluate(
    model: str | None = None,
    *,
    backend: str | Backend = "auto",
    data: str | os.PathLike[str] | Dataset | None = None,
    out: str | os.PathLike[str],
    sources: Sequence[str] | None = None,
    counts: Sequence[int | str] | None = None,
    limit: int | None = None,
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
    grade_timeout: float = 5.0,
    workers: int | None = None,
    options: Mapping[str, Any] | None = None,
    progress: bool = False,
) -> ScoreResult:
    """Generate MathIF responses with ``model``, store them in ``out``, score them.

    ``backend``: ``"auto"`` (vLLM with a GPU, else transformers), ``"vllm"``, ``"hf"``,
    ``"openai"`` (any OpenAI-compatible server; ``options["base_url"]``), ``"replay"``
    (``model`` is a file of recorded responses), or any object implementing
    :class:`~mathif.generation.Backend`. ``options`` holds backend options (see
    :data:`mathif.generation.engines.BACKEND_OPTIONS`). Decoding defaults are the paper's;
    ``seed`` gives every (item, sample) its own derived seed (``None``: unseeded).
    ``with_control`` also runs the prompts without constraints, for "correct w/o constraints".

    The run folder ``out`` is resumable: calling again with the same settings generates only
    what is missing and retries failed requests; other settings raise
    :class:`~mathif.generation.SettingsMismatchError`. Failed requests are reported as errors
    in the results, never scored as empty answers. Writes ``manifest.json``,
    ``completions.jsonl``, ``samples.jsonl``, ``results.json`` (and ``control_samples.jsonl``).

    >>> result = mathif.evaluate("Qwen/Qwen3-0.6B", out="runs/qwen3", limit=10)  # doctest: +SKIP
    >>> result.metrics["overall"]                                            # doctest: +SKIP
    """
    if samples < 1:
        raise ValueError("samples must be >= 1")
    sampling = Sampling(temperature=temperature, top_p=top_p, max_tokens=max_tokens)
    dataset = data if isinstance(data, Dataset) else load(data, sources=sources, counts=counts,
                                                           limit=limit)
    if isinstance(backend, str):
        name = resolve_backend(backend)
        if model is None:
            raise ValueError("give a model (a name, a local path, or for replay a file)")
        opts = backend_options(name, options)
        if name == "replay" and "control_responses" in opts:
            opts["control_responses"] = _model_id("replay", str(opts["control_responses"]))
        model_id = _model_id(name, model)
        engine_settings = output_settings(name, opts)
    else:
        if options:
            raise ValueError("options apply to named backends; configure your backend object")
        name = backend.name
        model_id = model or str(getattr(backend, "model_name", None)
                                 or getattr(backend, "model", None) or name)
        opts, engine_settings = {}, {}
    settings = run_settings(
        model=model_id, backend=name, dataset=dataset, prompt_template=prompt_template,
        system_prompt=system_prompt, chat_template_kwargs=chat_template_kwargs,
        sampling=sampling, seed=seed, engine=engine_settings,
    )
    phases = PHASES if with_control else ("main",)
    requests = build_requests(dataset.items, samples=samples, sampling=sampling, seed=seed,
                              phases=phases, prompt_template=prompt_template,
                              system_prompt=system_prompt)
    with RunStore.open(out, settings=settings, data=dataset.manifest()) as store:
        pending = [r for r in requests if not store.has_success(r.id)]
        if pending:
            if isinstance(backend, str):
                engine = make_backend(name, model_id, options=opts,
                                      chat_template_kwargs=chat_template_kwargs,
                                      items=dataset)
                try:
                    _generate(store, pending, total=len(requests), engine=engine,
                              progress=progress)
                finally:
                    engine.close()
            else:
                _generate(store, pending, total=len(requests), engine=backend,
                          progress=progress)
        answers = {r.id: store.get(*r.id) for r in requests}
        engine_facts = dict(store.manifest.get("engine") or {})
    manifest = manifest_of(
        dataset, model=model_id, backend=name, samples=samples, with_control=with_control,
        grader=grader, run=settings, engine=engine_facts, run_dir=str(Path(out).resolve()),
    )
    control = (entries_of_run(dataset.items, answers, phase="control", samples=samples)
               if with_control else None)
    result = score_entries(
        entries_of_run(dataset.items, answers, phase="main", samples=samples),
        grader=grader, control=control, manifest=manifest, timeout=grade_timeout,
        workers=workers, progress=progress,
    )
    write_run(out, result)
    return result
