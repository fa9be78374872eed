"""A local stand-in for the Hugging Face Hub: serves a folder in the Hub's URL layout.

Only for tests, only on 127.0.0.1. ``/datasets/{repo}/resolve/{revision}/{file}`` answers HEAD
and GET with the headers huggingface_hub reads (commit, ETag, size); ``overrides`` replaces the
bytes of chosen files (to test a corrupted download).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@contextmanager
def serve_hub(
    folder: Path, repo_id: str = "TingchenFu/MathIF", overrides: dict[str, bytes] | None = None
) -> Iterator[tuple[str, list[str]]]:
    """Yield (endpoint URL, list of requested paths)."""
    overrides = overrides or {}
    requests: list[str] = []
    prefix = f"/datasets/{repo_id}/resolve/"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _body(self) -> bytes | None:
            path = unquote(self.path.split("?", 1)[0])
            requests.append(f"{self.command} {path}")
            if not path.startswith(prefix):
                return None
            _revision, _, name = path[len(prefix):].partition("/")
            if name in overrides:
                return overrides[name]
            file = folder / name
            return file.read_bytes() if file.is_file() and "/" not in name else None

        def _headers(self, body: bytes | None) -> None:
            if body is None:
                self.send_response(404)
                self.send_header("X-Error-Code", "EntryNotFound")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", '"' + hashlib.sha1(body).hexdigest() + '"')
            self.send_header("X-Repo-Commit", COMMIT)
            self.end_headers()

        def do_HEAD(self) -> None:
            self._headers(self._body())

        def do_GET(self) -> None:
            body = self._body()
            self._headers(body)
            if body is not None:
                self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def silent_server() -> Iterator[str]:
    """An endpoint that accepts connections and never answers (a black-holed proxy, a hung
    server): the worst case of an unreachable Hub. Yields its URL."""
    import socket

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()
