"""``mathif score``: score a file of responses."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from mathif.cli.options import add_data_filters, add_grading_options, grading_of, selection_of
from mathif.cli.summary import format_summary
from mathif.errors import InputError


def add_command(sub: Any, name: str, help_text: str) -> None:
    """Register ``mathif score`` on the CLI's subparsers."""
    p = sub.add_parser(
        name,
        help=help_text,
        description="Score responses: either a JSONL of item fields plus `response` (string) "
        "or `output` (list of strings), or responses matched to the items of --data (by "
        "key, question, or line position). The filters choose the items that are scored.",
    )
    p.add_argument("input", nargs="?", help="JSONL of items with responses")
    p.add_argument("--data", help="dataset source (hub, a folder or a JSONL file) that "
                   "--responses answers")
    p.add_argument("--responses", help="responses to the items of --data (e.g. the official "
                   "pipeline's output, one line per item)")
    p.add_argument("--control", help="responses of the run without constraints (same "
                   "shape as the main input)")
    add_data_filters(p)
    add_grading_options(p)
    p.add_argument("--out", help="write samples.jsonl and results.json into this folder "
                   "(replacing the files of an earlier run there)")
    p.add_argument("--json", action="store_true", help="print results.json, not a table")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_score)


def _input_path(args: argparse.Namespace) -> str:
    if args.data is None and args.input is None:
        raise InputError("give a responses file: `mathif score FILE` (item fields plus "
                         "response/output on each line) or `--data SOURCE --responses FILE`")
    if args.data is not None and args.responses is None and args.input is None:
        raise InputError("--data needs --responses FILE (the official pipeline's output)")
    if args.data is None and args.responses is not None:
        raise InputError("--responses is aligned with --data SOURCE; give both")
    return str(args.responses or args.input)


# Inputs from this size on (about a hundred responses) start a grading worker before the
# scoring code is even imported: its start-up then overlaps the whole run.
WARM_UP_BYTES = 64 * 1024


def _warm_up(path: str, grader: str | None) -> None:
    from mathif.grading.workers import warm_up

    try:
        size = os.path.getsize(path)
    except OSError:
        return  # reading it reports the problem
    if size >= WARM_UP_BYTES:
        warm_up(grader)


def cmd_score(args: argparse.Namespace) -> int:
    path = _input_path(args)
    grading = grading_of(args)
    _warm_up(path, grading.grader)
    from mathif.run import check_grading, check_out_dir, score_file, write_run

    selection = selection_of(args)
    if args.out:
        check_out_dir(args.out)  # before the work, not after it
    result = score_file(
        path,
        data=args.data,
        grader=grading.grader,
        control=args.control,
        sources=selection.sources,
        counts=selection.counts,
        limit=selection.limit,
        quick=selection.quick,
        timeout=grading.grade_timeout,
        workers=grading.workers,
        progress=not args.quiet,
        max_ungraded=None,  # checked below, once the results are written and shown
        scope=grading.scope,
    )
    if args.out:
        write_run(args.out, result)
    if args.json:
        print(json.dumps(result.results.to_record(), indent=2))
    else:
        print(format_summary(result.metrics))
        if args.out:
            print(f"\nwrote {args.out}/samples.jsonl and {args.out}/results.json")
    check_grading(result, grading.max_ungraded)
    return 0
