"""The probes end to end on real backends with the tiny thinking model: transformers (hf), an
OpenAI-compatible server (``transformers serve``, which continues through ``/completions``,
and a small server of our own for ``continue_final_message`` and for servers that cannot
continue). vLLM's CPU build is in test_vllm_probes.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mathif.evaluation import evaluate
from mathif.generation.protocol import BackendError
from mathif.generation.store import read_completions
from mathif.probes.steps import Step, read_steps
from tests.probes.fake_server import FakeServer

MARKER = "</think>"


def steps_by_transcript(out: Path) -> dict[tuple[str, str, int], list[Step]]:
    found: dict[tuple[str, str, int], list[Step]] = {}
    for step in read_steps(out):
        found.setdefault(step.id, []).append(step)
    return {k: sorted(v, key=lambda s: s.step) for k, v in found.items()}


def check_force_continue(out: Path, k: int) -> int:
    """Every transcript: ``Wait`` replaced the first min(k, ends) ends of reasoning, and a
    transcript whose reasoning closed has exactly k of them before its final marker.
    Returns how many transcripts closed their reasoning."""
    steps = steps_by_transcript(out)
    closed = 0
    for c in read_completions(out):
        assert c.ok, c.error
        mine = steps[c.id]
        assert c.text == "".join(s.kept_text + s.inserted for s in mine)
        ends = [s for s in mine if s.stop_reason == MARKER]
        waits = [s for s in mine if s.inserted == "Wait"]
        assert len(waits) == min(k, len(ends)) and all(s.dropped == MARKER for s in waits)
        if any(s.closed for s in mine):
            closed += 1
            reasoning = c.text.split(MARKER)[0]
            assert reasoning.count("Wait") == k
            assert c.reasoning_tokens == sum(s.completion_tokens or 0 for s in mine[:-1])
    return closed


def check_budget(out: Path, budget: int, decode: Any = None) -> int:
    """The first phase wrote at most ``budget`` tokens; exactly that many when the budget
    closed the reasoning. Returns how many transcripts hit the budget."""
    hit = 0
    for c in read_completions(out):
        first = steps_by_transcript(out)[c.id][0]
        assert first.completion_tokens is not None and first.completion_tokens <= budget
        assert c.reasoning_tokens == first.completion_tokens
        if first.finish_reason == "length":
            hit += 1
            assert first.completion_tokens == budget and first.inserted == MARKER + "\n\n"
            if decode is not None:
                assert first.token_ids is not None and len(first.token_ids) == budget
                assert decode(first.token_ids) == first.text
        else:
            assert first.stop_reason == MARKER and first.inserted == ""
        assert c.text.startswith(first.text + first.inserted)
    return hit


def check_reminder(out: Path, texts: dict[str, str], template: str) -> int:
    reminded = 0
    for c in read_completions(out):
        first = steps_by_transcript(out)[c.id][0]
        reminder = template.replace("{constraints}", texts[c.key])
        if first.stop_reason == MARKER:
            reminded += 1
            assert first.inserted == reminder
            assert c.text.startswith(first.text[: -len(MARKER)] + reminder)
            assert c.text.count(reminder) == 1
        else:
            assert reminder not in c.text
    return reminded


@pytest.fixture(scope="module")
def hf_backend(thinking_model: Path) -> Any:
    from mathif.generation.hf import HFBackend

    backend = HFBackend(str(thinking_model), batch_size=4)
    yield backend
    backend.close()


COMMON: dict[str, Any] = dict(limit=3, samples=2, grader=None, seed=5)


def test_hf_force_continue(hf_backend: Any, data_dir: Path, tmp_path: Path) -> None:
    evaluate(backend=hf_backend, data=str(data_dir), out=tmp_path, max_tokens=160,
             force_continue=2, **COMMON)
    assert check_force_continue(tmp_path, 2) >= 1


def test_hf_think_budget_is_exact(hf_backend: Any, data_dir: Path, tmp_path: Path) -> None:
    evaluate(backend=hf_backend, data=str(data_dir), out=tmp_path, max_tokens=40,
             think_budget=8, **COMMON)
    assert check_budget(tmp_path, 8, hf_backend.decode) >= 1


def test_hf_reminder(hf_backend: Any, data_dir: Path, dataset: Any, tmp_path: Path) -> None:
    evaluate(backend=hf_backend, data=str(data_dir), out=tmp_path, max_tokens=160,
             remind_constraints=True, **COMMON)
    texts = {item.key: " ".join(item.constraint_desc) for item in dataset}
    assert check_reminder(tmp_path, texts, "Wait, {constraints}\n") >= 1


def test_openai_completions_against_transformers_serve(
        served_thinking_model: str, thinking_model: Path, data_dir: Path,
        tmp_path: Path) -> None:
    options = {"base_url": [served_thinking_model], "concurrency": 4}
    evaluate(str(thinking_model), backend="openai", options=options, data=str(data_dir),
             out=tmp_path / "wait", max_tokens=120, force_continue=1, **COMMON)
    assert check_force_continue(tmp_path / "wait", 1) >= 1
    evaluate(str(thinking_model), backend="openai", options=options, data=str(data_dir),
             out=tmp_path / "budget", max_tokens=40, think_budget=6, **COMMON)
    assert check_budget(tmp_path / "budget", 6) >= 1
    # transformers serve has no continue_final_message: refused by the first request
    with pytest.raises(BackendError, match=r"cannot continue an assistant turn.*422"):
        evaluate(str(thinking_model), backend="openai", data=str(data_dir),
                 options={**options, "continuation": "chat"}, out=tmp_path / "chat",
                 max_tokens=40, force_continue=1, **COMMON)
    assert not (tmp_path / "chat" / "phases.jsonl").exists() or not read_steps(
        tmp_path / "chat")


@pytest.fixture(scope="module")
def tokenizer(thinking_model: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(thinking_model))


@pytest.mark.parametrize("mode", ["completions", "chat"])
def test_openai_continues_on_a_server_that_can(mode: str, tokenizer: Any, thinking_model: Path,
                                               data_dir: Path, tmp_path: Path) -> None:
    with FakeServer(tokenizer) as server:
        evaluate(str(thinking_model), backend="openai", data=str(data_dir), out=tmp_path,
                 options={"base_url": [server.url], "continuation": mode}, max_tokens=80,
                 force_continue=2, **COMMON)
    assert check_force_continue(tmp_path, 2) == 6  # every transcript closed
    continued = [b for path, b in server.bodies if b.get("continue_final_message")]
    if mode == "chat":
        assert continued and all(b["messages"][-1]["content"].startswith("<think>\n")
                                 for b in continued)
    else:
        # Every request goes to /v1/completions, the server check (one token, before the run
        # folder exists) too: the run never needs the chat endpoint.
        generations = [p for p, b in server.bodies if b.get("max_tokens") != 1]
        assert not continued and generations
        assert all(p.endswith("/v1/completions") for p, _ in server.bodies)


def test_completions_probes_work_on_a_server_without_chat(
        tokenizer: Any, thinking_model: Path, data_dir: Path, tmp_path: Path) -> None:
    """A base-model server refuses /chat/completions; the probes' completions mode renders the
    chat itself, so its checks and its run go through /completions only."""
    with FakeServer(tokenizer, mode="no-chat") as server:
        evaluate(str(thinking_model), backend="openai", data=str(data_dir), out=tmp_path,
                 options={"base_url": [server.url]}, max_tokens=80, force_continue=1,
                 **COMMON)
    assert check_force_continue(tmp_path, 1) == 6
    assert all(p.endswith("/v1/completions") for p, _ in server.bodies)
    # a plain run (no probe) on that server is refused by its first request, at once
    with FakeServer(tokenizer, mode="no-chat") as server, pytest.raises(
            BackendError, match=r"rejected the check request.*400"):
        evaluate(str(thinking_model), backend="openai", data=str(data_dir),
                 out=tmp_path / "plain", options={"base_url": [server.url]}, max_tokens=80,
                 **COMMON)
    assert len(server.bodies) == 1 and not (tmp_path / "plain").exists()


def test_a_server_that_ignores_continue_final_message_is_stopped_at_once(
        tokenizer: Any, thinking_model: Path, data_dir: Path, tmp_path: Path) -> None:
    with FakeServer(tokenizer, mode="ignores") as server, pytest.raises(
            BackendError, match=r"does not continue the text as given.*continue_final_message"):
        evaluate(str(thinking_model), backend="openai", data=str(data_dir), out=tmp_path,
                 options={"base_url": [server.url], "continuation": "chat"}, max_tokens=80,
                 force_continue=2, **COMMON)
    # The server check and the continuation check (one token each): nothing of the budget
    assert len(server.bodies) == 2 and all(b["max_tokens"] == 1 for _, b in server.bodies)


def test_a_server_without_completions_is_stopped_at_once(
        tokenizer: Any, thinking_model: Path, data_dir: Path, tmp_path: Path) -> None:
    with FakeServer(tokenizer, mode="no-completions") as server, pytest.raises(
            BackendError, match=r"/v1/completions was not found.*404.*--continuation chat"):
        evaluate(str(thinking_model), backend="openai", data=str(data_dir), out=tmp_path,
                 options={"base_url": [server.url]}, max_tokens=80, think_budget=4, **COMMON)
    # the server check itself goes to the endpoint the probes use: one request of one token
    assert len(server.bodies) == 1 and all(b["max_tokens"] == 1 for _, b in server.bodies)
    assert not (tmp_path / "manifest.json").exists()


def test_a_model_without_think_tags_is_refused(data_dir: Path, tmp_path: Path,
                                               tiny_model: Path) -> None:
    """The plain tiny model has think tags; a marker it does not know is refused."""
    from mathif.generation.hf import HFBackend

    backend = HFBackend(str(tiny_model))
    try:
        with pytest.raises(BackendError, match="does not think with '<reasoning_end>'"):
            evaluate(backend=backend, data=str(data_dir), out=tmp_path, max_tokens=16,
                     force_continue=1, think_marker="<reasoning_end>", **COMMON)
    finally:
        backend.close()
