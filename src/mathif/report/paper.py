"""The MathIF paper's published numbers, shipped as data, for reference rows in reports.

Source: Fu et al., "Scaling Reasoning, Losing Control" (arXiv 2505.14810 v2): Table 3
(``main_table.csv``), Table 8 (``by_constraint_count.csv``) and Tables 9-10 (``by_source.csv``),
in percent, one unseeded sample per item. The paper prints some values truncated instead of
rounded (65/420 appears as 15.47), so a recomputed number can differ by up to 0.01 from a
printed one, and pooled numbers by a few hundredths.

Runs are matched to paper rows by model name or Hugging Face id, compared without case and
punctuation, so ``Qwen/Qwen3-8B``, ``qwen3-8b`` and ``Qwen3 8B`` all find the row of Qwen3-8B.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

from mathif import stats
from mathif.data import COUNT_NAMES, SOURCES

# Items per group in the official release (SPEC §1): what the paper's overall numbers pool.
ITEMS_PER_COUNT = {"single": 140, "double": 140, "triple": 140}
ITEMS_PER_SOURCE = {"gsm8k": 90, "math500": 90, "minerva": 90, "olympiad": 90, "aime": 60}


@dataclass(frozen=True)
class PaperRow:
    """One model as the paper reports it (percent; ``None`` where the paper has no number)."""

    model: str
    hf_id: str
    size: str
    hacc: float
    sacc: float
    correct_without_constraints: float
    correct_with_constraints: float
    diff_percent: float
    by_count: Mapping[str, Mapping[str, float]]
    by_source: Mapping[str, Mapping[str, float]]

    @property
    def label(self) -> str:
        return f"{self.model} (paper)"


def _read(name: str, root: str | None = None) -> list[dict[str, str]]:
    if root is None:
        text = resources.files("mathif").joinpath(f"resources/paper/{name}").read_text("utf-8")
    else:
        with open(f"{root}/{name}", encoding="utf-8") as handle:
            text = handle.read()
    return list(csv.DictReader(io.StringIO(text)))


def _num(text: str) -> float:
    return float(text.replace("+", ""))


def load_rows(root: str | None = None) -> tuple[PaperRow, ...]:
    """All paper rows in Table 3's order; ``root`` reads the CSVs from a folder instead."""
    counts = {r["hf_id"]: r for r in _read("by_constraint_count.csv", root)}
    sources = {r["hf_id"]: r for r in _read("by_source.csv", root)}
    rows = []
    for r in _read("main_table.csv", root):
        c = counts.get(r["hf_id"])
        s = sources.get(r["hf_id"])
        by_count: dict[str, dict[str, float]] = {}
        if c is not None:
            single = _num(c["single_acc"])
            # With one constraint per item, HAcc and SAcc are the same number (Table 8).
            by_count["single"] = {"hacc": single, "sacc": single}
            for name in ("double", "triple"):
                by_count[name] = {"hacc": _num(c[f"{name}_hacc"]),
                                  "sacc": _num(c[f"{name}_sacc"])}
        by_source: dict[str, dict[str, float]] = {}
        if s is not None:
            for name in SOURCES:
                by_source[name] = {"hacc": _num(s[f"hacc_{name}"]),
                                   "sacc": _num(s[f"sacc_{name}"])}
        rows.append(PaperRow(
            model=r["model"],
            hf_id=r["hf_id"],
            size=r["size"],
            hacc=_num(r["hacc"]),
            sacc=_num(r["sacc"]),
            correct_without_constraints=_num(r["correct_without_constraints"]),
            correct_with_constraints=_num(r["correct_with_constraints"]),
            diff_percent=_num(r["diff_percent"]),
            by_count=by_count,
            by_source=by_source,
        ))
    return tuple(rows)


@cache
def rows() -> tuple[PaperRow, ...]:
    """The shipped paper rows (read once)."""
    return load_rows()


def _norm(text: str) -> str:
    text = text.lower().replace("(sft)", "")
    return re.sub(r"[^a-z0-9.]", "", text).replace(".", "")


def find(model: str | None) -> PaperRow | None:
    """The paper row of ``model`` (a name, an hf id or a local path ending in the model name)."""
    if not model:
        return None
    wanted = {_norm(model), _norm(model.rstrip("/").rsplit("/", 1)[-1])}
    for row in rows():
        names = {_norm(row.model), _norm(row.hf_id), _norm(row.hf_id.rsplit("/", 1)[-1])}
        if wanted & names:
            return row
    return None


def pooled(groups: Mapping[str, Mapping[str, float]], sizes: Mapping[str, int],
           metric: str) -> float:
    """Overall ``metric`` from group values weighted by items per group (a micro average)."""
    names = [n for n in sizes if n in groups]
    return stats.weighted_mean([groups[n][metric] for n in names], [sizes[n] for n in names])


def pooled_from_counts(row: PaperRow, metric: str) -> float:
    return pooled(row.by_count, {n: ITEMS_PER_COUNT[n] for n in COUNT_NAMES}, metric)


def pooled_from_sources(row: PaperRow, metric: str) -> float:
    return pooled(row.by_source, ITEMS_PER_SOURCE, metric)
