"""Regenerate ``_punkt_english.py`` from NLTK's ``punkt_tab/english`` model directory.

Why this exists: ``capital_word_frequency`` counts the tokens of ``nltk.word_tokenize``, which
sentence-splits with the English Punkt model first. NLTK cannot download that model on the
machines the benchmark runs on, so mathif ships the four parameter tables as Python literals
(importing them needs no file lookup and no network). NLTK's data is Apache-2.0 licensed.

Usage (with the original ``punkt_tab`` data unpacked somewhere)::

    python -m mathif.constraints._punkt_build /path/to/tokenizers/punkt_tab/english

The directory must contain ``abbrev_types.txt``, ``collocations.tab``, ``sent_starters.txt`` and
``ortho_context.tab``. The files are parsed exactly as ``nltk.tokenize.punkt.load_punkt_params``
parses them, and their SHA-256 digests are recorded in the generated module.
"""

from __future__ import annotations

import argparse
import hashlib
from collections.abc import Iterable
from pathlib import Path

_FILES = ("abbrev_types.txt", "collocations.tab", "sent_starters.txt", "ortho_context.tab")
_WIDTH = 96


def _lines(path: Path) -> list[str]:
    """Lines without their newline, as NLTK's ``rm_nl`` leaves them."""
    with path.open(encoding="utf-8") as handle:
        return [line[:-1] if line.endswith("\n") else line for line in handle]


def _wrap(items: Iterable[str], indent: str = "    ") -> list[str]:
    """Pack already-rendered literals into lines that stay under the line-length limit."""
    out: list[str] = []
    current = indent
    for item in items:
        piece = item + ","
        if len(current) + len(piece) + 1 > _WIDTH and current.strip():
            out.append(current.rstrip())
            current = indent
        current += piece + " "
    if current.strip():
        out.append(current.rstrip())
    return out


def render(model_dir: Path) -> str:
    """Return the source text of the generated module for the model in ``model_dir``."""
    abbrevs = sorted(set(_lines(model_dir / "abbrev_types.txt")))
    starters = sorted(set(_lines(model_dir / "sent_starters.txt")))
    collocation_lines = _lines(model_dir / "collocations.tab")
    collocations = sorted({tuple(line.split("\t")) for line in collocation_lines})
    ortho: dict[str, int] = {}
    for line in _lines(model_dir / "ortho_context.tab"):
        word, flags = line.split("\t")
        ortho[word] = int(flags)
    by_flags: dict[int, list[str]] = {}
    for word, flags in ortho.items():
        by_flags.setdefault(flags, []).append(word)
    digests = {name: hashlib.sha256((model_dir / name).read_bytes()).hexdigest() for name in _FILES}

    out = [
        '"""English Punkt sentence-tokenizer parameters (generated; do not edit by hand).',
        "",
        "Converted losslessly from NLTK's ``punkt_tab/english`` model (Apache License 2.0; trained",
        "by Jan Strunk and Tibor Kiss on Wall Street Journal text) by",
        "``python -m mathif.constraints._punkt_build``. ``ORTHO_CONTEXT`` groups words by their",
        "orthographic-context flags to keep the module small.",
        '"""',
        "",
        "SOURCE_SHA256: dict[str, str] = {",
    ]
    out += [f"    {name!r}: {digest!r}," for name, digest in digests.items()]
    out += ["}", "", "ABBREV_TYPES: frozenset[str] = frozenset(", "    ("]
    out += _wrap((repr(a) for a in abbrevs), "        ")
    out += ["    )", ")", "", "SENT_STARTERS: frozenset[str] = frozenset(", "    ("]
    out += _wrap((repr(s) for s in starters), "        ")
    out += ["    )", ")", "", "COLLOCATIONS: frozenset[tuple[str, ...]] = frozenset(", "    ("]
    out += _wrap((repr(c) for c in collocations), "        ")
    out += ["    )", ")", "", "ORTHO_CONTEXT: dict[int, tuple[str, ...]] = {"]
    for flags in sorted(by_flags):
        out.append(f"    {flags}: (")
        out += _wrap((repr(w) for w in sorted(by_flags[flags])), "        ")
        out.append("    ),")
    out += ["}", ""]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    """Write the generated module next to this script (or to ``--output``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", type=Path, help="the punkt_tab/english directory")
    parser.add_argument(
        "--output", type=Path, default=Path(__file__).with_name("_punkt_english.py")
    )
    ns = parser.parse_args(argv)
    ns.output.write_text(render(ns.model_dir), encoding="utf-8")


if __name__ == "__main__":
    main()
