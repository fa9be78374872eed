"""Overhead of a probe run with the vllm backend against bare ``LLM.generate`` phases.

A ``--force-continue K`` run of the probes' driver (requests planned per phase, the
transcripts' token ids built, the chat rendered, every phase appended to ``phases.jsonl`` and
every transcript to ``completions.jsonl``, fsync'd) is compared with the same phases done as
bare ``LLM.generate`` calls on the very same token ids and sampling parameters (recorded from
the probe run, so both sides generate identical tokens). The target: the probe run spends no
more than 5% over the bare calls (ratio <= 1.05).

Rounds alternate between the two sides and reset vLLM's prefix cache before each, so that
neither side inherits the other's cache; the median of each side is reported, in wall time
and in process CPU time (the engine runs in this process: ``VLLM_ENABLE_V1_MULTIPROCESSING=0``),
which a machine shared with other work disturbs much less. A third number needs no second
side: the time the probe run spends outside its ``LLM.generate`` calls (planning, rendering,
token ids, stores), over the time inside them. The model is the tiny random model with think
tags (built on the spot, no download), on vLLM's CPU build.

    python benchmarks/bench_probes.py [--items 48] [--k 2] [--max-tokens 192] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("VLLM_NO_USAGE_STATS", "1")

from mathif.config import RunConfig  # noqa: E402
from mathif.data import Dataset, load  # noqa: E402
from mathif.evaluation import run_requests  # noqa: E402
from mathif.generation.protocol import Sampling  # noqa: E402
from mathif.generation.store import RunStore  # noqa: E402
from mathif.probes.driver import generate_lanes  # noqa: E402
from mathif.probes.settings import ProbeSettings  # noqa: E402


def items(n: int) -> Dataset:
    return load(REPO.parent / "shared" / "mathif", limit=n)


class Recorder:
    """Wraps ``llm.generate``: keeps each call's prompts and parameters, and the time spent
    inside the calls."""

    def __init__(self, llm: Any) -> None:
        self.llm = llm
        self.original = llm.generate
        self.calls: list[tuple[list[Any], list[Any]]] = []
        self.inside = 0.0

    def __call__(self, prompts: Any, params: Any, **kwargs: Any) -> Any:
        self.calls.append((list(prompts), list(params)))
        started = time.perf_counter()
        try:
            return self.original(prompts, params, **kwargs)
        finally:
            self.inside += time.perf_counter() - started


def probe_round(llm: Any, model: str, dataset: Dataset, config: RunConfig) -> int:
    from mathif.generation.vllm import VLLMBackend

    backend = VLLMBackend.from_engine(llm, model)
    requests = run_requests(config, dataset)
    with tempfile.TemporaryDirectory() as tmp:
        settings = config.settings(data_checksum=dataset.checksum, engine={})
        with RunStore.open(tmp, settings=settings) as store:
            generate_lanes([(config, store)], requests, dataset, backend)
            return sum(c.completion_tokens or 0 for c in
                       (store.get(*r.id) for r in requests) if c is not None)


def bare_round(generate: Any, calls: list[tuple[list[Any], list[Any]]]) -> int:
    """The recorded phases as bare ``LLM.generate`` calls (``generate``: the unwrapped one)."""
    tokens = 0
    for prompts, params in calls:
        for output in generate(prompts, params, use_tqdm=False):
            tokens += len(output.outputs[0].token_ids)
    return tokens


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=48)
    parser.add_argument("--samples", type=int, default=1)
    parser.add_argument("--k", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=192)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", help="also write the numbers to this file")
    args = parser.parse_args()

    from vllm import LLM

    from mathif.generation.tiny import build_tiny_model

    with tempfile.TemporaryDirectory() as tmp:
        model = str(build_tiny_model(Path(tmp) / "tiny", think_bias=1.7))
        llm = LLM(model=model, dtype="float32", enforce_eager=True, max_model_len=2048,
                  gpu_memory_utilization=0.15, seed=0, enable_chunked_prefill=False,
                  enable_prefix_caching=True)
        dataset = items(args.items)
        config = RunConfig(model=model, backend="vllm", samples=args.samples,
                           sampling=Sampling(max_tokens=args.max_tokens),
                           probe=ProbeSettings(force_continue=args.k))
        recorder = Recorder(llm)
        llm.generate = recorder  # type: ignore[method-assign]
        probe_round(llm, model, dataset, config)  # warm-up, and the phases to replay
        calls = list(recorder.calls)
        sides = ("probe run", "bare LLM.generate")
        wall: dict[str, list[float]] = {s: [] for s in sides}
        cpu: dict[str, list[float]] = {s: [] for s in sides}
        outside: list[float] = []
        tokens: dict[str, int] = {}
        for index in range(args.rounds):
            for side in (sides if index % 2 == 0 else sides[::-1]):
                llm.reset_prefix_cache()
                recorder.inside = 0.0
                started, started_cpu = time.perf_counter(), time.process_time()
                tokens[side] = (probe_round(llm, model, dataset, config)
                                if side == "probe run" else bare_round(recorder.original, calls))
                wall[side].append(time.perf_counter() - started)
                cpu[side].append(time.process_time() - started_cpu)
                if side == "probe run":
                    outside.append((wall[side][-1] - recorder.inside) / recorder.inside)
        llm.generate = recorder.original  # type: ignore[method-assign]
        if len(set(tokens.values())) != 1:
            raise RuntimeError(f"the sides generated different amounts of text: {tokens}")
        ratios = {name: statistics.median(t["probe run"]) / statistics.median(
            t["bare LLM.generate"]) for name, t in (("wall", wall), ("cpu", cpu))}
        print(f"force-continue {args.k}, {args.items} items x {args.samples} samples, "
              f"{len(calls)} phases per run, "
              f"{tokens['probe run']} generated tokens per round")
        for side in sides:
            print(f"  {side:18s} wall median {statistics.median(wall[side]):.3f}s "
                  f"{[round(v, 2) for v in wall[side]]}  cpu median "
                  f"{statistics.median(cpu[side]):.3f}s")
        per_round = [round(a / b, 3) for a, b in zip(wall["probe run"],
                                                      wall["bare LLM.generate"], strict=True)]
        print(f"  probe run / bare phases: wall {ratios['wall']:.3f}, cpu {ratios['cpu']:.3f} "
              f"(target <= 1.05); per round (wall) {per_round}, median "
              f"{statistics.median(per_round):.3f}")
        print(f"  probe run outside LLM.generate / inside: median "
              f"{statistics.median(outside):.4f} (rounds {[round(v, 4) for v in outside]})")
        if args.json:
            Path(args.json).write_text(json.dumps(
                {"ratios": ratios, "outside_over_inside": outside, "wall": wall, "cpu": cpu,
                 "tokens": tokens}, indent=2) + "\n")
        from mathif.generation.vllm import shutdown

        shutdown(llm)
    return 0


if __name__ == "__main__":
    sys.exit(main())
