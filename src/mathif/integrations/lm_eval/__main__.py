"""``python -m mathif.integrations.lm_eval --path``: the folder for ``lm_eval --include_path``."""

from __future__ import annotations

import argparse
import sys

from mathif.integrations.lm_eval import tasks_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mathif.integrations.lm_eval",
        description="Where mathif's lm-evaluation-harness tasks are: "
        'lm_eval --include_path "$(python -m mathif.integrations.lm_eval --path)" '
        "--tasks mathif ...")
    parser.add_argument("--path", action="store_true",
                        help="print the folder to give lm_eval --include_path")
    args = parser.parse_args(argv)
    if not args.path:
        parser.print_help()
        return 2
    print(tasks_path())
    return 0


if __name__ == "__main__":
    sys.exit(main())
