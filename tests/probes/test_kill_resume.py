"""SIGKILL a probe run in its later phases, resume it, and check that every (phase, item,
sample) has exactly one finished transcript, every step is stored once, and the scores equal
those of an uninterrupted run."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from mathif.generation.store import COMPLETIONS_NAME, read_completions
from mathif.probes.steps import STEPS_NAME, read_steps
from tests.conftest import REPO
from tests.generation.test_kill_resume import scores

SCRIPT = r'''
import sys
from mathif.config import GradeSettings, RunConfig
from mathif.data import Selection
from mathif.evaluation import evaluate_config
from mathif.generation.protocol import Sampling
from mathif.probes.settings import ProbeSettings
from tests.probes.fake import FakeThinker

config = RunConfig(model="fake", probe=ProbeSettings(force_continue=2), samples=2,
                   with_control=True, sampling=Sampling(max_tokens=200),
                   grading=GradeSettings(grader="mathif"))
evaluate_config(config, out=sys.argv[2], data=sys.argv[1], selection=Selection(limit=20),
                engine=FakeThinker(sleep=float(sys.argv[3])))
'''
TRANSCRIPTS = 20 * 2 * 2  # items x samples x (main, control)


def lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def kill_at(cmd: list[str], watched: Path, after_lines: int, delay: float) -> bool:
    """Run ``cmd``; SIGKILL it once ``watched`` has ``after_lines`` lines (plus ``delay``).
    False when it finished first."""
    proc = subprocess.Popen(cmd, env=env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if lines(watched) >= after_lines:
                time.sleep(delay)
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=30)
                return True
            time.sleep(0.002)
        assert proc.poll() is not None, "the run did not reach the kill point in time"
        return False
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def env() -> dict[str, str]:
    out = dict(os.environ)
    out["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), str(REPO),
                                         *filter(None, [out.get("PYTHONPATH")])])
    return out


def test_sigkill_in_later_phases_then_resume(data_dir: Path, tmp_path: Path) -> None:
    script = tmp_path / "probe_eval.py"
    script.write_text(SCRIPT)
    reference, resumed = tmp_path / "reference", tmp_path / "resumed"
    done = subprocess.run([sys.executable, str(script), str(data_dir), str(reference), "0"],
                          env=env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    rng = random.Random(12)
    cmd = [sys.executable, str(script), str(data_dir), str(resumed), "0.004"]
    steps_file = resumed / STEPS_NAME
    kills = 0
    # Phase 1 is the first TRANSCRIPTS steps: every kill lands in phase 2 or later.
    for round_ in range(5):
        target = max(TRANSCRIPTS + 1, lines(steps_file)) + rng.randint(1, 40)
        if target >= 4 * TRANSCRIPTS:
            break
        kills += kill_at(cmd, steps_file, target, rng.uniform(0, 0.02))
        if round_ % 2 == 1:  # a torn last line, as a crash during a write leaves it
            last = steps_file.read_bytes().splitlines(keepends=True)[-1]
            with steps_file.open("ab") as handle:
                handle.write(last[: rng.randint(1, len(last) - 2)])
    assert kills >= 3
    assert lines(resumed / COMPLETIONS_NAME) < TRANSCRIPTS
    done = subprocess.run(cmd, env=env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    stored = read_completions(resumed)
    assert len(stored) == TRANSCRIPTS == len({c.id for c in stored})
    assert all(c.ok for c in stored)
    steps = Counter((s.id, s.step) for s in read_steps(resumed))
    assert max(steps.values()) == 1  # no phase generated twice
    assert {c.id: c.text for c in stored} == {c.id: c.text for c in read_completions(reference)}
    assert scores(resumed) == scores(reference)
    manifest = json.loads((resumed / "manifest.json").read_text())
    assert len(manifest["sessions"]) == kills + 1


@pytest.mark.slow
def test_sigkill_in_phase_two_with_the_hf_backend(thinking_model: Path, data_dir: Path,
                                                  tmp_path: Path) -> None:
    """The tiny thinking model on transformers, one row per batch (exactly repeatable): a
    kill in the second phase, then a resume, gives the uninterrupted run's transcripts."""
    base = [sys.executable, "-m", "mathif.cli", "eval", "--backend", "hf", "--model",
            str(thinking_model), "--data", str(data_dir), "--limit", "3", "--samples", "2",
            "--max-tokens", "64", "--batch-size", "1", "--quiet", "--seed", "3",
            "--force-continue", "1"]
    reference, resumed = tmp_path / "reference", tmp_path / "resumed"
    done = subprocess.run([*base, "--out", str(reference)], env=env(), capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    # six transcripts: phase 1 is the first six steps; kill once the seventh is stored
    killed = kill_at([*base, "--out", str(resumed)], resumed / STEPS_NAME, 7, 0.0)
    assert killed and lines(resumed / COMPLETIONS_NAME) < 6
    done = subprocess.run([*base, "--out", str(resumed)], env=env(), capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    stored = read_completions(resumed)
    assert len(stored) == 6 == len({c.id for c in stored})
    assert max(Counter((s.id, s.step) for s in read_steps(resumed)).values()) == 1
    assert {c.id: c.text for c in stored} == {c.id: c.text for c in read_completions(reference)}
    assert scores(resumed) == scores(reference)
