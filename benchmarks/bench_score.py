"""End-to-end speed of `mathif score` against the official scorer, on a mix of 2,904 responses.

The mix is built reproducibly (seed 0) from the official items and real reasoning-model
outputs in ../shared/external: short answers, constraint-obeying rewrites (all caps, quoted,
no commas) and reasoning-length outputs, some truncated. Every command is timed as a user runs
it, as a fresh process (interpreter start and imports included), in the same run and
interleaved round by round, so that load from other processes hits all sides alike:

* ``official``: the official scorer in the benchmark's pinned environment (the venv that
  ``.ci/refenv.sh`` builds: VeRL 0.3 ``prime_math`` on sympy 1.13.1, lm-eval's IFEval checkers,
  nltk 3.9.1, langdetect 1.0.9), running the official pipeline through
  ``tests/official/scorer.py``'s ``eval_file``: read, split, the 15 checkers, ``compute_score``,
  write one verdict line per response;
* ``mathif score --grader reference`` / ``--grader mathif`` / ``--grader none``, bootstrap
  intervals and both output files included.

It prints each round's times and the ratios official / mathif, and the median ratio over the
rounds next to the targets (reference >= 10x, default grader >= 5x).

Bytecode: an installed package has its modules compiled (pip writes ``.pyc`` files at install
time; the reference venv has them), but an editable checkout run with
``PYTHONDONTWRITEBYTECODE=1`` (as some CI images set) recompiles every module of mathif in
every process. So every command runs with bytecode writing on, cached in a temporary
``PYTHONPYCACHEPREFIX``, and an untimed first round fills that cache for all sides.

    python benchmarks/bench_score.py [--shared ../shared] [--n 2904] [--rounds 3]
        [--refenv .ci/cache/refenv]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
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


TARGETS = {"reference": 10.0, "mathif": 5.0}


def timed(command: list[str], stdin: str | None = None, env: dict[str, str] | None = None
          ) -> float:
    """Wall seconds of one fresh process, from spawn to exit."""
    start = time.perf_counter()
    subprocess.run(command, input=stdin, text=True, check=True, stdout=subprocess.DEVNULL,
                   env=env)
    return time.perf_counter() - start


def installed_env(pycache: Path) -> dict[str, str]:
    """The environment of a process run from an installed package: bytecode cached."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def official_command(refenv: Path, inp: Path, out: Path) -> tuple[list[str], str] | None:
    """The official pipeline as one process of the pinned environment, or None if absent."""
    python = refenv / "bin" / "python"
    if not python.is_file():
        return None
    request = json.dumps({"op": "eval_file", "path": str(inp), "out": str(out)}) + "\n"
    return [str(python), str(REPO / "tests" / "official" / "scorer.py")], request


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--n", type=int, default=2904)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--refenv", type=Path, default=Path(
        os.environ.get("MATHIF_REFENV", REPO / ".ci" / "cache" / "refenv")))
    parser.add_argument("--graders", default="reference,mathif,none")
    args = parser.parse_args()
    graders = args.graders.split(",")
    records = build_mix(args.shared, args.n)
    with tempfile.TemporaryDirectory() as tmp:
        inp = Path(tmp) / "mix.jsonl"
        inp.write_text("".join(json.dumps(r) + "\n" for r in records))
        size = inp.stat().st_size / 1e6
        n = sum(len(r["output"]) for r in records)
        print(f"mix: {n} responses over {len(records)} items, {size:.1f} MB")
        official = official_command(args.refenv, inp, Path(tmp) / "official.jsonl")
        if official is None:
            print(f"no reference environment at {args.refenv} (bash .ci/refenv.sh builds it): "
                  "timing mathif only")
        env = installed_env(Path(tmp) / "pycache")
        ratios: dict[str, list[float]] = {g: [] for g in graders}
        for round_no in range(0, args.rounds + 1):  # round 0: untimed, fills the bytecode cache
            times: dict[str, float] = {}
            if official is not None:
                times["official"] = timed(*official, env=env)
            for grader in graders:
                times[grader] = timed(
                    [sys.executable, "-m", "mathif.cli", "score", str(inp), "--out",
                     str(Path(tmp) / grader), "--grader", grader, "--quiet"], env=env)
            if round_no == 0:
                python_start = timed([sys.executable, "-c", "pass"], env=env)
                print(f"bare python start: {python_start:.2f} s")
                continue
            line = "  ".join(f"{name} {sec:5.2f} s" for name, sec in times.items())
            if official is not None:
                for grader in graders:
                    ratios[grader].append(times["official"] / times[grader])
                line += "  |  " + "  ".join(
                    f"{g} {ratios[g][-1]:4.1f}x" for g in graders)
            print(f"round {round_no}: {line}")
        if official is not None:
            for grader in graders:
                ratio = statistics.median(ratios[grader])
                target = TARGETS.get(grader)
                verdict = "" if target is None else (
                    f" (target {target:.0f}x: {'met' if ratio >= target else 'NOT met'})")
                print(f"official / mathif score --grader {grader:9s}: median {ratio:5.2f}x"
                      f"{verdict}")


if __name__ == "__main__":
    main()
