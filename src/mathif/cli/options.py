"""Command-line flags made from declared options (:mod:`mathif.options`), and the options
shared by several commands: the data filters and the grading settings."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from dataclasses import Field
from typing import Any

from mathif.config import GradeSettings
from mathif.data import SOURCES, Selection
from mathif.options import FLAG, NON_NEGATIVE_INT, Spec, default_of, option_fields


def flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_option(parser: Any, f: Field[Any], spec: Spec, *, default: Any = "field",
               required: bool = False) -> None:
    """One flag for a declared option: its help, its parse-time check, its default.

    ``default="field"`` uses the field's default; backend options pass ``None`` ("the
    backend's default") so that an option left out is not an option given.
    """
    value = default_of(f) if default == "field" else default
    kwargs: dict[str, Any] = {"help": spec.help, "dest": f.name}
    if spec.kind is FLAG:
        kwargs.update(action="store_true", default=value)
    else:
        kwargs.update(type=spec.kind.parse, default=value)
        if spec.metavar:
            kwargs["metavar"] = spec.metavar
        if spec.choices is not None:
            kwargs["choices"] = spec.choices
        if spec.many:
            kwargs["nargs"] = "+"
        if required:
            kwargs["required"] = True
    parser.add_argument(flag_name(f.name), **kwargs)


def add_options(parser: Any, cls: Any, *, only: Iterable[str] | None = None,
                skip: Iterable[str] = (), required: Iterable[str] = ()) -> None:
    """Flags for the declared options of the dataclass ``cls`` (``only`` those named)."""
    wanted = set(only) if only is not None else None
    for f, spec in option_fields(cls):
        if f.name not in set(skip) and (wanted is None or f.name in wanted):
            add_option(parser, f, spec, required=f.name in set(required))


def values_of(args: argparse.Namespace, cls: Any) -> dict[str, Any]:
    """The parsed values of ``cls``'s flags, by field name."""
    return {f.name: getattr(args, f.name) for f, _ in option_fields(cls)
            if hasattr(args, f.name)}


def add_data_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sources", nargs="+", metavar="SOURCE", choices=SOURCES,
        help="only these sources (gsm8k math500 minerva olympiad aime)",
    )
    parser.add_argument(
        "--counts", nargs="+", metavar="N", help="only items with these constraint counts (1-3)"
    )
    parser.add_argument("--limit", type=NON_NEGATIVE_INT.parse, metavar="N",
                        help="only the first N items (after the other filters)")


def selection_of(args: argparse.Namespace) -> Selection:
    return Selection.of(args.sources, args.counts, args.limit)


def add_grading_options(parser: argparse.ArgumentParser) -> None:
    add_options(parser, GradeSettings)


def grading_of(args: argparse.Namespace) -> GradeSettings:
    return GradeSettings(**values_of(args, GradeSettings))
