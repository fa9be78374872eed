"""The ``mathif`` command: one thin module per command over the public API.

Errors: a bad input or setting is one line naming the file, line and field (exit 2); too many
answers the grader could not decide is exit 3 (after the results are written); a ``mathif
eval`` run with requests that still failed after their retries is exit 4 (incomplete: the
results are written, and running the same command again retries them); anything else is a
bug, reported in one line that says how to get its traceback (``--debug`` or
``MATHIF_DEBUG=1``), exit 1. mathif's own warnings (changed data files, repaired text) are
one ``mathif: warning: ...`` line each.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import logging
import os
import sys
import traceback
import warnings
from collections.abc import Iterator, Sequence

from mathif.cli.codes import EXIT_BUG, EXIT_INCOMPLETE, EXIT_INPUT, EXIT_UNGRADED
from mathif.errors import InputError, MathIFError

__all__ = [
    "EXIT_BUG", "EXIT_INCOMPLETE", "EXIT_INPUT", "EXIT_UNGRADED", "build_parser", "main", "run",
]

DEBUG_ENV = "MATHIF_DEBUG"


# Each command: the module that registers it and its one-line help. Only the command that
# runs is imported (the others are listed by name and help), so `mathif score` does not load
# the generation backends or the set builder.
COMMANDS = {
    "score": ("mathif.cli.score", "score model responses"),
    "eval": ("mathif.cli.eval", "generate responses with a model, then score them"),
    "report": ("mathif.cli.report", "Markdown/HTML/CSV/LaTeX reports of one or more runs"),
    "build": ("mathif.cli.build", "attach MathIF constraints to math problems (training sets)"),
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The ``mathif`` parser; with ``only``, the other commands are listed but not loaded
    (``only=""``: none is loaded, for a line that names no command)."""
    from mathif.version import __version__

    parser = argparse.ArgumentParser(
        prog="mathif",
        description="MathIF: instruction following of reasoning models on math problems.",
    )
    parser.add_argument("--version", action="version", version=f"mathif {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help=f"show the traceback of an unexpected error (or set {DEBUG_ENV}=1)")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module, help_text) in COMMANDS.items():
        if only is None or name == only:
            importlib.import_module(module).add_command(sub, name, help_text)
        else:
            sub.add_parser(name, help=help_text)
    for command in sub.choices.values():  # `mathif score ... --debug` works too
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                             help="show the traceback of an unexpected error")
    return parser


def _command_of(argv: Sequence[str]) -> str | None:
    """The command named on the line (the first word that is not an option), if known."""
    word = next((arg for arg in argv if not arg.startswith("-")), None)
    return word if word in COMMANDS else None


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
    python_format = warnings.formatwarning

    def one_line(message: Warning | str, category: type[Warning], filename: str,
                 lineno: int, line: str | None = None) -> str:
        """mathif's warnings as one ``mathif: warning:`` line (not Python's two lines with a
        source location); other libraries' warnings as Python shows them."""
        if category.__module__.split(".")[0] == "mathif":
            return f"mathif: warning: {message}\n"
        return python_format(message, category, filename, lineno, line)

    warnings.formatwarning = one_line
    try:
        yield
    finally:
        warnings.formatwarning = python_format
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(only=_command_of(argv) or "")
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


def run() -> None:
    """The ``mathif`` process (console script and ``python -m mathif.cli``): :func:`main` with
    the garbage collector tuned for a command. Scoring makes many small objects and almost no
    reference cycles, so collections are made rarer (as mypy does), and at exit everything is
    frozen: the interpreter's last full collection then has nothing to walk."""
    gc.set_threshold(200_000, 30, 30)
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
