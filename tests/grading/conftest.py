"""Fixtures for the grading tests: where the read-only benchmark data lives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mathif.split import answer_part as package_answer_part

REPO_ROOT = Path(__file__).resolve().parents[2]


def shared_dir() -> Path:
    """``$MATHIF_SHARED`` or the folder ``shared`` beside the repository root."""
    env = os.environ.get("MATHIF_SHARED")
    return Path(env) if env else REPO_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared() -> Path:
    path = shared_dir()
    if not (path / "mathif").is_dir():
        pytest.skip(f"benchmark data not found at {path} (set MATHIF_SHARED)")
    return path


def answer_part(raw: str) -> str:
    """SPEC section 3 answer split (``mathif.split.answer_part``)."""
    return package_answer_part(raw)
