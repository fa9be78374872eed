"""Generation: backends behind one small protocol, and the resumable run store.

Nothing heavy is imported here: torch, transformers, vLLM and httpx are imported by the
backend that needs them, when it is built.
"""

from __future__ import annotations

from mathif.generation.chat import build_messages
from mathif.generation.engines import BACKEND_NAMES, make_backend, resolve_backend
from mathif.generation.protocol import (
    Backend,
    BackendError,
    Completion,
    Message,
    OnComplete,
    Request,
    Sampling,
    derive_seed,
)
from mathif.generation.store import RESUME_KEY, RunStore, SettingsMismatchError

__all__ = [
    "BACKEND_NAMES",
    "RESUME_KEY",
    "Backend",
    "BackendError",
    "Completion",
    "Message",
    "OnComplete",
    "Request",
    "RunStore",
    "Sampling",
    "SettingsMismatchError",
    "build_messages",
    "derive_seed",
    "make_backend",
    "resolve_backend",
]
