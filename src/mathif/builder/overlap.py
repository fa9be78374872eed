"""Contamination: which input questions are MathIF's own 420 questions.

Two comparisons, both reported: the exact text, and a normalised text (Unicode NFKC,
case-folded, the two instruction sentences the benchmark appends removed, every run of
non-word characters turned into one space) that catches the same question copied from another
release (GSM8K's Hub copy lacks the ``Let's think step by step ... "####".`` suffix MathIF's
copy carries; spacing and LaTeX punctuation differ between copies).

Where the 420 questions come from, offline: the package ships only SHA-256 hashes of them
(exact and normalised, each mapped to its item key, in
``resources/mathif_question_hashes.json``; ``tests/builder`` rebuilds the file from the
official data and compares), never the questions. When the caller gives the loaded MathIF data
(``against=``), its questions are compared instead, and the report says which was used.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType

from mathif.data import Dataset
from mathif.prompts import BOX_INSTRUCTION

HASHES_FILE = "resources/mathif_question_hashes.json"
NORMALISATION = "nfkc-casefold-no-instructions-words-v1"
_GSM8K_SUFFIX = "Let's think step by step and output the final answer after \"####\"."
_INSTRUCTIONS = tuple(unicodedata.normalize("NFKC", s).casefold()
                      for s in (_GSM8K_SUFFIX, BOX_INSTRUCTION))
_NON_WORD = re.compile(r"[\W_]+")


def normalise_question(text: str) -> str:
    """The normalised form compared for contamination (see the module docstring)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    for sentence in _INSTRUCTIONS:
        folded = folded.replace(sentence, " ")
    return _NON_WORD.sub(" ", folded).strip()


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Reference:
    """The benchmark questions to compare with: hash -> item key, exact and normalised."""

    exact: Mapping[str, str]
    normalised: Mapping[str, str]
    origin: str

    @classmethod
    def of_items(cls, questions: Iterable[tuple[str, str]], origin: str) -> Reference:
        """From ``(key, question)`` pairs."""
        exact: dict[str, str] = {}
        normalised: dict[str, str] = {}
        for key, question in questions:
            exact.setdefault(digest(question), key)
            normalised.setdefault(digest(normalise_question(question)), key)
        return cls(MappingProxyType(exact), MappingProxyType(normalised), origin)

    @classmethod
    def of_dataset(cls, dataset: Dataset) -> Reference:
        return cls.of_items(((i.key, i.question) for i in dataset.all_items),
                            f"the loaded MathIF data ({dataset.origin})")


@cache
def shipped() -> Reference:
    """The hashes shipped with the package (no question text)."""
    text = resources.files("mathif").joinpath(HASHES_FILE).read_text(encoding="utf-8")
    record = json.loads(text)
    if record.get("normalisation") != NORMALISATION:
        raise RuntimeError(f"{HASHES_FILE} was made with another normalisation")
    return Reference(MappingProxyType(dict(record["exact"])),
                     MappingProxyType(dict(record["normalised"])),
                     f"the SHA-256 hashes of the {len(record['exact'])} MathIF questions "
                     "shipped with mathif")


def hashes_record(questions: Iterable[tuple[str, str]]) -> dict[str, object]:
    """The content of :data:`HASHES_FILE` for ``(key, question)`` pairs (sorted by hash)."""
    ref = Reference.of_items(questions, "")
    return {
        "normalisation": NORMALISATION,
        "exact": dict(sorted(ref.exact.items())),
        "normalised": dict(sorted(ref.normalised.items())),
    }


@dataclass(frozen=True)
class Match:
    """One input question found in MathIF: how (``exact`` or ``normalised``) and where."""

    where: str
    id: str
    kind: str
    mathif_key: str

    def to_record(self) -> dict[str, str]:
        return {"where": self.where, "id": self.id, "match": self.kind,
                "mathif_key": self.mathif_key}


def find(question: str, reference: Reference) -> tuple[str, str] | None:
    """``(kind, MathIF key)`` when ``question`` is one of the benchmark's, else ``None``."""
    key = reference.exact.get(digest(question))
    if key is not None:
        return "exact", key
    key = reference.normalised.get(digest(normalise_question(question)))
    if key is not None:
        return "normalised", key
    return None
