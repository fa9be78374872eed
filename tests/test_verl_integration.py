"""mathif's verl reward through verl's own code: ``custom_reward_function`` loading by file
path (with ``reward_kwargs``), the ``batch`` and ``naive`` reward managers on token ids, the
example config (examples/verl/mathif_grpo.yaml) composed over verl's defaults, and the
example's parquet read back by verl's ``RLHFDataset``.

verl cannot be installed next to the pinned transformers (verl 0.9.1 requires
transformers<5.11; the test extra pins >=5.16.1), so ``tests/verl_driver.py`` runs in the
throwaway venv that ``.ci/verlenv.sh`` builds (``$MATHIF_VERLENV``, default
``.ci/cache/verlenv``); the test skips with that reason when the venv is absent.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from mathif import rewards
from tests.conftest import REPO


def verlenv_python() -> Path | None:
    root = Path(os.environ.get("MATHIF_VERLENV", REPO / ".ci" / "cache" / "verlenv"))
    python = root / "bin" / "python"
    return python if python.is_file() else None


@pytest.mark.slow
def test_reward_through_verls_loader_and_reward_managers(tmp_path: Path) -> None:
    python = verlenv_python()
    if python is None:
        pytest.skip("no verl venv: run `bash .ci/verlenv.sh` (verl 0.9.1 needs transformers "
                    "<5.11, so it cannot share the test environment)")
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), HF_HUB_OFFLINE="1",
               TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    proc = subprocess.run([str(python), str(REPO / "tests" / "verl_driver.py"),
                           rewards.__file__, str(tmp_path)], capture_output=True, text=True,
                          env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["single"] == {"score": 2.1, "correct": 1.0, "hard": 1.0, "soft": 1.0,
                             "format": 1.0, "length_penalty": 0.0}
    assert out["weighted"]["score"] == 3.0  # reward_kwargs reach the mix
    expected = [2.1, 0.35, 1.0]
    assert out["batch_scores"] == pytest.approx(expected, abs=1e-6)  # float32 tensor
    assert out["batch_extra"]["score"] == expected
    assert out["batch_extra"]["hard"] == [1.0, 0.0, 0.0]
    assert out["naive"] == expected
    # the example config, composed by hydra over verl's defaults, loads the same reward
    assert out["config_algorithm"] == "grpo"
    assert out["from_config"] == out["single"]
    # a row of the example's parquet, as verl's RLHFDataset returns it, is scored
    assert out["parquet_names"] and out["parquet_row"]["correct"] == 1.0
