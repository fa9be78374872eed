"""Run inside a venv that has verl (``.ci/verlenv.sh``): load mathif's reward through verl's own
code and score a batch through verl's reward managers. Prints one JSON object.

verl pins transformers below the version mathif's test extra pins, so it cannot live in the
test environment: ``tests/test_verl_integration.py`` runs this script in the throwaway venv.
Usage: python tests/verl_driver.py REWARDS_PY TMP_DIR
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any


def main(rewards_path: str, tmp: str) -> dict[str, Any]:
    import numpy as np
    import torch
    from omegaconf import OmegaConf
    from transformers import AutoTokenizer
    from verl import DataProto
    from verl.trainer.ppo.reward import get_custom_reward_fn

    from mathif.generation.tiny import build_tiny_model

    out: dict[str, Any] = {}
    names = ["punctuation:no_comma", "keywords:existence"]
    args = json.dumps([None, {"keywords": ["same", "value"]}])
    info = {"constraint_name": names, "constraint_args": args, "source": "gsm8k"}

    def config(name: str, **kwargs: Any) -> Any:
        return OmegaConf.create({"reward": {"custom_reward_function": {
            "path": rewards_path, "name": name, "reward_kwargs": kwargs}}})

    # 1. verl's loader (custom_reward_function.path / name / reward_kwargs)
    single = get_custom_reward_fn(config("compute_score"))
    good = "<think>6 times 7</think>The same value: \\boxed{42}"
    out["single"] = single(data_source="mathif", solution_str=good, ground_truth="42",
                           extra_info=info)
    weighted = get_custom_reward_fn(config("compute_score", hard=2.0, soft=0.0, format=0.0))
    out["weighted"] = weighted(data_source="mathif", solution_str=good, ground_truth="42",
                               extra_info=info)

    # 2. a batch through verl's reward managers, on token ids of a real tokenizer
    model_dir = build_tiny_model(f"{tmp}/tiny")
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    responses = [good, "<think>x</think>The same value, \\boxed{41}", "no think, \\boxed{42}"]
    prompts = ["What is 6 times 7?"] * len(responses)
    p_ids = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
    r_ids = [tokenizer(r, add_special_tokens=False)["input_ids"] for r in responses]
    plen, rlen = max(map(len, p_ids)), max(map(len, r_ids)) + 3
    pad = tokenizer.pad_token_id
    prompt_t = torch.tensor([[pad] * (plen - len(x)) + x for x in p_ids])
    resp_t = torch.tensor([x + [pad] * (rlen - len(x)) for x in r_ids])
    mask = torch.tensor([[0] * (plen - len(p)) + [1] * len(p) + [1] * len(r)
                         + [0] * (rlen - len(r)) for p, r in zip(p_ids, r_ids, strict=True)])
    non_tensors = {
        "data_source": np.array(["mathif"] * len(responses), dtype=object),
        "reward_model": np.array([{"style": "rule", "ground_truth": "42"}] * len(responses),
                                 dtype=object),
        "extra_info": np.array([dict(info) for _ in responses], dtype=object),
    }
    data = DataProto.from_dict(
        tensors={"prompts": prompt_t, "responses": resp_t, "attention_mask": mask,
                 "input_ids": torch.cat([prompt_t, resp_t], dim=1)},
        non_tensors=non_tensors)

    from verl.workers.reward_manager.batch import BatchRewardManager

    batch_fn = get_custom_reward_fn(config("compute_score_batch"))
    manager = BatchRewardManager(tokenizer, num_examine=0, compute_score=batch_fn)
    result = manager(data, return_dict=True)
    lengths = mask[:, plen:].sum(dim=1).tolist()
    out["batch_scores"] = [float(result["reward_tensor"][i, n - 1]) for i, n in
                           enumerate(lengths)]
    out["batch_extra"] = {k: [float(v) for v in vals]
                          for k, vals in result["reward_extra_info"].items()}

    from verl.experimental.reward_loop.reward_manager.naive import NaiveRewardManager

    naive = NaiveRewardManager(OmegaConf.create({}), tokenizer, single)

    async def run_all() -> list[Any]:
        return [await naive.run_single(data[i:i + 1]) for i in range(len(responses))]

    naive.loop = asyncio.new_event_loop()
    out["naive"] = [r["reward_score"] for r in naive.loop.run_until_complete(run_all())]

    # 3. the example config (examples/verl/mathif_grpo.yaml) composed by hydra over verl's
    # own ppo_trainer defaults, and its reward loaded from it
    from hydra import compose, initialize_config_dir

    repo = Path(rewards_path).resolve().parents[2]
    example = repo / "examples" / "verl"
    with initialize_config_dir(config_dir=str(example), version_base=None):
        cfg = compose(config_name="mathif_grpo", overrides=[
            f"reward.custom_reward_function.path={example / 'mathif_reward.py'}"])
    out["config_algorithm"] = cfg.algorithm.adv_estimator
    from_config = get_custom_reward_fn(cfg)
    out["from_config"] = from_config(data_source="mathif", solution_str=good,
                                     ground_truth="42", extra_info=info)

    # 4. the example's parquet, read back by verl's RL dataset, scored from its own rows
    sys.path.insert(0, str(example))
    import prepare_data

    from mathif.builder import build

    problems = [{"question": f"What is {i} plus {i}?", "answer": str(2 * i)} for i in range(8)]
    build(problems, seed=0, split=(0.5, 0.25, 0.25)).write(f"{tmp}/built")
    prepare_data.main(f"{tmp}/built", f"{tmp}/parquet")
    from verl.utils.dataset.rl_dataset import RLHFDataset

    dataset = RLHFDataset(data_files=[f"{tmp}/parquet/train.parquet"], tokenizer=tokenizer,
                          config=OmegaConf.create({"max_prompt_length": 2048,
                                                   "filter_overlong_prompts": False}))
    row = dataset[0]
    answer = f"<think>ok</think>The answer is \\boxed{{{row['reward_model']['ground_truth']}}}"
    out["parquet_row"] = from_config(data_source=row["data_source"], solution_str=answer,
                                     ground_truth=row["reward_model"]["ground_truth"],
                                     extra_info=row["extra_info"])
    out["parquet_names"] = list(row["extra_info"]["constraint_name"])
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
