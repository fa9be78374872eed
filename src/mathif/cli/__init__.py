"""The ``mathif`` command: one thin module per command over the public API.

Errors: a bad input or setting is one line naming the file, line and field (exit 2); too many
answers the grader could not decide is exit 3 (after the results are written); anything else
is a bug, reported in one line that says how to get its traceback (``--debug`` or
``MATHIF_DEBUG=1``), exit 1.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import traceback
from collections.abc import Iterator, Sequence
from typing import Any

from mathif.errors import InputError, MathIFError

DEBUG_ENV = "MATHIF_DEBUG"
EXIT_INPUT = 2
EXIT_UNGRADED = 3
EXIT_BUG = 1


def build_parser() -> argparse.ArgumentParser:
    from mathif.version import __version__

    parser = argparse.ArgumentParser(
        prog="mathif",
        description="MathIF: instruction following of reasoning models on math problems.",
    )
    parser.add_argument("--version", action="version", version=f"mathif {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help=f"show the traceback of an unexpected error (or set {DEBUG_ENV}=1)")
    sub = parser.add_subparsers(dest="command", required=True)

    for register in _commands():
        register(sub)
    for command in sub.choices.values():  # `mathif score ... --debug` works too
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                             help="show the traceback of an unexpected error")
    return parser


def _commands() -> list[Any]:
    """The subcommands, one module each."""
    from mathif.cli.eval import add_eval_command
    from mathif.cli.report import add_report_command
    from mathif.cli.score import add_score_command

    return [add_score_command, add_eval_command, add_report_command]


@contextlib.contextmanager
def _log_to_stderr() -> Iterator[None]:
    """Library messages (``logging.getLogger("mathif...")``) shown as ``mathif: ...`` while a
    command runs; the logging setup is left as it was afterwards."""
    logger = logging.getLogger("mathif")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("mathif: %(message)s"))
    saved = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = bool(args.debug or os.environ.get(DEBUG_ENV, "").strip() not in ("", "0"))
    from mathif.run import UngradedAnswersError

    try:
        with _log_to_stderr():
            return int(args.func(args) or 0)
    except InputError as exc:
        print(f"mathif: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except UngradedAnswersError as exc:
        print(f"mathif: error: {exc}", file=sys.stderr)
        return EXIT_UNGRADED
    except (MathIFError, ValueError) as exc:
        if debug:
            traceback.print_exc()
        print(f"mathif: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("mathif: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if debug:
            traceback.print_exc()
            return EXIT_BUG
        print(f"mathif: unexpected error: {type(exc).__name__}: {exc}\n"
              f"mathif: this is a bug; run again with --debug (or {DEBUG_ENV}=1) for the "
              "traceback, and report it", file=sys.stderr)
        return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
