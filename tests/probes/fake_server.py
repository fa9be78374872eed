"""A small OpenAI-compatible server for the openai backend's continuation (tests only).

It renders and counts prompts with a real tokenizer (the tiny model's), so prompt token counts
are those a real server would report, and writes scripted text: in a reasoning request (its
stop strings hold ``</think>``) a few words and the marker, which it strips from the text and
reports in ``stop_reason`` as vLLM does; otherwise an answer. ``mode``:

- ``honest``: ``/completions`` and ``/chat/completions`` with ``continue_final_message``;
- ``ignores``: the chat endpoint ignores ``continue_final_message`` (renders a new turn);
- ``no-completions``: ``/completions`` answers 404;
- ``no-chat``: ``/chat/completions`` answers 400, as a server of a base model without a chat
  template does (the probes' completions mode renders the chat itself and never needs it).
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MARKER = "</think>"


class FakeServer:
    def __init__(self, tokenizer: Any, mode: str = "honest") -> None:
        self.tokenizer = tokenizer
        self.mode = mode
        self.bodies: list[tuple[str, dict[str, Any]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                server.bodies.append((self.path, body))
                status, reply = server.answer(self.path, body)
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def prompt(self, path: str, body: dict[str, Any]) -> str:
        if path.endswith("/completions") and not path.endswith("/chat/completions"):
            return str(body["prompt"])
        honest = self.mode != "ignores"
        cont = honest and bool(body.get("continue_final_message"))
        return str(self.tokenizer.apply_chat_template(
            body["messages"], tokenize=False,
            add_generation_prompt=body.get("add_generation_prompt", True) if honest else True,
            continue_final_message=cont, **(body.get("chat_template_kwargs") or {})))

    def answer(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        chat = path.endswith("/chat/completions")
        if not chat and self.mode == "no-completions":
            return 404, {"error": "not found"}
        if chat and self.mode == "no-chat":
            return 400, {"error": "this model has no chat template"}
        prompt = self.prompt(path, body)
        prompt_tokens = len(self.tokenizer(prompt, add_special_tokens=False)["input_ids"])
        seed = hashlib.sha256(f"{body.get('seed')}|{prompt}".encode()).digest()
        reasoning = MARKER in (body.get("stop") or [])
        text = (" step" * (2 + seed[0] % 6) + MARKER if reasoning
                else " The answer is \\boxed{42}.")
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        finish, stop_reason = "stop", None
        if len(ids) > body["max_tokens"]:
            ids, finish = ids[: body["max_tokens"]], "length"
            text = self.tokenizer.decode(ids)
        elif reasoning:
            text, stop_reason = text[: -len(MARKER)], MARKER  # as vLLM: reported, not kept
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": len(ids)}
        choice: dict[str, Any] = {"index": 0, "finish_reason": finish,
                                  "stop_reason": stop_reason}
        if chat:
            choice["message"] = {"role": "assistant", "content": text}
        else:
            choice["text"] = text
        return 200, {"id": "x", "choices": [choice], "usage": usage}
