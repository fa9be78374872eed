"""The openai backend against a hostile server on 127.0.0.1: one bad reply never ends a run.

Every misbehaviour of :mod:`tests.generation.hostile_server` must become that request's
recorded error (or, for a reply with reasoning and null content, a marked empty answer),
never an exception out of ``generate``; a trickling server must not hold a request past
``request_timeout``; servers that refuse connections stop the run in seconds.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")

from mathif.generation import BackendError, Completion, Message, Request, Sampling  # noqa: E402
from mathif.generation.openai import OpenAIBackend, RetryPolicy  # noqa: E402
from tests.generation.conftest import free_port  # noqa: E402
from tests.generation.hostile_server import CANNED, HostileServer  # noqa: E402

FAST = RetryPolicy(max_retries=2, base_s=0.01, cap_s=0.02, max_retry_after_s=0.05)
ONCE = RetryPolicy(max_retries=0)


def requests(n: int = 1) -> list[Request]:
    msg = (Message("user", "What is 1+1?"),)
    return [Request(key=f"k:{i}", sample=0, messages=msg, sampling=Sampling(max_tokens=9),
                    seed=i) for i in range(n)]


def run(backend: OpenAIBackend, n: int = 1) -> list[Completion]:
    got: list[Completion] = []
    backend.generate(requests(n), got.append)
    assert len(got) == n
    return sorted(got, key=lambda c: c.key)


# Each behaviour, alone, for every attempt: a recorded error naming what went wrong.
FAILURES = {
    "gzip_garbage": "undecodable reply",
    "not_http": "connection error",
    "bad_chunked": "connection error",
    "truncated": "connection error",
    "not_json": "unreadable reply: invalid JSON",
    "nan": "unreadable reply: NaN is not valid JSON",
    "deep": "nested too deeply",
    "duplicate_keys": "duplicate key 'content'",
    "no_content": "no content",
    "null_content": "no content",
    "list_content": "not text",
    "not_utf8": "not UTF-8",
    "retry_after_huge": "HTTP 429",
    "html_500": "HTTP 500",
    "endless": "larger than",
    "endless_gzip": "larger than",
}


@pytest.mark.parametrize("behaviour", sorted(FAILURES))
def test_each_bad_reply_is_that_requests_error(behaviour: str) -> None:
    with HostileServer([behaviour]) as server:
        backend = OpenAIBackend("m", base_url=server.url, retry=FAST, concurrency=2,
                                max_reply_bytes=1 << 20, request_timeout=20)
        started = time.monotonic()
        got = run(backend, 2)
    assert time.monotonic() - started < 60  # a hang detector, not a speed test
    for c in got:
        assert not c.ok and c.text == "" and c.attempts == 3
        assert FAILURES[behaviour] in (c.error or ""), c.error
        assert "gave up after 3 attempts" in (c.error or "")
    assert server.requests == 6


def test_a_bad_reply_among_good_ones_is_retried_and_the_run_goes_on() -> None:
    # The finding: a 200 with `Content-Encoding: gzip` and a body that is not gzip raised
    # httpx.DecodingError out of the run (traceback, exit 1).
    script = ["gzip_garbage", "not_http", "nan", "endless", "ok"]
    with HostileServer(script) as server:
        backend = OpenAIBackend("m", base_url=server.url, retry=FAST, concurrency=1,
                                max_reply_bytes=1 << 20)
        got = run(backend, 3)
    assert [c.ok for c in got] == [False, True, True]
    assert "gave up after 3 attempts" in (got[0].error or "")
    assert got[1].text == "<think>r</think>The answer is \\boxed{2}."


def test_null_content_with_reasoning_is_a_marked_empty_answer() -> None:
    with HostileServer(["null_content_reasoning", "ok"]) as server:
        got = run(OpenAIBackend("m", base_url=server.url, retry=FAST, concurrency=1), 2)
    assert got[0].ok and got[0].text == "" and got[0].reasoning == "cut off mid-"
    assert got[0].null_content and not got[1].null_content


def test_lone_surrogates_in_a_reply_are_replaced_and_counted() -> None:
    with HostileServer(["surrogate"]) as server:
        (c,) = run(OpenAIBackend("m", base_url=server.url, retry=FAST))
    assert c.ok and c.text == "<think>\ufffd</think>\\boxed{2} \ufffd"
    assert c.replaced_surrogates == 2
    c.text.encode("utf-8")


def test_a_trickling_server_cannot_hold_a_request_past_the_deadline() -> None:
    # One byte every 0.25 s never trips a read timeout; without a total deadline this request
    # took 200 x 0.25 s = 50 s per attempt.
    with HostileServer(["trickle"], trickle_s=0.25, trickle_bytes=200) as server:
        backend = OpenAIBackend("m", base_url=server.url, request_timeout=1.0,
                                retry=RetryPolicy(max_retries=1, base_s=0.01, cap_s=0.01))
        started = time.monotonic()
        (c,) = run(backend)
        elapsed = time.monotonic() - started
    assert not c.ok and "no complete reply within 1s" in (c.error or "")
    assert elapsed < 15


def test_servers_that_refuse_connections_stop_the_run_in_seconds() -> None:
    # Default retry policy: with backoff alone, 9 attempts per request took minutes.
    urls = [f"http://127.0.0.1:{free_port()}/v1", f"http://127.0.0.1:{free_port()}/v1"]
    backend = OpenAIBackend("m", base_url=urls, concurrency=4)
    started = time.monotonic()
    with pytest.raises(BackendError, match=r"cannot connect to .*is the server running"):
        run(backend, 8)
    assert time.monotonic() - started < 45


def test_one_server_down_in_a_fleet_does_not_stop_the_run() -> None:
    with HostileServer(["ok"]) as server:
        urls = [f"http://127.0.0.1:{free_port()}/v1", server.url]
        backend = OpenAIBackend("m", base_url=urls, concurrency=4,
                                retry=RetryPolicy(base_s=0.01, unreachable_s=0.2))
        got = run(backend, 12)
    assert all(c.ok for c in got)


def test_an_unusable_base_url_stops_at_once() -> None:
    backend = OpenAIBackend("m", base_url="ftp://127.0.0.1:1/v1", retry=FAST)
    with pytest.raises(BackendError, match="check --base-url"):
        run(backend)


def test_retry_after_has_a_documented_maximum() -> None:
    policy = RetryPolicy()
    assert policy.max_retry_after_s == 120.0
    assert policy.delay(0, 1e12, random.Random(0)) == 120.0
    assert policy.delay(7, None, random.Random(0), refused=True) <= policy.connect_retry_s


def test_request_timeout_must_be_a_finite_positive_number() -> None:
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="request_timeout"):
            OpenAIBackend("m", request_timeout=bad)


def test_every_canned_behaviour_is_covered() -> None:
    assert set(CANNED) - {"ok", "null_content_reasoning", "surrogate"} <= set(FAILURES)


def test_a_run_through_the_store_survives_hostile_replies_and_resumes(tmp_path: Path) -> None:
    # The whole pipeline: every kind of bad reply is stored as an error, lone surrogates are
    # stored repaired, and a rerun against a good server fills the errors in.
    import mathif
    from mathif.generation.store import read_completions, repair_counts
    from tests.conftest import need_shared

    data = need_shared("mathif", "aime_single.jsonl")
    script = [*sorted(FAILURES)[:6], "surrogate", "null_content_reasoning"]
    out = tmp_path / "run"
    with HostileServer(script) as server:
        backend = OpenAIBackend("m", base_url=server.url, retry=ONCE, concurrency=1,
                                max_reply_bytes=1 << 20)
        result = mathif.evaluate("m", backend=backend, data=data, out=out, limit=8,
                                 grader=None)
    assert result.metrics.n_errors == 6
    stored = read_completions(out)
    assert repair_counts(stored) == {"null_content": 1, "replaced_surrogates": 2,
                                     "with_replaced_surrogates": 1}
    (out / "samples.jsonl").read_bytes().decode("utf-8")
    with HostileServer(["ok"]) as server:
        backend = OpenAIBackend("m", base_url=server.url, retry=ONCE)
        result = mathif.evaluate("m", backend=backend, data=data, out=out, limit=8,
                                 grader=None)
        assert server.requests == 6
    assert result.metrics.n_errors == 0
