"""Agreement with the official scorer on a large held-out-like corpus of hard responses.

Generates ``--per-item`` cases for each of the 420 official items (``tests/official/heldout.py``:
think/answer layouts x answer forms x constraint-following bodies), scores them with mathif and
with the official scorer in its pinned environment (``.ci/refenv.sh``; ``MATHIF_REFENV``), and
prints the agreement of answer splits, constraint verdicts and ``--grader reference``
correctness, with the differences by form, layout and constraint and examples of each.

Run: ``PYTHONPATH=src python benchmarks/conformance_reference.py [--per-item 40] [--seed 0]``
(``MATHIF_SHARED`` overrides the data folder).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-item", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--examples", type=int, default=20, help="examples per kind")
    ns = parser.parse_args()

    from tests.official import Official, refenv_python
    from tests.official.heldout import generate, measure

    import mathif

    shared = Path(os.environ.get("MATHIF_SHARED", ROOT.parent / "shared"))
    if not (shared / "mathif").is_dir():
        sys.exit(f"benchmark data not found at {shared} (set MATHIF_SHARED)")
    python = refenv_python()
    if python is None:
        sys.exit("the pinned reference environment is absent: run `bash .ci/refenv.sh` "
                 "or set MATHIF_REFENV")
    items = list(mathif.load(shared / "mathif"))
    cases = generate(items, per_item=ns.per_item, seed=ns.seed)
    start = time.perf_counter()
    oracle = Official(python)
    try:
        result = measure(oracle, cases)
    finally:
        oracle.close()
    # a few examples of each kind of difference
    kinds: dict[str, int] = {}
    kept = []
    for example in result.examples:
        kind = example.split(" ", 1)[0]
        kinds[kind] = kinds.get(kind, 0) + 1
        if kinds[kind] <= ns.examples:
            kept.append(example)
    result.examples = kept
    print(result.summary())
    print(f"\n{len(cases)} cases ({len(items)} items x {ns.per_item}) in "
          f"{time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
