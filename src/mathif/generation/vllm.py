"""The ``vllm`` backend: vLLM's offline engine, the paper's own engine.

Every pending request goes to one engine, so continuous batching keeps the GPU full; the
engine is stepped as ``LLM.generate`` does internally, except that each finished request is
handed to the run store at once instead of at the very end (a run that dies after ten hours
keeps ten hours of work). The few vLLM calls this needs beyond its ``LLM`` API live in
:mod:`mathif.generation.vllm_engine`, behind a check of the vLLM release (supported:
``vllm_engine.SUPPORTED_SPEC``).

Scale: ``tensor_parallel_size`` / ``pipeline_parallel_size`` split one model over several
GPUs; ``data_parallel_size`` N runs N independent engines (each on its own
``tensor x pipeline`` GPUs, in its own process) over interleaved shares of the requests, all
streaming into the one store. vLLM's own ``LLM(data_parallel_size=...)`` is single-process
only for special launchers, hence the processes here.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
import traceback
from collections.abc import Sequence
from typing import Any

from mathif.generation import vllm_engine
from mathif.generation.chat import render_requests, template_sha256
from mathif.generation.continuation import (
    check_marker,
    continued_ids,
    exact_ids,
    stop_token_count,
)
from mathif.generation.protocol import BackendError, Completion, OnComplete, Request

ENGINE_OPTIONS = (
    "tensor_parallel_size",
    "pipeline_parallel_size",
    "dtype",
    "max_model_len",
    "gpu_memory_utilization",
    "enforce_eager",
    "quantization",
    "trust_remote_code",
    "seed",
)


def sampling_params(request: Request) -> Any:
    s = request.sampling
    return vllm_engine.sampling_params(s.temperature, s.top_p, s.max_tokens, request.seed)


def completion_of(request: Request, output: Any, latency_s: float) -> Completion:
    """A :class:`Completion` from a finished ``RequestOutput``."""
    if not output.outputs:
        return Completion.failed(request, "vLLM returned no output", latency_s=latency_s)
    out = output.outputs[0]
    finish = out.finish_reason
    if finish == "abort":
        return Completion.failed(request, "the engine aborted the request",
                                 latency_s=latency_s)
    prompt_ids = getattr(output, "prompt_token_ids", None)
    return Completion(
        key=request.key,
        sample=request.sample,
        phase=request.phase,
        text=out.text,
        finish_reason=finish,
        prompt_tokens=len(prompt_ids) if prompt_ids is not None else None,
        completion_tokens=len(out.token_ids),
        latency_s=latency_s,
        seed=request.seed,
    )


def run_engine(
    llm: Any,
    requests: Sequence[Request],
    emit: OnComplete,
    chat_template_kwargs: dict[str, Any] | None = None,
) -> None:
    """Queue every request on ``llm``, then run the engine, emitting each finished one.

    This is ``LLM.generate``'s own pattern (queue all, then step until done), so the scheduler
    sees exactly what it would see there; the only difference is that finished requests are
    emitted as they come. Prompts are rendered once per distinct chat (the samples of an item
    share theirs) and tokenised in one batch.
    """
    engine = vllm_engine.StreamingEngine(llm)
    rendered = render_requests(llm.get_tokenizer(), requests, chat_template_kwargs)
    by_id: dict[str, Request] = {}
    started: dict[str, float] = {}
    for request in requests:
        ids = rendered[request.messages]
        try:
            if isinstance(ids, Exception):
                raise ids
            request_id = engine.add(ids, sampling_params(request))
        except Exception as exc:  # a failing template, a prompt longer than max_model_len
            emit(Completion.failed(request, f"{type(exc).__name__}: {exc}"))
            continue
        by_id[request_id] = request
        started[request_id] = time.perf_counter()
    for output in engine.finished():
        request_id = str(output.request_id)
        if request_id not in by_id:
            continue
        request = by_id.pop(request_id)
        emit(completion_of(request, output, time.perf_counter() - started.pop(request_id)))
    for request in by_id.values():  # should not happen; never lose a request silently
        emit(Completion.failed(request, "the engine finished without this request"))


def shutdown(llm: Any) -> None:
    """Stop ``llm``'s engine processes now (see :func:`vllm_engine.shutdown`)."""
    vllm_engine.shutdown(llm)


def make_llm(model: str, options: dict[str, Any]) -> Any:
    try:
        from vllm import LLM
        from vllm.platforms import current_platform
    except ImportError as exc:
        raise BackendError("the vllm backend needs vLLM: pip install 'mathif[vllm]'") from exc
    vllm_engine.check_installed()  # before a model is loaded: a clear error, not a late crash
    options = dict(options)
    if current_platform.is_cpu():
        # vLLM's CPU build crashes ("CPU Generator does not use offset") when a seeded
        # request's prefill is split over steps; whole prefills avoid it.
        options.setdefault("enable_chunked_prefill", False)
    return LLM(model=model, **options)


class VLLMBackend:
    """vLLM offline inference, one engine (or ``data_parallel_size`` engines)."""

    name = "vllm"

    def __init__(
        self,
        model: str,
        *,
        data_parallel_size: int = 1,
        chat_template_kwargs: dict[str, Any] | None = None,
        engine_args: dict[str, Any] | None = None,
        **options: Any,
    ) -> None:
        unknown = set(options) - set(ENGINE_OPTIONS)
        if unknown:
            raise ValueError(f"unknown vllm option(s): {sorted(unknown)}")
        if data_parallel_size < 1:
            raise ValueError("data_parallel_size must be >= 1")
        self.model_name = model
        self.data_parallel_size = data_parallel_size
        self.chat_template_kwargs = dict(chat_template_kwargs or {})
        self.options = {k: v for k, v in options.items() if v is not None}
        self.options.update(engine_args or {})
        self.llm: Any = None
        self._template_sha: str | None = None
        self._prompts: dict[Any, list[int] | Exception] = {}  # probes: each chat rendered once
        if data_parallel_size == 1:
            self.llm = make_llm(model, self.options)
            self._template_sha = template_sha256(self.llm.get_tokenizer())
        else:
            try:
                from transformers import AutoTokenizer
            except ImportError as exc:
                raise BackendError("the vllm backend needs transformers") from exc
            tokenizer = AutoTokenizer.from_pretrained(
                model, trust_remote_code=bool(self.options.get("trust_remote_code")))
            self._template_sha = template_sha256(tokenizer)

    def describe(self) -> dict[str, Any]:
        import vllm

        return {
            "engine": "vllm",
            "vllm": vllm.__version__,
            "options": {k: v for k, v in self.options.items()},
            "data_parallel_size": self.data_parallel_size,
            "chat_template_sha256": self._template_sha,
        }

    def generate(self, requests: Sequence[Request], on_complete: OnComplete) -> None:
        if any(r.prefix or r.stop for r in requests):  # a probe's phase: see below
            self._require_one_engine()
            generate_continuations(self.llm, requests, on_complete, self.chat_template_kwargs,
                                   self._prompts)
            return
        if self.llm is not None:
            run_engine(self.llm, requests, on_complete, self.chat_template_kwargs)
            return
        run_data_parallel(self.model_name, self.options, self.data_parallel_size, requests,
                          on_complete, self.chat_template_kwargs)

    def close(self) -> None:
        llm, self.llm = self.llm, None
        if llm is not None:
            shutdown(llm)

    # The continuation primitive (ContinuingBackend): probes only.

    @classmethod
    def from_engine(cls, llm: Any, model: str,
                    chat_template_kwargs: dict[str, Any] | None = None) -> VLLMBackend:
        """A backend over an ``LLM`` built elsewhere (benchmarks, notebooks): it is not shut
        down by :meth:`close`'s caller unless they close it."""
        backend = cls.__new__(cls)
        backend.model_name = model
        backend.data_parallel_size = 1
        backend.chat_template_kwargs = dict(chat_template_kwargs or {})
        backend.options = {}
        backend.llm = llm
        backend._template_sha = template_sha256(llm.get_tokenizer())
        backend._prompts = {}
        return backend

    def _require_one_engine(self) -> None:
        if self.llm is None:
            raise BackendError(
                "the probes run on one vLLM engine (--data-parallel-size 1): each phase "
                "continues from the last, which separate engine processes would restart for; "
                "use --tensor-parallel-size, or serve replicas and use the openai backend")

    def check_continuation(self, marker: str, request: Request) -> None:
        self._require_one_engine()
        check_marker(self.llm.get_tokenizer(), marker, self.model_name)

    def decode(self, ids: Sequence[int]) -> str | None:
        self._require_one_engine()
        return str(self.llm.get_tokenizer().decode(list(ids), skip_special_tokens=True))


def _gpu_groups(ranks: int, per_rank: int) -> list[str | None]:
    """``CUDA_VISIBLE_DEVICES`` for each rank; ``None`` when there are no GPUs to split."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        devices = [d for d in visible.split(",") if d.strip()]
    else:
        try:
            import torch

            devices = [str(i) for i in range(torch.cuda.device_count())]
        except ImportError:
            devices = []
    if not devices:
        return [None] * ranks
    if len(devices) < ranks * per_rank:
        raise BackendError(
            f"data_parallel_size {ranks} x {per_rank} GPU(s) per engine needs "
            f"{ranks * per_rank} GPUs; {len(devices)} visible"
        )
    return [",".join(devices[r * per_rank:(r + 1) * per_rank]) for r in range(ranks)]


def _rank_main(rank: int, devices: str | None, model: str, options: dict[str, Any],
               requests: list[Request], chat_template_kwargs: dict[str, Any],
               out: Any, parent: int) -> None:
    """One data-parallel engine: generate its share and stream completions to ``out``."""

    def watch_parent() -> None:  # an orphaned engine would hold its GPUs for nothing
        while True:
            if os.getppid() != parent:
                os._exit(1)
            time.sleep(1.0)

    threading.Thread(target=watch_parent, daemon=True).start()
    if devices is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = devices
    llm = None
    try:
        llm = make_llm(model, options)
        run_engine(llm, requests, lambda c: out.put(("completion", rank, c)),
                   chat_template_kwargs)
    except BaseException:
        out.put(("error", rank, traceback.format_exc()))
    else:
        out.put(("done", rank, None))
    finally:
        if llm is not None:
            shutdown(llm)


def run_data_parallel(
    model: str,
    options: dict[str, Any],
    ranks: int,
    requests: Sequence[Request],
    on_complete: OnComplete,
    chat_template_kwargs: dict[str, Any],
) -> None:
    """Run ``ranks`` engine processes over interleaved shares of ``requests``."""
    import multiprocessing

    vllm_engine.check_installed()  # here, rather than as a traceback from every engine

    per_rank = int(options.get("tensor_parallel_size", 1)) * int(
        options.get("pipeline_parallel_size", 1))
    groups = _gpu_groups(ranks, per_rank)
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = []
    for rank in range(ranks):
        share = list(requests[rank::ranks])
        proc = ctx.Process(
            target=_rank_main,
            args=(rank, groups[rank], model, options, share, chat_template_kwargs, out,
                  os.getpid()),
            name=f"mathif-vllm-dp{rank}",
        )
        proc.start()
        procs.append(proc)
    running = set(range(ranks))
    failure: str | None = None
    try:
        while running:
            try:
                kind, rank, payload = out.get(timeout=5.0)
            except queue.Empty:
                dead = [r for r in running if not procs[r].is_alive()]
                if dead:
                    failure = f"data-parallel engine {dead[0]} exited unexpectedly"
                    break
                continue
            if kind == "completion":
                on_complete(payload)
            elif kind == "done":
                running.discard(rank)
            else:
                failure = f"data-parallel engine {rank} failed:\n{payload}"
                break
    finally:
        for proc in procs:
            if failure is not None and proc.is_alive():
                proc.terminate()
            proc.join(timeout=60)
            if proc.is_alive():
                with contextlib.suppress(Exception):
                    proc.kill()
    if failure is not None:
        raise BackendError(failure)


# --- continuation (probes) ------------------------------------------------------------------
# Kept apart from the plain path above: a phase of a probe is one public ``LLM.generate`` call
# over token ids (the rendered chat, then the assistant text already written), so prefix
# caching reuses the earlier phases' computation.


def continuation_params(request: Request) -> Any:
    """Sampling parameters of a continued request: the stop strings end it and stay in the
    text (the probe sees where the reasoning ended)."""
    from vllm import SamplingParams

    s = request.sampling
    return SamplingParams(n=1, temperature=s.temperature, top_p=s.top_p,
                          max_tokens=s.max_tokens, seed=request.seed,
                          skip_special_tokens=True, stop=list(request.stop) or None,
                          include_stop_str_in_output=True)


def continued_completion(tokenizer: Any, request: Request, output: Any,
                         latency_s: float) -> Completion:
    """The completion of one continued request, with its token ids when they spell its text
    exactly, and the stop string that ended it.

    Without a stop string the ids are what the model generated, and the text is their
    decoding: vLLM's incremental detokenizer can differ from it at the cut (a character whose
    bytes are split over tokens), and the next phase must continue from the very tokens.
    """
    base = completion_of(request, output, latency_s)
    if not base.ok:
        return base
    out = output.outputs[0]
    text = base.text
    stop = out.stop_reason if isinstance(out.stop_reason, str) else None
    if stop is not None and not text.endswith(stop):
        stop = None  # cannot happen with include_stop_str_in_output; never guess
    ids = exact_ids(tokenizer, out.token_ids, text)
    if ids is None and stop is None:
        ids = tuple(int(i) for i in out.token_ids)
        text = str(tokenizer.decode(list(ids), skip_special_tokens=True))
    stop_tokens = stop_token_count(tokenizer, ids, stop) if ids and stop else None
    return Completion(
        key=base.key, sample=base.sample, phase=base.phase, text=text,
        finish_reason=base.finish_reason, prompt_tokens=base.prompt_tokens,
        completion_tokens=base.completion_tokens, latency_s=latency_s, seed=base.seed,
        token_ids=ids, stop_reason=stop, stop_tokens=stop_tokens,
    )


def generate_continuations(
    llm: Any,
    requests: Sequence[Request],
    emit: OnComplete,
    chat_template_kwargs: dict[str, Any] | None = None,
    cache: dict[Any, list[int] | Exception] | None = None,
) -> None:
    """Every request of one phase in one ``LLM.generate`` call over token ids.

    ``cache`` keeps each chat's rendered ids between the phases of a run.
    """
    tokenizer = llm.get_tokenizer()
    cache = {} if cache is None else cache
    missing = [r for r in requests if r.messages not in cache]
    if missing:
        cache.update(render_requests(tokenizer, missing, chat_template_kwargs))
    rendered = cache
    limit = vllm_engine.max_model_len(llm)
    prompts: list[dict[str, Any]] = []
    params: list[Any] = []
    live: list[Request] = []
    for request in requests:
        ids = rendered[request.messages]
        if isinstance(ids, Exception):
            emit(Completion.failed(request, f"{type(ids).__name__}: {ids}"))
            continue
        full = continued_ids(tokenizer, ids, request)
        if limit is not None and len(full) >= limit:
            # One over-long prompt would fail the whole call: fail it alone.
            emit(Completion.failed(request, f"the prompt and the text so far take {len(full)} "
                                   f"tokens, more than the engine's --max-model-len {limit}"))
            continue
        prompts.append({"prompt_token_ids": full})
        params.append(continuation_params(request))
        live.append(request)
    if not live:
        return
    started = time.perf_counter()
    outputs = llm.generate(prompts, params, use_tqdm=False)
    latency = time.perf_counter() - started
    for request, output in zip(live, outputs, strict=True):
        emit(continued_completion(tokenizer, request, output, latency))
