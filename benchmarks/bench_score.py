"""End-to-end speed of `mathif score`, import included, on a mix of 2,904 responses.

The mix is built reproducibly (seed 0) from the official items and real reasoning-model
outputs in ../shared/external: short answers, constraint-obeying rewrites (all caps, quoted,
no commas) and reasoning-length outputs, some truncated. The command is timed as a user runs
it: a fresh interpreter, both graders, outputs written.

    python benchmarks/bench_score.py [--shared ../shared] [--n 2904]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def reasoning_texts(shared: Path) -> list[str]:
    texts: list[str] = []
    folder = shared / "external" / "r1distill-thinking-llms-interp"
    for path in sorted(folder.glob("*.json")):
        for task in json.loads(path.read_text())["tasks"]:
            for answer in task["model_answers"].values():
                if isinstance(answer, str) and answer:
                    texts.append(answer)
    return texts


def build_mix(shared: Path, n: int, seed: int = 0) -> list[dict]:
    """The 420 official items, each with an ``output`` list of samples; ``n`` responses in all."""
    rng = random.Random(seed)
    items = []
    for path in sorted((shared / "mathif").glob("*.jsonl")):
        items += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    long_texts = reasoning_texts(shared)
    outputs: list[list[str]] = [[] for _ in items]
    for k in range(n):
        item = items[k % len(items)]
        gold = item["answer"]
        kind = rng.randrange(7)
        if kind == 0:
            response = f"<think>Let me compute.</think>The answer is $\\boxed{{{gold}}}$."
        elif kind == 1:
            response = f"</think>THE FINAL ANSWER IS \\BOXED{{{gold.upper()}}}"
        elif kind == 2:
            response = f'"{item["question"]} So the answer is \\boxed{{{gold}}}."'
        elif kind == 3:
            response = rng.choice(long_texts)  # reasoning-length, other problem
        elif kind == 4:
            response = "<think>" + rng.choice(long_texts)  # truncated: never closed
        elif kind == 5:
            body = rng.choice(long_texts)
            response = f"<think>{body[:4000]}</think>{body[-1500:]} \\boxed{{{gold}}}"
        else:
            response = f"answer: {gold}" if rng.random() < 0.5 else "I do not know."
        outputs[k % len(items)].append(response)
    return [
        {**item, "key": f"item:{i}", "output": out}
        for i, (item, out) in enumerate(zip(items, outputs, strict=True))
        if out
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--n", type=int, default=2904)
    args = parser.parse_args()
    records = build_mix(args.shared, args.n)
    with tempfile.TemporaryDirectory() as tmp:
        inp = Path(tmp) / "mix.jsonl"
        inp.write_text("".join(json.dumps(r) + "\n" for r in records))
        size = inp.stat().st_size / 1e6
        n = sum(len(r["output"]) for r in records)
        print(f"mix: {n} responses over {len(records)} items, {size:.1f} MB")
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        python_start = time.perf_counter() - start
        for grader in ("mathif", "reference", "none"):
            out = Path(tmp) / grader
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "mathif.cli", "score", str(inp), "--out", str(out),
                 "--grader", grader, "--quiet"],
                check=True, stdout=subprocess.DEVNULL,
            )
            elapsed = time.perf_counter() - start
            print(f"mathif score --grader {grader:9s}: {elapsed:6.2f} s "
                  f"({n / elapsed:7.0f} responses/s; bare python start "
                  f"{python_start:.2f} s)")


if __name__ == "__main__":
    main()
