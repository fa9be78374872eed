"""Generation: backends behind one small protocol, and the resumable run store.

Nothing heavy is imported here: torch, transformers, vLLM and httpx are imported by the
backend that needs them, when it is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mathif.lazy import lazy_attributes

if TYPE_CHECKING:
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

# Imported on first use: the run configuration reads the backends' option classes without
# loading the run store or the chat templates.
_HOME = {
    "build_messages": "mathif.generation.chat",
    "BACKEND_NAMES": "mathif.generation.engines",
    "make_backend": "mathif.generation.engines",
    "resolve_backend": "mathif.generation.engines",
    "Backend": "mathif.generation.protocol",
    "BackendError": "mathif.generation.protocol",
    "Completion": "mathif.generation.protocol",
    "Message": "mathif.generation.protocol",
    "OnComplete": "mathif.generation.protocol",
    "Request": "mathif.generation.protocol",
    "Sampling": "mathif.generation.protocol",
    "derive_seed": "mathif.generation.protocol",
    "RESUME_KEY": "mathif.generation.store",
    "RunStore": "mathif.generation.store",
    "SettingsMismatchError": "mathif.generation.store",
}


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


__getattr__, __dir__ = lazy_attributes(__name__, _HOME)
