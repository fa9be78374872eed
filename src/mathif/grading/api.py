"""Public entry points: ``grade`` and ``grade_many``.

Every verdict is staged the same way, whichever grader is asked for:

1. extraction (string work, in the calling process);
2. the LRU cache of ``(grader, extracted, gold, source kind)``;
3. the pure-Python decision (plain numbers, strings, the official grader's
   string-level steps) - no sympy, bounded time;
4. only if still undecided, a killable worker process with sympy, under ``timeout``.

The worker runs the very same decision code with sympy allowed, so a verdict never
depends on which stage produced it.  Most responses stop at step 3, which is why grading
thousands of responses takes seconds and why ``import mathif.grading`` stays light.

**Bounded time.**  The deadline (``timeout``) can only interrupt a worker, so nothing that
runs in the calling process may take long, whatever the model wrote:

* every scan and regular expression of steps 1 and 3 is linear in its input (no
  backtracking blow-ups; ``tests/grading/test_hostile.py`` feeds generated pathological
  strings to both graders);
* step 1 runs in process only for answer texts up to :func:`inline_limit` characters
  (256 Ki characters at the default 5 s deadline); a longer text goes *whole* to a worker,
  which extracts and decides under the deadline - the whole text is still read, so an
  answer followed by megabytes of text is found;
* step 3 runs only when the extracted answer and the gold are at most :func:`fast_limit`
  characters (20,000 at 5 s); longer ones go to a worker too.

Both limits shrink with a shorter deadline, so the in-process share of one verdict stays
below about a quarter of it (measured worst cases on hostile text: about 0.6 us per
character of extraction and 8 us per character of in-process decision on a 2-core machine).
Routing never changes a verdict: the worker runs the same code.  Only a worker can time
out; timeouts are scored wrong with reason "timeout", never cached, and reported through
the ``mathif.grading`` logger.  Deterministic size guards (power towers, huge powers,
factorials and binomials, answers far longer than the gold) keep sympy away from inputs
whose check would otherwise take seconds, so timeouts stay rare and verdicts do not depend
on machine load.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from mathif.grading import DEFAULT_TIMEOUT, GRADERS, reference
from mathif.grading.reference import NeedsSympy
from mathif.grading.workers import Job, Outcome, WorkerRun, shared_pool, usable_cpus

# In-process limits at the default deadline (see the module docstring); both scale down
# with shorter deadlines.  Answer texts longer than _INLINE_MAX_CHARS are extracted in a
# worker; extracted answers or golds longer than _FAST_PATH_MAX_CHARS are decided in one.
_INLINE_MAX_CHARS = 262_144
_FAST_PATH_MAX_CHARS = 20_000
_LIMITS_DEADLINE = 5.0  # the deadline at which the two limits take their full values
_CACHE_SIZE = 100_000
_JOBS_PER_EXTRA_WORKER = 8
_POLL_EVERY = 16  # answers between two looks at the workers' results

_log = logging.getLogger("mathif.grading")


def inline_limit(timeout: float) -> int:
    """Longest answer text (characters) extracted in the calling process for ``timeout``."""
    return max(4_096, min(_INLINE_MAX_CHARS, int(_INLINE_MAX_CHARS * timeout / _LIMITS_DEADLINE)))


def fast_limit(timeout: float) -> int:
    """Longest extracted answer or gold decided in the calling process for ``timeout``."""
    return max(
        1_000, min(_FAST_PATH_MAX_CHARS, int(_FAST_PATH_MAX_CHARS * timeout / _LIMITS_DEADLINE))
    )


@dataclass(frozen=True)
class Grade:
    """One correctness verdict.

    ``reason`` is "match", "mismatch", "no_answer" (nothing to compare was found),
    "ambiguous" (the closing passage states different answers and nothing decides between
    them; ``extracted_answer`` lists them, separated by `` | ``), "timeout" (the time limit
    killed the check) or "error" (the check failed; scored wrong).  ``extracted_answer``
    records what was compared, for audits.  ``found_by`` names the mathif extraction rule
    that found the answer (``box``, ``hashes``, ``phrase``, ``conclusion``, ``closing``,
    ``loop``, ``display``, ``choice``; see :mod:`mathif.grading.prose`), None when nothing
    was found and for the reference grader.
    """

    correct: bool
    extracted_answer: str | None
    grader: str
    reason: str
    found_by: str | None = None


def extract_answer(answer_text: str, question: str | None = None) -> str | None:
    """mathif's extraction: last box (any case), ``####``, then the closing passage as prose
    (answer phrases in many languages, concluding sentences), read against ``question``."""
    from mathif.grading import prose

    return prose.find_answer(answer_text, question).answer


class _LRU:
    """A bounded, thread-safe mapping of decided verdicts (timeouts are never stored).

    Keys are ``(grader, extracted, gold, source kind)``.
    """

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


def clear_cache() -> None:
    """Forget cached verdicts (benchmarks use this to time cold runs)."""
    _CACHE.clear()


def _fast(job: Job, limit: int = _FAST_PATH_MAX_CHARS) -> Outcome | None:
    """The in-process decision, or None when sympy is needed (or the input is long)."""
    grader, extracted, gold, kind, whole, _question = job
    if whole or len(extracted) > limit or len(gold) > limit:
        return None
    try:
        if grader == "reference":
            ok = reference.judge(extracted, gold, sympy_ok=False)
        else:
            from mathif.grading import equivalence

            ok = equivalence.judge(extracted, gold, kind, sympy_ok=False)
    except NeedsSympy:
        return None
    except Exception:
        return False, "error", None, None
    return ok, "match" if ok else "mismatch", None, None


def _prepare(
    answer_text: str,
    gold: str,
    source: str | None,
    grader: str,
    question: str | None,
    inline: int,
) -> tuple[str | None, Job | None, Grade | None, str | None]:
    """Extraction: (extracted, job, None, rule), or a final Grade ("no_answer",
    "ambiguous").

    A text longer than ``inline`` becomes a *whole* job: the worker extracts it.
    """
    text = answer_text if isinstance(answer_text, str) else str(answer_text)
    gold = gold if isinstance(gold, str) else str(gold)
    q = question if isinstance(question, str) else None
    if grader == "reference":
        if len(text) > inline:
            return None, (grader, text, gold, "", True, q or ""), None, None
        _, extracted = reference.extract(text)
        if not extracted.strip():
            return extracted, None, Grade(False, extracted, grader, "no_answer"), None
        return extracted, (grader, extracted, gold, "", False, ""), None, None
    from mathif.grading import equivalence, prose  # the mathif grader's modules, when used

    kind = equivalence.source_kind(source)
    if len(text) > inline:
        return None, (grader, text, gold, kind, True, q or ""), None, None
    found = prose.find_answer(text, q)
    if found.ambiguous:
        listed = " | ".join(found.candidates)
        return listed, None, Grade(False, listed, grader, "ambiguous", found.rule), found.rule
    if found.answer is None or not found.answer.strip():
        return None, None, Grade(False, None, grader, "no_answer"), None
    return found.answer, (grader, found.answer, gold, kind, False, ""), None, found.rule


def grade(
    answer_text: str,
    gold: str,
    *,
    grader: str = "mathif",
    source: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    question: str | None = None,
) -> Grade:
    """Grade one answer part against its gold answer (see :func:`grade_many`)."""
    return grade_many(
        [(answer_text, gold, source, question)], grader=grader, timeout=timeout, workers=1
    )[0]


def grade_many(
    pairs: Sequence[tuple[str, str, str | None] | tuple[str, str, str | None, str | None]],
    *,
    grader: str = "mathif",
    timeout: float = DEFAULT_TIMEOUT,
    workers: int | None = None,
    progress: bool = False,
) -> list[Grade]:
    """Grade ``(answer_text, gold, source)`` triples; results in input order.

    A fourth element, the item's question, may follow: the mathif grader reads it to tell
    the asked quantity from numbers that merely repeat the question when an answer is given
    in a sentence ("Ann's brother will be 21 years old in 3 years" -> 21).

    ``timeout`` is the deadline of each distinct (answer, gold) pair's worker stage; an item
    that exceeds it is wrong with reason "timeout" and the run goes on.  Work in the
    calling process is linear in each text and capped (see the module docstring), so the
    deadline bounds every verdict.  ``workers`` caps the number of worker processes
    (default: CPU count); they are started only when items need them, one per ~8 such
    items, so small runs pay for at most one.
    """
    with grading_session(grader, len(pairs), timeout=timeout, workers=workers,
                         progress=progress) as session:
        for i, row in enumerate(pairs):
            session.add(i, row[0], row[1], row[2], row[3] if len(row) > 3 else None)
    return session.grades()


@contextlib.contextmanager
def grading_session(
    grader: str,
    total: int,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    workers: int | None = None,
    progress: bool = False,
) -> Iterator[_Batch]:
    """Grade answers as the caller produces them: ``session.add(i, answer_text, gold, source,
    question)`` for ``i`` in ``range(total)``, in any order; after the ``with`` block,
    ``session.grades()`` holds them in order (see :func:`grade_many` for the settings).

    An answer that needs sympy goes to a worker process when it is added, so the workers
    decide it while the caller goes on (checking constraints, reading the next answers).
    """
    if grader not in GRADERS:
        raise ValueError(f"unknown grader {grader!r}; expected one of {GRADERS}")
    if not timeout > 0 or timeout == float("inf"):
        raise ValueError("timeout must be a positive, finite number of seconds")
    bar = _progress_bar(total) if progress else None
    on_done = (lambda n: _tick(bar, n)) if bar is not None else None
    try:
        with shared_pool().streaming(timeout=timeout, on_done=on_done) as run:
            batch = _Batch(grader, timeout, workers, bar, total, run)
            yield batch
            batch.run_workers()
    finally:
        if bar is not None:
            bar.close()


class _Batch:
    """One ``grade_many`` call: in-process verdicts as answers arrive; the answers that need
    sympy go to worker processes as soon as they are found, and are collected at the end."""

    def __init__(
        self, grader: str, timeout: float, workers: int | None, bar: Any, n: int, run: WorkerRun
    ) -> None:
        self.grader = grader
        self.run = run
        self.added = 0
        self.timeout = timeout
        self.workers = workers
        self.bar = bar
        self.inline = inline_limit(timeout)
        self.fast = fast_limit(timeout)
        self.out: list[Grade | None] = [None] * n
        self.slow: dict[Job, list[int]] = {}  # job -> answers it decides
        self.submitted: dict[Job, int] = {}  # job -> its index in the worker run
        self.extracted_of: dict[int, str] = {}
        self.rule_of: dict[int, str | None] = {}

    def add(
        self, i: int, answer_text: str, gold: str, source: str | None, question: str | None
    ) -> None:
        """Extraction, cache and in-process decision; the rest goes to a worker."""
        self.added += 1
        if self.run.busy and self.added % _POLL_EVERY == 0:
            self.run.poll(self.worker_limit())  # collect finished jobs, start waiting ones
        extracted, job, final, rule = _prepare(
            answer_text, gold, source, self.grader, question, self.inline
        )
        if final is not None or job is None:
            self.out[i] = final
            _tick(self.bar, 1)
            return
        if extracted is not None:
            self.extracted_of[i] = extracted
        self.rule_of[i] = rule
        if job in self.slow:
            self.slow[job].append(i)
            return
        outcome = None if job[4] else _CACHE.get(job[:4])
        if outcome is None:
            outcome = _fast(job, self.fast)
            if outcome is not None:
                _CACHE.put(job[:4], outcome)
        if outcome is None:
            self.slow[job] = [i]
            self.submitted[job] = self.run.submit(job, self.worker_limit())
            return
        self.out[i] = Grade(outcome[0], extracted, self.grader, outcome[1], rule)
        _tick(self.bar, 1)

    def worker_limit(self) -> int:
        """Worker processes for the jobs so far: one per ``_JOBS_PER_EXTRA_WORKER``, capped."""
        needed = 1 + max(0, len(self.slow) - 1) // _JOBS_PER_EXTRA_WORKER
        return max(1, min(_worker_cap(self.workers), needed))

    def run_workers(self) -> None:
        """Wait for the jobs given to worker processes (each under the deadline)."""
        if not self.slow:
            return
        outcomes = self.run.finish(self.worker_limit())
        failed = {"timeout": 0, "error": 0}
        for job in self.slow:
            correct, reason, found, found_by = outcome = outcomes[self.submitted[job]]
            if reason in failed:
                failed[reason] += len(self.slow[job])
            elif not job[4]:
                _CACHE.put(job[:4], outcome)
            for i in self.slow[job]:
                if job[4]:  # extracted in the worker
                    shown, rule = found, found_by
                else:
                    shown, rule = self.extracted_of.get(i), self.rule_of.get(i)
                self.out[i] = Grade(correct, shown, self.grader, reason, rule)
            _tick(self.bar, len(self.slow[job]) - 1)
        if failed["timeout"] or failed["error"]:
            _log.warning(
                "%s grader: %d answer(s) hit the %.3g s grading deadline and %d failed with an "
                "error; they are scored wrong (reasons 'timeout' and 'error')",
                self.grader, failed["timeout"], self.timeout, failed["error"],
            )

    def grades(self) -> list[Grade]:
        """Every answer's grade, in order (an answer never added is an "error")."""
        return [g if g is not None else Grade(False, None, self.grader, "error")
                for g in self.out]


def _worker_cap(workers: int | None) -> int:
    return max(1, workers if workers is not None else usable_cpus())


def _progress_bar(total: int):  # type: ignore[no-untyped-def]
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc="grading", unit="resp")


def _tick(bar, n: int) -> None:  # type: ignore[no-untyped-def]
    if bar is not None and n > 0:
        bar.update(n)
