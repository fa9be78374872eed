"""verl's parquet files from a set written by ``mathif build``.

    mathif build gsm8k_train.jsonl --out gsm8k-if --split 0.98,0.01,0.01
    python examples/verl/prepare_data.py gsm8k-if data/mathif-verl

writes ``data/mathif-verl/train.parquet`` and ``test.parquet`` (from the ``test`` split, or
the ``dev`` one when there is no test split): the benchmark's prompt as the user message,
the gold answer as ``reward_model.ground_truth``, the constraints in ``extra_info``, which is
what ``mathif.rewards.compute_score`` reads.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(built: str, out: str) -> None:
    from datasets import Dataset

    import mathif
    from mathif.rewards import verl_rows

    folder, target = Path(built), Path(out)
    target.mkdir(parents=True, exist_ok=True)
    evaluation = "test" if (folder / "test.jsonl").is_file() else "dev"
    for name, split in (("train", "train"), ("test", evaluation)):
        items = mathif.load(folder / f"{split}.jsonl")
        Dataset.from_list(verl_rows(items)).to_parquet(str(target / f"{name}.parquet"))
        print(f"{target / f'{name}.parquet'}: {len(items)} rows")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python examples/verl/prepare_data.py BUILT_DIR OUT_DIR")
    main(sys.argv[1], sys.argv[2])
