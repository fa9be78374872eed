"""SIGKILL a running ``mathif eval`` at random moments, re-run it, and check that the final
store holds exactly one completion per (phase, item, sample) and that the scores equal those
of an uninterrupted run."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mathif.generation.store import COMPLETIONS_NAME, read_completions
from tests.generation.conftest import subprocess_env

SLOW_SCRIPT = r'''
import sys, time
from mathif.evaluation import evaluate
from mathif.generation import Completion

class Slow:
    """Deterministic answers, slowly, with long lines (a kill often lands mid-write)."""
    name = "slow"
    def describe(self):
        return {"engine": "slow"}
    def generate(self, requests, on_complete):
        for r in requests:
            time.sleep(0.01)
            on_complete(Completion(
                key=r.key, sample=r.sample, phase=r.phase, seed=r.seed,
                text=f"<think>{'t' * 3000}</think>ANSWER {r.key} {r.sample} {r.seed % 7}",
                finish_reason="stop", prompt_tokens=5, completion_tokens=9, latency_s=0.01))
    def close(self):
        pass

evaluate("slow-model", backend=Slow(), data=sys.argv[1], out=sys.argv[2], limit=30,
         samples=3, with_control=True, grader="mathif")
'''


def lines(run: Path) -> int:
    path = run / COMPLETIONS_NAME
    return path.read_bytes().count(b"\n") if path.exists() else 0


def run_and_kill(cmd: list[str], run: Path, env: dict[str, str], *, after_lines: int,
                 extra_delay: float, timeout: float = 120) -> bool:
    """Start ``cmd``; SIGKILL it once the store has ``after_lines`` lines (plus a delay).

    Returns False when the run finished before the kill.
    """
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if lines(run) >= after_lines:
                time.sleep(extra_delay)
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=30)
                return True
            time.sleep(0.002)
        if proc.poll() is None:
            raise AssertionError("the run did not reach the kill point in time")
        return False
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def finish(cmd: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]


def scores(run: Path) -> tuple[dict, list]:
    results = json.loads((run / "results.json").read_text())["metrics"]
    results.pop("usage", None)
    records = [json.loads(x) for x in (run / "samples.jsonl").read_text().splitlines()]
    keep = ("key", "sample", "response", "follow", "hard", "soft", "correct", "error", "seed")
    return results, [{k: r.get(k) for k in keep} for r in records]


def check_store(run: Path, expected: int) -> None:
    stored = read_completions(run)
    assert len(stored) == expected == len({c.id for c in stored})
    assert all(c.ok for c in stored)
    assert (run / COMPLETIONS_NAME).read_bytes().endswith(b"\n")


def test_sigkill_and_resume_with_a_slow_backend(data_dir: Path, tmp_path: Path) -> None:
    rng = random.Random(20240501)
    env = subprocess_env(tmp_path)
    script = tmp_path / "slow_eval.py"
    script.write_text(SLOW_SCRIPT)
    reference, resumed = tmp_path / "reference", tmp_path / "resumed"
    finish([sys.executable, str(script), str(data_dir), str(reference)], env)
    cmd = [sys.executable, str(script), str(data_dir), str(resumed)]
    total = 30 * 3 * 2
    kills = 0
    for round_ in range(6):
        target = min(total - 1, lines(resumed) + rng.randint(1, 40))
        kills += run_and_kill(cmd, resumed, env, after_lines=target,
                              extra_delay=rng.uniform(0, 0.03))
        if round_ % 2 == 1:  # also a torn last line, as a crash during write leaves it
            good = (resumed / COMPLETIONS_NAME).read_bytes().splitlines(keepends=True)[-1]
            with (resumed / COMPLETIONS_NAME).open("ab") as handle:
                handle.write(good[: rng.randint(1, len(good) - 2)])
    assert kills >= 4
    finish(cmd, env)
    check_store(resumed, total)
    assert scores(resumed) == scores(reference)


@pytest.mark.slow
def test_sigkill_and_resume_with_the_hf_backend(tiny_model: Path, data_dir: Path,
                                                tmp_path: Path) -> None:
    pytest.importorskip("torch")
    env = subprocess_env(tmp_path)
    base = [sys.executable, "-m", "mathif.cli", "eval", "--backend", "hf", "--model",
            str(tiny_model), "--data", str(data_dir), "--limit", "4", "--samples", "2",
            "--max-tokens", "48", "--batch-size", "1", "--quiet", "--seed", "3"]
    reference, resumed = tmp_path / "reference", tmp_path / "resumed"
    finish([*base, "--out", str(reference)], env)
    kills = 0
    for target, delay in ((1, 0.0), (3, 0.05), (6, 0.0)):
        kills += run_and_kill([*base, "--out", str(resumed)], resumed, env, after_lines=target,
                              extra_delay=delay)
    assert kills >= 2
    finish([*base, "--out", str(resumed)], env)
    check_store(resumed, 8)
    assert scores(resumed) == scores(reference)
    manifest = json.loads((resumed / "manifest.json").read_text())
    assert len(manifest["sessions"]) == kills + 1

