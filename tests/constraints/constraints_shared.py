"""Shared fixtures: where ``../shared`` is, and loaders for the external reference runs.

The official data and the reference runs are read in place from the ``shared`` folder next to
the repository checkout (or ``$MATHIF_SHARED``); tests that need them skip when it is absent.
"""

from __future__ import annotations

import ast
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def shared_dir() -> Path:
    """``$MATHIF_SHARED`` or the ``shared`` folder beside the repository root."""
    override = os.environ.get("MATHIF_SHARED")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / ".." / "shared"


def require(relative: str) -> Path:
    """The path under ``shared``, or skip the test with the reason."""
    path = shared_dir() / relative
    if not path.exists():
        pytest.skip(f"{path} is absent (set MATHIF_SHARED to the shared folder to run this)")
    return path


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Records of a JSONL file, skipping blank lines (some official files end with one)."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def official_instances() -> list[tuple[str, int, str, Any, str]]:
    """(file, line, constraint id, args, description) for every official constraint instance."""
    folder = require("mathif")
    out = []
    for path in sorted(folder.glob("*.jsonl")):
        for line, item in enumerate(read_jsonl(path)):
            for name, args, desc in zip(
                item["constraint_name"],
                item["constraint_args"],
                item["constraint_desc"],
                strict=True,
            ):
                out.append((path.name, line, name, args, desc))
    return out


def external_responses() -> list[str]:
    """The real responses of the two full IFEval runs (GPT-4 and Llama-3.1-8B)."""
    gpt4 = require("external/ifeval-google/input_response_data_gpt4_20231107_145030.jsonl")
    llama = require("external/ifeval-llama31-8b-jacklingjie/Meta-Llama-3.1-8B-Instruct.jsonl")
    return [r["response"] for path in (gpt4, llama) for r in read_jsonl(path)]


def reasoning_answers(limit: int | None = None) -> list[str]:
    """Model answers from the R1-distill comparison runs (long, math-heavy texts)."""
    folder = require("external/r1distill-thinking-llms-interp")
    out: list[str] = []
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for task in data["tasks"]:
            answers = task["model_answers"]
            if isinstance(answers, str):
                answers = ast.literal_eval(answers)
            out.extend(str(v) for v in answers.values())
    return out if limit is None else out[:limit]
