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

Servers are untrusted: one bad reply never stops the run. Every failure of one request
(refused or dropped connections, protocol errors, a body that does not decode, is not JSON, is
too large, has an unexpected shape or no content) is retried like a transport error, then
recorded as that request's error, never as an empty answer. Each attempt has a total deadline
(``request_timeout``: a server trickling bytes cannot hold a request longer), a bounded body
(``max_reply_bytes``), and ``Retry-After`` is honoured up to :attr:`RetryPolicy.max_retry_after_s`.
A run whose servers all refuse connections for :attr:`RetryPolicy.unreachable_s` seconds stops
with a :class:`BackendError`, rather than spending minutes of retries on every request.

Before a run, :meth:`OpenAIBackend.preflight` sends one request (the run's first, capped at
one token) to every server: a refused connection, a 404 (wrong ``--base-url`` or model), a
refused API key or a request the server rejects stop the command at once with one line that
says what to fix, before the run folder is created. A server that answers at all (even with a
5xx or 429) is working: its failures are the run's retries' business.

A reply with reasoning but null content is the one documented exception: a reasoning cut off
before its end (finish reason ``length`` with a server-side reasoning parser) leaves nothing
for the content. It is kept as an empty answer, as the paper scores a truncated output, and
marked ``null_content`` so the run's summary can count such replies. Lone surrogates in a
reply are replaced with U+FFFD and counted (``replaced_surrogates``), see
:mod:`mathif.jsonl`.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import os
import random
import threading
import time
from collections import deque
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from mathif import jsonl
from mathif.generation.chat import template_sha256
from mathif.generation.protocol import (
    BackendError,
    Completion,
    OnComplete,
    Request,
    as_int,
)
from mathif.version import __version__

API_KEY_ENVS = ("MATHIF_API_KEY", "OPENAI_API_KEY")
DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"
# The preflight request's deadline: a working but busy server may queue it a while.
PREFLIGHT_TIMEOUT_S = 60.0
FATAL_STATUSES = frozenset({401, 403, 404})
RETRY_STATUSES = frozenset({408, 409, 425, 429})
ERROR_BODY_CHARS = 300
# A reply this large is not a chat completion (16k tokens of text are well under 1 MB).
MAX_REPLY_BYTES = 64 * 1024 * 1024


log = logging.getLogger(__name__)


class ResponseFormatError(ValueError):
    """A 200 answer that is not a chat completion we can read."""


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying one request.

    Delay before retry ``attempt`` (0-based): ``min(cap_s, base_s * 2**attempt)``, half of
    it fixed and half random ("equal jitter", so a crowd of clients spreads out but none
    retries immediately), raised to the server's ``Retry-After`` when it says so, but never
    above ``max_retry_after_s`` (120 s: a bogus or hostile header cannot stall a run).

    A refused connection is retried after at most ``connect_retry_s``, and when every server
    has refused connections for ``unreachable_s`` seconds without answering once, the run
    stops (:class:`BackendError`): a server that is down is reported in seconds.
    """

    max_retries: int = 8
    base_s: float = 1.0
    cap_s: float = 60.0
    max_retry_after_s: float = 120.0
    connect_retry_s: float = 1.0
    unreachable_s: float = 10.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random,
              *, refused: bool = False) -> float:
        ceiling = min(self.cap_s, self.base_s * 2.0 ** attempt)
        delay = ceiling / 2 + rng.uniform(0, ceiling / 2)
        if refused:
            delay = min(delay, self.connect_retry_s)
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


class ChatReply(NamedTuple):
    """What mathif keeps of a chat completion reply."""

    content: str
    reasoning: str | None
    finish_reason: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    null_content: bool = False


def parse_chat_response(data: Any) -> ChatReply:
    """The fields mathif keeps from a decoded reply; :class:`ResponseFormatError` otherwise.

    ``reasoning`` comes from ``reasoning_content`` (vLLM, DeepSeek) or ``reasoning`` (newer
    vLLM, OpenRouter). A reply without content (absent or null) is an error, except when it
    has reasoning: a reasoning cut off before its end leaves no content, and that is an empty
    answer (``null_content`` set), as the paper scores a truncated output.
    """
    if not isinstance(data, dict):
        raise ResponseFormatError("the reply is not a JSON object")
    if "error" in data and "choices" not in data:
        raise ResponseFormatError(f"the reply is an error: {_short(str(data['error']))}")
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
    if content is None and not reasoning:
        raise ResponseFormatError("the reply has no content (absent or null) and no reasoning")
    finish = choice.get("finish_reason")
    usage = data.get("usage")
    if not isinstance(usage, dict):
        usage = {}
    return ChatReply(
        content or "",
        reasoning,
        finish if isinstance(finish, str) else None,
        as_int(usage.get("prompt_tokens")),
        as_int(usage.get("completion_tokens")),
        null_content=content is None,
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
    __slots__ = ("inflight", "refused_since", "url")

    def __init__(self, base_url: str) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.inflight = 0
        # When the current run of refused connections began (None: the server answers).
        self.refused_since: float | None = None


def _run(work: Coroutine[Any, Any, None]) -> None:
    """Run ``work`` to its end, from plain code or from inside an event loop (a notebook:
    then in a thread of its own, waited for)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(work)
        return
    failure: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(work)
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=target, name="mathif-openai")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


class _ReplyTooLarge(Exception):
    pass


async def _within(seconds: float, work: Coroutine[Any, Any, _Attempt]) -> _Attempt:
    """``await work`` with a total deadline (:class:`asyncio.TimeoutError` past it).

    ``asyncio.timeout`` (Python 3.11+) cancels in place; ``wait_for`` needs a task per call.
    """
    timeout = getattr(asyncio, "timeout", None)
    if timeout is None:  # pragma: no cover - Python 3.10
        return await asyncio.wait_for(work, seconds)
    async with timeout(seconds):
        return await work


class _Attempt(NamedTuple):
    status: int
    retry_after: str | None
    body: bytes


async def _read_body(response: Any, limit: int) -> bytes:
    """The decoded body of ``response``, refusing more than ``limit`` bytes."""
    declared = response.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise _ReplyTooLarge(f"the reply declares {int(declared)} bytes (limit {limit})")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise _ReplyTooLarge(f"the reply is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


class OpenAIBackend:
    """Chat completions from OpenAI-compatible servers, with retries and bounded concurrency."""

    name = "openai"

    def __init__(
        self,
        model: str,
        *,
        base_url: str | Sequence[str] = DEFAULT_BASE_URL,
        concurrency: int = 32,
        request_timeout: float = 1800.0,
        retry: RetryPolicy | None = None,
        api_key_env: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
        chat_template_kwargs: Mapping[str, Any] | None = None,
        rng_seed: int | None = None,
        transport: Any = None,
        max_reply_bytes: int = MAX_REPLY_BYTES,
        continuation: str = "completions",
        tokenizer: str | None = None,
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
        if not request_timeout > 0 or request_timeout == float("inf"):
            raise ValueError(f"request_timeout must be a positive number of seconds, got "
                             f"{request_timeout}")
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
        self.max_reply_bytes = max_reply_bytes
        self._turn = 0
        # The probes' continuation (mathif.generation.openai_continue): how, and with which
        # tokenizer the chat is rendered here.
        self.continuation = continuation
        self.tokenizer_name = tokenizer
        self.local_tokenizer: Any = None
        self.rendered_prompts: dict[Any, str] = {}
        self.chat_opening = ""  # chat mode: what the generation prompt adds after the header

    def describe(self) -> dict[str, Any]:
        import httpx

        return {
            "engine": "openai-compatible server",
            "httpx": httpx.__version__,
            "base_urls": [e.url.removesuffix("/chat/completions") for e in self.endpoints],
            "concurrency": self.concurrency,
            "max_retries": self.retry.max_retries,
            # The server renders the template (unknown here), unless the probes render it here.
            "chat_template_sha256": template_sha256(self.local_tokenizer)
            if self.local_tokenizer is not None else None,
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
        _run(self.agenerate(requests, on_complete))

    def preflight(self, request: Request) -> None:
        """One request to every server before the run (``request`` capped at one token), at
        the endpoint the run will use: ``/chat/completions``, or for a continued request (the
        probes') the continuation's endpoint (``/completions`` by default).

        Stops (:class:`BackendError`, one line) on what no retry can fix: a refused
        connection (when every server refuses), an unusable URL, a 404, a refused API key, a
        request the server rejects. A server that answers anything else is working.
        """
        urls = ", ".join(e.url.removesuffix("/chat/completions") for e in self.endpoints)
        log.info("openai backend: model %s at %s", self.model, urls)
        continued = bool(request.prefix or request.stop)
        body = self._continuing().body(request) if continued else self.body(request)
        for name in ("max_tokens", "max_completion_tokens"):
            if name in body:
                body[name] = 1
        _run(self._apreflight(body, continued))

    def _client(self, concurrency: int) -> Any:
        import httpx

        headers = {"User-Agent": f"mathif/{__version__}"}
        key = api_key(self.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        limits = httpx.Limits(max_connections=concurrency,
                              max_keepalive_connections=concurrency)
        timeout = httpx.Timeout(self.request_timeout, connect=min(10.0, self.request_timeout))
        return httpx.AsyncClient(headers=headers, limits=limits, timeout=timeout,
                                 transport=self.transport)

    async def _apreflight(self, body: dict[str, Any], continued: bool) -> None:
        async with self._client(len(self.endpoints)) as client:
            found = await asyncio.gather(*(self._check(client, e, body, continued)
                                           for e in self.endpoints))
        fatal = [problem for kind, problem in found if kind == "fatal"]
        if fatal:
            raise BackendError(fatal[0])
        refused = [problem for kind, problem in found if kind == "refused"]
        if len(refused) == len(self.endpoints):
            raise BackendError(refused[0])
        for kind, problem in found:
            if kind in ("refused", "slow"):
                log.warning("%s", problem)

    async def _check(self, client: Any, endpoint: _Endpoint, body: dict[str, Any],
                     continued: bool) -> tuple[str, str]:
        """``("ok" | "slow" | "refused" | "fatal", message)`` for one server."""
        import httpx

        base = endpoint.url.removesuffix("/chat/completions")
        url = self._continuing().url(endpoint.url) if continued else endpoint.url
        deadline = min(self.request_timeout, PREFLIGHT_TIMEOUT_S)
        try:
            got = await _within(deadline, self._attempt(client, url, body))
        except asyncio.TimeoutError:
            return "slow", (f"{base} took the connection but did not answer the check request "
                            f"within {deadline:g}s: going on")
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            return "fatal", f"cannot use {url}: {exc}; check --base-url"
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            endpoint.refused_since = time.monotonic()
            return "refused", (
                f"cannot connect to {base} ({type(exc).__name__}: {_short(str(exc))}): is the "
                "server running there? Start one (e.g. `vllm serve MODEL --port 8000`) or give "
                "its address with --base-url")
        except Exception:  # the server took the connection: it is there, the run retries
            return "ok", ""
        return self._judge(base, url, got)

    def _judge(self, base: str, url: str, got: _Attempt) -> tuple[str, str]:
        """The preflight verdict on a server's answer."""
        status = got.status
        if status == 200 or status >= 500 or status in RETRY_STATUSES:
            return "ok", ""
        said = f"HTTP {status}: {_short(got.body.decode('utf-8', 'replace'))}"
        if status in (401, 403):
            hint = (f"set the API key in {self.api_key_env}" if self.api_key_env else
                    "set the API key in MATHIF_API_KEY or OPENAI_API_KEY (or name its "
                    "variable with --api-key-env)")
            return "fatal", f"{base} refused the credentials ({said}); {hint}"
        if status == 404:
            hint = ("; the probes continue the reasoning there: on a server without it, "
                    "use --continuation chat (vLLM)" if not url.endswith("/chat/completions")
                    else "")
            return "fatal", (f"{url} was not found ({said}): check "
                             "--base-url (it usually ends in /v1) and --model (the name the "
                             f"server serves the model under){hint}")
        return "fatal", (f"{base} rejected the check request ({said}): every request of the "
                         "run would fail the same way; check --model, --extra-body and "
                         "--chat-template-kwargs")

    def _pick(self) -> _Endpoint:
        """The endpoint with the fewest requests in flight, preferring those that answer."""
        self._turn += 1
        n = len(self.endpoints)
        return min((self.endpoints[(self._turn + i) % n] for i in range(n)),
                   key=lambda e: (e.refused_since is not None, e.inflight))

    def _refused(self, endpoint: _Endpoint, error: str) -> None:
        """Note a refused connection; stop the run once every server has refused for long."""
        now = time.monotonic()
        if endpoint.refused_since is None:
            endpoint.refused_since = now
        window = self.retry.unreachable_s
        if all(e.refused_since is not None and now - e.refused_since >= window
               for e in self.endpoints):
            urls = ", ".join(e.url for e in self.endpoints)
            raise BackendError(
                f"cannot connect to {urls}: connections refused for {window:g}s or more "
                f"(last: {error}); is the server running, and is --base-url right?")

    async def agenerate(self, requests: Sequence[Request], on_complete: OnComplete) -> None:
        """The asynchronous core of :meth:`generate`."""
        pending = deque(requests)
        async with self._client(self.concurrency) as client:

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

    async def _attempt(self, client: Any, url: str, body: dict[str, Any]) -> _Attempt:
        """One POST, its whole body read (bounded); the caller puts a deadline on it."""
        async with client.stream("POST", url, json=body) as response:
            data = await _read_body(response, self.max_reply_bytes)
            return _Attempt(response.status_code, response.headers.get("retry-after"), data)

    async def _complete(self, client: Any, request: Request) -> Completion:
        """One request, retried until it succeeds, fails for good, or retries run out.

        Nothing that one server reply can do raises from here, except a refusal that no
        request could get past (:data:`FATAL_STATUSES`, an unusable URL, every server down).
        """
        import httpx

        continued = bool(request.prefix or request.stop)
        body = self.body(request) if not continued else self._continuing().body(request)
        error = "no attempt made"
        latency = 0.0
        for attempt in range(self.retry.max_retries + 1):
            endpoint = self._pick()
            retry_after: float | None = None
            refused = False
            endpoint.inflight += 1
            started = time.perf_counter()
            url = endpoint.url if not continued else self._continuing().url(endpoint.url)
            try:
                got = await _within(self.request_timeout,
                                    self._attempt(client, url, body))
            except asyncio.TimeoutError:
                error = (f"no complete reply within {self.request_timeout:g}s "
                         "(--request-timeout: the deadline of one attempt)")
            except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
                raise BackendError(f"cannot use {endpoint.url}: {exc}; check --base-url") \
                    from None
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                error = f"cannot connect: {type(exc).__name__}: {_short(str(exc))}"
                refused = True
            except httpx.TimeoutException as exc:
                error = f"timeout after {self.request_timeout:g}s ({type(exc).__name__})"
            except httpx.DecodingError as exc:
                error = f"undecodable reply (Content-Encoding): {_short(str(exc))}"
            except httpx.TransportError as exc:
                error = f"connection error: {type(exc).__name__}: {_short(str(exc))}"
            except _ReplyTooLarge as exc:
                error = str(exc)
            except Exception as exc:  # one reply must never end the run: record it
                error = f"failed request: {type(exc).__name__}: {_short(str(exc))}"
            else:
                endpoint.refused_since = None
                outcome = self._outcome(request, got, endpoint, attempt, started)
                if isinstance(outcome, Completion):
                    return outcome
                error, retry_after = outcome
            finally:
                endpoint.inflight -= 1
            if refused:
                self._refused(endpoint, error)
            else:  # the server took the connection, whatever it did next
                endpoint.refused_since = None
            latency = time.perf_counter() - started
            if attempt < self.retry.max_retries:
                await asyncio.sleep(self.retry.delay(attempt, retry_after, self.rng,
                                                     refused=refused))
        return Completion.failed(
            request, f"gave up after {self.retry.max_retries + 1} attempts; last: {error}",
            latency_s=latency, attempts=self.retry.max_retries + 1)

    def _outcome(self, request: Request, got: _Attempt, endpoint: _Endpoint, attempt: int,
                 started: float) -> Completion | tuple[str, float | None]:
        """A finished attempt: a completion (success or a final error), else what to retry."""
        status = got.status
        if status == 200 and (request.prefix or request.stop):
            outcome: Completion | tuple[str, float | None] = self._continuing().outcome(
                request, got.body, attempt, started)
            return outcome
        if status == 200:
            try:
                data, replaced = jsonl.parse(got.body)
                reply = parse_chat_response(data)
            except ValueError as exc:  # not UTF-8, bad JSON, or an unexpected shape
                detail = exc.describe() if isinstance(exc, jsonl.JSONLineError) else str(exc)
                return f"unreadable reply: {_short(detail)}", None
            return Completion(
                key=request.key, sample=request.sample, phase=request.phase,
                text=reply.content, reasoning=reply.reasoning,
                finish_reason=reply.finish_reason, prompt_tokens=reply.prompt_tokens,
                completion_tokens=reply.completion_tokens,
                latency_s=time.perf_counter() - started, seed=request.seed,
                attempts=attempt + 1, null_content=reply.null_content,
                replaced_surrogates=replaced,
            )
        error = f"HTTP {status}: {_short(got.body.decode('utf-8', 'replace'))}"
        if status in FATAL_STATUSES:
            raise BackendError(
                f"{endpoint.url} refused the request ({error}); check --model, "
                "--base-url and the API key (MATHIF_API_KEY / OPENAI_API_KEY)")
        if status not in RETRY_STATUSES and status < 500:
            return Completion.failed(request, error, latency_s=time.perf_counter() - started,
                                     attempts=attempt + 1)
        return error, parse_retry_after(got.retry_after)

    # The continuation primitive (ContinuingBackend): probes only, in openai_continue.

    def _continuing(self) -> Any:
        from mathif.generation.openai_continue import Continuing

        return Continuing(self)

    def check_continuation(self, marker: str, request: Request) -> None:
        self._continuing().check(marker, request)

    def decode(self, ids: Sequence[int]) -> str | None:
        return None  # servers return text, not token ids

    def close(self) -> None:
        pass
