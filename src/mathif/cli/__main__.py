"""``python -m mathif.cli``."""

from mathif.cli import run

run()
