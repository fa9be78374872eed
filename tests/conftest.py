"""Shared fixtures: where the real data lives (read in place, never copied)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_path() -> Path:
    return Path(os.environ.get("MATHIF_SHARED", REPO.parent / "shared")).resolve()


def need_shared(*parts: str) -> Path:
    """The path under ../shared, or skip the test with the reason when it is absent."""
    path = shared_path().joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: this test reads the real data from ../shared in place")
    return path


@pytest.fixture(scope="session")
def mathif_dir() -> Path:
    return need_shared("mathif")


@pytest.fixture(scope="session")
def dataset(mathif_dir: Path):
    import mathif

    return mathif.load(mathif_dir)
