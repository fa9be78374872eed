"""Which backend runs a model, and how it is built from plain options.

``auto`` picks vLLM where it is installed and a GPU is present (the paper's engine and by far
the fastest), else transformers. Options are validated per backend: an option that the chosen
backend would ignore is an error, because a silently ignored ``--concurrency`` or
``--tensor-parallel-size`` wastes a long run.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mathif.generation.protocol import Backend

if TYPE_CHECKING:
    from mathif.data import Item

BACKEND_NAMES = ("auto", "vllm", "hf", "openai", "replay")

# Options each backend accepts (the keyword arguments of its constructor).
BACKEND_OPTIONS: dict[str, tuple[str, ...]] = {
    "vllm": ("tensor_parallel_size", "pipeline_parallel_size", "data_parallel_size", "dtype",
             "max_model_len", "gpu_memory_utilization", "enforce_eager", "quantization",
             "trust_remote_code", "engine_args"),
    "hf": ("dtype", "device", "batch_size", "trust_remote_code"),
    "openai": ("base_url", "concurrency", "request_timeout", "max_retries", "api_key_env",
               "extra_body"),
    "replay": ("control_responses",),
}

# Options that change what the model outputs: part of the run settings (checked on resume).
OUTPUT_OPTIONS: dict[str, tuple[str, ...]] = {
    "vllm": ("dtype", "quantization"),
    "hf": ("dtype",),
    "openai": ("extra_body",),
    "replay": ("control_responses",),
}


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def resolve_backend(name: str) -> str:
    """The concrete backend for ``name`` (``auto`` resolved for this machine)."""
    if name not in BACKEND_NAMES:
        raise ValueError(f"unknown backend {name!r}; choose from {', '.join(BACKEND_NAMES)}")
    if name != "auto":
        return name
    if importlib.util.find_spec("vllm") is not None and _cuda_available():
        return "vllm"
    return "hf"


def backend_options(name: str, options: Mapping[str, Any] | None) -> dict[str, Any]:
    """The options that apply to backend ``name``; ``None`` values mean "default"."""
    given = {k: v for k, v in (options or {}).items() if v is not None}
    allowed = BACKEND_OPTIONS[name]
    stray = sorted(set(given) - set(allowed))
    if stray:
        shown = ", ".join("--" + s.replace("_", "-") for s in stray)
        raise ValueError(f"{shown} do(es) not apply to the {name} backend")
    return given


def output_settings(name: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The part of ``options`` that changes outputs, for the run settings."""
    return {k: options[k] for k in OUTPUT_OPTIONS.get(name, ()) if k in options}


def make_backend(
    name: str,
    model: str,
    *,
    options: Mapping[str, Any] | None = None,
    chat_template_kwargs: Mapping[str, Any] | None = None,
    items: Sequence[Item] = (),
) -> Backend:
    """Build backend ``name`` for ``model``; heavy libraries are imported only here."""
    name = resolve_backend(name)
    opts = backend_options(name, options)
    kwargs = dict(chat_template_kwargs or {})
    if name == "vllm":
        from mathif.generation.vllm import VLLMBackend

        return VLLMBackend(model, chat_template_kwargs=kwargs, **opts)
    if name == "hf":
        from mathif.generation.hf import HFBackend

        return HFBackend(model, chat_template_kwargs=kwargs, **opts)
    if name == "openai":
        from mathif.generation.openai import OpenAIBackend, RetryPolicy

        retries = opts.pop("max_retries", None)
        retry = RetryPolicy(max_retries=retries) if retries is not None else None
        return OpenAIBackend(model, chat_template_kwargs=kwargs, retry=retry, **opts)
    from mathif.generation.replay import ReplayBackend

    if kwargs:
        raise ValueError("--chat-template-kwargs does not apply to the replay backend")
    return ReplayBackend(model, items, control_path=opts.get("control_responses"))
