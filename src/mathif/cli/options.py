"""Options shared by several commands: the data filters and the grading settings."""

from __future__ import annotations

import argparse

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
