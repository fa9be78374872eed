"""Run a probe's phases over a continuing backend, resumably; share what a sweep can share.

The driver works in waves. In each wave every unfinished transcript plans its next step
(:mod:`mathif.probes.policy`), and all those requests go to the backend in one ``generate``
call (vLLM: one engine call per phase; prefix caching makes the repeated prompt cheap). Each
finished step is appended to its run folder's step log at once, and a transcript whose last
step is done becomes one line of ``completions.jsonl``. A run killed at any moment resumes
from the steps in the log: finished phases are neither lost nor repeated, and a transcript is
completed exactly once.

Several *lanes* (the run folders of a sweep, one per value) are driven together. Requests that
are identical in every lane (same prompt, same text so far, same stop, same limit, same seed)
are generated once and given to each: the un-intervened first phase of every value of
``--force-continue``, and the phases that values have in common (K=2 and K=4 share their
first three). A ``--think-budget`` sweep generates the first phase once with the largest
budget and cuts it to each smaller budget by token ids (the same tokens a shorter limit would
have given, with seeded sampling), when the backend has token ids. Steps already stored in one
lane are copied to another lane that needs the same request (a resumed sweep).
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from mathif.generation.progress import Progress
from mathif.generation.protocol import (
    BackendError,
    Completion,
    ContinuingBackend,
    Piece,
    Request,
    Sampling,
    step_seed,
)
from mathif.generation.store import RunStore
from mathif.probes.policy import Plan, edit, plan, reasoning_tokens, transcript_text
from mathif.probes.settings import ProbeSettings
from mathif.probes.steps import Step, StepLog, clean

if TYPE_CHECKING:
    from mathif.config import RunConfig
    from mathif.data import Dataset

TAG = "@"


@dataclass
class Lane:
    """One run folder of a probe: its store, its step log and its settings.

    ``constraints`` maps an item key to its constraint text (what a reminder repeats); the
    control phase has none. ``requests`` are the transcripts the run wants (one per phase,
    item and sample), as the requests of their first phase.
    """

    store: RunStore
    log: StepLog
    probe: ProbeSettings
    max_tokens: int
    seed: int | None
    requests: Sequence[Request]
    constraints: dict[str, str] = field(default_factory=dict)

    def constraint_text(self, request: Request) -> str:
        return "" if request.phase == "control" else self.constraints.get(request.key, "")


def piece_digest(piece: Piece) -> bytes:
    digest = hashlib.sha256(piece.text.encode("utf-8", "surrogatepass"))
    if piece.ids is not None:
        digest.update(b"\0ids\0")
        digest.update(array("q", piece.ids).tobytes())
    return digest.digest()


def fingerprint(request: Request, *, with_limit: bool = True) -> str:
    """What makes two requests the same generation (the phase tag aside)."""
    s = request.sampling
    head = repr((request.phase.split(TAG)[0], request.key, request.sample,
                 [(m.role, m.content) for m in request.messages], s.temperature, s.top_p,
                 s.max_tokens if with_limit else None, request.seed, list(request.stop)))
    digest = hashlib.sha256(head.encode("utf-8", "surrogatepass"))
    for piece in request.prefix:
        digest.update(piece_digest(piece))
    return digest.hexdigest()


class Transcript:
    """One (phase, item, sample) of one lane: its steps so far and what happens next."""

    def __init__(self, lane: Lane, root: Request, bar: Progress) -> None:
        self.lane = lane
        self.root = root
        self.steps = lane.log.steps(root.id)
        self.bar = bar
        self.done = False
        self.share = True  # may take a longer shared first phase cut to its budget

    def next_plan(self) -> Plan | None:
        return plan(self.lane.probe, self.steps, self.lane.max_tokens)

    def request(self, planned: Plan) -> Request:
        root = self.root
        return Request(
            key=root.key, sample=root.sample, messages=root.messages,
            sampling=Sampling(temperature=root.sampling.temperature, top_p=root.sampling.top_p,
                              max_tokens=planned.max_tokens),
            seed=step_seed(self.lane.seed, root.key, root.sample, planned.step),
            phase=root.phase,
            prefix=tuple(piece for s in self.steps for piece in s.pieces()),
            stop=planned.stop,
        )

    def take(self, planned: Plan, completion: Completion, fp: str,
             backend: ContinuingBackend, *, longer: bool = False) -> None:
        """Record the step that ``completion`` answers (a failure fails the transcript).

        ``longer``: the request was a longer shared first phase, to be cut to this budget.
        """
        if not completion.ok:
            self.fail(f"phase {planned.step}: {completion.error}", completion.attempts)
            return
        text, ids = completion.text, completion.token_ids
        tokens, finish = completion.completion_tokens, completion.finish_reason
        stop, stop_tokens = completion.stop_reason, completion.stop_tokens
        if longer and tokens is not None and tokens > planned.max_tokens:
            # A longer shared first phase: cut to this budget by token ids.
            cut = ids[: planned.max_tokens] if ids is not None and len(ids) == tokens else None
            decoded = backend.decode(cut) if cut is not None else None
            if cut is None or decoded is None:
                self.share = False  # generated on its own in the next wave
                return
            text, ids, tokens, finish, stop, stop_tokens = (decoded, cut, planned.max_tokens,
                                                            "length", None, None)
        self.record(planned, text, ids, tokens, finish, stop, stop_tokens, fp,
                    prompt_tokens=completion.prompt_tokens, latency_s=completion.latency_s,
                    seed=completion.seed)

    def take_stored(self, planned: Plan, stored: Step, fp: str) -> None:
        """Reuse a step another lane stored for the same request."""
        self.record(planned, stored.text, stored.token_ids, stored.completion_tokens,
                    stored.finish_reason, stored.stop_reason, stored.stop_tokens, fp,
                    prompt_tokens=stored.prompt_tokens, latency_s=stored.latency_s,
                    seed=stored.seed)

    def record(self, planned: Plan, text: str, ids: tuple[int, ...] | None,
               tokens: int | None, finish: str | None, stop: str | None,
               stop_tokens: int | None, fp: str, **facts: Any) -> None:
        cleaned = clean(text)
        if cleaned != text:
            text, ids, stop_tokens = cleaned, None, None
        if stop is not None and not text.endswith(stop):
            stop, stop_tokens = None, None
        lane = self.lane
        change = edit(lane.probe, self.steps, planned, text, stop, finish, tokens,
                      lane.max_tokens, lane.constraint_text(self.root))
        step = Step(
            phase=self.root.phase, key=self.root.key, sample=self.root.sample,
            step=planned.step, text=text, finish_reason=finish, stop_reason=stop,
            completion_tokens=tokens, token_ids=ids, stop_tokens=stop_tokens,
            dropped=change.dropped, inserted=change.inserted, closed=change.closed,
            final=change.final, request=fp, **facts,
        )
        lane.log.append(step)
        self.steps.append(step)
        if self.next_plan() is None:
            self.finish()

    def finish(self) -> None:
        steps = self.steps
        tokens = [s.completion_tokens for s in steps]
        latencies = [s.latency_s for s in steps if s.latency_s is not None]
        self._store(Completion(
            key=self.root.key, sample=self.root.sample, phase=self.root.phase,
            text=transcript_text(steps),
            finish_reason=steps[-1].finish_reason if steps else None,
            prompt_tokens=steps[0].prompt_tokens if steps else None,
            completion_tokens=None if None in tokens else sum(t or 0 for t in tokens),
            latency_s=sum(latencies) if latencies else None, seed=self.root.seed,
            reasoning_tokens=reasoning_tokens(steps),
            phases=tuple(s.summary() for s in steps),
        ))

    def fail(self, error: str, attempts: int = 1) -> None:
        self._store(Completion(
            key=self.root.key, sample=self.root.sample, phase=self.root.phase, text="",
            seed=self.root.seed, error=error, attempts=attempts,
            phases=tuple(s.summary() for s in self.steps)))

    def _store(self, completion: Completion) -> None:
        self.lane.store.append(completion)
        self.done = True
        self.bar.update(completion)


@dataclass
class _Job:
    """One request sent to the backend, and the transcripts that wait for it."""

    request: Request
    waiting: list[tuple[Transcript, Plan, str]] = field(default_factory=list)


def _marker(lanes: Sequence[Lane]) -> str:
    markers = {lane.probe.think_marker for lane in lanes}
    if len(markers) != 1:
        raise ValueError("the runs driven together must share one marker")
    return markers.pop()


def drive(lanes: Sequence[Lane], backend: Any, *, progress: bool = False) -> None:
    """Complete every transcript the lanes want and their stores do not hold yet."""
    if not isinstance(backend, ContinuingBackend):
        raise BackendError(
            f"the {getattr(backend, 'name', type(backend).__name__)} backend cannot continue "
            "an assistant turn, which the probes need: use the vllm, hf or openai backend")
    total = sum(len(lane.requests) for lane in lanes)
    pending = [(lane, r) for lane in lanes for r in lane.requests
               if not lane.store.has_success(r.id)]
    if not pending:
        return
    backend.check_continuation(_marker(lanes), pending[0][1])
    facts = backend.describe()
    for lane in lanes:
        lane.store.record_engine(facts)
    stored = {s.request: s for lane in lanes for s in lane.log.by_request() if s.request}
    can_cut = backend.decode([]) is not None
    with Progress(total, done=total - len(pending), enabled=progress, desc="probing") as bar:
        active = [Transcript(lane, root, bar) for lane, root in pending]
        for t in active:
            if t.next_plan() is None:  # every step stored, the completion not yet
                t.finish()
        active = [t for t in active if not t.done]
        while active:
            _wave(active, backend, stored, can_cut)
            for t in active:  # what this wave stored, for lanes that need it later
                for s in t.steps:
                    if s.request:
                        stored.setdefault(s.request, s)
            active = [t for t in active if not t.done]


def _wave(active: Sequence[Transcript], backend: ContinuingBackend, stored: dict[str, Step],
          can_cut: bool) -> None:
    """One phase of every active transcript: one ``generate`` call."""
    jobs: dict[str, _Job] = {}
    for t in active:
        planned = t.next_plan()
        if planned is None:
            t.finish()
            continue
        request = t.request(planned)
        fp = fingerprint(request)
        held = stored.get(fp)
        if held is not None and held.step == planned.step and held.id == t.root.id:
            t.take_stored(planned, held, fp)  # another lane has it: copy, next wave goes on
            continue
        share = fp
        if (can_cut and t.share and planned.step == 0
                and t.lane.probe.kind == "think_budget"):
            share = "budget:" + fingerprint(request, with_limit=False)
        job = jobs.get(share)
        if job is None:
            job = jobs[share] = _Job(request)
        elif request.sampling.max_tokens > job.request.sampling.max_tokens:
            job.request = request  # the longest budget is generated; the others cut it
        job.waiting.append((t, planned, fp))
    if not jobs:
        return
    ordered = list(jobs.values())
    tagged = [replace(job.request, phase=f"{job.request.phase}{TAG}{i}")
              for i, job in enumerate(ordered)]
    answered: set[int] = set()

    def on_complete(completion: Completion) -> None:
        head, _, tail = completion.phase.rpartition(TAG)
        if not tail.isdigit() or int(tail) >= len(ordered) or int(tail) in answered:
            return  # not asked, or asked once: a backend bug must not duplicate steps
        index = int(tail)
        answered.add(index)
        job = ordered[index]
        completion = replace(completion, phase=head)
        for t, planned, fp in job.waiting:
            t.take(planned, completion, fp, backend,
                   longer=job.request.sampling.max_tokens > planned.max_tokens)

    backend.generate(tagged, on_complete)
    for index, job in enumerate(ordered):
        if index not in answered:
            for t, planned, _ in job.waiting:
                t.fail(f"phase {planned.step}: the backend returned no completion")


def constraint_texts(items: Sequence[Any]) -> dict[str, str]:
    """Each item's constraint text as the prompt shows it (what a reminder repeats)."""
    return {item.key: " ".join(item.constraint_desc) for item in items}


def generate_lanes(
    runs: Sequence[tuple[RunConfig, RunStore]],
    requests: Sequence[Request],
    dataset: Dataset,
    engine: Any = None,
    *,
    progress: bool = False,
) -> None:
    """Generate the transcripts of one or several runs of a probe (open stores) together.

    ``requests`` are the first-phase requests every run wants. The backend is ``engine``, or
    the one the first run's config names, built (and closed) only when something is missing.
    """
    from mathif.generation.engines import make_backend

    lanes: list[Lane] = []
    texts = constraint_texts(dataset.items)
    try:
        for config, store in runs:
            lanes.append(Lane(store, StepLog(store.root), config.probe,
                              config.sampling.max_tokens, config.seed, requests, texts))
        if all(lane.store.has_success(r.id) for lane in lanes for r in requests):
            return
        if engine is not None:
            drive(lanes, engine, progress=progress)
            return
        config = runs[0][0]
        assert config.model is not None  # resolved configs name their model
        built = make_backend(config.backend, config.model, options=config.options,
                             chat_template_kwargs=config.chat_template_kwargs, items=dataset)
        try:
            drive(lanes, built, progress=progress)
        finally:
            built.close()
    finally:
        for lane in lanes:
            lane.log.close()
