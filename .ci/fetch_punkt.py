"""Fetch NLTK's original English punkt_tab data for the conformance test (CI only).

NLTK's own downloader needs raw.githubusercontent.com; PyPI is reachable everywhere we test.
The llama-index-core wheel vendors the original files, so we take them from there. mathif
itself never needs them: it ships the same four files (src/mathif/resources/punkt_tab), and
tests/constraints/test_text.py checks them against these originals.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL = "llama-index-core==0.14.25"
INSIDE = "llama_index/core/_static/nltk_cache/tokenizers/punkt_tab/english/"
DEST = Path(__file__).resolve().parent / "cache" / "nltk_data" / "tokenizers" / "punkt_tab"


def main() -> int:
    target = DEST / "english"
    if (target / "ortho_context.tab").is_file():
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        got = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, WHEEL],
            check=False,
        )
        wheels = list(Path(tmp).glob("*.whl"))
        if got.returncode != 0 or not wheels:
            print("could not fetch the punkt_tab data; its conformance test will skip",
                  file=sys.stderr)
            return 0
        target.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheels[0]) as archive:
            for name in archive.namelist():
                if name.startswith(INSIDE) and not name.endswith("/"):
                    (target / name[len(INSIDE):]).write_bytes(archive.read(name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
