"""The ``openai`` backend: any OpenAI-compatible chat server (vLLM, SGLang, llama.cpp, hosted).

Built on raw ``httpx`` rather than the ``openai`` SDK, on purpose:

- retries are ours alone (the SDK retries too, and two retry layers multiply waits and
  hide ``Retry-After``); we need exponential backoff with jitter, ``Retry-After`` honoured,
  and a per-request error record when the retries run out;
- servers differ in the fields we read (``reasoning_content`` vs ``reasoning``) and accept
  extra ones (``chat_template_kwargs``); plain JSON keeps both sides explicit;
- the client is the same transport the SDK uses, without the model-object layer, so its
  throughput matches a bare asyncio client (see ``benchmarks/bench_generation.py``).

Concurrency is a fixed pool of worker coroutines (``concurrency`` requests in flight at
most). Each sample is its own request with its own seed: servers that ignore ``n`` (or
``seed``) still give ``--samples`` independent samples. Several base URLs make a small fleet:
each request goes to the endpoint with the fewest requests in flight, and a retry may land on
another one. The API key comes from the environment (``MATHIF_API_KEY``, then
``OPENAI_API_KEY``, or the variable named by ``api_key_env``) and is never written anywhere.

Responses are untrusted input: every field read is type-checked, and a malformed answer is
retried like a transport error, then recorded as an error, never as an empty answer.
"""

from __future__ import annotations

import asyncio
import email.utils
import os
import random
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mathif.generation.protocol import (
    BackendError,
    Completion,
    OnComplete,
    Request,
    as_int,
)
from mathif.version import __version__

API_KEY_ENVS = ("MATHIF_API_KEY", "OPENAI_API_KEY")
FATAL_STATUSES = frozenset({401, 403, 404})
RETRY_STATUSES = frozenset({408, 409, 425, 429})
ERROR_BODY_CHARS = 300


class ResponseFormatError(ValueError):
    """A 200 answer that is not a chat completion we can read."""


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying one request.

    Delay before retry ``attempt`` (0-based): ``min(cap_s, base_s * 2**attempt)``, half of
    it fixed and half random ("equal jitter", so a crowd of clients spreads out but none
    retries immediately), raised to the server's ``Retry-After`` when it says so (capped at
    ``max_retry_after_s``, so a bogus header cannot stall a run for days).
    """

    max_retries: int = 8
    base_s: float = 1.0
    cap_s: float = 60.0
    max_retry_after_s: float = 600.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        ceiling = min(self.cap_s, self.base_s * 2.0 ** attempt)
        delay = ceiling / 2 + rng.uniform(0, ceiling / 2)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_retry_after_s))
        return delay


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN or infinite
        return None
    return max(0.0, seconds)


def parse_chat_response(data: Any) -> tuple[str, str | None, str | None, int | None, int | None]:
    """``(content, reasoning, finish_reason, prompt_tokens, completion_tokens)`` of a reply.

    ``content`` may be null (everything went to the reasoning field, or the model said
    nothing): that is an empty answer, not an error. ``reasoning`` comes from
    ``reasoning_content`` (vLLM, DeepSeek) or ``reasoning`` (newer vLLM, OpenRouter).
    """
    if not isinstance(data, dict):
        raise ResponseFormatError("the reply is not a JSON object")
    if "error" in data and "choices" not in data:
        raise ResponseFormatError(f"the reply is an error: {str(data['error'])[:200]}")
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise ResponseFormatError("the reply has no choices")
    choice = choices[0]
    message = choice.get("message")
    if not isinstance(message, dict):
        raise ResponseFormatError("the reply's choice has no message")
    content = message.get("content")
    if content is not None and not isinstance(content, str):
        raise ResponseFormatError(f"message content is {type(content).__name__}, not text")
    reasoning = None
    for name in ("reasoning_content", "reasoning"):
        value = message.get(name)
        if isinstance(value, str):
            reasoning = value
            break
    finish = choice.get("finish_reason")
    usage = data.get("usage")
    if not isinstance(usage, dict):
        usage = {}
    return (
        content or "",
        reasoning,
        finish if isinstance(finish, str) else None,
        as_int(usage.get("prompt_tokens")),
        as_int(usage.get("completion_tokens")),
    )


def api_key(env_name: str | None = None) -> str | None:
    names = (env_name,) if env_name else API_KEY_ENVS
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= ERROR_BODY_CHARS else text[:ERROR_BODY_CHARS] + "..."


class _Endpoint:
    __slots__ = ("inflight", "url")

    def __init__(self, base_url: str) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.inflight = 0


class OpenAIBackend:
    """Chat completions from OpenAI-compatible servers, with retries and bounded concurrency."""

    name = "openai"

    def __init__(
        self,
        model: str,
        *,
        base_url: str | Sequence[str] = "http://127.0.0.1:8000/v1",
        concurrency: int = 32,
        request_timeout: float = 1800.0,
        retry: RetryPolicy | None = None,
        api_key_env: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
        chat_template_kwargs: Mapping[str, Any] | None = None,
        rng_seed: int | None = None,
        transport: Any = None,
    ) -> None:
        try:
            import httpx  # noqa: F401
        except ImportError as exc:
            raise BackendError(
                "the openai backend needs httpx: pip install 'mathif[openai]'") from exc
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        if not urls:
            raise ValueError("give at least one base URL")
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        self.model = model
        self.endpoints = [_Endpoint(u) for u in urls]
        self.concurrency = concurrency
        self.request_timeout = request_timeout
        self.retry = retry or RetryPolicy()
        self.api_key_env = api_key_env
        self.extra_body = dict(extra_body or {})
        self.chat_template_kwargs = dict(chat_template_kwargs or {})
        self.rng = random.Random(rng_seed)
        self.transport = transport
        self._turn = 0

    def describe(self) -> dict[str, Any]:
        import httpx

        return {
            "engine": "openai-compatible server",
            "httpx": httpx.__version__,
            "base_urls": [e.url.removesuffix("/chat/completions") for e in self.endpoints],
            "concurrency": self.concurrency,
            "max_retries": self.retry.max_retries,
            "chat_template_sha256": None,  # the server renders the template: unknown here
        }

    def body(self, request: Request) -> dict[str, Any]:
        """The JSON body of ``request``; ``extra_body`` wins, and a null there drops a key."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": request.chat(),
            "max_tokens": request.sampling.max_tokens,
            "temperature": request.sampling.temperature,
            "top_p": request.sampling.top_p,
        }
        if request.seed is not None:
            body["seed"] = request.seed
        if self.chat_template_kwargs:
            body["chat_template_kwargs"] = dict(self.chat_template_kwargs)
        body.update(self.extra_body)
        return {k: v for k, v in body.items() if v is not None}

    def generate(self, requests: Sequence[Request], on_complete: OnComplete) -> None:
        if not requests:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            asyncio.run(self.agenerate(requests, on_complete))
            return
        # Called from inside an event loop (a notebook): run ours in a thread and wait.
        failure: list[BaseException] = []

        def target() -> None:
            try:
                asyncio.run(self.agenerate(requests, on_complete))
            except BaseException as exc:
                failure.append(exc)

        thread = threading.Thread(target=target, name="mathif-openai")
        thread.start()
        thread.join()
        if failure:
            raise failure[0]

    def _pick(self) -> _Endpoint:
        self._turn += 1
        n = len(self.endpoints)
        return min((self.endpoints[(self._turn + i) % n] for i in range(n)),
                   key=lambda e: e.inflight)

    async def agenerate(self, requests: Sequence[Request], on_complete: OnComplete) -> None:
        """The asynchronous core of :meth:`generate`."""
        import httpx

        headers = {"User-Agent": f"mathif/{__version__}"}
        key = api_key(self.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        limits = httpx.Limits(max_connections=self.concurrency,
                              max_keepalive_connections=self.concurrency)
        timeout = httpx.Timeout(self.request_timeout, connect=min(30.0, self.request_timeout))
        pending = deque(requests)
        async with httpx.AsyncClient(headers=headers, limits=limits, timeout=timeout,
                                     transport=self.transport) as client:

            async def worker() -> None:
                while pending:
                    request = pending.popleft()
                    on_complete(await self._complete(client, request))

            tasks = [asyncio.ensure_future(worker())
                     for _ in range(min(self.concurrency, len(pending)))]
            try:
                await asyncio.gather(*tasks)
            except BaseException:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                raise

    async def _complete(self, client: Any, request: Request) -> Completion:
        """One request, retried until it succeeds, fails for good, or retries run out."""
        import httpx

        body = self.body(request)
        error = "no attempt made"
        latency = 0.0
        for attempt in range(self.retry.max_retries + 1):
            endpoint = self._pick()
            retry_after: float | None = None
            endpoint.inflight += 1
            started = time.perf_counter()
            try:
                response = await client.post(endpoint.url, json=body)
            except httpx.TimeoutException as exc:
                error = f"timeout after {self.request_timeout:g}s ({type(exc).__name__})"
            except httpx.TransportError as exc:
                error = f"connection error: {type(exc).__name__}: {exc}"
            else:
                status = response.status_code
                if status == 200:
                    try:
                        text, reasoning, finish, p_tok, c_tok = parse_chat_response(
                            response.json())
                    except ValueError as exc:  # bad JSON or an unexpected shape
                        error = f"unreadable reply: {exc}"
                    else:
                        return Completion(
                            key=request.key, sample=request.sample, phase=request.phase,
                            text=text, reasoning=reasoning, finish_reason=finish,
                            prompt_tokens=p_tok, completion_tokens=c_tok,
                            latency_s=time.perf_counter() - started, seed=request.seed,
                            attempts=attempt + 1,
                        )
                else:
                    error = f"HTTP {status}: {_short(response.text)}"
                    if status in FATAL_STATUSES:
                        raise BackendError(
                            f"{endpoint.url} refused the request ({error}); check --model, "
                            "--base-url and the API key (MATHIF_API_KEY / OPENAI_API_KEY)")
                    if status not in RETRY_STATUSES and status < 500:
                        latency = time.perf_counter() - started
                        return Completion.failed(request, error, latency_s=latency,
                                                 attempts=attempt + 1)
                    retry_after = parse_retry_after(response.headers.get("retry-after"))
            finally:
                endpoint.inflight -= 1
            latency = time.perf_counter() - started
            if attempt < self.retry.max_retries:
                await asyncio.sleep(self.retry.delay(attempt, retry_after, self.rng))
        return Completion.failed(
            request, f"gave up after {self.retry.max_retries + 1} attempts; last: {error}",
            latency_s=latency, attempts=self.retry.max_retries + 1)

    def close(self) -> None:
        pass
