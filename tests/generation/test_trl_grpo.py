"""A real TRL GRPO run of a few steps on the CPU with the tiny model, rewarded by mathif on a
built set: the reward gets the trainer's own arguments, and its terms reach TRL's logs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mathif import rewards
from mathif.builder import build

from .conftest import OFFLINE_ENV, needs, subprocess_env

REPO = Path(__file__).resolve().parents[2]


def problems(n: int) -> list[dict[str, Any]]:
    return [{"question": f"Sam has {i} pens and gets {i + 2} more. How many pens?",
             "answer": str(2 * i + 2)} for i in range(n)]


@pytest.fixture()
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in OFFLINE_ENV.items():
        monkeypatch.setenv(key, value)


@pytest.mark.slow
def test_grpo_steps_with_the_mathif_reward(tiny_model: Path, tmp_path: Path,
                                           offline: None) -> None:
    needs("trl")
    needs("datasets")
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    built = build(problems(8), seed=2)
    train = Dataset.from_list(rewards.training_rows(built.dataset()))
    calls: list[dict[str, Any]] = []
    inner = rewards.make_reward(grader="reference")

    def mathif_reward(prompts: Any = None, completions: Any = None, **kwargs: Any
                      ) -> list[float]:
        calls.append({"prompts": prompts, "completions": completions, **kwargs})
        return inner(prompts=prompts, completions=completions, **kwargs)

    config = GRPOConfig(
        output_dir=str(tmp_path / "out"), max_steps=2, per_device_train_batch_size=4,
        num_generations=2, max_completion_length=12, learning_rate=1e-4, logging_steps=1,
        save_strategy="no", report_to="none", use_cpu=True, bf16=False, seed=0,
        dataloader_num_workers=0,
    )
    trainer = GRPOTrainer(model=str(tiny_model), reward_funcs=mathif_reward, args=config,
                          train_dataset=train)
    trainer.train()

    assert len(calls) >= 2
    call = calls[0]
    n = len(call["completions"])
    assert n == 4 and len(call["prompts"]) == n
    # the trainer's own shapes: chat prompts and completions, token ids, hooks, the columns
    assert call["prompts"][0][-1]["role"] == "user"
    assert call["completions"][0][0]["role"] == "assistant"
    assert isinstance(call["completions"][0][0]["content"], str)
    assert len(call["completion_ids"]) == n
    assert callable(call["log_metric"]) and callable(call["log_extra"])
    assert "trainer_state" in call
    for column in ("answer", "constraint_name", "constraint_args", "source", "key"):
        assert len(call[column]) == n, column
    assert isinstance(call["constraint_args"][0], str)  # JSON text survives Arrow as is
    # the reward was computed on what the model wrote (random weights: mostly nonsense)
    assert len(inner.last) == n
    assert all(b.grade_reason in ("match", "mismatch", "no_answer") for b in inner.last)
    # every term is logged by TRL at each step, next to its reward column
    logged = [entry for entry in trainer.state.log_history if "mathif/correct" in entry]
    assert len(logged) == 2
    for entry in logged:
        for name in rewards.COMPONENTS:
            assert 0.0 <= entry[f"mathif/{name}"] <= 1.0
        assert "rewards/mathif_reward/mean" in entry


@pytest.mark.slow
def test_the_trl_example_runs_as_written(tiny_model: Path, tmp_path: Path) -> None:
    needs("trl")
    needs("datasets")
    built = build(problems(6), seed=1)
    built.write(tmp_path / "set")
    env = subprocess_env(tmp_path)
    proc = subprocess.run(
        [sys.executable, str(REPO / "examples" / "trl_grpo.py"), "--model", str(tiny_model),
         "--data", str(tmp_path / "set" / "items.jsonl"), "--out", str(tmp_path / "run"),
         "--max-steps", "1", "--batch-size", "2", "--num-generations", "2",
         "--max-completion-length", "8", "--cpu"],
        capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    logged = [line for line in proc.stdout.splitlines() if "'mathif/hard'" in line]
    assert logged and "'mathif/format'" in logged[0], proc.stdout[-2000:]
