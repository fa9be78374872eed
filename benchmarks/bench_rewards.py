"""Reward speed: a batch of 1,024 reasoning-length completions, warm, on one core.

The batch: real reasoning-model outputs from ../shared/external (DeepScaleR AIME-24 runs,
the R1-distill "thinking" outputs on MATH-500 and GSM8K, then the "hybrid" ones to fill up to
1,024; about 5,000 characters each, a third of them cut before ``</think>``), each against
its own gold answer and the constraints that ``mathif.build`` (balanced, seed 0) attached to
its question.

Timed, in one process pinned to one core (the grading workers inherit the pin):

* ``rewards``: ``mathif.rewards.score_completions`` (what the TRL reward and verl's
  ``compute_score_batch`` run), warm (imports, language profiles, tokenizer tables and a
  grading worker ready) but with the grading cache cleared before every round: each round
  grades its answers afresh, as new completions in training would be;
* ``score``: ``mathif.score`` on the same (item, response) pairs: the benchmark's scoring
  path (verdicts, grades, metrics with bootstrap intervals), the baseline the ratio is to;
* with one pathological completion added (a sympy bomb, 3 MB of text, 3,000 unclosed boxes,
  199,000 characters that make capital-word counting slowest),
  the batch time minus the clean batch time, against the grading timeout.

Run: ``python benchmarks/bench_rewards.py [--grader reference] [--rounds 5]``.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BATCH = 1024


def shared_dir() -> Path:
    env = os.environ.get("MATHIF_SHARED")
    return Path(env) if env else ROOT.parent / "shared"


def real_outputs(shared: Path) -> list[tuple[str, str, str, str]]:
    """(question, raw output, gold, source), reasoning-length ones first."""
    first: list[tuple[str, str, str, str]] = []
    later: list[tuple[str, str, str, str]] = []
    for path in sorted((shared / "external" / "deepscaler-aime24-tegra").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                responses = row["generated_responses"]
                if isinstance(responses, str):
                    responses = ast.literal_eval(responses)
                first += [(row["question"], r, str(row["gold_answer"]), "aime")
                          for r in responses]
    folder = shared / "external" / "r1distill-thinking-llms-interp"
    for path in sorted(folder.glob("*.json")):
        tag = "math500" if "math500" in path.name else "gsm8k"
        for task in json.loads(path.read_text(encoding="utf-8"))["tasks"]:
            gold = task["correct_answer"]
            gold = gold.split("####")[-1].strip() if "####" in gold else gold
            answers = task["model_answers"]
            first.append((task["question"], answers["thinking_model"], gold, tag))
            later.append((task["question"], answers["hybrid_model"], gold, tag))
    return (first + later)[:BATCH]


def batch(shared: Path) -> tuple[list[str], list[Any], list[Any]]:
    """The completions, their reward cases and their MathIF items."""
    from mathif.builder import build
    from mathif.rewards import Case

    rows = real_outputs(shared)
    problems = [{"question": q, "answer": g, "source": s} for q, _, g, s in rows]
    built = build(problems, seed=0, overlap_mode="report", answer_format="raw")
    by_question = {item.question: item for item in built.splits["all"]}
    items = [by_question[q] for q, _, _, _ in rows]
    cases = [Case(i.answer, i.constraint_name, i.constraint_args, i.source) for i in items]
    return [r for _, r, _, _ in rows], cases, items


def median_time(fn: Any, rounds: int, before: Any = None) -> tuple[float, float]:
    """Median wall time and median CPU time of this process (the CPU time is what "one core"
    costs whatever else the machine runs; the wall time is what a trainer waits)."""
    walls, cpus = [], []
    for _ in range(rounds):
        if before is not None:
            before()
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--grader", default="reference", choices=("reference", "mathif"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=5.0)
    opts = parser.parse_args()
    shared = shared_dir()
    if not (shared / "external").is_dir():
        sys.exit(f"benchmark data not found at {shared} (set MATHIF_SHARED)")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core, workers too

    import mathif
    from mathif.grading import clear_cache
    from mathif.rewards import Case, RewardConfig, score_completions

    texts, cases, items = batch(shared)
    chars = [len(t) for t in texts]
    print(f"batch: {len(texts)} completions, mean {statistics.mean(chars):.0f} chars "
          f"(max {max(chars)}), {sum('</think>' not in t for t in texts)} without </think>; "
          f"grader {opts.grader}; one core")
    config = RewardConfig(grader=opts.grader, timeout=opts.timeout, workers=1)

    def rewards() -> None:
        score_completions(texts, cases, config)

    def score() -> None:
        mathif.score(items, texts, grader=opts.grader, workers=1, timeout=opts.timeout)

    rewards()  # warm: imports, language profiles, tokenizer tables, a grading worker
    score()
    (t_rewards, c_rewards) = median_time(rewards, opts.rounds, clear_cache)
    (t_score, c_score) = median_time(score, opts.rounds, clear_cache)
    (t_cached, c_cached) = median_time(rewards, opts.rounds)
    n = len(texts)
    print(f"{'':<44} {'wall':>8} {'CPU':>8}")
    print(f"{'rewards, warm, grading cache cleared':<44} {t_rewards:7.3f}s {c_rewards:7.3f}s  "
          f"{n / c_rewards:6.0f} completions/CPU-s  (target < 0.5 s)")
    print(f"{'rewards, warm, grading cache kept':<44} {t_cached:7.3f}s {c_cached:7.3f}s  "
          f"{n / c_cached:6.0f} completions/CPU-s")
    print(f"{'baseline: mathif.score on the same pairs':<44} {t_score:7.3f}s {c_score:7.3f}s  "
          f"{n / c_score:6.0f} completions/CPU-s; rewards {c_score / c_rewards:.1f}x faster")

    bombs = {
        "sympy bomb": "<think>x</think>\\boxed{" + "+".join(
            f"(x^{i}+1)^{i}" for i in range(40, 60)) + "}",
        "3 MB of text": "<think>" + "step " * 600_000 + "</think>\\boxed{1}",
        "3,000 unclosed boxes": "<think>x</think>" + "\\boxed{" * 3000,
        "199,000 chars of A.B. Mr. (capital words)": "<think>x</think>" + (
            "A.B. C.D. Mr. X-Y \"Z\" " * 9000)[:199_000],
    }
    capital_case = Case("1", ("change_case:capital_word_frequency",),
                        ({"capital_frequency": 5, "capital_relation": "at least"},), None)
    for name, bomb in bombs.items():
        extra_cases = [*cases, capital_case if "capital" in name else cases[0]]

        def with_bomb(b: str = bomb, c: list[Any] = extra_cases) -> None:
            score_completions([*texts, b], c, config)

        t_bomb, c_bomb = median_time(with_bomb, 3, clear_cache)
        print(f"{'+ ' + name:<44} {t_bomb:7.3f}s {c_bomb:7.3f}s  (+{t_bomb - t_rewards:.2f} s "
              f"wall; timeout {opts.timeout:.0f} s)")


if __name__ == "__main__":
    main()
