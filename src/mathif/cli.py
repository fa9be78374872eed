"""The ``mathif`` command: argument parsing only; the work is done by the public API."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from mathif.errors import InputError, MathIFError

GRADER_CHOICES = ("mathif", "reference", "none")


def _grader(value: str) -> str | None:
    return None if value == "none" else value


def add_data_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sources", nargs="+", metavar="SOURCE",
        help="only these sources (gsm8k math500 minerva olympiad aime)",
    )
    parser.add_argument(
        "--counts", nargs="+", metavar="N", help="only items with these constraint counts (1-3)"
    )
    parser.add_argument("--limit", type=int, help="only the first N items")


def add_grading_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--grader", choices=GRADER_CHOICES, default="mathif",
        help="math correctness grader: mathif (default, fair to constraint-obeying answers), "
        "reference (reproduces the official verdicts) or none",
    )
    parser.add_argument("--grade-timeout", type=float, default=5.0, metavar="SECONDS",
                        help="hard time limit per grading call (default 5)")
    parser.add_argument("--workers", type=int, default=None,
                        help="grading worker processes (default: automatic)")


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def format_summary(metrics: dict[str, Any]) -> str:
    """A plain-text summary table of a run (what the CLI prints)."""
    overall = metrics["overall"]
    lines = [
        f"items {metrics['n_items']}  responses {metrics['n_responses']}  "
        f"errors {metrics['n_errors']}",
        "",
    ]
    header = ["", "items", "HAcc", "SAcc"]
    graded = "correct" in overall
    if graded:
        header.append("Correct")
    rows = [header]

    def row(name: str, values: dict[str, Any]) -> list[str]:
        cells = [name, _fmt(values.get("n_items")), _fmt(values.get("hacc")),
                 _fmt(values.get("sacc"))]
        if graded:
            cells.append(_fmt(values.get("correct")))
        return cells

    rows.append(row("overall", overall))
    for name, values in metrics["by_count"].items():
        rows.append(row(name, values))
    for name, values in metrics["by_source"].items():
        rows.append(row(name, values))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for r in rows:
        lines.append("  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i])
                               for i, c in enumerate(r)))
    if "correct_without_constraints" in overall:
        lines.append("")
        lines.append(
            f"correct without constraints {_fmt(overall['correct_without_constraints'])}  "
            f"diff {_fmt(overall.get('diff_percent'))}%"
        )
    if "quadrants" in metrics:
        q = metrics["quadrants"]
        lines.append("")
        labels = {
            "correct_followed": "correct+followed",
            "correct_not_followed": "correct+not followed",
            "wrong_followed": "wrong+followed",
            "wrong_not_followed": "wrong+not followed",
        }
        lines.append("quadrants  " + "  ".join(f"{label} {_fmt(q[k])}"
                                               for k, label in labels.items()))
    lines.append("")
    lines.append("pass rate by constraint type:")
    width = max((len(k) for k in metrics["by_constraint"]), default=0)
    for name, values in metrics["by_constraint"].items():
        lines.append(f"  {name.ljust(width)}  {_fmt(values['pass_rate']).rjust(6)}  "
                     f"(n={values['n']})")
    return "\n".join(lines)


def cmd_score(args: argparse.Namespace) -> int:
    from mathif.run import score_file, write_run

    if args.data is None and args.input is None:
        raise InputError("give a responses file: `mathif score FILE` (item fields plus "
                         "response/output on each line) or `--data SOURCE --responses FILE`")
    if args.data is not None and args.responses is None and args.input is None:
        raise InputError("--data needs --responses FILE (the official pipeline's output)")
    path = args.responses or args.input
    if args.data is None and args.responses is not None:
        raise InputError("--responses is aligned with --data SOURCE; give both")
    result = score_file(
        path,
        data=args.data,
        grader=_grader(args.grader),
        control=args.control,
        sources=args.sources,
        counts=args.counts,
        limit=args.limit,
        timeout=args.grade_timeout,
        workers=args.workers,
        progress=not args.quiet,
    )
    if args.out:
        write_run(args.out, result)
    if args.json:
        print(json.dumps(result.results, indent=2))
    else:
        print(format_summary(result.metrics))
        if args.out:
            print(f"\nwrote {args.out}/samples.jsonl and {args.out}/results.json")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from mathif import __version__

    parser = argparse.ArgumentParser(
        prog="mathif",
        description="MathIF: instruction following of reasoning models on math problems.",
    )
    parser.add_argument("--version", action="version", version=f"mathif {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    score = sub.add_parser(
        "score",
        help="score model responses",
        description="Score responses: either a JSONL of item fields plus `response` (string) "
        "or `output` (list of strings), or the official pipeline's output aligned with "
        "--data.",
    )
    score.add_argument("input", nargs="?", help="JSONL of items with responses")
    score.add_argument("--data", help="dataset source (hub, a folder or a JSONL file) that "
                       "--responses is aligned with")
    score.add_argument("--responses", help="the official pipeline's output, one line per item")
    score.add_argument("--control", help="responses of the run without constraints (same "
                       "shape as the main input)")
    add_data_filters(score)
    add_grading_options(score)
    score.add_argument("--out", help="write samples.jsonl and results.json into this folder")
    score.add_argument("--json", action="store_true", help="print results.json, not a table")
    score.add_argument("--quiet", action="store_true", help="no progress bars")
    score.set_defaults(func=cmd_score)

    for register in _extra_commands():
        register(sub)
    return parser


def _extra_commands() -> list[Any]:
    """Subcommands that live with their feature (eval, report)."""
    from mathif.evaluation import add_eval_command
    from mathif.report.cli import add_report_command

    return [add_eval_command, add_report_command]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except InputError as exc:
        print(f"mathif: error: {exc}", file=sys.stderr)
        return 2
    except (MathIFError, ValueError) as exc:
        print(f"mathif: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mathif: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
