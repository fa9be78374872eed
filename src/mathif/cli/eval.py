"""``mathif eval``: generate with a model, then score."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from mathif.cli.options import _grader, add_data_filters, add_grading_options
from mathif.cli.summary import format_summary
from mathif.evaluation import evaluate
from mathif.generation.engines import BACKEND_NAMES, resolve_backend


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("expected a JSON object, e.g. '{\"key\": 1}'")
    return value


def _seed(text: str) -> int | None:
    if text.lower() == "none":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("a seed is an integer or 'none'") from None


def add_eval_command(sub: Any) -> None:
    """Register ``mathif eval`` on the CLI's subparsers."""
    p = sub.add_parser(
        "eval",
        help="generate responses with a model, then score them",
        description="Generate the MathIF responses of a model (resumable: re-run the same "
        "command after a crash), score them, and write RUN_DIR/samples.jsonl and "
        "RUN_DIR/results.json as `mathif score` does.",
    )
    p.add_argument("--model", required=True,
                   help="model name or local path (openai: the served model name; replay: "
                   "the file of recorded responses)")
    p.add_argument("--backend", choices=BACKEND_NAMES, default="auto",
                   help="auto (default: vllm with a GPU, else hf), vllm, hf, openai, replay")
    p.add_argument("--data", help="dataset: hub (default, or $MATHIF_DATA), a folder of the "
                   "15 files, or one JSONL file")
    p.add_argument("--out", required=True, metavar="RUN_DIR",
                   help="run folder (created, or resumed when it exists)")
    add_data_filters(p)
    gen = p.add_argument_group("generation")
    gen.add_argument("--samples", type=int, default=1, help="samples per item (default 1)")
    gen.add_argument("--seed", type=_seed, default=0,
                     help="run seed; each (item, sample) gets a seed derived from it "
                     "(default 0; 'none' for unseeded sampling)")
    gen.add_argument("--max-tokens", type=int, default=16384,
                     help="max new tokens (default 16384, as in the paper)")
    gen.add_argument("--temperature", type=float, default=1.0, help="default 1.0 (paper)")
    gen.add_argument("--top-p", type=float, default=0.95, help="default 0.95 (paper)")
    gen.add_argument("--prompt-template", choices=("paper", "spaced"), default="paper",
                     help="user-message template (default: paper, byte-exact)")
    gen.add_argument("--system-prompt", help="a system message (default: none, as the paper)")
    gen.add_argument("--chat-template-kwargs", type=_json_object, metavar="JSON",
                     help="chat template arguments, e.g. '{\"enable_thinking\": false}'")
    gen.add_argument("--with-control", action="store_true",
                     help="also generate without the constraints (correct w/o constraints)")
    srv = p.add_argument_group("openai backend")
    srv.add_argument("--base-url", nargs="+", metavar="URL",
                     help="server base URL(s), e.g. http://127.0.0.1:8000/v1; several URLs "
                     "spread the requests over a fleet")
    srv.add_argument("--concurrency", type=int, help="requests in flight (default 32)")
    srv.add_argument("--request-timeout", type=float, metavar="SECONDS",
                     help="per-request timeout (default 1800)")
    srv.add_argument("--max-retries", type=int,
                     help="retries on 429/5xx/timeouts/connection errors (default 8)")
    srv.add_argument("--api-key-env", metavar="NAME",
                     help="environment variable holding the API key (default: "
                     "MATHIF_API_KEY, then OPENAI_API_KEY)")
    srv.add_argument("--extra-body", type=_json_object, metavar="JSON",
                     help="extra request fields, e.g. '{\"top_k\": 20}' (null removes one)")
    eng = p.add_argument_group("vllm / hf backends")
    eng.add_argument("--dtype", help="auto (default), bfloat16, float16, float32")
    eng.add_argument("--tensor-parallel-size", type=int, metavar="N")
    eng.add_argument("--pipeline-parallel-size", type=int, metavar="N")
    eng.add_argument("--data-parallel-size", type=int, metavar="N",
                     help="N engine replicas, each on its own GPUs")
    eng.add_argument("--max-model-len", type=int, metavar="N")
    eng.add_argument("--gpu-memory-utilization", type=float, metavar="F")
    eng.add_argument("--enforce-eager", action="store_true", default=None)
    eng.add_argument("--quantization")
    eng.add_argument("--engine-args", type=_json_object, metavar="JSON",
                     help="more vllm.LLM arguments, e.g. '{\"max_num_seqs\": 512}'")
    eng.add_argument("--batch-size", type=int, help="hf: sequences per batch (default 8)")
    eng.add_argument("--device", help="hf: cuda, cpu, mps (default: automatic)")
    eng.add_argument("--trust-remote-code", action="store_true", default=None)
    rep = p.add_argument_group("replay backend")
    rep.add_argument("--control-responses", metavar="FILE",
                     help="recorded responses of the control run (with --with-control)")
    add_grading_options(p)
    p.add_argument("--json", action="store_true", help="print results.json, not a table")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_eval)


OPTION_FLAGS = ("tensor_parallel_size", "pipeline_parallel_size", "data_parallel_size",
                "dtype", "max_model_len", "gpu_memory_utilization", "enforce_eager",
                "quantization", "trust_remote_code", "engine_args", "device", "batch_size",
                "base_url", "concurrency", "request_timeout", "max_retries", "api_key_env",
                "extra_body", "control_responses")


def cmd_eval(args: argparse.Namespace) -> int:
    options = {name: getattr(args, name) for name in OPTION_FLAGS}
    backend = resolve_backend(args.backend)
    if args.backend == "auto" and not args.quiet:
        print(f"mathif: --backend auto chose {backend}", file=sys.stderr)
    result = evaluate(
        args.model,
        backend=backend,
        data=args.data,
        out=args.out,
        sources=args.sources,
        counts=args.counts,
        limit=args.limit,
        samples=args.samples,
        seed=args.seed,
        temperature=args.temperature,
        top_p=args.top_p,
        max_tokens=args.max_tokens,
        prompt_template=args.prompt_template,
        system_prompt=args.system_prompt,
        chat_template_kwargs=args.chat_template_kwargs,
        with_control=args.with_control,
        grader=_grader(args.grader),
        grade_timeout=args.grade_timeout,
        workers=args.workers,
        options=options,
        progress=not args.quiet,
    )
    if args.json:
        print(json.dumps(result.results.to_record(), indent=2))
    else:
        print(format_summary(result.metrics))
        print(f"\nwrote {args.out}/samples.jsonl and {args.out}/results.json")
    failed = [s for s in (*result.samples, *(result.control_samples or ())) if not s.scored]
    if failed:
        print(f"mathif: {len(failed)} request(s) failed and are not scored (their error is in "
              f"{args.out}/samples.jsonl); run the same command again to retry them",
              file=sys.stderr)
    return 0
