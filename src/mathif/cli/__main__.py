"""``python -m mathif.cli``."""

import sys

from mathif.cli import main

sys.exit(main())
