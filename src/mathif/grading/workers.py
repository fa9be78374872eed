"""Killable worker processes that run the sympy part of grading under a hard time limit.

sympy can take minutes (or forever) on hostile input such as ``9^{9^{9^{9}}}``, and a
signal-based timeout only works in a process's main thread, so a library that may be
called from any thread cannot rely on one.  Instead the slow part of each verdict runs
in a separate process; when its deadline passes the process is killed, the item is
scored wrong with reason ``"timeout"``, and a fresh process takes its place.

Processes are started lazily (the first slow item pays the start-up, not the import of
:mod:`mathif.grading`) and kept for later calls; a killed one is replaced on demand.

A job's deadline runs from the moment its worker is ready (interpreter started, sympy and
math-verify imported, which a worker announces), not from its spawn: otherwise the first
job of each new worker - and every job after a kill - would lose a second or more of its
time to start-up, and on a loaded machine that alone turns verdicts into timeouts.  A
worker that is not ready within ``STARTUP_LIMIT`` seconds is killed and its job scored
"error".
"""

from __future__ import annotations

import atexit
import contextlib
import os
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

# (grader, text, gold, source_kind, whole, question): ``text`` is the extracted answer, or
# with ``whole`` the entire answer text (long texts only), which the worker extracts first
# (reading ``question`` as the mathif grader does; "" for none).
Job = tuple[str, str, str, str, bool, str]
# (correct, reason, extracted, found_by): the last two only for *whole* jobs, else None.
Outcome = tuple[bool, str, str | None, str | None]

_MEMORY_LIMIT_BYTES = 4 * 1024**3
STARTUP_LIMIT = 60.0
# The message a worker sends once it is ready (a job id is never None).
_READY = (None, None)


def run_job(job: Job) -> Outcome:
    """Decide one job with sympy allowed (this runs inside a worker process)."""
    grader, text, gold, kind, whole, question = job
    found: str | None = None
    rule: str | None = None
    try:
        if whole:
            extracted, rule, final = _extract_whole(grader, text, question)
            if final is not None:
                return False, final, extracted, rule
            assert extracted is not None
            text = found = extracted
        if grader == "reference":
            from mathif.grading import reference

            ok = reference.judge(text, gold, sympy_ok=True)
        else:
            from mathif.grading import equivalence

            _warm_math_verify()
            ok = equivalence.judge(text, gold, kind, sympy_ok=True)
    except Exception:
        return False, "error", found, rule
    return ok, "match" if ok else "mismatch", found, rule


def _extract_whole(
    grader: str, text: str, question: str
) -> tuple[str | None, str | None, str | None]:
    """(extracted, found_by, final reason or None), as the calling process would extract."""
    if grader == "reference":
        from mathif.grading import reference

        _, extracted = reference.extract(text)
        return extracted, None, None if extracted.strip() else "no_answer"
    from mathif.grading import prose

    found = prose.find_answer(text, question or None)
    if found.ambiguous:
        return " | ".join(found.candidates), found.rule, "ambiguous"
    if found.answer is None or not found.answer.strip():
        return None, None, "no_answer"
    return found.answer, found.rule, None


_MATH_VERIFY_READY = False


def _warm_math_verify() -> None:
    """Import math-verify and build its LaTeX parser once (first mathif job only)."""
    global _MATH_VERIFY_READY
    if _MATH_VERIFY_READY:
        return
    import logging

    from math_verify import LatexExtractionConfig, parse, verify

    logging.getLogger("math_verify").setLevel(logging.CRITICAL)
    config = [LatexExtractionConfig()]
    verify(
        parse("$\\frac{1}{2}$", extraction_config=config, parsing_timeout=None),
        parse("$0.5$", extraction_config=config, parsing_timeout=None),
        timeout_seconds=None,
    )
    _MATH_VERIFY_READY = True


def _worker_main_fds(read_fd: int, write_fd: int) -> None:
    """Entry point of ``python -m mathif.grading.workers READ_FD WRITE_FD``."""
    _worker_main(Connection(read_fd, writable=False), Connection(write_fd, readable=False))


def _worker_main(conn: Connection, out: Connection) -> None:
    """Serve jobs until the parent closes the pipe."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import resource

        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or hard > _MEMORY_LIMIT_BYTES:
            resource.setrlimit(resource.RLIMIT_AS, (_MEMORY_LIMIT_BYTES, hard))
    except (ImportError, ValueError, OSError):
        pass
    import sympy  # noqa: F401  (every job may need it; import before the first deadline)

    # Also build math-verify's parser now: workers are started ahead of need (see
    # ``WorkerPool.prestart``), so this happens while the caller is still busy elsewhere.
    with contextlib.suppress(Exception):
        _warm_math_verify()
    try:
        out.send(_READY)
    except (BrokenPipeError, OSError):
        return

    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        job_id, job = msg
        try:
            outcome = run_job(job)
        except BaseException:  # MemoryError, RecursionError...: report, keep serving
            outcome = (False, "error", None, None)
        try:
            out.send((job_id, outcome))
        except (BrokenPipeError, OSError):
            return


# The worker interpreter imports only this subpackage: a stand-in ``mathif`` package
# object (pointing at the real directory) keeps the parent package's ``__init__`` - and
# whatever heavy imports it grows - out of the start-up path.
_BOOT = (
    "import sys, types\n"
    "pkg = types.ModuleType('mathif')\n"
    "pkg.__path__ = [sys.argv[1]]\n"
    "sys.modules['mathif'] = pkg\n"
    "from mathif.grading.workers import _worker_main_fds\n"
    "_worker_main_fds(int(sys.argv[2]), int(sys.argv[3]))\n"
)


def _package_dir() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class _Worker:
    """One grading process: a fresh interpreter running :func:`_worker_main_fds`.

    A fresh interpreter (rather than ``multiprocessing``) means the caller's ``__main__``
    is never re-imported, so scripts without an ``if __name__ == "__main__"`` guard work,
    and the process can be killed at any moment without corrupting shared state.
    """

    def __init__(self) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _BOOT, _package_dir(), str(to_child_r), str(from_child_w)],
            pass_fds=(to_child_r, from_child_w),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=True,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self.send_conn = Connection(to_child_w, readable=False)
        self.conn = Connection(from_child_r, writable=False)
        self.job_id: int | None = None
        self.deadline = 0.0
        self.ready = False

    def alive(self) -> bool:
        return self.proc.poll() is None

    def send(self, msg: Any) -> None:
        self.send_conn.send(msg)

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        self._close()

    def _close(self) -> None:
        for conn in (self.send_conn, self.conn):
            with contextlib.suppress(OSError):
                conn.close()


class WorkerPool:
    """A small pool of grading processes with per-job deadlines.

    ``run`` is synchronous and returns outcomes in job order; it is guarded by a lock so
    concurrent callers (threads) take turns instead of sharing pipes.
    """

    def __init__(self) -> None:
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()

    def run(
        self,
        jobs: Sequence[Job],
        *,
        timeout: float,
        workers: int,
        on_done: Callable[[int], None] | None = None,
    ) -> list[Outcome]:
        with self._lock:
            return self._run(jobs, timeout, max(1, workers), on_done)

    def prestart(self, count: int) -> None:
        """Start workers now (without waiting) so their imports overlap the caller's work."""
        with self._lock:
            while len(self._idle) < count:
                self._idle.append(self._spawn())

    @contextlib.contextmanager
    def streaming(
        self, *, timeout: float, on_done: Callable[[int], None] | None = None
    ) -> Iterator[WorkerRun]:
        """A run that takes jobs while the caller is still finding them: each job goes to a
        worker as soon as one is free (``submit``), so workers decide slow answers while the
        caller decides the easy ones; ``finish`` waits for the rest. Callers take turns."""
        with self._lock:
            run = WorkerRun(self, [], timeout, on_done)
            try:
                yield run
            finally:
                for worker in run.busy.values():  # left running only if the caller failed
                    worker.kill()
                run.busy.clear()

    def _spawn(self) -> _Worker:
        return _Worker()

    def _run(
        self,
        jobs: Sequence[Job],
        timeout: float,
        workers: int,
        on_done: Callable[[int], None] | None,
    ) -> list[Outcome]:
        run = WorkerRun(self, list(jobs), timeout, on_done)
        run.pending.extend(range(len(jobs)))
        try:
            return run.finish(workers)
        except BaseException:
            for worker in run.busy.values():
                worker.kill()
            raise

    def close(self) -> None:
        """Kill the idle workers: they hold nothing, and asking one that is still starting
        (a warm-up worker importing sympy) to stop would hold the caller's exit until its
        start-up ends, up to a second after the work is done."""
        with self._lock:
            for worker in self._idle:
                worker.kill()
            self._idle.clear()


class WorkerRun:
    """The state of one run of the pool: pending jobs, busy workers, results."""

    def __init__(
        self,
        pool: WorkerPool,
        jobs: list[Job],
        timeout: float,
        on_done: Callable[[int], None] | None,
    ) -> None:
        self.pool = pool
        self.jobs = jobs
        self.timeout = timeout
        self.on_done = on_done
        self.results: list[Outcome | None] = [None] * len(jobs)
        self.pending: deque[int] = deque()
        self.busy: dict[Connection, _Worker] = {}

    def submit(self, job: Job, workers: int) -> int:
        """Queue ``job`` (its index in the results) and start it if fewer than ``workers``
        workers are busy."""
        self.jobs.append(job)
        self.results.append(None)
        self.pending.append(len(self.jobs) - 1)
        self.fill(workers)
        return len(self.jobs) - 1

    def poll(self, workers: int) -> None:
        """Without waiting: take the finished results and hand out the next jobs."""
        if self.busy:
            self.wait_and_collect(block=False)
            self.expire()
        self.fill(workers)

    def finish(self, workers: int) -> list[Outcome]:
        """Wait until every job is decided; outcomes in job order."""
        while self.pending or self.busy:
            self.fill(workers)
            if self.busy:
                self.wait_and_collect()
                self.expire()
        return [r if r is not None else (False, "error", None, None) for r in self.results]

    def fill(self, workers: int) -> None:
        """Start pending jobs on idle (or new) workers, up to ``workers`` busy at once."""
        while self.pending and len(self.busy) < max(1, workers):
            worker = self.pool._idle.pop() if self.pool._idle else self.pool._spawn()
            if not worker.alive():
                worker.kill()
                continue
            self.assign(worker)

    def _finish(self, idx: int, outcome: Outcome) -> None:
        self.results[idx] = outcome
        if self.on_done:
            self.on_done(1)

    def assign(self, worker: _Worker) -> None:
        """Give ``worker`` the next pending job, or return it to the idle list."""
        if not self.pending:
            self.pool._idle.append(worker)
            return
        idx = self.pending.popleft()
        try:
            worker.send((idx, self.jobs[idx]))
        except (OSError, BrokenPipeError):
            self.pending.appendleft(idx)
            worker.kill()
            return
        worker.job_id = idx
        # until the worker says it is ready, only the start-up limit runs
        wait_for = self.timeout if worker.ready else STARTUP_LIMIT + self.timeout
        worker.deadline = time.monotonic() + wait_for
        self.busy[worker.conn] = worker

    def wait_and_collect(self, block: bool = True) -> None:
        """Wait until the nearest deadline for messages (``block=False``: take only those
        already there); record results, reassign workers."""
        nearest = min(w.deadline for w in self.busy.values())
        wait_s = max(0.0, nearest - time.monotonic()) if block else 0.0
        ready = wait(list(self.busy), timeout=wait_s)
        for conn in ready:
            worker = self.busy.pop(conn)  # type: ignore[call-overload]
            try:
                job_id, outcome = worker.conn.recv()
            except (EOFError, OSError):
                # the process died (e.g. memory limit): score wrong, replace it
                assert worker.job_id is not None
                self._finish(worker.job_id, (False, "error", None, None))
                worker.kill()
                continue
            if job_id is None:  # ready: the job's own time starts now
                worker.ready = True
                worker.deadline = time.monotonic() + self.timeout
                self.busy[worker.conn] = worker
                continue
            self._finish(job_id, outcome)
            self.assign(worker)

    def expire(self) -> None:
        """Kill the workers whose deadline has passed; their jobs are decided."""
        now = time.monotonic()
        for conn, worker in list(self.busy.items()):
            if worker.deadline <= now:
                self.busy.pop(conn)
                assert worker.job_id is not None
                # a worker that never became ready failed; a ready one ran out of time
                reason = "timeout" if worker.ready else "error"
                self._finish(worker.job_id, (False, reason, None, None))
                worker.kill()


_POOL: WorkerPool | None = None
_POOL_LOCK = threading.Lock()


def shared_pool() -> WorkerPool:
    """The process-wide pool, created on first use and closed at interpreter exit."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or os.getpid() != _POOL_PID:
            _set_pool(WorkerPool())
        assert _POOL is not None
        return _POOL


_POOL_PID = -1


def _set_pool(pool: WorkerPool) -> None:
    global _POOL, _POOL_PID
    _POOL = pool
    _POOL_PID = os.getpid()
    atexit.register(pool.close)


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def warm_up(grader: str | None = None) -> None:
    """Start one grading worker now, so that its start-up (an interpreter plus sympy and
    math-verify, about a second) overlaps whatever the caller does next instead of delaying
    the first verdict that needs it. Cheap to call: it imports none of the graders.

    With one CPU only for the mathif grader: the reference grader decides nearly every answer
    in process (1 of the 2,904 in benchmarks/bench_score.py needs sympy), so there a worker
    started ahead is worth it only when it does not take the caller's core.
    """
    if grader is None or (grader == "reference" and usable_cpus() < 2):
        return
    shared_pool().prestart(1)

