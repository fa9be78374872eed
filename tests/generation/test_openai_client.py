"""The openai backend's client logic against an in-process mock transport (no sockets)."""

from __future__ import annotations

import asyncio
import json
import random
import time

import pytest

httpx = pytest.importorskip("httpx")

from mathif.generation import BackendError, Message, Request, Sampling  # noqa: E402
from mathif.generation.openai import (  # noqa: E402
    OpenAIBackend,
    RetryPolicy,
    parse_chat_response,
    parse_retry_after,
)

FAST = RetryPolicy(max_retries=4, base_s=0.001, cap_s=0.01)


def reply(content: str | None = "<think>x</think>ok", **message: object) -> dict:
    return {
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content, **message}}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 3},
    }


def requests(n: int = 1, seed: int | None = 11) -> list[Request]:
    msg = (Message("user", "What is 1+1?"),)
    return [Request(key=f"k:{i}", sample=0, messages=msg, sampling=Sampling(max_tokens=9),
                    seed=seed) for i in range(n)]


def run(backend: OpenAIBackend, reqs: list[Request]) -> list:
    got: list = []
    backend.generate(reqs, got.append)
    return got


def scripted(*steps):  # type: ignore[no-untyped-def]
    """A handler answering with ``steps`` in order (a step is a response or an exception)."""
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        step = steps[min(len(calls), len(steps)) - 1]
        if isinstance(step, Exception):
            raise step
        return step

    return handler, calls


def test_retries_transient_failures_then_succeeds() -> None:
    handler, calls = scripted(
        httpx.Response(500, text="overloaded"),
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("peer closed connection"),
        httpx.Response(200, json=reply()),
    )
    backend = OpenAIBackend("m", transport=httpx.MockTransport(handler), retry=FAST)
    (c,) = run(backend, requests())
    assert c.ok and c.text == "<think>x</think>ok" and c.attempts == 5 and len(calls) == 5
    assert (c.finish_reason, c.prompt_tokens, c.completion_tokens) == ("stop", 5, 3)


def test_retry_after_is_honoured() -> None:
    handler, _ = scripted(httpx.Response(429, headers={"Retry-After": "0.4"}, text="slow down"),
                          httpx.Response(200, json=reply()))
    backend = OpenAIBackend("m", transport=httpx.MockTransport(handler), retry=FAST)
    started = time.monotonic()
    (c,) = run(backend, requests())
    assert c.ok and time.monotonic() - started >= 0.4


def test_gives_up_and_records_an_error_not_an_empty_answer() -> None:
    handler, calls = scripted(httpx.Response(503, text="down"))
    backend = OpenAIBackend("m", transport=httpx.MockTransport(handler), retry=FAST)
    (c,) = run(backend, requests())
    assert not c.ok and "HTTP 503" in c.error and "5 attempts" in c.error
    assert len(calls) == 5 and c.text == ""


def test_client_errors_are_not_retried() -> None:
    handler, calls = scripted(httpx.Response(400, json={"error": "prompt too long"}))
    backend = OpenAIBackend("m", transport=httpx.MockTransport(handler), retry=FAST)
    (c,) = run(backend, requests())
    assert not c.ok and "HTTP 400" in c.error and len(calls) == 1


@pytest.mark.parametrize("status", [401, 403, 404])
def test_refused_credentials_stop_the_run(status: int) -> None:
    handler, _ = scripted(httpx.Response(status, text="no"))
    backend = OpenAIBackend("m", transport=httpx.MockTransport(handler), retry=FAST)
    with pytest.raises(BackendError, match=f"HTTP {status}"):
        run(backend, requests(3))


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"choices": []}',
                                  b'{"choices": [{"message": {"content": 3}}]}'])
def test_malformed_replies_are_retried_then_reported(body: bytes) -> None:
    handler, calls = scripted(httpx.Response(200, content=body))
    backend = OpenAIBackend("m", transport=httpx.MockTransport(handler), retry=FAST)
    (c,) = run(backend, requests())
    assert not c.ok and "unreadable reply" in c.error and len(calls) == 5


def test_request_body() -> None:
    handler, calls = scripted(httpx.Response(200, json=reply()))
    backend = OpenAIBackend(
        "served", transport=httpx.MockTransport(handler), retry=FAST,
        chat_template_kwargs={"enable_thinking": False},
        extra_body={"top_k": 20, "max_tokens": None, "max_completion_tokens": 9},
    )
    run(backend, requests(seed=123))
    body = json.loads(calls[0].content)
    assert body == {
        "model": "served", "messages": [{"role": "user", "content": "What is 1+1?"}],
        "temperature": 1.0, "top_p": 0.95, "seed": 123,
        "chat_template_kwargs": {"enable_thinking": False},
        "top_k": 20, "max_completion_tokens": 9,
    }
    assert calls[0].url.path == "/v1/chat/completions"


def test_unseeded_requests_send_no_seed() -> None:
    handler, calls = scripted(httpx.Response(200, json=reply()))
    run(OpenAIBackend("m", transport=httpx.MockTransport(handler)), requests(seed=None))
    assert "seed" not in json.loads(calls[0].content)


def test_api_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fallback")
    monkeypatch.setenv("MATHIF_API_KEY", "sk-test")
    handler, calls = scripted(httpx.Response(200, json=reply()))
    backend = OpenAIBackend("m", transport=httpx.MockTransport(handler))
    run(backend, requests())
    assert calls[0].headers["authorization"] == "Bearer sk-test"
    assert "sk-test" not in json.dumps(backend.describe())


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_separate_reasoning_is_kept(field: str) -> None:
    text, reasoning, *_ = parse_chat_response(reply("Answer", **{field: "thinking"}))
    assert (text, reasoning) == ("Answer", "thinking")


def test_null_content_is_an_empty_answer() -> None:
    text, reasoning, *_ = parse_chat_response(reply(None, reasoning_content="long..."))
    assert (text, reasoning) == ("", "long...")


def test_concurrency_is_bounded_and_endpoints_share_the_load() -> None:
    state = {"now": 0, "peak": 0}
    hosts: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        state["now"] += 1
        state["peak"] = max(state["peak"], state["now"])
        hosts.append(request.url.host)
        await asyncio.sleep(0.01)
        state["now"] -= 1
        return httpx.Response(200, json=reply())

    backend = OpenAIBackend("m", transport=httpx.MockTransport(handler), concurrency=4,
                            base_url=["http://127.0.0.1:1/v1", "http://127.0.0.2:1/v1"])
    got = run(backend, requests(40))
    assert len(got) == 40 and all(c.ok for c in got)
    assert state["peak"] == 4
    assert abs(hosts.count("127.0.0.1") - hosts.count("127.0.0.2")) <= 4


def test_backoff_grows_with_jitter_and_respects_retry_after() -> None:
    policy = RetryPolicy(base_s=1.0, cap_s=8.0, max_retry_after_s=30.0)
    rng = random.Random(0)
    for attempt, ceiling in [(0, 1.0), (1, 2.0), (2, 4.0), (5, 8.0)]:
        delays = [policy.delay(attempt, None, rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1
    assert policy.delay(0, 12.0, rng) == 12.0
    assert policy.delay(0, 1e9, rng) == 30.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [("3", 3.0), ("0.5", 0.5), ("-2", 0.0), ("soon", None), (None, None), ("nan", None),
     ("Wed, 21 Oct 2015 07:28:00 GMT", 10.0)],
)
def test_retry_after_parsing(value: str | None, expected: float | None) -> None:
    now = 1445412470.0  # ten seconds before the date above
    assert parse_retry_after(value, now=now) == expected


def test_works_inside_a_running_event_loop() -> None:
    handler, _ = scripted(httpx.Response(200, json=reply()))
    backend = OpenAIBackend("m", transport=httpx.MockTransport(handler))

    async def main() -> list:
        return run(backend, requests(2))

    assert len(asyncio.run(main())) == 2
