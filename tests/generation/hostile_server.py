"""A hostile "OpenAI-compatible" server on 127.0.0.1, for tests of the openai backend.

Each request gets the next behaviour of a script (the last one repeats): a good reply, or one
of the ways a server or a proxy in front of it can misbehave at the HTTP level — a gzip header
on a body that is not gzip, a body trickled one byte at a time, an endless body, bytes that
are not HTTP, a truncated or badly chunked body, replies that are not JSON, hold ``NaN``,
nest 100,000 deep, lack content, hold lone surrogates, or ask for a huge ``Retry-After``.
One request per connection (``connection: close``), written as raw bytes, so that nothing in
between tidies the hostility away.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections import Counter
from collections.abc import Sequence


def chat_body(content: object = "<think>r</think>The answer is \\boxed{2}.",
              **message: object) -> bytes:
    """A chat completion reply (JSON text, ASCII: lone surrogates stay ``\\ud800`` escapes)."""
    data = {"id": "x", "object": "chat.completion",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content, **message}}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 3}}
    return json.dumps(data).encode()


def _head(status: str, length: int | None, extra: str = "") -> bytes:
    lines = [f"HTTP/1.1 {status}", "content-type: application/json", "connection: close"]
    if length is not None:
        lines.append(f"content-length: {length}")
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode()


def _plain(body: bytes, status: str = "200 OK", extra: str = "") -> bytes:
    return _head(status, len(body), extra) + body


NO_CONTENT = json.dumps({"choices": [{"index": 0, "finish_reason": "stop",
                                      "message": {"role": "assistant"}}]}).encode()

# Behaviours answered in one write.
CANNED: dict[str, bytes] = {
    "ok": _plain(chat_body()),
    "gzip_garbage": _plain(b"this body is not gzip at all", extra="content-encoding: gzip\r\n"),
    "not_http": b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
    "bad_chunked": _head("200 OK", None, "transfer-encoding: chunked\r\n") + b"zz\r\nabc\r\n",
    "truncated": _head("200 OK", 500) + chat_body()[:40],
    "not_json": _plain(b"<html>502 Bad Gateway</html>"),
    "nan": _plain(b'{"choices": [{"message": {"content": "x"}}], "usage": {"x": NaN}}'),
    "deep": _plain(b"[" * 100_000 + b"]" * 100_000),
    "duplicate_keys": _plain(b'{"choices": [{"message": {"content": "a", "content": "b"}}]}'),
    "no_content": _plain(NO_CONTENT),
    "null_content": _plain(chat_body(None)),
    "null_content_reasoning": _plain(chat_body(None, reasoning_content="cut off mid-")),
    "list_content": _plain(chat_body(["a", "b"])),
    "surrogate": _plain(chat_body("<think>\ud800</think>\\boxed{2} \udfff")),
    "not_utf8": _plain(b'{"choices": [{"message": {"content": "\xff\xfe"}}]}'),
    "retry_after_huge": _plain(b'{"error": "slow down"}', "429 Too Many Requests",
                               "retry-after: 999999999\r\n"),
    "html_500": _plain(b"<html>" + b"x" * 100_000 + b"</html>", "500 Internal Server Error"),
}
# Behaviours that take time or stream.
STREAMED = ("trickle", "endless", "endless_gzip")
BEHAVIOURS = (*CANNED, *STREAMED)


class HostileServer:
    """``with HostileServer(["gzip_garbage", "ok"]) as server: server.url``."""

    def __init__(self, script: Sequence[str], *, trickle_s: float = 0.25,
                 trickle_bytes: int = 200) -> None:
        unknown = set(script) - set(BEHAVIOURS)
        if unknown:
            raise ValueError(f"unknown behaviours {sorted(unknown)}")
        self.script = list(script)
        self.trickle_s = trickle_s
        self.trickle_bytes = trickle_bytes
        self.served: Counter[str] = Counter()
        self.requests = 0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.base_events.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _next(self) -> str:
        behaviour = self.script[min(self.requests, len(self.script) - 1)]
        self.requests += 1
        self.served[behaviour] += 1
        return behaviour

    async def _stream(self, behaviour: str, writer: asyncio.StreamWriter) -> None:
        if behaviour == "trickle":  # a valid reply, one byte at a time: never a read timeout
            body = chat_body().ljust(self.trickle_bytes)
            writer.write(_head("200 OK", len(body)))
            for i in range(len(body)):
                writer.write(body[i:i + 1])
                await writer.drain()
                await asyncio.sleep(self.trickle_s)
            return
        gzip = behaviour == "endless_gzip"
        extra = "transfer-encoding: chunked\r\n" + ("content-encoding: gzip\r\n" if gzip else "")
        writer.write(_head("200 OK", None, extra))
        if gzip:  # a gzip bomb's shape: 1 MB of zeros compresses to ~1 kB
            import zlib

            packer = zlib.compressobj(9, zlib.DEFLATED, 31)
            block = b"\0" * (1 << 20)
            while True:
                piece = packer.compress(block) or packer.flush(zlib.Z_SYNC_FLUSH)
                writer.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                await writer.drain()
        chunk = b"[" + b"1," * 32_000
        while True:
            writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            await writer.drain()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            behaviour = self._next()
            if behaviour in CANNED:
                writer.write(CANNED[behaviour])
                await writer.drain()
            else:
                await self._stream(behaviour, writer)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass  # the client gave up on us: expected
        finally:
            writer.close()

    def __enter__(self) -> HostileServer:
        async def start() -> None:
            self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
            self.port = self._server.sockets[0].getsockname()[1]

        self._thread.start()
        asyncio.run_coroutine_threadsafe(start(), self._loop).result(timeout=10)
        return self

    def __exit__(self, *exc: object) -> None:
        async def shut() -> None:
            if self._server is not None:
                self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(shut(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
