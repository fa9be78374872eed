"""``mathif.build``: MathIF-style items from any math problems, reproducibly.

The steps, in order (each recorded in the build report, ``build.json``):

1. read the problems (:mod:`mathif.builder.problems`);
2. drop repeated questions (same normalised text; the first one stays) so that no question
   can land in two splits;
3. compare every question with MathIF's 420 (:mod:`mathif.builder.overlap`): ``remove`` (the
   default) drops the matches, ``report`` keeps them; both list them;
4. split (optional): a seeded shuffle cut into train/dev/test by the given fractions; each
   split keeps the input order;
5. compose each split on its own (:mod:`mathif.builder.compose`): the items of each source
   are divided between the constraint counts (contiguous blocks in the paper scheme, as the
   official files are; in turn in the balanced scheme), the types come from the scheme, the
   arguments are drawn from the benchmark's ranges until one answer can satisfy them all
   (:mod:`mathif.builder.feasible`), the descriptions are rendered by the checkers;
6. every record is validated by the loader's own :func:`mathif.data.parse_item`.

The same problems, settings and seed give byte-identical files.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import tempfile
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mathif import constraints
from mathif.builder import compose, feasible, overlap
from mathif.builder.problems import ANSWER_FORMATS, Fields, Problem, read_problems
from mathif.data import COUNT_NAMES, Dataset, Item, load, parse_item
from mathif.errors import InputError
from mathif.version import __version__

SPLIT_NAMES = ("train", "dev", "test")
OVERLAP_MODES = ("remove", "report")
ALL_FILE = "items.jsonl"
REPORT_FILE = "build.json"
OUTPUT_FILES = (ALL_FILE, *(f"{name}.jsonl" for name in SPLIT_NAMES), REPORT_FILE)
#: Argument draws per item before a combination is given up as unsatisfiable.
MAX_DRAWS = 40
#: Type combinations tried per item in the balanced scheme.
MAX_COMBINATIONS = 12
_EXAMPLES = 20


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()


@dataclass(frozen=True)
class Composed:
    """One built item before validation."""

    problem: Problem
    names: tuple[str, ...]
    args: tuple[dict[str, Any] | None, ...]
    satisfiable: bool

    def to_record(self) -> dict[str, Any]:
        return {
            "source": self.problem.source,
            "id": self.problem.id,
            "question": self.problem.question,
            "answer": self.problem.answer,
            "constraint_desc": compose.describe_all(self.names, self.args),
            "constraint_name": list(self.names),
            "constraint_args": [None if a is None else dict(a) for a in self.args],
        }


@dataclass(frozen=True)
class BuildResult:
    """The built items per split (``"all"`` without a split) and the build report."""

    splits: Mapping[str, tuple[Item, ...]]
    report: Mapping[str, Any] = field(repr=False)

    def records(self, split: str) -> list[dict[str, Any]]:
        return [item.to_record() for item in self.splits[split]]

    def dataset(self, split: str | None = None) -> Dataset:
        """The items of one split (default: the only one) as a :class:`~mathif.Dataset`."""
        if split is None:
            if len(self.splits) != 1:
                raise ValueError(f"choose a split: {sorted(self.splits)}")
            split = next(iter(self.splits))
        return Dataset(items=self.splits[split], origin=f"mathif build ({split})")

    def files(self) -> dict[str, str]:
        """File name -> content, as :meth:`write` writes them."""
        out: dict[str, str] = {}
        for split, items in self.splits.items():
            name = ALL_FILE if split == "all" else f"{split}.jsonl"
            out[name] = "".join(json.dumps(i.to_record(), ensure_ascii=False) + "\n"
                                for i in items)
        out[REPORT_FILE] = json.dumps(self.report, indent=2, ensure_ascii=False) + "\n"
        return out

    def write(self, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
        """Write the item files and ``build.json`` into ``out_dir`` (files of an earlier build
        there are replaced or removed; each file appears whole or not at all)."""
        from mathif.run import check_out_dir

        out = Path(out_dir)
        check_out_dir(out)
        out.mkdir(parents=True, exist_ok=True)
        files = self.files()
        written: dict[str, Path] = {}
        temps: list[str] = []
        try:
            ready: dict[str, str] = {}
            for name, text in files.items():
                fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=out)
                temps.append(tmp)
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(text)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.chmod(tmp, _FILE_MODE)  # mkstemp makes 0600 files; sets are for sharing
                ready[name] = tmp
            for name in OUTPUT_FILES:
                if name not in ready:
                    (out / name).unlink(missing_ok=True)
            for name in sorted(ready, key=lambda n: n == REPORT_FILE):  # the report last
                os.replace(ready[name], out / name)
                written[name] = out / name
        finally:
            for tmp in temps:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
        return written


def _count_numbers(counts: Iterable[int | str]) -> tuple[int, ...]:
    numbers: list[int] = []
    for value in counts:
        if isinstance(value, str) and value in COUNT_NAMES:
            number = COUNT_NAMES.index(value) + 1
        elif isinstance(value, str) and value.strip().isdigit():
            number = int(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            raise ValueError(f"unknown constraint count {value!r}; use 1-3 or "
                             "single/double/triple")
        if not 1 <= number <= 3:
            raise ValueError(f"constraint counts are 1-3, got {value!r}")
        if number not in numbers:
            numbers.append(number)
    if not numbers:
        raise ValueError("give at least one constraint count")
    return tuple(sorted(numbers))


def _fractions(split: Sequence[float] | None) -> tuple[float, ...] | None:
    if split is None:
        return None
    values = tuple(float(v) for v in split)
    if len(values) != len(SPLIT_NAMES):
        raise ValueError("split takes three fractions: train, dev, test")
    if any(not (0.0 <= v <= 1.0) for v in values) or abs(sum(values) - 1.0) > 1e-6:
        raise ValueError(f"split fractions must be in [0, 1] and sum to 1, got {values}")
    return values


def _draw(problem: Problem, names: Sequence[str], rng: random.Random
          ) -> tuple[tuple[dict[str, Any] | None, ...], bool]:
    """Arguments for ``names`` that one answer can satisfy (the last draw, flagged, if none
    in :data:`MAX_DRAWS`)."""
    args: tuple[dict[str, Any] | None, ...] = ()
    for _ in range(MAX_DRAWS):
        args = tuple(compose.draw_args(n, problem.question, rng) for n in names)
        if feasible.feasible(problem.question, names, args):
            return args, True
    return args, False


def _compose_balanced(problem: Problem, count: int, usage: Counter[str],
                      rng: random.Random) -> Composed:
    exclude: set[str] = set()
    fallback: Composed | None = None
    for _ in range(MAX_COMBINATIONS):
        names = compose.balanced_types(count, usage, rng, frozenset(exclude))
        if names is None:
            break
        args, ok = _draw(problem, names, rng)
        composed = Composed(problem, names, args, ok)
        if ok:
            return composed
        fallback = fallback or composed
        exclude.update(names)
    if fallback is None:  # pragma: no cover - 15 types always leave a first choice
        raise RuntimeError("no constraint type left to choose")
    return fallback


def _blocks(members: Sequence[Problem], counts: tuple[int, ...], scheme: str
            ) -> list[tuple[Problem, int, int]]:
    """``(problem, count, position in its count's block)`` for one source's problems."""
    out: list[tuple[Problem, int, int]] = []
    if scheme == "paper":  # contiguous blocks, as the official files are cut
        size, extra = divmod(len(members), len(counts))
        start = 0
        for k, count in enumerate(counts):
            end = start + size + (1 if k < extra else 0)
            out += [(p, count, j) for j, p in enumerate(members[start:end])]
            start = end
        return out
    seen: Counter[int] = Counter()
    for j, p in enumerate(members):
        count = counts[j % len(counts)]
        out.append((p, count, seen[count]))
        seen[count] += 1
    return out


def compose_split(problems: Sequence[Problem], *, scheme: str, counts: tuple[int, ...],
                  rng: random.Random) -> list[Composed]:
    """Constraints for the problems of one split (in their order)."""
    by_source: dict[str, list[Problem]] = {}
    for p in problems:
        by_source.setdefault(p.source, []).append(p)
    plan: dict[int, tuple[int, int]] = {}
    for members in by_source.values():
        for p, count, position in _blocks(members, counts, scheme):
            plan[p.index] = (count, position)
    usage: Counter[str] = Counter()
    out: list[Composed] = []
    for p in problems:
        count, position = plan[p.index]
        if scheme == "paper":
            names = compose.paper_types(count, position)
            args, ok = _draw(p, names, rng)
            composed = Composed(p, names, args, ok)
        else:
            composed = _compose_balanced(p, count, usage, rng)
        usage.update(composed.names)
        out.append(composed)
    return out


def _dedupe(problems: Sequence[Problem]) -> tuple[list[Problem], list[dict[str, str]]]:
    kept: list[Problem] = []
    first: dict[str, Problem] = {}
    dropped: list[dict[str, str]] = []
    for p in problems:
        key = overlap.normalise_question(p.question)
        if key in first:
            dropped.append({"where": p.where, "id": p.id, "same_as": first[key].where})
            continue
        first[key] = p
        kept.append(p)
    return kept, dropped


def _split(problems: Sequence[Problem], fractions: tuple[float, ...] | None, seed: int
           ) -> dict[str, list[Problem]]:
    if fractions is None:
        return {"all": list(problems)}
    order = list(problems)
    random.Random(f"mathif-build:{seed}:split").shuffle(order)
    sizes = [int(len(order) * f) for f in fractions[1:]]
    sizes.insert(0, len(order) - sum(sizes))
    out: dict[str, list[Problem]] = {}
    start = 0
    for name, size in zip(SPLIT_NAMES, sizes, strict=True):
        out[name] = sorted(order[start:start + size], key=lambda p: p.index)
        start += size
    return out


def _reference(against: Dataset | str | os.PathLike[str] | None) -> overlap.Reference:
    if against is None:
        return overlap.shipped()
    dataset = against if isinstance(against, Dataset) else load(against)
    return overlap.Reference.of_dataset(dataset)


def _split_report(items: Sequence[Composed]) -> dict[str, Any]:
    by_type = Counter(n for c in items for n in c.names)
    return {
        "items": len(items),
        "by_count": {COUNT_NAMES[k - 1]: v for k, v in
                     sorted(Counter(len(c.names) for c in items).items())},
        "by_type": {t: by_type.get(t, 0) for t in constraints.CONSTRAINT_IDS},
    }


def build(
    problems: str | os.PathLike[str] | Iterable[Mapping[str, Any]],
    *,
    scheme: str = "balanced",
    seed: int = 0,
    counts: Iterable[int | str] = (1, 2, 3),
    split: Sequence[float] | None = None,
    overlap_mode: str = "remove",
    against: Dataset | str | os.PathLike[str] | None = None,
    question_field: str = "question",
    answer_field: str = "answer",
    id_field: str = "id",
    source_field: str = "source",
    source: str | None = None,
    answer_format: str = "auto",
    hub_config: str | None = None,
    hub_split: str = "train",
    revision: str | None = None,
    limit: int | None = None,
) -> BuildResult:
    """Attach MathIF constraints to math problems (see the module docstring for the steps).

    ``problems``: a JSONL file, ``hf://datasets/ORG/NAME`` (with ``hub_config``/``hub_split``),
    or rows (dicts, a ``datasets.Dataset``). ``scheme``: ``balanced`` or ``paper``. ``counts``:
    the constraint counts to use (1-3 or names). ``split``: train/dev/test fractions, e.g.
    ``(0.8, 0.1, 0.1)``. ``overlap_mode``: ``remove`` or ``report`` the questions found in
    MathIF, compared with ``against`` (a loaded :class:`~mathif.Dataset` or a data source for
    :func:`mathif.load`) or, by default, the shipped hashes of the 420 questions.

    >>> built = mathif.build("gsm8k_train.jsonl", split=(0.9, 0.05, 0.05), seed=1)  # doctest: +SKIP
    >>> built.write("gsm8k-if")                                                    # doctest: +SKIP
    """
    if scheme not in compose.SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}; choose from {compose.SCHEMES}")
    if overlap_mode not in OVERLAP_MODES:
        raise ValueError(f"unknown overlap mode {overlap_mode!r}; choose from {OVERLAP_MODES}")
    if answer_format not in ANSWER_FORMATS:
        raise ValueError(f"unknown answer format {answer_format!r}; choose from "
                         f"{ANSWER_FORMATS}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                              or limit < 0):
        raise ValueError("limit must be an integer >= 0")
    numbers = _count_numbers(counts)
    fractions = _fractions(split)
    fields = Fields(question_field, answer_field, id_field, source_field, source, answer_format)
    reference = _reference(against)
    read, origin = read_problems(problems, fields, hub_config=hub_config, hub_split=hub_split,
                                 revision=revision, limit=limit)
    kept, duplicates = _dedupe(read)

    matches: list[overlap.Match] = []
    clean: list[Problem] = []
    for p in kept:
        found = overlap.find(p.question, reference)
        if found is not None:
            matches.append(overlap.Match(p.where, p.id, *found))
            if overlap_mode == "remove":
                continue
        clean.append(p)
    if not read:
        raise InputError("no problems to build from", file=origin)
    if not clean:
        raise InputError("every problem was removed as a MathIF question; use "
                         "overlap_mode='report' (--overlap report) to keep them", file=origin)

    splits: dict[str, tuple[Item, ...]] = {}
    composed_by_split: dict[str, list[Composed]] = {}
    for name, members in _split(clean, fractions, seed).items():
        rng = random.Random(f"mathif-build:{seed}:{scheme}:{name}")
        composed = compose_split(members, scheme=scheme, counts=numbers, rng=rng)
        composed_by_split[name] = composed
        splits[name] = tuple(
            parse_item(c.to_record(), key=f"{'items' if name == 'all' else name}:{i}",
                       file=f"<build {name}>", line=i + 1)
            for i, c in enumerate(composed))

    report = {
        "mathif_version": __version__,
        "settings": {
            "scheme": scheme, "seed": seed, "counts": list(numbers),
            "split": dict(zip(SPLIT_NAMES, fractions, strict=True)) if fractions else None,
            "overlap": overlap_mode, "question_field": question_field,
            "answer_field": answer_field, "id_field": id_field, "source_field": source_field,
            "source": source, "answer_format": answer_format, "hub_config": hub_config,
            "hub_split": hub_split, "revision": revision, "limit": limit,
        },
        "input": {"origin": origin, "problems": len(read)},
        "duplicates": {"removed": len(duplicates), "examples": duplicates[:_EXAMPLES]},
        "contamination": {
            "compared_with": reference.origin,
            "normalisation": overlap.NORMALISATION,
            "exact": sum(m.kind == "exact" for m in matches),
            "normalised": sum(m.kind == "normalised" for m in matches),
            "action": "removed" if overlap_mode == "remove" else "kept (reported only)",
            "matches": [m.to_record() for m in matches],
        },
        "splits": {name: _split_report(c) for name, c in composed_by_split.items()},
        "unsatisfiable": [
            {"split": name, "id": c.problem.id, "where": c.problem.where,
             "constraint_name": list(c.names)}
            for name, items in composed_by_split.items() for c in items if not c.satisfiable
        ],
    }
    return BuildResult(splits, report)
