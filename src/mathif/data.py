"""Benchmark items: load them from the Hub, a folder or one JSONL file, validate, checksum.

Items are keyed by ``"{file stem}:{line index}"`` (0-based line of the file) because ``id`` is
not unique across the official files (SPEC §1). Every file is validated as it is read; a bad
line stops the load with an error naming the file, the 1-based line and the field.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import logging
import os
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, overload

from mathif import constraints, jsonl
from mathif.errors import ChecksumMismatchWarning, InputError

log = logging.getLogger(__name__)

HUB_REPO_ID = "TingchenFu/MathIF"
SOURCES = ("gsm8k", "math500", "minerva", "olympiad", "aime")
COUNT_NAMES = ("single", "double", "triple")
OFFICIAL_FILES = tuple(f"{s}_{c}.jsonl" for s in SOURCES for c in COUNT_NAMES)
ENV_DATA = "MATHIF_DATA"

_REQUIRED_STR = ("source", "id", "question", "answer")

# The files' `source` field names the upstream Hub dataset; the paper's breakdown (and the file
# names) use these short names.
SOURCE_ALIASES = {
    "HuggingFaceH4/gsm8k": "gsm8k",
    "HuggingFaceH4/MATH-500": "math500",
    "zwhe99/simplerl-minerva-math": "minerva",
    "zwhe99/simplerl-OlympiadBench": "olympiad",
    "aime": "aime",
}


def benchmark_source(raw: str, key: str) -> str:
    """The short source name (gsm8k, math500, minerva, olympiad, aime) of an item.

    Known upstream names map directly; otherwise a key whose file stem starts with a short
    name (``aime_single:3``) gives it; otherwise the raw field is kept.
    """
    if raw in SOURCE_ALIASES:
        return SOURCE_ALIASES[raw]
    if raw in SOURCES:
        return raw
    prefix = key.split(":", 1)[0].split("_", 1)[0]
    return prefix if prefix in SOURCES else raw
_LISTS = ("constraint_desc", "constraint_name", "constraint_args")


@cache
def official_checksums() -> Mapping[str, str]:
    """sha256 of each file of the official release, shipped with the package."""
    text = resources.files("mathif").joinpath("resources/mathif_sha256.json").read_text()
    return MappingProxyType(json.loads(text)["files"])


@dataclass(frozen=True)
class Item:
    """One benchmark row."""

    key: str
    source: str  # short name: gsm8k, math500, minerva, olympiad, aime (see SOURCE_ALIASES)
    id: str
    question: str
    answer: str
    constraint_desc: tuple[str, ...]
    constraint_name: tuple[str, ...]
    constraint_args: tuple[Mapping[str, Any], ...]
    fields: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __hash__(self) -> int:
        return hash(self.key)

    @property
    def n_constraints(self) -> int:
        return len(self.constraint_name)

    @property
    def count_name(self) -> str:
        """``single`` / ``double`` / ``triple``, as in the file names and the paper."""
        return COUNT_NAMES[self.n_constraints - 1] if self.n_constraints <= 3 else str(
            self.n_constraints
        )

    def to_record(self) -> dict[str, Any]:
        """The item's fields as in the JSONL file (plus nothing else)."""
        return dict(self.fields)

    @classmethod
    def from_record(cls, record: Any, *, key: str, file: str, line: int) -> Item:
        """A validated item from a decoded JSON line (see :func:`parse_item`)."""
        return parse_item(record, key=key, file=file, line=line)


def _count_value(value: int | str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 3:
        return value
    if isinstance(value, str):
        if value in COUNT_NAMES:
            return COUNT_NAMES.index(value) + 1
        if value.isdigit() and 1 <= int(value) <= 3:
            return int(value)
    raise ValueError(f"unknown constraint count {value!r}; use 1-3 or single/double/triple")


@dataclass(frozen=True)
class Selection:
    """Which items a run covers: the data filters, applied the same way wherever items come
    from (the data set, or the items of a responses file).

    ``sources`` (e.g. ``("aime",)``), ``counts`` (numbers of constraints, 1-3) and ``limit``
    (the first N items left after the other two, in file order). ``None``: no filter.
    """

    sources: tuple[str, ...] | None = None
    counts: tuple[int, ...] | None = None
    limit: int | None = None

    @classmethod
    def of(
        cls,
        sources: Iterable[str] | None = None,
        counts: Iterable[int | str] | None = None,
        limit: int | None = None,
    ) -> Selection:
        """Validate user-given filters (count names such as ``"single"`` are accepted)."""
        wanted = tuple(dict.fromkeys(sources)) if sources is not None else None
        if wanted is not None:
            unknown = set(wanted) - set(SOURCES)
            if unknown:
                raise ValueError(f"unknown source(s) {sorted(unknown)}; choose from {SOURCES}")
        numbers = (tuple(sorted({_count_value(c) for c in counts}))
                   if counts is not None else None)
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                                  or limit < 0):
            raise ValueError("limit must be an integer >= 0")
        return cls(wanted, numbers, limit)

    @property
    def is_everything(self) -> bool:
        return self.sources is None and self.counts is None and self.limit is None

    def keeps(self, item: Item) -> bool:
        """Whether ``item`` passes the source and count filters (the limit aside)."""
        return (self.sources is None or item.source in self.sources) and (
            self.counts is None or item.n_constraints in self.counts)

    def apply(self, items: Iterable[Item]) -> list[Item]:
        selected = [item for item in items if self.keeps(item)]
        return selected if self.limit is None else selected[: self.limit]


@dataclass(frozen=True)
class FileCheck:
    name: str
    sha256: str
    expected: str | None

    @property
    def status(self) -> str:
        if self.expected is None:
            return "unknown"
        return "ok" if self.sha256 == self.expected else "mismatch"


@dataclass(frozen=True)
class Dataset(Sequence[Item]):
    """The loaded items plus where they came from and whether the files are the official ones."""

    items: tuple[Item, ...]
    origin: str
    files: tuple[FileCheck, ...] = ()
    # Every item the files hold, before any filter: responses files that are aligned line by
    # line with the whole data set are matched against these (empty: the same as ``items``).
    loaded: tuple[Item, ...] = field(default=(), repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.items)

    @overload
    def __getitem__(self, index: int) -> Item: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Item, ...]: ...

    def __getitem__(self, index: int | slice) -> Item | tuple[Item, ...]:
        return self.items[index]

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)

    @property
    def checksum(self) -> str:
        """One sha256 over the per-file hashes, in file-name order: the data fingerprint."""
        digest = hashlib.sha256()
        for check in sorted(self.files, key=lambda f: f.name):
            digest.update(f"{check.name}:{check.sha256}\n".encode())
        return digest.hexdigest()

    @property
    def mismatches(self) -> list[str]:
        return [f.name for f in self.files if f.status == "mismatch"]

    @property
    def official(self) -> bool:
        """True when every file matches the official checksums and all 15 files are present."""
        names = {f.name for f in self.files}
        return not self.mismatches and names == set(OFFICIAL_FILES) and all(
            f.status == "ok" for f in self.files
        )

    def by_key(self) -> dict[str, Item]:
        return {item.key: item for item in self.items}

    @property
    def all_items(self) -> tuple[Item, ...]:
        """Every item the files hold, whatever the filters kept."""
        return self.loaded or self.items

    def select(self, selection: Selection) -> Dataset:
        """The items that ``selection`` keeps (of those this data set holds)."""
        if selection.is_everything:
            return self
        return replace(self, items=tuple(selection.apply(self.items)), loaded=self.all_items)

    def manifest(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "checksum": self.checksum,
            "official": self.official,
            "n_items": len(self.items),
            "files": {f.name: {"sha256": f.sha256, "status": f.status} for f in self.files},
            "checksum_mismatches": self.mismatches,
        }


def _constraint(
    i: int, name: Any, desc: Any, arg: Any, fail: Callable[[str, str], InputError]
) -> Mapping[str, Any]:
    """The validated arguments of constraint ``i`` of an item."""
    if not isinstance(name, str):
        raise fail("expected a string", f"constraint_name[{i}]")
    if not isinstance(desc, str):
        raise fail("expected a string", f"constraint_desc[{i}]")
    if arg is not None and not isinstance(arg, dict):
        raise fail(f"expected an object or null, got {type(arg).__name__}",
                   f"constraint_args[{i}]")
    try:
        clean = constraints.validate_args(name, arg)
    except constraints.UnknownConstraintError:
        raise fail(f"unknown constraint id {name!r}", f"constraint_name[{i}]") from None
    except constraints.ArgumentError as exc:
        raise fail(exc.message, f"constraint_args[{i}].{exc.field}") from None
    return MappingProxyType(dict(clean))


def parse_item(record: Any, *, key: str, file: str, line: int) -> Item:
    """Validate one decoded JSON line and build an :class:`Item`.

    Raises :class:`InputError` naming ``file``, ``line`` (1-based) and the field.
    """

    def fail(message: str, fld: str | None = None) -> InputError:
        return InputError(message, file=file, line=line, field=fld)

    if not isinstance(record, dict):
        raise fail(f"expected a JSON object, got {type(record).__name__}")
    for name in _REQUIRED_STR:
        if name not in record:
            raise fail("missing field", name)
        if not isinstance(record[name], str):
            raise fail(f"expected a string, got {type(record[name]).__name__}", name)
    for name in _LISTS:
        if name not in record:
            raise fail("missing field", name)
        if not isinstance(record[name], list):
            raise fail(f"expected a list, got {type(record[name]).__name__}", name)
    names, descs, args = (record[n] for n in ("constraint_name", "constraint_desc",
                                                "constraint_args"))
    if not names:
        raise fail("an item needs at least one constraint", "constraint_name")
    if not (len(names) == len(descs) == len(args)):
        raise fail(
            f"constraint lists are not aligned: {len(names)} names, {len(descs)} descriptions, "
            f"{len(args)} argument sets",
            "constraint_args",
        )
    normalised = [_constraint(i, name, desc, arg, fail)
                  for i, (name, desc, arg) in enumerate(zip(names, descs, args, strict=True))]
    return Item(
        key=key,
        source=benchmark_source(record["source"], key),
        id=record["id"],
        question=record["question"],
        answer=record["answer"],
        constraint_desc=tuple(descs),
        constraint_name=tuple(names),
        constraint_args=tuple(normalised),
        fields=MappingProxyType(dict(record)),
    )


def read_jsonl(path: Path) -> Iterator[tuple[int, Any]]:
    """Yield ``(0-based line index, decoded value)`` for each non-blank line of ``path``.

    Each line is decoded on its own, by :func:`mathif.jsonl.parse` (strict UTF-8, no
    ``NaN``/``Infinity``, no repeated keys, bounded nesting): an error names the file, the
    1-based line and the column, including for a byte that is not UTF-8. A UTF-8 byte-order
    mark at the start of the file is skipped. Lone surrogates are replaced with U+FFFD, counted
    (:func:`mathif.jsonl.recording_repairs`) and warned about once the file has been read.
    """
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=str(path)) from None
    replaced = 0
    first: int | None = None
    with handle:
        for index, raw in enumerate(handle):
            if index == 0 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8):]
            if not raw.strip():
                continue
            try:
                value, repaired = jsonl.parse(raw)
            except jsonl.JSONLineError as exc:
                raise InputError(exc.describe(), file=str(path), line=index + 1) from None
            if repaired:
                replaced += repaired
                first = index + 1 if first is None else first
                jsonl.note_repairs(repaired, f"{path}:{index + 1}")
            yield index, value
    jsonl.warn_repairs(replaced, str(path), f"line {first}")


def read_items(path: Path) -> list[Item]:
    stem = path.name[: -len(".jsonl")] if path.name.endswith(".jsonl") else path.stem
    return [
        parse_item(record, key=f"{stem}:{index}", file=str(path), line=index + 1)
        for index, record in read_jsonl(path)
    ]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _file_check(path: Path) -> FileCheck:
    return FileCheck(path.name, _sha256(path), official_checksums().get(path.name))


def _hub_files(repo_id: str, revision: str | None, cache_dir: str | None) -> list[Path]:
    """Download (or reuse from the cache) the 15 files of the dataset repository."""
    try:
        from huggingface_hub import hf_hub_download
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise InputError("huggingface_hub is needed to load the dataset from the Hub") from exc
    endpoint = os.environ.get("HF_ENDPOINT") or None
    paths = []
    for name in OFFICIAL_FILES:
        try:
            local = hf_hub_download(
                repo_id,
                name,
                repo_type="dataset",
                revision=revision,
                cache_dir=cache_dir,
                endpoint=endpoint,
            )
        except Exception as exc:
            raise InputError(
                f"could not fetch {name} from the Hub dataset {repo_id}: {exc}. "
                f"Set {ENV_DATA} to a local copy of the 15 files to work offline.",
                file=f"hf://datasets/{repo_id}/{name}",
            ) from None
        paths.append(Path(local))
    return paths


def _resolve(origin: str | os.PathLike[str] | None) -> tuple[str, list[Path], str]:
    """Turn ``origin`` into (kind, paths, origin)."""
    if origin is None:
        origin = os.environ.get(ENV_DATA) or "hub"
    text = os.fspath(origin)
    if text in ("hub", HUB_REPO_ID) or text.startswith("hf://"):
        repo = text[len("hf://"):].removeprefix("datasets/") if text.startswith("hf://") else (
            HUB_REPO_ID
        )
        return "hub", [], repo
    path = Path(text).expanduser()
    if path.is_dir():
        files = sorted(path.glob("*.jsonl"))
        if not files:
            raise InputError("no .jsonl files in this folder", file=str(path))
        return "folder", files, str(path)
    if path.is_file():
        return "file", [path], str(path)
    raise InputError(
        "no such file or folder (give 'hub', a folder holding the 15 MathIF files, or one "
        "JSONL file)",
        file=text,
    )


def load(
    origin: str | os.PathLike[str] | None = None,
    *,
    sources: Iterable[str] | None = None,
    counts: Iterable[int | str] | None = None,
    limit: int | None = None,
    revision: str | None = None,
    cache_dir: str | None = None,
) -> Dataset:
    """Load MathIF items.

    ``origin``: ``"hub"`` (the default: the Hugging Face dataset ``TingchenFu/MathIF``, fetched
    once and cached), a folder holding the JSONL files, or one JSONL file. When ``origin`` is
    not given, the environment variable ``MATHIF_DATA`` is used if set.
    Filters: ``sources`` (the items' benchmark sources, e.g. ``["aime"]``), ``counts`` (1-3
    or ``single``/``double``/``triple``), ``limit`` (first N items after filtering, in file
    order).

    Files are compared with the official checksums shipped in the package; a difference is
    warned about loudly and recorded in :meth:`Dataset.manifest`, because published numbers
    hold only for the known files.

    >>> items = mathif.load("path/to/MathIF", sources=["aime"], counts=[1])  # doctest: +SKIP
    >>> items[0].key
    'aime_single:0'
    """
    kind, paths, origin = _resolve(origin)
    if kind == "hub":
        paths = _hub_files(origin, revision, cache_dir)
        origin = f"hf://datasets/{origin}" + (f"@{revision}" if revision else "")
    else:
        paths = sorted(paths, key=lambda p: (p.name not in OFFICIAL_FILES,
                                             OFFICIAL_FILES.index(p.name)
                                             if p.name in OFFICIAL_FILES else 0, p.name))
    selection = Selection.of(sources, counts, limit)

    items: list[Item] = []
    checks: list[FileCheck] = []
    seen: dict[str, str] = {}
    for path in paths:
        checks.append(_file_check(path))
        for item in read_items(path):
            if item.key in seen:
                raise InputError(f"duplicate item key {item.key!r} (also in {seen[item.key]})",
                                 file=str(path))
            seen[item.key] = str(path)
            items.append(item)
    bad = [c.name for c in checks if c.status == "mismatch"]
    if bad:
        message = (
            f"MathIF data from {origin} differs from the official release in "
            f"{', '.join(bad)}: published numbers do not apply to these files."
        )
        warnings.warn(message, ChecksumMismatchWarning, stacklevel=2)
        log.warning("WARNING: %s", message)
    everything = Dataset(items=tuple(items), origin=origin, files=tuple(checks))
    return everything.select(selection)
