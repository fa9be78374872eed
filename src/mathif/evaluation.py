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

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mathif.data import Dataset, load
from mathif.generation.chat import build_messages
from mathif.generation.engines import (
    BACKEND_NAMES,
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
from mathif.run import ScoredInput, ScoreResult, manifest_of, score_inputs, write_run
from mathif.scoring import Response

MISSING_ERROR = "no completion was generated for this request"


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


def _response(completion: Completion | None) -> Response:
    if completion is None:
        return Response("", error=MISSING_ERROR)
    extra: dict[str, Any] = {"response": completion.text}
    if completion.reasoning is not None:
        extra["reasoning"] = completion.reasoning
    extra.update(
        finish_reason=completion.finish_reason,
        prompt_tokens=completion.prompt_tokens,
        completion_tokens=completion.completion_tokens,
        latency_s=completion.latency_s,
        seed=completion.seed,
    )
    return Response(completion.text, reasoning=completion.reasoning, error=completion.error,
                    extra=extra)


def scoring_inputs(
    items: Sequence[Any],
    answers: Mapping[tuple[str, str, int], Completion | None],
    *,
    phase: str,
    samples: int,
) -> list[ScoredInput]:
    """One :class:`~mathif.run.ScoredInput` per item, its samples in sample order."""
    return [
        ScoredInput(item, [_response(answers.get((phase, item.key, s))) for s in range(samples)],
                    item.to_record())
        for item in items
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
                                      items=dataset.items)
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
    control = (scoring_inputs(dataset.items, answers, phase="control", samples=samples)
               if with_control else None)
    result = score_inputs(
        scoring_inputs(dataset.items, answers, phase="main", samples=samples),
        grader=grader, control=control, manifest=manifest, timeout=grade_timeout,
        workers=workers, progress=progress,
    )
    write_run(out, result)
    return result


# --- the `mathif eval` command ------------------------------------------------------------


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("expected a JSON object, e.g. '{\"key\": 1}'")
    return value


def _seed(text: str) -> int | None:
    if text.lower() == "none":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("a seed is an integer or 'none'") from None


def add_eval_command(sub: Any) -> None:
    """Register ``mathif eval`` on the CLI's subparsers."""
    from mathif.cli import add_data_filters, add_grading_options

    p = sub.add_parser(
        "eval",
        help="generate responses with a model, then score them",
        description="Generate the MathIF responses of a model (resumable: re-run the same "
        "command after a crash), score them, and write RUN_DIR/samples.jsonl and "
        "RUN_DIR/results.json as `mathif score` does.",
    )
    p.add_argument("--model", required=True,
                   help="model name or local path (openai: the served model name; replay: "
                   "the file of recorded responses)")
    p.add_argument("--backend", choices=BACKEND_NAMES, default="auto",
                   help="auto (default: vllm with a GPU, else hf), vllm, hf, openai, replay")
    p.add_argument("--data", help="dataset: hub (default, or $MATHIF_DATA), a folder of the "
                   "15 files, or one JSONL file")
    p.add_argument("--out", required=True, metavar="RUN_DIR",
                   help="run folder (created, or resumed when it exists)")
    add_data_filters(p)
    gen = p.add_argument_group("generation")
    gen.add_argument("--samples", type=int, default=1, help="samples per item (default 1)")
    gen.add_argument("--seed", type=_seed, default=0,
                     help="run seed; each (item, sample) gets a seed derived from it "
                     "(default 0; 'none' for unseeded sampling)")
    gen.add_argument("--max-tokens", type=int, default=16384,
                     help="max new tokens (default 16384, as in the paper)")
    gen.add_argument("--temperature", type=float, default=1.0, help="default 1.0 (paper)")
    gen.add_argument("--top-p", type=float, default=0.95, help="default 0.95 (paper)")
    gen.add_argument("--prompt-template", choices=("paper", "spaced"), default="paper",
                     help="user-message template (default: paper, byte-exact)")
    gen.add_argument("--system-prompt", help="a system message (default: none, as the paper)")
    gen.add_argument("--chat-template-kwargs", type=_json_object, metavar="JSON",
                     help="chat template arguments, e.g. '{\"enable_thinking\": false}'")
    gen.add_argument("--with-control", action="store_true",
                     help="also generate without the constraints (correct w/o constraints)")
    srv = p.add_argument_group("openai backend")
    srv.add_argument("--base-url", nargs="+", metavar="URL",
                     help="server base URL(s), e.g. http://127.0.0.1:8000/v1; several URLs "
                     "spread the requests over a fleet")
    srv.add_argument("--concurrency", type=int, help="requests in flight (default 32)")
    srv.add_argument("--request-timeout", type=float, metavar="SECONDS",
                     help="deadline of one attempt of a request (default 1800)")
    srv.add_argument("--max-retries", type=int,
                     help="retries on 429/5xx/timeouts/connection errors (default 8)")
    srv.add_argument("--api-key-env", metavar="NAME",
                     help="environment variable holding the API key (default: "
                     "MATHIF_API_KEY, then OPENAI_API_KEY)")
    srv.add_argument("--extra-body", type=_json_object, metavar="JSON",
                     help="extra request fields, e.g. '{\"top_k\": 20}' (null removes one)")
    eng = p.add_argument_group("vllm / hf backends")
    eng.add_argument("--dtype", help="auto (default), bfloat16, float16, float32")
    eng.add_argument("--tensor-parallel-size", type=int, metavar="N")
    eng.add_argument("--pipeline-parallel-size", type=int, metavar="N")
    eng.add_argument("--data-parallel-size", type=int, metavar="N",
                     help="N engine replicas, each on its own GPUs")
    eng.add_argument("--max-model-len", type=int, metavar="N")
    eng.add_argument("--gpu-memory-utilization", type=float, metavar="F")
    eng.add_argument("--enforce-eager", action="store_true", default=None)
    eng.add_argument("--quantization")
    eng.add_argument("--engine-args", type=_json_object, metavar="JSON",
                     help="more vllm.LLM arguments, e.g. '{\"max_num_seqs\": 512}'")
    eng.add_argument("--batch-size", type=int, help="hf: sequences per batch (default 8)")
    eng.add_argument("--device", help="hf: cuda, cpu, mps (default: automatic)")
    eng.add_argument("--trust-remote-code", action="store_true", default=None)
    rep = p.add_argument_group("replay backend")
    rep.add_argument("--control-responses", metavar="FILE",
                     help="recorded responses of the control run (with --with-control)")
    add_grading_options(p)
    p.add_argument("--json", action="store_true", help="print results.json, not a table")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_eval)


OPTION_FLAGS = ("tensor_parallel_size", "pipeline_parallel_size", "data_parallel_size",
                "dtype", "max_model_len", "gpu_memory_utilization", "enforce_eager",
                "quantization", "trust_remote_code", "engine_args", "device", "batch_size",
                "base_url", "concurrency", "request_timeout", "max_retries", "api_key_env",
                "extra_body", "control_responses")


def cmd_eval(args: argparse.Namespace) -> int:
    from mathif.cli import _grader, format_summary

    options = {name: getattr(args, name) for name in OPTION_FLAGS}
    backend = resolve_backend(args.backend)
    if args.backend == "auto" and not args.quiet:
        print(f"mathif: --backend auto chose {backend}", file=sys.stderr)
    result = evaluate(
        args.model,
        backend=backend,
        data=args.data,
        out=args.out,
        sources=args.sources,
        counts=args.counts,
        limit=args.limit,
        samples=args.samples,
        seed=args.seed,
        temperature=args.temperature,
        top_p=args.top_p,
        max_tokens=args.max_tokens,
        prompt_template=args.prompt_template,
        system_prompt=args.system_prompt,
        chat_template_kwargs=args.chat_template_kwargs,
        with_control=args.with_control,
        grader=_grader(args.grader),
        grade_timeout=args.grade_timeout,
        workers=args.workers,
        options=options,
        progress=not args.quiet,
    )
    if args.json:
        print(json.dumps(result.results, indent=2))
    else:
        print(format_summary(result.metrics))
        print(f"\nwrote {args.out}/samples.jsonl and {args.out}/results.json")
    failed = [v for v in (*result.verdicts, *result.control_verdicts) if not v.scored]
    if failed:
        print(f"mathif: {len(failed)} request(s) failed and are not scored (their error is in "
              f"{args.out}/samples.jsonl); run the same command again to retry them",
              file=sys.stderr)
    return 0
