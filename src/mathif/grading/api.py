"""Public entry points: ``grade`` and ``grade_many``.

Every verdict is staged the same way, whichever grader is asked for:

1. extraction (cheap string work, in the calling process);
2. the LRU cache of ``(grader, extracted, gold, source kind)``;
3. the pure-Python decision (plain numbers, strings, the official grader's
   string-level steps) - no sympy, bounded time;
4. only if still undecided, a killable worker process with sympy, under ``timeout``.

The worker runs the very same decision code with sympy allowed, so a verdict never
depends on which stage produced it.  Most responses stop at step 3, which is why grading
thousands of responses takes seconds and why ``import mathif.grading`` stays light.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from mathif.grading import equivalence, extract, reference
from mathif.grading.reference import NeedsSympy
from mathif.grading.workers import Job, Outcome, shared_pool

GRADERS: tuple[str, ...] = ("mathif", "reference")
# The hard time limit of one grading call, in seconds: the one default every caller uses.
DEFAULT_TIMEOUT = 5.0

# Inputs longer than this skip the in-process stage: they are rare, and the worker's hard
# time limit is the only protection that holds for any input.
_FAST_PATH_MAX_CHARS = 20_000
_CACHE_SIZE = 100_000
_JOBS_PER_EXTRA_WORKER = 8


@dataclass(frozen=True)
class Grade:
    """One correctness verdict.

    ``reason`` is "match", "mismatch", "no_answer" (nothing to compare was found),
    "timeout" (the time limit killed the check) or "error" (the check failed; scored
    wrong).  ``extracted_answer`` records what was compared, for audits.
    """

    correct: bool
    extracted_answer: str | None
    grader: str
    reason: str


def extract_answer(answer_text: str) -> str | None:
    """mathif's extraction: last box (any case), ``####``, answer phrases in many languages."""
    return extract.extract_answer(answer_text)


class _LRU:
    """A bounded, thread-safe mapping of decided verdicts (timeouts are never stored)."""

    def __init__(self, size: int) -> None:
        self._data: OrderedDict[tuple[str, str, str, str], Outcome] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, k: tuple[str, str, str, str]) -> Outcome | None:
        with self._lock:
            v = self._data.get(k)
            if v is not None:
                self._data.move_to_end(k)
            return v

    def put(self, k: tuple[str, str, str, str], v: Outcome) -> None:
        with self._lock:
            self._data[k] = v
            self._data.move_to_end(k)
            while len(self._data) > self._size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


_CACHE = _LRU(_CACHE_SIZE)


def warm_up(grader: str | None = None) -> None:
    """Start one grading worker now, so that its start-up (an interpreter plus sympy, about a
    second) overlaps whatever the caller does next instead of delaying the first slow verdict.

    Not for ``grader="reference"``: it decides nearly every answer in process (no answer of
    the 2,904 in benchmarks/bench_score.py needs sympy), so a worker started ahead would
    mostly take a core away from the caller; ``grade_many`` still starts one as soon as an
    answer needs it.
    """
    if grader == "reference":
        return
    shared_pool().prestart(1)


def clear_cache() -> None:
    """Forget cached verdicts (benchmarks use this to time cold runs)."""
    _CACHE.clear()


def _fast(job: Job) -> Outcome | None:
    """The in-process decision, or None when sympy is needed."""
    grader, extracted, gold, kind = job
    if len(extracted) > _FAST_PATH_MAX_CHARS or len(gold) > _FAST_PATH_MAX_CHARS:
        return None
    try:
        if grader == "reference":
            ok = reference.judge(extracted, gold, sympy_ok=False)
        else:
            ok = equivalence.judge(extracted, gold, kind, sympy_ok=False)
    except NeedsSympy:
        return None
    except Exception:
        return False, "error"
    return ok, "match" if ok else "mismatch"


def _prepare(
    answer_text: str, gold: str, source: str | None, grader: str
) -> tuple[str | None, Job | None, Grade | None]:
    """Extraction: returns (extracted, job) or a final "no_answer" Grade."""
    text = answer_text if isinstance(answer_text, str) else str(answer_text)
    gold = gold if isinstance(gold, str) else str(gold)
    if grader == "reference":
        _, extracted = reference.extract(text)
        if not extracted.strip():
            return extracted, None, Grade(False, extracted, grader, "no_answer")
        return extracted, (grader, extracted, gold, ""), None
    found = extract.extract_answer(text)
    if found is None or not found.strip():
        return None, None, Grade(False, None, grader, "no_answer")
    return found, (grader, found, gold, equivalence.source_kind(source)), None


def grade(
    answer_text: str,
    gold: str,
    *,
    grader: str = "mathif",
    source: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Grade:
    """Grade one answer part against its gold answer (see :func:`grade_many`)."""
    return grade_many([(answer_text, gold, source)], grader=grader, timeout=timeout, workers=1)[0]


def grade_many(
    pairs: Sequence[tuple[str, str, str | None]],
    *,
    grader: str = "mathif",
    timeout: float = DEFAULT_TIMEOUT,
    workers: int | None = None,
    progress: bool = False,
) -> list[Grade]:
    """Grade ``(answer_text, gold, source)`` triples; results in input order.

    ``timeout`` bounds the sympy stage of each distinct (answer, gold) pair; an item that
    exceeds it is wrong with reason "timeout" and the run goes on.  ``workers`` caps the
    number of worker processes (default: CPU count); they are started only when items
    need sympy, one per ~8 such items, so small runs pay for at most one.
    """
    if grader not in GRADERS:
        raise ValueError(f"unknown grader {grader!r}; expected one of {GRADERS}")
    if timeout <= 0:
        raise ValueError("timeout must be positive")
    bar = _progress_bar(len(pairs)) if progress else None
    out: list[Grade | None] = [None] * len(pairs)
    slow: dict[Job, list[int]] = {}
    extracted_of: dict[int, str] = {}
    for i, (answer_text, gold, source) in enumerate(pairs):
        extracted, job, final = _prepare(answer_text, gold, source, grader)
        if final is not None or job is None or extracted is None:
            out[i] = final
            _tick(bar, 1)
            continue
        extracted_of[i] = extracted
        if job in slow:
            slow[job].append(i)
            continue
        outcome = _CACHE.get(job)
        if outcome is None:
            outcome = _fast(job)
            if outcome is not None:
                _CACHE.put(job, outcome)
        if outcome is None:
            slow[job] = [i]
            if len(slow) == 1 or len(slow) == _JOBS_PER_EXTRA_WORKER + 1:
                # start worker processes now: their start-up overlaps the rest of this loop
                shared_pool().prestart(
                    min(_worker_cap(workers), 1 + len(slow) // _JOBS_PER_EXTRA_WORKER)
                )
            continue
        out[i] = Grade(outcome[0], extracted, grader, outcome[1])
        _tick(bar, 1)
    if slow:
        jobs = list(slow)
        cap = _worker_cap(workers)
        needed = 1 + (len(jobs) - 1) // _JOBS_PER_EXTRA_WORKER
        outcomes = shared_pool().run(
            jobs,
            timeout=timeout,
            workers=max(1, min(cap, needed)),
            on_done=(lambda n: _tick(bar, n)) if bar is not None else None,
        )
        for job, outcome in zip(jobs, outcomes, strict=True):
            if outcome[1] not in ("timeout", "error"):
                _CACHE.put(job, outcome)
            for i in slow[job]:
                out[i] = Grade(outcome[0], extracted_of[i], grader, outcome[1])
            _tick(bar, len(slow[job]) - 1)
    if bar is not None:
        bar.close()
    return [g if g is not None else Grade(False, None, grader, "error") for g in out]


def _worker_cap(workers: int | None) -> int:
    return max(1, workers if workers is not None else (os.cpu_count() or 1))


def _progress_bar(total: int):  # type: ignore[no-untyped-def]
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc="grading", unit="resp")


def _tick(bar, n: int) -> None:  # type: ignore[no-untyped-def]
    if bar is not None and n > 0:
        bar.update(n)
