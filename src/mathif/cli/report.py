"""``mathif report``: Markdown, HTML, CSV and LaTeX reports of run folders."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from mathif.options import NON_NEGATIVE_INT, OPEN_UNIT, POSITIVE_INT
from mathif.stats import DEFAULT_LEVEL, DEFAULT_N_BOOT, DEFAULT_SEED


def add_command(subparsers: Any, name: str, help_text: str) -> argparse.ArgumentParser:
    """Register ``mathif report`` on the CLI's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name,
        help=help_text,
        description="Report one or more run folders (written by `mathif score --out` or "
        "`mathif eval`). Several runs are shown side by side, with paired differences "
        "against the first run (items paired by what they are, not by file and line; runs "
        "of different data sets are not paired) and the paper's rows for the same models. "
        "With no output file (--markdown, --html, --csv, --latex), or with --markdown -, the "
        "Markdown summary is printed.",
    )
    parser.add_argument("runs", nargs="+", metavar="RUN",
                        help="run folder (or its samples.jsonl)")
    parser.add_argument("--label", action="append", default=[], metavar="NAME",
                        help="name of a run in tables and charts, in RUN order (repeatable; "
                        "default: the manifest's model, else the folder name)")
    parser.add_argument("--markdown", metavar="FILE",
                        help="write the Markdown summary here ('-': stdout, which is also "
                        "where it goes when no other output file is given)")
    parser.add_argument("--html", metavar="FILE", help="write the self-contained HTML report")
    parser.add_argument("--csv", metavar="FILE", help="write per-sample verdicts as CSV")
    parser.add_argument("--latex", metavar="FILE",
                        help="write the summary as a LaTeX (booktabs) table")
    parser.add_argument("--no-paper", action="store_true",
                        help="leave out the paper's published rows")
    parser.add_argument("--n-boot", type=POSITIVE_INT.parse, default=DEFAULT_N_BOOT,
                        metavar="N",
                        help=f"bootstrap resamples (default {DEFAULT_N_BOOT})")
    parser.add_argument("--seed", type=NON_NEGATIVE_INT.parse, default=DEFAULT_SEED,
                        help=f"bootstrap seed (default {DEFAULT_SEED})")
    parser.add_argument("--level", type=OPEN_UNIT.parse, default=DEFAULT_LEVEL,
                        help=f"interval level (default {DEFAULT_LEVEL})")
    parser.add_argument("--length-bins", choices=("quantile", "equal-width"),
                        default="quantile",
                        help="bins of reasoning length: quantile (default, six bins of equal "
                        "size, as the paper) or equal-width (six equal stretches of length)")
    parser.add_argument("--max-chars", type=NON_NEGATIVE_INT.parse, default=None, metavar="N",
                        help="shorten each reasoning/answer text in the HTML to N characters "
                        "(default 4000; 0 keeps them whole)")
    parser.set_defaults(func=cmd_report)
    return parser


def cmd_report(args: argparse.Namespace) -> int:
    from mathif import report
    from mathif.metrics import CISettings

    rep = report.build(args.runs, labels=args.label,
                       ci=CISettings(n_boot=args.n_boot, seed=args.seed, level=args.level),
                       with_paper=not args.no_paper, length_binning=args.length_bins)
    for comparison in rep.comparisons:
        warn = "warning: " if not comparison.complete else ""
        print(f"mathif: {warn}{comparison.describe()}", file=sys.stderr)
    to_file = args.markdown not in (None, "-")
    written = report.write(
        rep,
        markdown=args.markdown if to_file else None,
        html=args.html,
        csv=args.csv,
        latex=args.latex,
        max_chars=args.max_chars,
    )
    files = (args.html, args.csv, args.latex)
    if args.markdown == "-" or (args.markdown is None and all(f is None for f in files)):
        sys.stdout.write(report.to_markdown(rep))
    for kind, path in written.items():
        print(f"wrote {kind}: {path}", file=sys.stderr)
    return 0
