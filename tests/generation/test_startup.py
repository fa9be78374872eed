"""What a new user trips over when a run starts (issue 11, points 2, 3, 5, 6, 7).

A run whose requests all fail exits non-zero and says why once; the openai backend checks its
server with one request before the run; a model that cannot be loaded costs one line, exit 2
and no run folder; the Hub offline or unreachable fails fast; replay does not suggest a rerun
that cannot help. Everything here runs against servers on 127.0.0.1 or none at all.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mathif.cli import EXIT_INCOMPLETE, EXIT_INPUT, main
from mathif.errors import InputError
from mathif.generation import BackendError, Message, Request, Sampling
from tests.generation.conftest import free_port
from tests.hub_server import silent_server

httpx = pytest.importorskip("httpx")

from mathif.generation.openai import OpenAIBackend, RetryPolicy  # noqa: E402

NO_RETRY = RetryPolicy(max_retries=0, base_s=0.001, cap_s=0.01)
GOOD = {"choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": "<think>r</think>OK"}}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 1}}


@contextmanager
def chat_server(status: int, body: object = GOOD) -> Iterator[tuple[str, list[dict]]]:
    """A server answering every POST with ``status`` and ``body``; yields (base URL, the
    request bodies it received)."""
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            seen.append(json.loads(self.rfile.read(length) or b"{}"))
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", seen
    finally:
        server.shutdown()
        server.server_close()


def request() -> Request:
    return Request(key="k:0", sample=0, messages=(Message("user", "What is 1+1?"),),
                   sampling=Sampling(max_tokens=4096), seed=3)


def mock(status: int, body: bytes = b"{}") -> OpenAIBackend:
    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body)

    return OpenAIBackend("m", base_url="http://test/v1", retry=NO_RETRY,
                         transport=httpx.MockTransport(handler))


def eval_args(data: Path, out: Path, *extra: str) -> list[str]:
    return ["eval", "--data", str(data), "--sources", "aime", "--counts", "1", "--limit",
            "3", "--grader", "none", "--quiet", "--out", str(out), *extra]


@pytest.fixture
def data(mathif_dir: Path) -> Path:
    return mathif_dir


# --- the openai backend's preflight (3) ------------------------------------------------------


@pytest.mark.parametrize(("status", "words"), [
    (404, "was not found"), (401, "refused the credentials"), (403, "refused the credentials"),
    (400, "rejected the check request")])
def test_preflight_stops_on_what_no_retry_fixes(status: int, words: str) -> None:
    with pytest.raises(BackendError, match=words) as info:
        mock(status, b'{"error": "nope"}').preflight(request())
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("status", [200, 500, 503, 429])
def test_preflight_lets_a_working_server_through(status: int) -> None:
    mock(status).preflight(request())  # 5xx / 429 are the run's retries' business


def test_preflight_asks_for_one_token(tmp_path: Path) -> None:
    with chat_server(200) as (url, seen):
        OpenAIBackend("m", base_url=url).preflight(request())
    assert len(seen) == 1 and seen[0]["max_tokens"] == 1 and seen[0]["model"] == "m"


def test_preflight_refused_connection_stops_at_once() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    started = time.monotonic()
    with pytest.raises(BackendError, match="cannot connect") as info:
        OpenAIBackend("m", base_url=url).preflight(request())
    assert time.monotonic() - started < 10.0  # a hang bound: it is one attempt
    assert url in str(info.value) and "--base-url" in str(info.value)


def test_preflight_with_one_server_of_a_fleet_down_goes_on(caplog) -> None:
    down = f"http://127.0.0.1:{free_port()}/v1"
    with chat_server(200) as (url, seen), caplog.at_level("WARNING", logger="mathif"):
        OpenAIBackend("m", base_url=[url, down]).preflight(request())
    assert len(seen) == 1 and "cannot connect" in caplog.text


def test_without_base_url_the_endpoint_is_printed(caplog) -> None:
    from mathif.generation.engines import make_backend

    with caplog.at_level("WARNING", logger="mathif"):
        make_backend("openai", "m")
    assert "no --base-url" in caplog.text and "http://127.0.0.1:8000/v1" in caplog.text


def test_eval_against_no_server_stops_fast_and_leaves_no_run_folder(data: Path, tmp_path: Path,
                                                                    capsys) -> None:
    out = tmp_path / "run"
    url = f"http://127.0.0.1:{free_port()}/v1"
    started = time.monotonic()
    code = main(eval_args(data, out, "--backend", "openai", "--model", "m", "--base-url", url))
    assert code == EXIT_INPUT
    assert time.monotonic() - started < 30.0  # was: minutes of retries, then exit 0
    err = capsys.readouterr().err
    assert "cannot connect" in err and url in err
    assert not out.exists()


def test_eval_against_a_wrong_path_says_404(data: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    with chat_server(404, {"error": "Not Found"}) as (url, seen):
        code = main(eval_args(data, out, "--backend", "openai", "--model", "m", "--base-url",
                              url))
    assert code == EXIT_INPUT and len(seen) == 1
    assert "was not found" in capsys.readouterr().err
    assert not out.exists()


# --- a run with failed requests (2) and replay's missing items (7) ---------------------------


def test_all_failed_run_exits_incomplete_with_one_grouped_error(data: Path, tmp_path: Path,
                                                                capsys) -> None:
    out = tmp_path / "run"
    with chat_server(500, {"error": "model crashed"}) as (url, seen):
        code = main(eval_args(data, out, "--backend", "openai", "--model", "m", "--base-url",
                              url, "--max-retries", "0"))
    assert code == EXIT_INCOMPLETE
    assert len(seen) == 1 + 3  # the preflight (a 500 is a working server), then the run
    err = capsys.readouterr().err
    assert "incomplete: 3 of 3 request(s) failed" in err
    assert "HTTP 500" in err and "model crashed" in err
    assert "run the same command again" in err
    results = json.loads((out / "results.json").read_text())
    errors = results["metrics"]["errors"]
    assert len(errors) == 1 and next(iter(errors.values())) == 3
    assert not any("aime_single" in message for message in errors)


def test_replay_with_missing_items_does_not_suggest_a_rerun(data: Path, tmp_path: Path,
                                                            capsys) -> None:
    replay = tmp_path / "replay.jsonl"
    replay.write_text(json.dumps({"key": "aime_single:0", "response": "x"}) + "\n")
    out = tmp_path / "run"
    assert main(eval_args(data, out, "--backend", "replay", "--model", str(replay))) == (
        EXIT_INCOMPLETE)
    err = capsys.readouterr().err
    assert "incomplete: 2 of 3 request(s) failed" in err
    assert "run the same command again" not in err and "cannot add them" in err
    errors = json.loads((out / "results.json").read_text())["metrics"]["errors"]
    assert list(errors.values()) == [2]  # one message for both: no item key in it


def test_a_complete_run_exits_zero(data: Path, tmp_path: Path) -> None:
    with chat_server(200) as (url, _):
        assert main(eval_args(data, tmp_path / "run", "--backend", "openai", "--model", "m",
                              "--base-url", url)) == 0


# --- a model that cannot be loaded (5) and the Hub offline (6) -------------------------------


def test_a_missing_model_folder_is_one_line_and_no_run_folder(data: Path, tmp_path: Path,
                                                              capsys) -> None:
    out = tmp_path / "run"
    code = main(eval_args(data, out, "--backend", "hf", "--model", str(tmp_path / "nope")))
    assert code == EXIT_INPUT
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "not found" in err and "nope" in err
    assert not out.exists()


def test_the_corrected_command_is_not_refused_by_the_failed_one(data: Path, tmp_path: Path,
                                                                capsys) -> None:
    out = tmp_path / "run"
    assert main(eval_args(data, out, "--backend", "hf", "--model", "/no/such/model")) == 2
    replay = tmp_path / "replay.jsonl"
    replay.write_text("".join(json.dumps({"key": f"aime_single:{i}", "response": "x"}) + "\n"
                              for i in range(3)))
    assert main(eval_args(data, out, "--backend", "replay", "--model", str(replay))) == 0


@pytest.fixture
def no_cache(tmp_path: Path, monkeypatch) -> Path:
    cache = tmp_path / "hf-home"
    monkeypatch.setenv("HF_HOME", str(cache))
    monkeypatch.setenv("HF_HUB_CACHE", str(cache / "hub"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    return cache


def test_hub_model_with_the_hub_unreachable_fails_fast(data: Path, tmp_path: Path, no_cache,
                                                       monkeypatch, capsys) -> None:
    out = tmp_path / "run"
    with silent_server() as url:
        monkeypatch.setenv("HF_ENDPOINT", url)
        started = time.monotonic()
        code = main(eval_args(data, out, "--backend", "hf", "--model", "someone/some-model"))
        elapsed = time.monotonic() - started
    assert code == EXIT_INPUT and elapsed < 5.0, elapsed
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "cannot be reached" in err and "HF_HUB_OFFLINE" in err
    assert not out.exists()


def test_hub_model_offline_without_a_cache_says_what_to_do(data: Path, tmp_path: Path,
                                                           no_cache, monkeypatch,
                                                           capsys) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with silent_server() as url:
        monkeypatch.setenv("HF_ENDPOINT", url)
        started = time.monotonic()
        code = main(eval_args(data, tmp_path / "run", "--backend", "vllm", "--model",
                              "someone/some-model"))
    assert code == EXIT_INPUT and time.monotonic() - started < 5.0
    err = capsys.readouterr().err
    assert "not in the Hugging Face cache and HF_HUB_OFFLINE is set" in err


def _cache_model(cache: Path, repo: str) -> Path:
    """A model in the Hugging Face cache layout (what `hf download` leaves behind)."""
    commit = "0" * 40
    folder = cache / "hub" / ("models--" + repo.replace("/", "--"))
    snapshot = folder / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text(commit)
    return snapshot


def test_a_cached_hub_model_is_used_offline_or_without_the_hub(no_cache: Path,
                                                               monkeypatch) -> None:
    from mathif.hub import resolve_model

    snapshot = _cache_model(no_cache, "someone/cached-model")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert Path(resolve_model("someone/cached-model")) == snapshot
    monkeypatch.delenv("HF_HUB_OFFLINE")
    with silent_server() as url:
        monkeypatch.setenv("HF_ENDPOINT", url)
        started = time.monotonic()
        assert Path(resolve_model("someone/cached-model")) == snapshot
        assert time.monotonic() - started < 5.0


def test_model_names_that_are_paths_are_checked_as_paths(tmp_path: Path) -> None:
    from mathif.hub import resolve_model

    for name in ("./missing", "/abs/missing", "a/b/c", "~/missing"):
        with pytest.raises(InputError, match="no such folder"):
            resolve_model(name)
    afile = tmp_path / "weights.bin"
    afile.write_text("x")
    with pytest.raises(InputError, match="is a file"):
        resolve_model(str(afile))
    assert resolve_model(str(tmp_path)) == str(tmp_path)
