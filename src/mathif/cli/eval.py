"""``mathif eval``: generate with a model, then score.

Every flag but the folder and output ones comes from a declared option: the run
configuration (:class:`~mathif.config.RunConfig`), the decoding settings, the grading
settings and each backend's options (:mod:`mathif.generation.engines`).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections import Counter
from collections.abc import Sequence
from typing import Any

from mathif.cli.codes import EXIT_INCOMPLETE
from mathif.cli.options import (
    add_data_filters,
    add_grading_options,
    add_option,
    add_options,
    flag_name,
    grading_of,
    selection_of,
    values_of,
)
from mathif.cli.summary import format_summary
from mathif.config import RunConfig
from mathif.generation.engines import OPTIONS, BackendOptions, resolve_backend
from mathif.generation.protocol import Sampling
from mathif.metrics import error_message
from mathif.options import option_fields
from mathif.probes.settings import ProbeSettings
from mathif.prompts import TEMPLATES
from mathif.samples import Sample

log = logging.getLogger("mathif")


def add_command(sub: Any, name: str, help_text: str) -> None:
    """Register ``mathif eval`` on the CLI's subparsers."""
    p = sub.add_parser(
        name,
        help=help_text,
        description="Generate the MathIF responses of a model (resumable: re-run the same "
        "command after a crash), score them, and write RUN_DIR/samples.jsonl and "
        "RUN_DIR/results.json as `mathif score` does.",
    )
    add_options(p, RunConfig, only=("model", "backend"), required=("model",))
    p.add_argument("--data", help="dataset: hub (default, or $MATHIF_DATA), a folder of the "
                   "15 files, or one JSONL file")
    p.add_argument("--out", required=True, metavar="RUN_DIR",
                   help="run folder (created, or resumed when it exists)")
    add_data_filters(p)
    gen = p.add_argument_group("generation")
    add_options(gen, RunConfig, skip=("model", "backend"))
    gen.add_argument("--template", dest="prompt_template", choices=TEMPLATES,
                     default=argparse.SUPPRESS, help="the same as --prompt-template")
    add_options(gen, Sampling)
    probes = p.add_argument_group(
        "probes", "intervene in the reasoning (one probe per run; see README, \"Reproducing "
        "the paper's analyses\"); several values of --force-continue or --think-budget run a "
        "sweep: one run folder per value under --out, and --out/sweep.json")
    add_options(probes, ProbeSettings)
    _add_backend_options(p)
    add_grading_options(p)
    p.add_argument("--json", action="store_true", help="print results.json, not a table")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_eval)


def _add_backend_options(parser: argparse.ArgumentParser) -> None:
    """One flag per backend option, in its backend's section; an option two backends share
    (``--dtype``) is one flag."""
    groups: dict[str, Any] = {}
    seen: set[str] = set()
    for cls in OPTIONS.values():
        group = groups.get(cls.group)
        if group is None:
            group = groups[cls.group] = parser.add_argument_group(cls.group)
        for f, spec in option_fields(cls):
            if f.name not in seen:
                seen.add(f.name)
                add_option(group, f, spec, default=None)


def backend_options_of(args: argparse.Namespace, backend: str) -> BackendOptions:
    """The options of ``backend`` from the flags; a flag of another backend is an error."""
    given: dict[str, Any] = {}
    for cls in OPTIONS.values():
        given.update({k: v for k, v in values_of(args, cls).items() if v is not None})
    stray = [name for name in given if name not in {f.name for f, _ in
                                                    option_fields(OPTIONS[backend])}]
    if stray:
        shown = ", ".join(flag_name(s) for s in sorted(stray))
        raise ValueError(f"{shown} do(es) not apply to the {backend} backend")
    return OPTIONS[backend].of(given)


def config_of(args: argparse.Namespace) -> RunConfig:
    backend = resolve_backend(args.backend)
    if args.backend == "auto" and not args.quiet:
        log.warning("--backend auto chose %s", backend)
    return RunConfig(
        sampling=Sampling(**values_of(args, Sampling)),
        grading=grading_of(args),
        options=backend_options_of(args, backend),
        probe=ProbeSettings(**values_of(args, ProbeSettings)),
        **{**values_of(args, RunConfig), "backend": backend},
    )


def cmd_sweep(args: argparse.Namespace, config: RunConfig) -> int:
    """Several values of a probe: one run folder per value, and the curve."""
    from mathif.cli.summary import format_sweep
    from mathif.probes.sweep import evaluate_sweep
    from mathif.run import UngradedAnswersError

    try:
        result = evaluate_sweep(config, out=args.out, data=args.data,
                                selection=selection_of(args), progress=not args.quiet)
    except UngradedAnswersError as exc:  # every folder is written: point at them, then fail
        print(f"mathif: the sweep's folders and {args.out}/sweep.json are written",
              file=sys.stderr)
        raise exc
    if args.json:
        print(json.dumps(result.summary, indent=2))
    else:
        print(format_sweep(result.summary))
        print(f"\nwrote {len(result.folders)} run folders and {args.out}/sweep.json")
    failed = sum(1 for r in result.results for s in (*r.samples, *(r.control_samples or ()))
                 if not s.scored)
    if failed:
        print(f"mathif: incomplete: {failed} transcript(s) failed and are not scored; run the "
              "same command again to retry them (what succeeded is kept)", file=sys.stderr)
        return EXIT_INCOMPLETE
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from mathif.evaluation import evaluate_config
    from mathif.run import UngradedAnswersError

    config = config_of(args)
    if args.quiet and config.backend in ("hf", "vllm"):
        from mathif.hub import silence_libraries

        silence_libraries()  # transformers' "Loading weights" bar, the Hub's download bars
    if config.probe.is_sweep:
        return cmd_sweep(args, config)
    try:
        result = evaluate_config(config, out=args.out, data=args.data,
                                 selection=selection_of(args), progress=not args.quiet)
        failure = None
    except UngradedAnswersError as exc:  # the files are written: show the run, then fail
        result, failure = exc.result, exc
    if args.json:
        print(json.dumps(result.results.to_record(), indent=2))
    else:
        print(format_summary(result.metrics))
        print(f"\nwrote {args.out}/samples.jsonl and {args.out}/results.json")
    failed = [s for s in (*result.samples, *(result.control_samples or ())) if not s.scored]
    if not failed:
        if failure is not None:
            raise failure
        return 0
    print(failed_requests_message(failed, len(result.samples)
                                  + len(result.control_samples or ()), config.backend,
                                  args.out), file=sys.stderr)
    if failure is not None:
        print(f"mathif: error: {failure}", file=sys.stderr)
    return EXIT_INCOMPLETE


def failed_requests_message(failed: Sequence[Sample], total: int, backend: str,
                            out: str) -> str:
    """What the user reads when requests still failed after their retries: how many, the
    first distinct error (most runs fail for one reason), and what to do."""
    errors = Counter(error_message(s) for s in failed)
    first, count = next(iter(errors.items()))
    kinds = (f"{len(errors)} distinct errors; the first, ×{count}" if len(errors) > 1
             else f"all ×{count}")
    if backend == "replay":
        advice = ("the replay file has no usable response for them, so running again cannot "
                  "add them: complete the file, or score what is there")
    else:
        advice = "run the same command again to retry them (what succeeded is kept)"
    return (f"mathif: incomplete: {len(failed)} of {total} request(s) failed and are not "
            f"scored ({kinds}): {first}\nmathif: {advice}; every error is in {out}/samples.jsonl "
            "and grouped in results.json (metrics.errors)")
