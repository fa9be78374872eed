"""Fixtures for the probes: the real items (read in place) and runs with the scripted backend."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mathif.config import GradeSettings, RunConfig
from mathif.data import Selection
from mathif.evaluation import evaluate_config
from mathif.generation.protocol import Sampling
from mathif.probes.settings import ProbeSettings
from mathif.run import ScoreResult
from tests.generation.conftest import tiny_model  # noqa: F401  (a fixture)
from tests.probes.fake import FakeThinker


@pytest.fixture(scope="session")
def data_dir() -> Path:
    from tests.conftest import need_shared

    return need_shared("mathif")


def config(probe: ProbeSettings | None = None, *, max_tokens: int = 60, samples: int = 1,
           with_control: bool = False, grader: str | None = None, seed: int | None = 0,
           **kwargs: Any) -> RunConfig:
    if with_control and grader is None:
        grader = "mathif"  # a control run is compared on correctness
    return RunConfig(model="fake", probe=probe or ProbeSettings(), samples=samples,
                     sampling=Sampling(max_tokens=max_tokens), with_control=with_control,
                     grading=GradeSettings(grader=grader, **kwargs), seed=seed)


def run(cfg: RunConfig, out: Path, data: Path, fake: FakeThinker | None = None,
        limit: int = 6) -> ScoreResult:
    return evaluate_config(cfg, out=out, data=data, selection=Selection(limit=limit),
                           engine=fake or FakeThinker())


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="session")
def thinking_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny random model, built to end its reasoning often (about 5 ``</think>`` per
    hundred tokens, whatever the prompt): the probes need ``</think>``."""
    from tests.generation.conftest import needs

    needs("torch")
    needs("transformers")
    from mathif.generation.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("thinking-model"), think_bias=1.7)


@pytest.fixture(scope="session")
def served_thinking_model(thinking_model: Path, tmp_path_factory: pytest.TempPathFactory
                          ) -> Iterator[str]:
    """``transformers serve`` on 127.0.0.1 with the thinking model; yields the base URL."""
    import subprocess
    import sys

    from tests.generation.conftest import free_port, needs, stop, subprocess_env, wait_http

    for module in ("fastapi", "uvicorn", "accelerate"):
        needs(module)
    tmp = tmp_path_factory.mktemp("serve-thinking")
    port = free_port()
    log = tmp / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "transformers.cli.transformers", "serve", str(thinking_model),
             "--host", "127.0.0.1", "--port", str(port), "--device", "cpu"],
            stdout=out, stderr=subprocess.STDOUT, env=subprocess_env(tmp),
            start_new_session=True)
    try:
        wait_http(f"http://127.0.0.1:{port}/health", proc, 180, log)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        stop(proc)
