"""Whether a harness is installed; CI requires both (``MATHIF_REQUIRE_HARNESSES=1`` in
.ci/run), so that a broken install fails there instead of skipping."""

from __future__ import annotations

import importlib.util
import os

import pytest

REQUIRED = os.environ.get("MATHIF_REQUIRE_HARNESSES") == "1"


def need(module: str, extra: str) -> None:
    """Skip (fail under ``MATHIF_REQUIRE_HARNESSES=1``) when ``module`` is not installed."""
    if importlib.util.find_spec(module) is not None:
        return
    message = (f"{module} is not installed: pip install -e '.[test]' (or '.[{extra}]') "
               "installs it")
    if REQUIRED:
        pytest.fail(message, pytrace=False)
    pytest.skip(message, allow_module_level=True)
