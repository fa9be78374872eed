"""GRPO with TRL on a MathIF-style set, rewarded by mathif's checkers and grader.

    pip install 'mathif[train]'                                # trl, datasets
    mathif build gsm8k_train.jsonl --out gsm8k-if --split 0.98,0.01,0.01
    python examples/trl_grpo.py --model Qwen/Qwen3-0.6B --data gsm8k-if/train.jsonl \\
        --out runs/qwen3-0.6b-if

The reward (``mathif.rewards``) is: correctness + 0.5 hard + 0.5 soft instruction following
+ 0.1 for closed think tags, on the answer part after ``</think>`` (change the mix with the
``--w-*`` flags). TRL logs each term (``mathif/correct``, ``mathif/hard``, ...) next to its
own metrics. Evaluate the result on MathIF itself with ``mathif eval --model OUT ...``.
"""

from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="model name or folder")
    parser.add_argument("--data", required=True,
                        help="a set written by `mathif build` (a .jsonl file or the folder)")
    parser.add_argument("--out", required=True, help="output folder for checkpoints")
    parser.add_argument("--max-steps", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=8, help="prompts x generations per "
                        "device and step")
    parser.add_argument("--num-generations", type=int, default=8)
    parser.add_argument("--max-completion-length", type=int, default=4096)
    parser.add_argument("--learning-rate", type=float, default=1e-6)
    parser.add_argument("--grader", choices=("mathif", "reference"), default="mathif")
    parser.add_argument("--w-correct", type=float, default=1.0)
    parser.add_argument("--w-hard", type=float, default=0.5)
    parser.add_argument("--w-soft", type=float, default=0.5)
    parser.add_argument("--w-format", type=float, default=0.1)
    parser.add_argument("--cpu", action="store_true", help="train on the CPU (tests)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    import mathif
    from mathif.rewards import make_reward, training_rows

    items = mathif.load(args.data)
    train = Dataset.from_list(training_rows(items, conversational=True))
    reward = make_reward(correct=args.w_correct, hard=args.w_hard, soft=args.w_soft,
                         format=args.w_format, grader=args.grader)
    config = GRPOConfig(
        output_dir=args.out,
        max_steps=args.max_steps,
        per_device_train_batch_size=args.batch_size,
        num_generations=args.num_generations,
        max_completion_length=args.max_completion_length,
        learning_rate=args.learning_rate,
        logging_steps=1,
        save_strategy="no" if args.cpu else "steps",
        report_to="none",
        use_cpu=args.cpu,
        bf16=not args.cpu,
        seed=args.seed,
    )
    trainer = GRPOTrainer(model=args.model, reward_funcs=reward, args=config,
                          train_dataset=train)
    trainer.train()
    if not args.cpu:
        trainer.save_model(args.out)


if __name__ == "__main__":
    main()
