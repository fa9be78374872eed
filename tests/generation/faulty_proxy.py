"""A misbehaving HTTP proxy on 127.0.0.1, for fault-injection tests and benchmarks.

It forwards each request to an upstream server on 127.0.0.1, or instead — at set rates,
drawn from a seeded RNG — answers 429 with ``Retry-After``, answers 500, drops the connection
before or after the upstream did the work, delays the answer, or hangs past the client's
timeout. One request per connection (it answers ``Connection: close``), which keeps it small.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class Faults:
    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_drop: float = 0.0  # connection closed before forwarding
    rate_drop_after: float = 0.0  # forwarded (the server worked), then closed unanswered
    rate_delay: float = 0.0
    rate_hang: float = 0.0  # no answer for hang_s (longer than the client's timeout)
    delay_s: float = 0.3
    hang_s: float = 4.0
    retry_after: str = "0"


def _response(status: int, reason: str, body: bytes, extra: str = "") -> bytes:
    return (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n{extra}\r\n").encode() + body


class FaultyProxy:
    """Run with ``with FaultyProxy(port, faults, seed) as proxy: proxy.url``."""

    def __init__(self, upstream_port: int, faults: Faults, *, seed: int = 0) -> None:
        self.upstream_port = upstream_port
        self.faults = faults
        self.rng = random.Random(seed)
        self.counts: Counter[str] = Counter()
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.base_events.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _choose(self) -> str:
        f = self.faults
        roll = self.rng.random()
        for name, rate in (("429", f.rate_429), ("500", f.rate_500), ("drop", f.rate_drop),
                           ("drop_after", f.rate_drop_after), ("delay", f.rate_delay),
                           ("hang", f.rate_hang)):
            if roll < rate:
                return name
            roll -= rate
        return "forward"

    async def _forward(self, head: bytes, body: bytes) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        try:
            lines = [ln for ln in head.split(b"\r\n") if ln and
                     not ln.lower().startswith(b"connection:")]
            writer.write(b"\r\n".join([*lines, b"connection: close"]) + b"\r\n\r\n" + body)
            await writer.drain()
            return await reader.read(-1)
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            body = await reader.readexactly(length)
            action = self._choose()
            self.counts[action] += 1
            if action == "429":
                writer.write(_response(429, "Too Many Requests", b'{"error": "slow down"}',
                                       f"retry-after: {self.faults.retry_after}\r\n"))
            elif action == "500":
                writer.write(_response(500, "Internal Server Error", b'{"error": "boom"}'))
            elif action == "drop":
                pass
            elif action == "drop_after":
                await self._forward(head, body)
            elif action == "hang":
                await asyncio.sleep(self.faults.hang_s)
            else:
                if action == "delay":
                    await asyncio.sleep(self.faults.delay_s)
                writer.write(await self._forward(head, body))
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def __enter__(self) -> FaultyProxy:
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
