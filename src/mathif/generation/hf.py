"""The ``hf`` backend: transformers ``generate`` in length-sorted, left-padded batches.

For machines without vLLM (and for CPU-only ones). Sampling is done by a logits processor that
draws each row with its own ``torch.Generator`` seeded from the request, and ``generate`` then
runs greedily over the one token left: every (item, sample) gets its own reproducible random
stream, whatever else shares its batch. (Batched float arithmetic can still differ in the last
bits from an unbatched run; ``--batch-size 1`` makes a run exactly repeatable.)
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from mathif.generation.chat import render_requests, template_sha256
from mathif.generation.continuation import (
    check_marker,
    continued_ids,
    cut_tokens,
    exact_ids,
    stop_token_count,
)
from mathif.generation.protocol import (
    BackendError,
    Completion,
    OnComplete,
    Request,
    Sampling,
)


def pick_device(device: str | None) -> str:
    import torch

    if device:
        return device
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def pick_dtype(dtype: str, device: str) -> Any:
    import torch

    if dtype == "auto":
        if device.startswith("cuda"):
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    value = getattr(torch, dtype, None)
    if not isinstance(value, torch.dtype):
        raise ValueError(f"unknown dtype {dtype!r} (use auto, bfloat16, float16 or float32)")
    return value


class SeededSampler:
    """A logits processor that samples each row from its own generator.

    It applies temperature and nucleus (top-p) filtering as vLLM does (keep the smallest set
    of most likely tokens whose mass reaches ``top_p``), draws one token per row, and returns
    scores where only that token is allowed, so greedy decoding picks it.
    """

    def __init__(self, generators: Sequence[Any], sampling: Sampling) -> None:
        self.generators = list(generators)
        self.temperature = sampling.temperature
        self.top_p = sampling.top_p

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        logits = scores.float()
        if self.temperature == 0:
            chosen = logits.argmax(dim=-1)
        else:
            probs = torch.softmax(logits / self.temperature, dim=-1)
            if self.top_p < 1.0:
                sorted_probs, order = probs.sort(dim=-1, descending=True)
                before = sorted_probs.cumsum(dim=-1) - sorted_probs
                sorted_probs = sorted_probs.masked_fill(before >= self.top_p, 0.0)
                probs = torch.zeros_like(probs).scatter(-1, order, sorted_probs)
            chosen = torch.stack([
                torch.multinomial(probs[row], 1, generator=gen)[0]
                for row, gen in enumerate(self.generators)
            ])
        out = torch.full_like(scores, float("-inf"))
        out.scatter_(-1, chosen.unsqueeze(-1), 0.0)
        return out


class StopOnStrings:
    """A stopping criterion: a row is done once the tail of its new text holds a stop string.

    Only the last few tokens of each row are decoded at each step (a stop string is short),
    so the cost does not grow with the length of the generation.
    """

    def __init__(self, tokenizer: Any, start: int, stops: Sequence[str]) -> None:
        self.tokenizer = tokenizer
        self.start = start
        self.stops = [s for s in stops if s]
        self.window = max((len(s) for s in self.stops), default=0) + 4

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        done = []
        begin = max(self.start, input_ids.shape[1] - self.window)
        for row in input_ids[:, begin:].tolist():
            tail = str(self.tokenizer.decode(row, skip_special_tokens=True))
            done.append(any(s in tail for s in self.stops))
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)


class HFBackend:
    """Generation with a transformers causal LM on GPU (when present) or CPU."""

    name = "hf"

    def __init__(
        self,
        model: str,
        *,
        dtype: str = "auto",
        device: str | None = None,
        batch_size: int = 8,
        chat_template_kwargs: dict[str, Any] | None = None,
        trust_remote_code: bool = False,
    ) -> None:
        try:
            import torch
            import transformers
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:
            raise BackendError(
                "the hf backend needs transformers and torch: pip install 'mathif[hf]'"
            ) from exc
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self.model_name = model
        self.batch_size = batch_size
        self.chat_template_kwargs = dict(chat_template_kwargs or {})
        self.device = pick_device(device)
        self.torch_dtype = pick_dtype(dtype, self.device)
        self.tokenizer = AutoTokenizer.from_pretrained(model, trust_remote_code=trust_remote_code)
        major, minor = (int(p) for p in transformers.__version__.split(".")[:2])
        dtype_arg = "dtype" if (major, minor) >= (4, 56) else "torch_dtype"
        loaded: Any = AutoModelForCausalLM.from_pretrained(
            model, trust_remote_code=trust_remote_code, **{dtype_arg: self.torch_dtype})
        self.model: Any = loaded.to(self.device)
        self.model.eval()
        self._torch = torch
        self.eos_ids = self._eos_ids()
        pad = self.tokenizer.pad_token_id
        self.pad_id = pad if pad is not None else self.eos_ids[0]

    def _eos_ids(self) -> list[int]:
        ids: list[int] = []
        for value in (self.model.generation_config.eos_token_id, self.tokenizer.eos_token_id):
            if isinstance(value, int):
                ids.append(value)
            elif isinstance(value, (list, tuple)):
                ids.extend(int(v) for v in value)
        if not ids:
            raise BackendError("the model defines no end-of-sequence token")
        return list(dict.fromkeys(ids))

    def describe(self) -> dict[str, Any]:
        import transformers

        return {
            "engine": "transformers",
            "transformers": transformers.__version__,
            "torch": self._torch.__version__,
            "device": self.device,
            "dtype": str(self.torch_dtype).removeprefix("torch."),
            "batch_size": self.batch_size,
            "chat_template_sha256": template_sha256(self.tokenizer),
        }

    def generate(self, requests: Sequence[Request], on_complete: OnComplete) -> None:
        rendered = render_requests(self.tokenizer, requests, self.chat_template_kwargs)
        encoded = []
        for request in requests:
            ids = rendered[request.messages]  # the samples of one item share their prompt
            if isinstance(ids, Exception):
                on_complete(Completion.failed(request, f"chat template: {ids}"))
            else:
                encoded.append((request, continued_ids(self.tokenizer, ids, request)))
        # Longest first: similar lengths share a batch (little padding) and an out-of-memory
        # error shows at once rather than hours in.
        encoded.sort(key=lambda pair: -len(pair[1]))
        groups: dict[tuple[Any, ...], list[tuple[Request, list[int]]]] = {}
        for request, ids in encoded:
            s = request.sampling
            # A probe's phases have each their own token limit (what is left of the whole
            # transcript's): they share a batch, and each row is cut to its own limit.
            limit = None if request.prefix or request.stop else s.max_tokens
            key = (s.temperature, s.top_p, limit, request.stop)
            groups.setdefault(key, []).append((request, ids))
        for pairs in groups.values():
            sampling = pairs[0][0].sampling
            for start in range(0, len(pairs), self.batch_size):
                self._batch(pairs[start:start + self.batch_size], sampling, on_complete,
                            pairs[0][0].stop)

    # The continuation primitive (ContinuingBackend): probes only.

    def check_continuation(self, marker: str, request: Request) -> None:
        check_marker(self.tokenizer, marker, self.model_name)

    def decode(self, ids: Sequence[int]) -> str | None:
        return str(self.tokenizer.decode(list(ids), skip_special_tokens=True))

    def _batch(self, pairs: list[tuple[Request, list[int]]], sampling: Sampling,
               on_complete: OnComplete, stop: tuple[str, ...] = ()) -> None:
        import random

        from transformers import GenerationConfig, LogitsProcessorList

        torch = self._torch
        width = max(len(ids) for _, ids in pairs)
        input_ids = torch.full((len(pairs), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(pairs), width), dtype=torch.long)
        for row, (_, ids) in enumerate(pairs):
            input_ids[row, width - len(ids):] = torch.tensor(ids, dtype=torch.long)
            mask[row, width - len(ids):] = 1
        generators = []
        for request, _ in pairs:
            gen = torch.Generator(device=self.device)
            seed = request.seed if request.seed is not None else random.getrandbits(63)
            gen.manual_seed(seed)
            generators.append(gen)
        config = GenerationConfig(
            max_new_tokens=max(request.sampling.max_tokens for request, _ in pairs),
            do_sample=False,
            eos_token_id=self.eos_ids,
            pad_token_id=self.pad_id,
        )
        extra: dict[str, Any] = {}
        if stop:
            from transformers import StoppingCriteriaList

            extra["stopping_criteria"] = StoppingCriteriaList(
                [StopOnStrings(self.tokenizer, width, stop)])
        started = time.perf_counter()
        try:
            with torch.inference_mode():
                output = self.model.generate(
                    input_ids=input_ids.to(self.device),
                    attention_mask=mask.to(self.device),
                    generation_config=config,
                    logits_processor=LogitsProcessorList([SeededSampler(generators, sampling)]),
                    **extra,
                )
        except torch.cuda.OutOfMemoryError as exc:
            raise BackendError(f"out of GPU memory in a batch of {len(pairs)}: lower "
                               f"--batch-size ({exc})") from exc
        except Exception as exc:
            elapsed = time.perf_counter() - started
            for request, _ in pairs:
                on_complete(Completion.failed(request, f"{type(exc).__name__}: {exc}",
                                              latency_s=elapsed))
            return
        elapsed = time.perf_counter() - started
        new = output[:, width:].tolist()
        eos = set(self.eos_ids)
        for (request, ids), row in zip(pairs, new, strict=True):
            tokens = row[: request.sampling.max_tokens]
            end = next((i for i, t in enumerate(tokens) if t in eos), None)
            kept = tokens if end is None else tokens[: end + 1]
            finish = "stop" if end is not None else "length"
            if request.stop or request.prefix:
                on_complete(self._continued(request, ids, kept, finish, elapsed))
                continue
            text = str(self.tokenizer.decode(kept, skip_special_tokens=True))
            on_complete(Completion(
                key=request.key,
                sample=request.sample,
                phase=request.phase,
                text=text,
                finish_reason=finish,
                prompt_tokens=len(ids),
                completion_tokens=len(kept),
                latency_s=elapsed,
                seed=request.seed,
            ))

    def _continued(self, request: Request, ids: list[int], kept: list[int], finish: str,
                   elapsed: float) -> Completion:
        """A continued request's completion: cut after its first stop string (a batch runs
        on until every row stops), with its ids when they spell its text exactly."""
        if request.stop:
            kept, text, stop = cut_tokens(self.tokenizer, kept, request.stop)
        else:
            text, stop = str(self.tokenizer.decode(kept, skip_special_tokens=True)), None
        if stop is not None:
            finish = "stop"
        exact = exact_ids(self.tokenizer, kept, text)
        return Completion(
            key=request.key, sample=request.sample, phase=request.phase, text=text,
            finish_reason=finish, prompt_tokens=len(ids), completion_tokens=len(kept),
            latency_s=elapsed, seed=request.seed, token_ids=exact, stop_reason=stop,
            stop_tokens=stop_token_count(self.tokenizer, exact, stop) if exact and stop
            else None,
        )

    def close(self) -> None:
        self.model = None
        if self._torch.cuda.is_available():
            self._torch.cuda.empty_cache()
