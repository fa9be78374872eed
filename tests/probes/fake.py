"""A scripted continuing backend: the probes' logic tested without a model.

It "thinks" in tokens: token 0 is the marker ``</think>``, token k > 0 is the text ``" wk"``.
A reasoning step (one whose stop strings hold the marker) writes ``reason_len`` tokens and
then the marker; an answer step writes the answer tokens and ends its turn. Lengths depend on
the request's seed, so steps differ, and on nothing else, so a run is repeatable. Every
request is recorded (``calls``: one list per ``generate`` call).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from typing import Any

from mathif.generation.continuation import prefix_text
from mathif.generation.protocol import BackendError, Completion, OnComplete, Request

MARKER = "</think>"
ANSWER = "The answer is \\boxed{42}."


def word(k: int) -> str:
    return MARKER if k == 0 else f" w{k}"


class FakeThinker:
    name = "fake"

    def __init__(self, *, min_len: int = 3, max_len: int = 12, eos_rate: float = 0.0,
                 sleep: float = 0.0, fail_on: set[tuple[str, int, int]] | None = None,
                 # fail_on: (key, sample, number of prefix pieces) of requests that fail
                 marker_known: bool = True, with_ids: bool = True) -> None:
        self.min_len, self.max_len = min_len, max_len
        self.eos_rate = eos_rate
        self.sleep = sleep
        self.fail_on = fail_on or set()
        self.marker_known = marker_known
        self.with_ids = with_ids
        self.calls: list[list[Request]] = []
        self.checked: list[str] = []

    def describe(self) -> dict[str, Any]:
        return {"engine": "fake"}

    def close(self) -> None:
        pass

    def check_continuation(self, marker: str, request: Request) -> None:
        self.checked.append(marker)
        if not self.marker_known or marker != MARKER:
            raise BackendError(f"fake model does not think with {marker!r}")

    def decode(self, ids: Sequence[int]) -> str | None:
        return "".join(word(i) for i in ids) if self.with_ids else None

    def _draw(self, request: Request) -> tuple[int, bool]:
        h = hashlib.sha256(f"{request.seed}|{request.key}|{request.sample}|"
                           f"{len(prefix_text(request.prefix))}".encode()).digest()
        length = self.min_len + h[0] % (self.max_len - self.min_len + 1)
        eos = h[1] / 255 < self.eos_rate
        return length, eos

    def generate(self, requests: Sequence[Request], on_complete: OnComplete) -> None:
        self.calls.append(list(requests))
        for request in requests:
            if self.sleep:
                time.sleep(self.sleep)
            pieces = len(request.prefix)
            if (request.key, request.sample, pieces) in self.fail_on:
                on_complete(Completion.failed(request, "scripted failure"))
                continue
            on_complete(self._one(request))

    def _one(self, request: Request) -> Completion:
        limit = request.sampling.max_tokens
        length, eos = self._draw(request)
        seed = request.seed or 0
        if MARKER in request.stop:  # a reasoning step
            ids = [1 + (seed + i) % 97 for i in range(length)]
            if not eos:
                ids.append(0)
        else:  # the answer: a few tokens, then the end of the turn
            ids = [100 + i for i in range(5)]
        finish = "stop"
        if len(ids) > limit:
            ids, finish = ids[:limit], "length"
        text = "".join(word(i) for i in ids)
        if MARKER not in request.stop and finish == "stop":
            text = text + " " + ANSWER
        stop = MARKER if ids and ids[-1] == 0 and MARKER in request.stop else None
        return Completion(
            key=request.key, sample=request.sample, phase=request.phase, text=text,
            finish_reason=finish, prompt_tokens=10 + len(prefix_text(request.prefix)),
            completion_tokens=len(ids), latency_s=0.001, seed=request.seed,
            token_ids=tuple(ids) if self.with_ids and MARKER in request.stop else None,
            stop_reason=stop, stop_tokens=1 if stop and self.with_ids else None)
