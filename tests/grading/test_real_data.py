"""Agreement with real reasoning-model outputs and their recorded labels.

Prints the counts the project reports (run with ``-s`` to see them).
"""

from __future__ import annotations

import ast
import json
from collections import Counter
from pathlib import Path

import pytest

from mathif.grading import grade_many

from .conftest import answer_part


def deepscaler_rows(shared: Path) -> list[tuple[str, str, bool]]:
    """(answer part, gold, label) from the DeepScaleR AIME-24 runs (another grader's labels)."""
    rows = []
    folder = shared / "external" / "deepscaler-aime24-tegra"
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            responses = row["generated_responses"]
            if isinstance(responses, str):
                responses = ast.literal_eval(responses)
            for text, label in zip(responses, row["answers_correctness"], strict=True):
                rows.append((answer_part(text), str(row["gold_answer"]), bool(label)))
    return rows


def r1distill_rows(shared: Path) -> list[tuple[str, str, str, str]]:
    """(file tag, model, answer part, gold) from the R1-distill interpretability runs."""
    rows = []
    folder = shared / "external" / "r1distill-thinking-llms-interp"
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        tag = "math500" if "math500" in path.name else "gsm8k"
        for task in data["tasks"]:
            gold = task["correct_answer"]
            if "####" in gold:
                gold = gold.split("####")[-1].strip()
            for model, text in task["model_answers"].items():
                rows.append((tag, model, answer_part(text), gold))
    return rows


@pytest.fixture(scope="module")
def external(shared: Path) -> Path:
    if not (shared / "external" / "deepscaler-aime24-tegra").is_dir():
        pytest.skip(f"external real outputs not found under {shared}")
    return shared


def test_deepscaler_labels(external: Path) -> None:
    rows = deepscaler_rows(external)
    pairs = [(text, gold, "aime") for text, gold, _ in rows]
    mathif = grade_many(pairs)
    reference = grade_many(pairs, grader="reference")
    labels = [label for *_, label in rows]
    agree_m = sum(g.correct == lab for g, lab in zip(mathif, labels, strict=True))
    agree_r = sum(g.correct == lab for g, lab in zip(reference, labels, strict=True))
    both = sum(a.correct == b.correct for a, b in zip(mathif, reference, strict=True))
    print(
        f"\ndeepscaler-aime24: n={len(rows)} labels-correct={sum(labels)} "
        f"mathif={sum(g.correct for g in mathif)} (agrees with labels {agree_m}) "
        f"reference={sum(g.correct for g in reference)} (agrees {agree_r}) "
        f"mathif==reference {both}"
    )
    assert agree_m >= 0.93 * len(rows)
    assert agree_r >= 0.93 * len(rows)
    # where the labels say correct but mathif does not, the stored text (cut short) states
    # no final answer at all: the labelling grader must have seen more than we have
    missed = [g for g, lab in zip(mathif, labels, strict=True) if lab and not g.correct]
    assert all(g.reason == "no_answer" for g in missed)


def test_r1distill_counts(external: Path) -> None:
    """Per-model correct counts next to the dataset's own (aggregate) counts."""
    rows = r1distill_rows(external)
    pairs = [(text, gold, tag) for tag, _, text, gold in rows]
    mathif = grade_many(pairs)
    reference = grade_many(pairs, grader="reference")
    counts: Counter[tuple[str, str, str]] = Counter()
    for (tag, model, _, _), m, r in zip(rows, mathif, reference, strict=True):
        counts[(tag, model, "mathif")] += m.correct
        counts[(tag, model, "reference")] += r.correct
    recorded = {}
    folder = external / "external" / "r1distill-thinking-llms-interp"
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        tag = "math500" if "math500" in path.name else "gsm8k"
        for model, n in data["results"]["correct_count"].items():
            recorded[(tag, model)] = n
    print()
    for (tag, model), n in sorted(recorded.items()):
        print(
            f"r1distill {tag}/{model}: recorded={n} mathif={counts[(tag, model, 'mathif')]} "
            f"reference={counts[(tag, model, 'reference')]}"
        )
    both = sum(a.correct == b.correct for a, b in zip(mathif, reference, strict=True))
    print(f"r1distill mathif==reference on {both}/{len(rows)}")
    disagreements = [
        (m, r) for m, r in zip(mathif, reference, strict=True) if m.correct != r.correct
    ]
    # mathif finds answers the official extraction misses (unboxed final sentences)
    assert sum(m.correct for m, _ in disagreements) > sum(r.correct for _, r in disagreements)
    # where the reasoning model boxed its answer, the two graders nearly agree (its outputs
    # cut off mid-thought differ by design: mathif credits an answer the trace stated)
    thinking = [
        (m, r)
        for (_, model, text, _), m, r in zip(rows, mathif, reference, strict=True)
        if model == "thinking_model" and "\\boxed" in text
    ]
    assert sum(m.correct == r.correct for m, r in thinking) >= 0.97 * len(thinking)
