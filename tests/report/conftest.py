"""Synthetic run folders for the report tests.

Records are written by hand in the ``samples.jsonl`` layout of :mod:`mathif.run`, with verdicts
drawn from seeded generators, so the tests control every number (rates, errors, truncation,
samples per item) without running a model, the checkers or the grader. Items are the real 420
MathIF items from ``../shared/mathif``, so keys, sources and constraint types are the real ones.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import mathif
from mathif.data import Item
from tests.conftest import need_shared

STEP_WORDS = ("so", "then", "thus", "we", "get", "check", "the", "sum", "is", "value")


def _difficulty(item: Item) -> float:
    """Shared across models: hard items are hard for everyone (what pairing exploits)."""
    return random.Random(f"difficulty:{item.key}").random()


def make_records(
    items: Sequence[Item],
    *,
    seed: str,
    follow_rate: float,
    correct_rate: float,
    samples: int = 1,
    eval_like: bool = False,
    n_errors: int = 0,
    phase: str | None = None,
) -> list[dict[str, Any]]:
    records = []
    for index, item in enumerate(items):
        d = _difficulty(item)
        for sample in range(samples):
            rng = random.Random(f"{seed}:{item.key}:{sample}")
            record: dict[str, Any] = {**item.to_record(), "key": item.key, "sample": sample}
            if phase is not None:
                record["phase"] = phase
            if index < n_errors and sample == 0:
                record.update(follow=[], hard=False, soft=0.0, answer_part="",
                              error="HTTP 500: upstream server error")
                records.append(record)
                continue
            p_follow = min(1.0, max(0.0, follow_rate + 0.4 * (0.5 - d)))
            follow = [rng.random() < p_follow for _ in item.constraint_name]
            n_words = 30 + int(rng.random() * 600)
            thinking = " ".join(rng.choice(STEP_WORDS) for _ in range(n_words))
            correct = rng.random() < min(1.0, max(0.0, correct_rate + 0.5 * (0.5 - d)))
            given = item.answer if correct else f"{item.answer}1"
            answer = f"The final answer is $\\boxed{{{given}}}$."
            truncated = eval_like and rng.random() < 0.05
            response = (f"<think>{thinking}" if truncated
                        else f"<think>{thinking}</think>\n\n{answer}")
            answer_part = thinking if truncated else f"\n\n{answer}"
            if truncated:
                follow = [False] * len(follow)
                correct = False
            record.update(
                follow=follow,
                hard=all(follow),
                soft=sum(follow) / len(follow),
                answer_part=answer_part,
                correct=correct,
                extracted_answer=None if truncated else given,
                grader="mathif",
                grade_reason="synthetic",
                error=None,
                response=response,
            )
            if eval_like:
                record.update(
                    finish_reason="length" if truncated else "stop",
                    prompt_tokens=80 + len(item.question) // 4,
                    completion_tokens=int(n_words * 1.3) + (0 if truncated else 20),
                    latency_s=round(1.0 + n_words / 300, 3),
                )
            records.append(record)
    return records


def write_run(
    folder: Path,
    items: Sequence[Item],
    *,
    model: str | None,
    control: bool = False,
    with_results: bool = True,
    **kwargs: Any,
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    records = make_records(items, **kwargs)
    with (folder / "samples.jsonl").open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    if control:
        control_kwargs = {**kwargs, "seed": f"{kwargs['seed']}-control",
                          "correct_rate": kwargs["correct_rate"] + 0.1, "n_errors": 0}
        with (folder / "control_samples.jsonl").open("w", encoding="utf-8") as handle:
            for record in make_records(items, **control_kwargs):
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    if with_results:
        manifest: dict[str, Any] = {"grader": "mathif"}
        if model is not None:
            manifest["model"] = model
        results = {"schema_version": 1, "mathif_version": mathif.__version__,
                   "manifest": manifest, "metrics": {}}
        (folder / "results.json").write_text(json.dumps(results), encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def items() -> list[Item]:
    return list(mathif.load(need_shared("mathif")))


@pytest.fixture(scope="session")
def run_a(items: list[Item], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An eval-like run of a model that is in the paper, with a control run and errors."""
    return write_run(tmp_path_factory.mktemp("runs") / "qwen3-8b", items,
                     model="Qwen/Qwen3-8B", seed="a", follow_rate=0.62, correct_rate=0.6,
                     eval_like=True, n_errors=3, control=True)


@pytest.fixture(scope="session")
def run_b(items: list[Item], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clearly weaker model on the same items (scored file: no token counts)."""
    return write_run(tmp_path_factory.mktemp("runs") / "weaker", items, model="my-model",
                     seed="b", follow_rate=0.45, correct_rate=0.5)


@pytest.fixture(scope="session")
def run_multi(items: list[Item], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three samples per item on a subset of items."""
    return write_run(tmp_path_factory.mktemp("runs") / "multi", items[:60], model=None,
                     seed="m", follow_rate=0.5, correct_rate=0.5, samples=3)


# --- hostile run folders: every field a report shows holds markup, formulas and specials ---

MARK = "data-pwned"


def payload(tag: str) -> str:
    """A string that runs script (setting ``data-pwned`` on <html>) wherever it is not escaped.

    It tries each context: text, a double- or single-quoted attribute, raw text elements,
    Markdown table cells and links, spreadsheet formulas and LaTeX commands.
    """
    mark = f"document.documentElement.setAttribute('{MARK}','{tag}')"
    return (f"{tag}\"'><script>{mark}</script><img src=x onerror=\"{mark}\">"
            f"<svg onload=\"{mark}\"></svg></textarea></title></style></option>"
            f"<iframe srcdoc=\"<script>parent.{mark}</script>\"></iframe>"
            f" | a\nb | [x](javascript:{mark}) *em* `c` $x$ &amp; \\input{{/etc/passwd}} ^^5c"
            "\x1b[31m")


def formula(tag: str) -> str:
    return f"=HYPERLINK(\"http://127.0.0.1/{tag}\",\"click\")"


def write_hostile_runs(items: Sequence[Item], root: Path) -> tuple[Path, Path]:
    """A run with samples whose every shown field is hostile, and a results-only run with a
    hostile manifest and hostile strings in its metrics."""
    from mathif.report import load_run

    folder = root / "hostile"
    folder.mkdir(parents=True, exist_ok=True)
    records = make_records(items, seed="h", follow_rate=0.5, correct_rate=0.5,
                           eval_like=True, n_errors=1)
    for n, record in enumerate(records):
        record.update(
            key=payload(f"key{n}"),
            source=payload("source-even" if n % 2 == 0 else "source-odd"),
            id=formula("id") if n % 3 == 0 else payload("id"),
            question=payload("question"),
            answer=formula("gold") if n % 2 else payload("gold"),
            constraint_desc=[payload("desc")] * len(record["constraint_name"]),
        )
        if record.get("error") is not None:
            record["error"] = payload("error")
            continue
        record.update(
            response=f"<think>{payload('reasoning')}</think>{payload('response')}",
            answer_part=payload("answer"),
            extracted_answer=formula("extracted") if n % 2 else payload("extracted"),
            finish_reason=payload("finish"),
            grader="-1+cmd|' /C calc'!A0" if n % 2 else payload("grader"),
        )
    with (folder / "samples.jsonl").open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    manifest = {"model": payload("model"), "grader": payload("manifest-grader"),
                "data": {"official": payload("official"), "origin": payload("origin")}}
    (folder / "results.json").write_text(json.dumps(
        {"schema_version": 1, "mathif_version": mathif.__version__, "manifest": manifest,
         "metrics": {}}), encoding="utf-8")

    only = root / "results-only"
    only.mkdir(parents=True, exist_ok=True)
    metrics = load_run(folder).metrics.to_record()
    metrics["errors"] = {payload("metrics-error"): 2}
    metrics["lengths"]["unit"] = payload("unit")
    for b in metrics.get("by_reasoning_length", []):
        b["bin"] = payload("bin")
    metrics["by_constraint"][payload("constraint-id")] = {
        "category": payload("category"), "pass_rate": 50.0, "n": 1}
    (only / "results.json").write_text(json.dumps(
        {"schema_version": 1, "mathif_version": mathif.__version__,
         "manifest": {"model": payload("model-b"), "grader": formula("grader-b")},
         "metrics": metrics}), encoding="utf-8")
    return folder, only


@pytest.fixture(scope="session")
def hostile_runs(items: list[Item], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_hostile_runs(items[:12], tmp_path_factory.mktemp("hostile"))
