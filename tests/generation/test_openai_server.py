"""The openai backend against a real server (``transformers serve`` on 127.0.0.1), clean and
behind a fault-injecting proxy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mathif.cli import main
from mathif.evaluation import evaluate
from mathif.generation.store import read_completions
from tests.generation.faulty_proxy import Faults, FaultyProxy

pytest.importorskip("httpx")

LIMIT, SAMPLES, MAX_TOKENS = 6, 2, 8


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


def records(run: Path) -> list[dict]:
    return [json.loads(x) for x in (run / "samples.jsonl").read_text().splitlines()]


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


def test_faults_do_not_change_the_results(served_model: str, tiny_model: Path, data_dir: Path,
                                          tmp_path: Path) -> None:
    """429s, 500s, drops, delays and timeouts: same completions, same scores as a clean run."""
    kwargs = dict(backend="openai", data=str(data_dir), limit=LIMIT, samples=SAMPLES,
                  max_tokens=MAX_TOKENS, with_control=True)
    clean = evaluate(str(tiny_model), out=tmp_path / "clean",
                     options={"base_url": [served_model], "concurrency": 4}, **kwargs)
    faults = Faults(rate_429=0.15, rate_500=0.1, rate_drop=0.08, rate_drop_after=0.08,
                    rate_delay=0.1, rate_hang=0.04, hang_s=3.0, retry_after="1")
    with FaultyProxy(port_of(served_model), faults, seed=7) as proxy:
        faulty = evaluate(str(tiny_model), out=tmp_path / "faulty",
                          options={"base_url": [proxy.url], "concurrency": 4,
                                   "request_timeout": 2.0, "max_retries": 12}, **kwargs)
    assert all(proxy.counts[k] > 0 for k in ("429", "500", "drop", "drop_after", "delay"))
    assert faulty.metrics["n_errors"] == 0
    assert texts(tmp_path / "faulty") == texts(tmp_path / "clean")
    assert len(texts(tmp_path / "faulty")) == 2 * LIMIT * SAMPLES
    assert faulty.metrics == clean.metrics
    retried = [c for c in read_completions(tmp_path / "faulty") if c.attempts > 1]
    assert retried


def test_exhausted_retries_are_errors_then_a_rerun_fixes_them(
        served_model: str, tiny_model: Path, data_dir: Path, tmp_path: Path) -> None:
    kwargs = dict(backend="openai", data=str(data_dir), limit=3, max_tokens=MAX_TOKENS,
                  out=tmp_path, grader=None)
    with FaultyProxy(port_of(served_model), Faults(rate_500=1.0), seed=1) as proxy:
        broken = evaluate(str(tiny_model), options={"base_url": [proxy.url],
                                                    "max_retries": 1}, **kwargs)
    assert broken.metrics["n_errors"] == 3 and broken.metrics["n_responses"] == 0
    assert all("HTTP 500" in (v.error or "") for v in broken.verdicts)
    # The endpoint is not part of the run's identity: resume against the healthy server.
    fixed = evaluate(str(tiny_model), options={"base_url": [served_model]}, **kwargs)
    assert fixed.metrics["n_errors"] == 0 and fixed.metrics["n_responses"] == 3
