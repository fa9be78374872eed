"""``mathif build``: attach MathIF constraints to math problems (training and evaluation sets)."""

from __future__ import annotations

import argparse
from typing import Any

from mathif.options import NON_NEGATIVE_INT


def _fractions(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected TRAIN,DEV,TEST fractions such as "
                                         f"0.8,0.1,0.1, got {text!r}") from None
    if len(values) != 3 or any(not (0.0 <= v <= 1.0) for v in values) or abs(
            sum(values) - 1.0) > 1e-6:
        raise argparse.ArgumentTypeError(f"expected three fractions in [0, 1] that sum to 1, "
                                         f"got {text!r}")
    return values


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def add_command(sub: Any, name: str, help_text: str) -> None:
    """Register ``mathif build`` on the CLI's subparsers."""
    from mathif.builder import OVERLAP_MODES, SCHEMES
    from mathif.builder.problems import ANSWER_FORMATS

    p = sub.add_parser(
        name,
        help=help_text,
        description="Attach MathIF constraints to the problems of a JSONL file or a Hub "
        "dataset (hf://datasets/ORG/NAME). Writes OUT/items.jsonl (or train/dev/test.jsonl "
        "with --split) in the benchmark's schema, and OUT/build.json (settings, "
        "contamination with MathIF, type counts). Same input + seed = same files.",
    )
    p.add_argument("input", help="JSONL file of problems, or hf://datasets/ORG/NAME")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the built files")
    p.add_argument("--scheme", choices=SCHEMES, default="balanced",
                   help="balanced: every type about equally often, no conflicting pair "
                   "(default); paper: the official composition")
    p.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    p.add_argument("--counts", nargs="+", metavar="N", default=["1", "2", "3"],
                   help="constraint counts to use (1-3 or single/double/triple; default all)")
    p.add_argument("--split", type=_fractions, metavar="TRAIN,DEV,TEST",
                   help="write train/dev/test.jsonl with these fractions, no question in two")
    p.add_argument("--overlap", choices=OVERLAP_MODES, default="remove",
                   help="what to do with questions that are MathIF's own: remove them "
                   "(default) or keep them and only report them")
    p.add_argument("--against", metavar="SOURCE",
                   help="compare with these MathIF files (hub, a folder, a file) instead of "
                   "the hashes shipped with mathif")
    fields = p.add_argument_group("input fields")
    fields.add_argument("--question-field", default="question", metavar="NAME",
                        help="field holding the question (default: question; a.b = nested)")
    fields.add_argument("--answer-field", default="answer", metavar="NAME",
                        help="field holding the answer or solution (default: answer)")
    fields.add_argument("--id-field", default="id", metavar="NAME",
                        help="field holding an id, when the rows have one (default: id)")
    fields.add_argument("--source-field", default="source", metavar="NAME",
                        help="field naming the source, when the rows have one")
    fields.add_argument("--source", metavar="NAME",
                        help="the source name of every item (default: the source field, "
                        "else the input's name)")
    fields.add_argument("--answer-format", choices=ANSWER_FORMATS, default="auto",
                        help="auto: the final answer of a solution (after ####, else the last "
                        "\\boxed{}); raw: the field as is")
    fields.add_argument("--limit", type=NON_NEGATIVE_INT.parse, metavar="N",
                        help="only the first N problems")
    hub = p.add_argument_group("Hub datasets")
    hub.add_argument("--hub-config", metavar="NAME", help="dataset configuration (subset)")
    hub.add_argument("--hub-split", default="train", metavar="NAME",
                     help="dataset split to read (default: train)")
    hub.add_argument("--revision", metavar="REV", help="dataset revision (commit, tag)")
    p.set_defaults(func=cmd_build)


def cmd_build(args: argparse.Namespace) -> int:
    from mathif.builder import build
    from mathif.run import check_out_dir

    check_out_dir(args.out)
    result = build(
        args.input,
        scheme=args.scheme,
        seed=args.seed,
        counts=args.counts,
        split=args.split,
        overlap_mode=args.overlap,
        against=args.against,
        question_field=args.question_field,
        answer_field=args.answer_field,
        id_field=args.id_field,
        source_field=args.source_field,
        source=args.source,
        answer_format=args.answer_format,
        hub_config=args.hub_config,
        hub_split=args.hub_split,
        revision=args.revision,
        limit=args.limit,
    )
    written = result.write(args.out)
    print(format_build_summary(result.report))
    print("\nwrote " + ", ".join(str(path) for path in written.values()))
    return 0


def format_build_summary(report: Any) -> str:
    """A few lines for the terminal: what was read, removed, built."""
    c = report["contamination"]
    lines = [
        f"read {report['input']['problems']} problems from {report['input']['origin']}",
        f"repeated questions removed: {report['duplicates']['removed']}",
        f"MathIF questions found: {c['exact']} exact, {c['normalised']} normalised "
        f"({c['action']}; compared with {c['compared_with']})",
    ]
    for name, split in report["splits"].items():
        counts = ", ".join(f"{k} {v}" for k, v in split["by_count"].items())
        used = [v for v in split["by_type"].values()]
        lines.append(f"{name}: {split['items']} items ({counts}); instances per type "
                     f"{min(used)}-{max(used)}")
    if report["unsatisfiable"]:
        lines.append(f"items no answer can fully satisfy (kept, listed in build.json): "
                     f"{len(report['unsatisfiable'])}")
    return "\n".join(lines)
