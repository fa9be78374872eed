"""The openai backend against a real server (``transformers serve`` on 127.0.0.1), clean and
behind a fault-injecting proxy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mathif.cli import main
from mathif.evaluation import evaluate
from mathif.generation.openai import OpenAIBackend, RetryPolicy
from mathif.generation.store import read_completions
from mathif.results import Metrics
from tests.generation.faulty_proxy import Faults, FaultyProxy

pytest.importorskip("httpx")

LIMIT, SAMPLES, MAX_TOKENS = 6, 2, 8


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


def records(run: Path) -> list[dict]:
    return [json.loads(x) for x in (run / "samples.jsonl").read_text().splitlines()]


def scores(metrics: Metrics) -> dict:
    """Metrics without the usage block (latencies differ between any two runs)."""
    return {k: v for k, v in metrics.to_record().items() if k != "usage"}


def texts(run: Path) -> dict[tuple[str, str, int], str]:
    return {c.id: c.text for c in read_completions(run) if c.ok}


def test_eval_command_against_a_server(served_model: str, tiny_model: Path, data_dir: Path,
                                       tmp_path: Path) -> None:
    common = ["eval", "--backend", "openai", "--base-url", served_model, "--model",
              str(tiny_model), "--data", str(data_dir), "--limit", "3", "--samples", "2",
              "--max-tokens", str(MAX_TOKENS), "--concurrency", "4", "--quiet",
              "--grader", "none"]
    assert main([*common, "--out", str(tmp_path / "think")]) == 0
    assert main([*common, "--out", str(tmp_path / "plain"), "--chat-template-kwargs",
                 '{"enable_thinking": false}']) == 0
    think = records(tmp_path / "think")
    plain = records(tmp_path / "plain")
    assert len(think) == 6 and all(r["error"] is None for r in think)
    assert all(r["completion_tokens"] <= MAX_TOKENS and r["finish_reason"] for r in think)
    # The server rendered the template with our arguments: "<think>\n\n</think>\n\n" is longer.
    assert all(p["prompt_tokens"] > t["prompt_tokens"] for p, t in zip(plain, think, strict=True))
    # The server ignores n; samples are separate seeded requests, hence different texts.
    by_item: dict[str, list[str]] = {}
    for r in think:
        by_item.setdefault(r["key"], []).append(r["response"])
    assert sum(a != b for a, b in by_item.values()) >= 2


FAULTS = Faults(rate_429=0.15, rate_500=0.1, rate_drop=0.08, rate_drop_after=0.08,
                rate_delay=0.1, rate_hang=0.04, hang_s=8.0, retry_after="0.3")
FAST_RETRY = RetryPolicy(max_retries=12, base_s=0.05, cap_s=0.5)


def client(model: Path, url: str, concurrency: int, timeout: float = 6.0) -> OpenAIBackend:
    """A backend object with quick retries (a named backend would back off from 1 s).

    ``timeout`` is the deadline of one attempt: long enough for a generation of the tiny model
    on a loaded machine, shorter than the proxy's hang (which must time out).
    """
    return OpenAIBackend(str(model), base_url=url, concurrency=concurrency, request_timeout=timeout,
                         retry=FAST_RETRY)


def test_faults_do_not_change_the_results(served_model: str, tiny_model: Path, data_dir: Path,
                                          tmp_path: Path) -> None:
    """429s, 500s, drops, delays and timeouts: same completions, same scores as a clean run.

    ``transformers serve`` seeds one global RNG per request, so only one request at a time
    gives reproducible texts: the clean and the faulty run are compared at concurrency 1.
    """
    kwargs = dict(data=str(data_dir), limit=LIMIT, samples=SAMPLES, max_tokens=MAX_TOKENS)
    clean = evaluate(str(tiny_model), out=tmp_path / "clean",
                     backend=client(tiny_model, served_model, 1), **kwargs)
    with FaultyProxy(port_of(served_model), FAULTS, seed=7) as proxy:
        faulty = evaluate(str(tiny_model), out=tmp_path / "faulty",
                          backend=client(tiny_model, proxy.url, 1), **kwargs)
    assert all(proxy.counts[k] > 0 for k in ("429", "500", "drop", "drop_after", "delay"))
    assert faulty.metrics.n_errors == 0
    assert len(texts(tmp_path / "faulty")) == LIMIT * SAMPLES
    assert texts(tmp_path / "faulty") == texts(tmp_path / "clean")
    assert scores(faulty.metrics) == scores(clean.metrics)
    assert [c for c in read_completions(tmp_path / "faulty") if c.attempts > 1]


def test_concurrent_faulty_run_scores_like_a_clean_rescoring(
        served_model: str, tiny_model: Path, data_dir: Path, tmp_path: Path) -> None:
    """At concurrency 4 through the proxy: every request answered, nothing duplicated, and
    the scores equal those of a clean scoring of the same completions (replayed)."""
    kwargs = dict(data=str(data_dir), limit=LIMIT, samples=SAMPLES, max_tokens=MAX_TOKENS,
                  with_control=True)
    with FaultyProxy(port_of(served_model), FAULTS, seed=11) as proxy:
        faulty = evaluate(str(tiny_model), backend=client(tiny_model, proxy.url, 4),
                          out=tmp_path / "faulty", **kwargs)
    assert sum(proxy.counts[k] for k in ("429", "500", "drop", "drop_after", "hang")) >= 3
    stored = read_completions(tmp_path / "faulty")
    assert len(stored) == len({c.id for c in stored}) == 2 * LIMIT * SAMPLES
    assert faulty.metrics.n_errors == 0
    completions = tmp_path / "faulty" / "completions.jsonl"
    replayed = evaluate(str(completions), backend="replay", out=tmp_path / "replayed",
                        options={"control_responses": str(completions)}, **kwargs)
    assert scores(replayed.metrics) == scores(faulty.metrics)
    assert [s.response.text for s in replayed.samples] == [
        s.response.text for s in faulty.samples]


def test_exhausted_retries_are_errors_then_a_rerun_fixes_them(
        served_model: str, tiny_model: Path, data_dir: Path, tmp_path: Path) -> None:
    kwargs = dict(backend="openai", data=str(data_dir), limit=3, max_tokens=MAX_TOKENS,
                  out=tmp_path, grader=None)
    with FaultyProxy(port_of(served_model), Faults(rate_500=1.0), seed=1) as proxy:
        broken = evaluate(str(tiny_model), options={"base_url": [proxy.url],
                                                    "max_retries": 1}, **kwargs)
    assert broken.metrics.n_errors == 3 and broken.metrics.n_responses == 0
    assert all("HTTP 500" in (v.error or "") for v in broken.samples)
    # The endpoint is not part of the run's identity: resume against the healthy server.
    fixed = evaluate(str(tiny_model), options={"base_url": [served_model]}, **kwargs)
    assert fixed.metrics.n_errors == 0 and fixed.metrics.n_responses == 3
