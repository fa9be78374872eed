"""Overhead of mathif's generation backends against bare clients doing the same work.

1. openai backend vs a bare asyncio ``httpx`` client: same server, same request bodies, same
   concurrency. Two servers: ``transformers serve`` with a tiny random model (real
   generation, the issue's setting) and an instant stub server in another process (nothing
   but HTTP, so any client overhead shows at full size). The backend is measured the way
   ``mathif eval`` uses it, every completion appended to a run store with ``fsync``.
2. vllm backend vs a bare ``LLM.generate`` over the same token ids and seeded sampling
   parameters (identical outputs, so identical work): the backend renders the chat template,
   steps the engine itself and stores each completion as it finishes.

Rounds alternate between the two sides; the median of each side is reported. Everything runs
on 127.0.0.1 with a model built on the spot; no download.

    python benchmarks/bench_generation.py [--requests 200] [--concurrency 16] [--skip-vllm]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from mathif.generation import Completion, Message, Request, RunStore, Sampling  # noqa: E402
from mathif.generation.openai import OpenAIBackend  # noqa: E402

OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_UPDATE_CHECK": "1",
           "VLLM_NO_USAGE_STATS": "1", "VLLM_HOST_IP": "127.0.0.1", "DO_NOT_TRACK": "1"}

STUB_SERVER = r'''
import asyncio, json, sys
BODY = json.dumps({"id": "x", "object": "chat.completion", "choices": [{"index": 0,
    "finish_reason": "length", "message": {"role": "assistant", "content":
    "<think>" + "reasoning " * 40 + "</think>The answer is \\boxed{42}."}}],
    "usage": {"prompt_tokens": 300, "completion_tokens": 64}}).encode()
HEAD = (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
        + str(len(BODY)).encode() + b"\r\nconnection: keep-alive\r\n\r\n")
async def handle(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            writer.write(HEAD + BODY)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[1]), backlog=1024)
    async with server:
        await server.serve_forever()
asyncio.run(main())
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError as exc:
            if getattr(exc, "code", None):  # an HTTP error status: the server is up
                return
            time.sleep(0.3)
    raise RuntimeError(f"{url} not ready after {timeout}s")


@contextlib.contextmanager
def server(cmd: list[str], ready_url: str, env: dict[str, str]):  # type: ignore[no-untyped-def]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        wait_ready(ready_url, proc)
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=15)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def prompts(n: int) -> list[str]:
    """MathIF user messages when the data is at hand (../shared), else similar text."""
    try:
        import mathif

        items = mathif.load(REPO.parent / "shared" / "mathif")
        texts = [mathif.build_prompt(item) for item in items]
    except Exception:
        texts = [f"Question {i}: what is {i} + {i}? Let's think step by step and output the "
                 "final answer within \\boxed{}. Answer in fewer than 200 words." for i in
                 range(50)]
    return [texts[i % len(texts)] for i in range(n)]


def requests_for(texts: list[str], max_tokens: int) -> list[Request]:
    return [Request(key=f"bench:{i}", sample=0, seed=i, messages=(Message("user", t),),
                    sampling=Sampling(max_tokens=max_tokens)) for i, t in enumerate(texts)]


def bare_openai(url: str, bodies: list[dict], concurrency: int) -> int:
    """The reference: a plain asyncio httpx client, a semaphore, gather."""
    import httpx

    async def main() -> int:
        limits = httpx.Limits(max_connections=concurrency,
                              max_keepalive_connections=concurrency)
        sem = asyncio.Semaphore(concurrency)
        async with httpx.AsyncClient(limits=limits, timeout=600) as client:

            async def one(body: dict) -> int:
                async with sem:
                    response = await client.post(url + "/chat/completions", json=body)
                    response.raise_for_status()
                    data = response.json()
                    return int(data["usage"]["completion_tokens"])

            return sum(await asyncio.gather(*(one(b) for b in bodies)))

    return asyncio.run(main())


def ours_openai(backend: OpenAIBackend, requests: list[Request]) -> int:
    with tempfile.TemporaryDirectory() as tmp, RunStore.open(tmp, settings={}) as store:
        got: list[Completion] = []

        def sink(completion: Completion) -> None:
            store.append(completion)
            got.append(completion)

        backend.generate(requests, sink)
    failed = [c.error for c in got if not c.ok]
    if failed:
        raise RuntimeError(f"{len(failed)} failed requests, e.g. {failed[0]}")
    return sum(c.completion_tokens or 0 for c in got)


def measure(rounds: int, sides: dict[str, Callable[[], int]], ours: str, n: int, *,
            same_work: bool = False) -> dict:
    """Run every side once per round, rotating the order, ``rounds`` times.

    ``cpu_ratio`` compares this process's CPU time instead: for a client that is CPU-bound
    (the stub server), it is the overhead itself, much less disturbed by other load on the
    machine than wall time. (vLLM's engine runs in another process: not counted there.)

    ``same_work``: check that every side generated the same number of tokens (seeded,
    deterministic engines; ``transformers serve`` shares one RNG between concurrent
    requests, so its lengths vary from run to run).

    For each other side, ``ratio`` is the throughput of ``ours`` over that side's, from the
    median times; the per-round ratios (runs seconds apart, under the same load) show how
    much the shared machine's load moved meanwhile.
    """
    names = list(sides)
    times: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    tokens: dict[str, int] = {}
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            started, started_cpu = time.perf_counter(), time.process_time()
            tokens[name] = sides[name]()
            times[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - started_cpu)
    if same_work and len(set(tokens.values())) != 1:
        raise RuntimeError(f"the sides generated different amounts of text: {tokens}")
    result: dict = {
        name: {"median_s": statistics.median(t), "requests_per_s": n / statistics.median(t),
               "tokens": tokens[name], "rounds_s": [round(x, 3) for x in t]}
        for name, t in times.items()
    }
    result["ratios"] = {
        name: {
            "ratio": statistics.median(times[name]) / statistics.median(times[ours]),
            "cpu_ratio": statistics.median(cpu[name]) / statistics.median(cpu[ours]),
            "round_ratios": [round(b / o, 3) for b, o in zip(times[name], times[ours],
                                                             strict=True)],
        }
        for name in names if name != ours
    }
    return result


def bench_openai(url: str, model: str, n: int, concurrency: int, max_tokens: int,
                 rounds: int) -> dict:
    requests = requests_for(prompts(n), max_tokens)
    backend = OpenAIBackend(model, base_url=url, concurrency=concurrency)
    bodies = [backend.body(r) for r in requests]
    bare_openai(url, bodies[: concurrency * 2], concurrency)  # warm-up
    return measure(rounds, {
        "bare httpx": lambda: bare_openai(url, bodies, concurrency),
        "mathif openai": lambda: ours_openai(backend, requests),
    }, "mathif openai", n)


def bench_vllm(model: str, n: int, max_tokens: int, rounds: int) -> dict:
    from vllm import LLM, SamplingParams

    import mathif.generation.vllm as mv
    from mathif.generation.chat import render_ids
    from mathif.generation.vllm import sampling_params

    # Whole prefills: vLLM's CPU build cannot rewind a seeded generator (see vllm.py).
    llm = LLM(model=model, dtype="float32", enforce_eager=True, max_model_len=2048,
              gpu_memory_utilization=0.15, seed=0, enable_chunked_prefill=False)
    requests = requests_for(prompts(n), max_tokens)
    tokenizer = llm.get_tokenizer()
    token_prompts = [{"prompt_token_ids": render_ids(tokenizer, r.chat())} for r in requests]
    params: list[SamplingParams] = [sampling_params(r) for r in requests]

    def generate(prompts_: list[dict]) -> int:
        outputs = llm.generate(prompts_, params, use_tqdm=False)
        return sum(len(o.outputs[0].token_ids) for o in outputs)

    def bare_rendering() -> int:
        """What a hand-written script does: render the chats, then one LLM.generate."""
        return generate([{"prompt_token_ids": render_ids(tokenizer, r.chat())}
                         for r in requests])

    def ours() -> int:
        with tempfile.TemporaryDirectory() as tmp, RunStore.open(tmp, settings={}) as store:
            got: list[Completion] = []

            def sink(completion: Completion) -> None:
                store.append(completion)
                got.append(completion)

            mv.run_engine(llm, requests, sink)
        return sum(c.completion_tokens or 0 for c in got)

    generate(token_prompts)  # warm-up
    try:
        return measure(rounds, {
            "LLM.generate(ids)": lambda: generate(token_prompts),
            "render+generate": bare_rendering,
            "mathif vllm": ours,
        }, "mathif vllm", n, same_work=True)
    finally:
        mv.shutdown(llm)


def show(title: str, result: dict, *, cpu: bool = False) -> None:
    """Print one comparison; ``cpu`` adds the client CPU-time ratio (meaningful only where
    the client is CPU-bound: the stub server)."""
    print(f"\n{title}")
    for name, row in result.items():
        if name != "ratios":
            print(f"  {name:18s} {row['requests_per_s']:8.1f} req/s  median "
                  f"{row['median_s']:.3f}s  rounds {row['rounds_s']}")
    for name, row in result["ratios"].items():
        extra = f"; client CPU-time ratio {row['cpu_ratio']:.3f}" if cpu else ""
        print(f"  throughput ratio mathif / {name}: {row['ratio']:.3f} "
              f"(per round {row['round_ratios']}){extra}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--vllm-requests", type=int, default=256)
    parser.add_argument("--vllm-max-tokens", type=int, default=128)
    parser.add_argument("--skip-vllm", action="store_true")
    parser.add_argument("--skip-serve", action="store_true",
                        help="skip transformers serve (stub server only)")
    parser.add_argument("--skip-stub", action="store_true", help="skip the stub server")
    parser.add_argument("--json", help="also write the numbers to this file")
    args = parser.parse_args()

    from mathif.generation.tiny import build_tiny_model

    env = {**os.environ, **OFFLINE}
    os.environ.update(OFFLINE)
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        model = str(build_tiny_model(Path(tmp) / "tiny"))
        env["HF_HOME"] = str(Path(tmp) / "hf-home")
        if not args.skip_stub:
            port = free_port()
            with server([sys.executable, "-c", STUB_SERVER, str(port)],
                        f"http://127.0.0.1:{port}/", env):
                results["openai_stub"] = bench_openai(f"http://127.0.0.1:{port}/v1", model,
                                                      args.requests * 10, args.concurrency,
                                                      args.max_tokens, args.rounds)
            show(f"openai backend, instant stub server, {args.requests * 10} requests, "
                 f"concurrency {args.concurrency}", results["openai_stub"], cpu=True)
        if not args.skip_serve:
            port = free_port()
            cmd = [sys.executable, "-m", "transformers.cli.transformers", "serve", model,
                   "--host", "127.0.0.1", "--port", str(port), "--device", "cpu"]
            with server(cmd, f"http://127.0.0.1:{port}/health", env):
                results["openai_transformers_serve"] = bench_openai(
                    f"http://127.0.0.1:{port}/v1", model, args.requests, args.concurrency,
                    args.max_tokens, args.rounds)
            show(f"openai backend, transformers serve (tiny model), {args.requests} requests, "
                 f"concurrency {args.concurrency}", results["openai_transformers_serve"])
        if not args.skip_vllm:
            results["vllm"] = bench_vllm(model, args.vllm_requests, args.vllm_max_tokens,
                                         args.rounds)
            show(f"vllm backend (CPU build), {args.vllm_requests} requests x "
                 f"{args.vllm_max_tokens} tokens", results["vllm"])
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
