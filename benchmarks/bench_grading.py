"""Grading speed on a reproducible mix of ~2,904 responses.

The mix: every real reasoning-model output under ``shared/external`` (DeepScaleR AIME-24
runs and the R1-distill GSM8K / MATH-500 runs; 2,586 answer parts) plus synthetic answers
over the official items' gold answers (correct, reformatted, constraint-shaped and wrong),
up to 2,904 responses.

Timed in one run:

* ``baseline``: the official grader's cost model - one process, no cache, no fast path:
  extract, normalise, then sympy ``simplify(a - b)`` for every pair that is not already
  string-equal (what the official ``compute_score`` does for most pairs);
* ``reference`` and ``mathif`` through ``grade_many``, cold (empty cache, workers not
  started) and warm (cached), and once more in a fresh interpreter including the import.

Run: ``python benchmarks/bench_grading.py`` (``MATHIF_SHARED`` overrides the data folder).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from mathif.split import answer_part

ROOT = Path(__file__).resolve().parents[1]
TOTAL = 2904


def shared_dir() -> Path:
    env = os.environ.get("MATHIF_SHARED")
    return Path(env) if env else ROOT.parent / "shared"


def real_outputs(shared: Path) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for path in sorted((shared / "external" / "deepscaler-aime24-tegra").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                responses = row["generated_responses"]
                if isinstance(responses, str):
                    responses = ast.literal_eval(responses)
                rows += [(answer_part(r), str(row["gold_answer"]), "aime") for r in responses]
    for path in sorted((shared / "external" / "r1distill-thinking-llms-interp").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        tag = "math500" if "math500" in path.name else "gsm8k"
        for task in data["tasks"]:
            gold = task["correct_answer"]
            gold = gold.split("####")[-1].strip() if "####" in gold else gold
            rows += [(answer_part(t), gold, tag) for t in task["model_answers"].values()]
    return rows


def synthetic(shared: Path, count: int) -> list[tuple[str, str, str]]:
    items = []
    for path in sorted((shared / "mathif").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                items.append((row["answer"], path.stem.split("_")[0]))
    forms = [
        lambda g, o: f"Thus the answer is \\boxed{{{g}}}.",
        lambda g, o: f"THE FINAL ANSWER IS \\BOXED{{{g}}}.",
        lambda g, o: f'"We conclude that the result is \\boxed{{{g}}}."',
        lambda g, o: f"\\boxed{{{g}}}. Is there anything else I can help with?",
        lambda g, o: f"La respuesta es \\boxed{{{g}}}.",
        lambda g, o: f"So we get \\boxed{{{o}}}.",
        lambda g, o: f"The answer is {g}.",
        lambda g, o: f"Hence the total is \\boxed{{{o}}}. Any other questions?",
    ]
    out = []
    for i in range(count):
        gold, source = items[(i * 37) % len(items)]
        other = items[(i * 53 + 11) % len(items)][0]
        out.append((forms[i % len(forms)](gold, other), gold, source))
    return out


def build_mix(shared: Path) -> list[tuple[str, str, str]]:
    real = real_outputs(shared)
    return real + synthetic(shared, max(0, TOTAL - len(real)))


def baseline(pairs: list[tuple[str, str, str]]) -> list[bool]:
    """Straightforward per-pair sympy comparison, as the official grader costs."""
    import sympy

    from mathif.grading import reference, safe_expr

    verdicts = []
    for text, gold, _ in pairs:
        _, extracted = reference.extract(text)
        a = reference.prm_normalize(extracted)
        b = reference.prm_normalize(gold)
        if a == b:
            verdicts.append(True)
            continue
        try:
            tree = safe_expr.parse(f"({b})-({a})".replace("^", "**"), safe_expr.PRM800K_DIALECT)
            verdicts.append(bool(sympy.simplify(safe_expr.to_sympy(tree)) == 0))
        except Exception:
            verdicts.append(False)
    return verdicts


def timed(label: str, fn, n: int, base: float | None) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - start
    ratio = f"  {base / elapsed:6.1f}x faster than baseline" if base else ""
    print(f"{label:<44} {elapsed:8.2f} s  {1000 * elapsed / n:7.3f} ms/response{ratio}")
    return elapsed


FRESH_RUN = """
import json, sys, time
t0 = time.perf_counter()
from mathif.grading import grade_many
pairs = [tuple(p) for p in json.load(open(sys.argv[1]))]
grade_many(pairs, grader=sys.argv[2])
print(time.perf_counter() - t0)
"""


def main() -> None:
    shared = shared_dir()
    if not (shared / "external").is_dir():
        sys.exit(f"benchmark data not found at {shared} (set MATHIF_SHARED)")
    pairs = build_mix(shared)
    n = len(pairs)
    print(
        f"mix: {n} responses ({len(real_outputs(shared))} real outputs, the rest synthetic), "
        f"{os.cpu_count()} CPUs\n"
    )

    from mathif.grading import api, clear_cache, grade_many

    base = timed("baseline (official cost model, 1 process)", lambda: baseline(pairs), n, None)
    for grader in ("reference", "mathif"):
        clear_cache()
        api.shared_pool().close()
        timed(
            f"{grader}: cold (no cache, workers not started)",
            lambda g=grader: grade_many(pairs, grader=g),
            n,
            base,
        )
        timed(f"{grader}: warm (cached)", lambda g=grader: grade_many(pairs, grader=g), n, base)

    dump = Path(os.environ.get("TMPDIR", "/tmp")) / "mathif_bench_pairs.json"
    dump.write_text(json.dumps(pairs), encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    for grader in ("reference", "mathif"):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", FRESH_RUN, str(dump), grader],
            env=env,
            check=True,
            capture_output=True,
        )
        elapsed = time.perf_counter() - start
        print(
            f"{grader + ': fresh interpreter, import included':<44} {elapsed:8.2f} s  "
            f"{1000 * elapsed / n:7.3f} ms/response  {base / elapsed:6.1f}x faster than baseline"
        )
    dump.unlink()


if __name__ == "__main__":
    main()
