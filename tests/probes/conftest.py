"""Fixtures for the probes: the real items (read in place) and runs with the scripted backend."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mathif.config import GradeSettings, RunConfig
from mathif.data import Selection
from mathif.evaluation import evaluate_config
from mathif.generation.protocol import Sampling
from mathif.probes.settings import ProbeSettings
from mathif.run import ScoreResult
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
