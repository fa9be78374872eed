"""Hostile answers through both graders: bounded time, zero hangs, zero crashes.

10,000 generated hostile answer texts (``tests/grading/hostile.py``: repetitions of the
grading patterns' tokens and of runs of spaces, braces, backslashes, digits, nested and
unclosed boxes, in the contexts the graders meet them; sizes up to ~20,000 characters of
repeated material, plus 1 % of texts longer than the in-process limit) are split as the
pipeline splits outputs and graded against gold answers of every kind, once per grader.

Pass criteria (issue 9, "How we will know"):

* every ``grade_many`` call returns a verdict for every answer (no exception: zero crashes);
* the wall time of each grader's run is below ``count x deadline`` (zero hangs; a watchdog
  aborts the benchmark if that bound passes);
* the reasons are only match / mismatch / no_answer / timeout / error, and the number of
  timeouts is reported.

Run: ``python benchmarks/bench_hostile.py [COUNT] [DEADLINE]`` (defaults 10000 and 5.0).
"""

from __future__ import annotations

import os
import random
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.grading.hostile import GOLDS, sample  # noqa: E402


def build(count: int, seed: int = 0) -> list[tuple[str, str, str | None]]:
    """``count`` (answer text, gold, source) triples; 1 % are longer than 256 Ki characters."""
    from mathif.split import answer_part

    rng = random.Random(seed)
    texts = sample(count, seed=seed, max_chars=20_000)
    sources = [None, "math500", "aime", "gsm8k", "minerva", "olympiad"]
    out: list[tuple[str, str, str | None]] = []
    for i, text in enumerate(texts):
        if i % 100 == 99:
            text = text + " filler" * 45_000  # past the in-process limit: a whole worker job
        out.append((answer_part(text), rng.choice(GOLDS), rng.choice(sources)))
    return out


def watchdog(seconds: float, label: str) -> threading.Timer:
    def fire() -> None:
        print(f"HANG: {label} still running after {seconds:.0f} s", flush=True)
        os._exit(3)

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    return timer


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    deadline = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
    from mathif.grading import api, clear_cache, grade_many

    pairs = build(count)
    chars = sum(len(t) for t, _, _ in pairs)
    whole = sum(len(t) > api.inline_limit(deadline) for t, _, _ in pairs)
    print(
        f"{count} hostile answers, {chars / 1e6:.1f} M characters, {whole} past the in-process "
        f"limit; deadline {deadline:g} s, bound {count * deadline:,.0f} s per grader; "
        f"{os.cpu_count()} CPUs\n"
    )
    failed = False
    for grader in ("mathif", "reference"):
        clear_cache()
        timer = watchdog(count * deadline, grader)
        start = time.perf_counter()
        try:
            results = grade_many(pairs, grader=grader, timeout=deadline)
        except Exception as exc:  # a crash: the run would have aborted
            timer.cancel()
            print(f"{grader}: CRASH {type(exc).__name__}: {exc}")
            failed = True
            continue
        elapsed = time.perf_counter() - start
        timer.cancel()
        reasons = Counter(r.reason for r in results)
        ok = len(results) == count and set(reasons) <= {
            "match", "mismatch", "no_answer", "ambiguous", "timeout", "error"
        }
        failed = failed or not ok or elapsed > count * deadline
        print(
            f"{grader:<10} {elapsed:8.1f} s wall  {1000 * elapsed / count:7.2f} ms/answer  "
            f"{elapsed / (count * deadline):8.2%} of the bound  "
            + "  ".join(f"{k}={v}" for k, v in sorted(reasons.items()))
        )
    print("\nzero hangs, zero crashes" if not failed else "\nFAILED")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
