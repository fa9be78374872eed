"""The ``mathif`` command: one thin module per command over the public API."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from mathif.errors import InputError, MathIFError


def build_parser() -> argparse.ArgumentParser:
    from mathif.version import __version__

    parser = argparse.ArgumentParser(
        prog="mathif",
        description="MathIF: instruction following of reasoning models on math problems.",
    )
    parser.add_argument("--version", action="version", version=f"mathif {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    for register in _extra_commands():
        register(sub)
    return parser


def _extra_commands() -> list[Any]:
    """The subcommands, one module each."""
    from mathif.cli.eval import add_eval_command
    from mathif.cli.report import add_report_command
    from mathif.cli.score import add_score_command

    return [add_score_command, add_eval_command, add_report_command]


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
