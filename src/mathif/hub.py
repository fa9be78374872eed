"""The Hugging Face Hub, reached or not: offline mode, a bounded reachability probe, cached copies.

The data set and the models can come from the Hub. Left to itself, ``huggingface_hub`` tries
every file on an unreachable Hub with its own timeouts and retries (half a minute and a page
of warnings before failing), and ignores ``HF_HUB_OFFLINE`` set after it was imported. So
mathif decides first, in one place and in bounded time:

- ``HF_HUB_OFFLINE`` (or ``TRANSFORMERS_OFFLINE``) set: no request at all; the cached copy is
  used, or a clear error says what to do;
- otherwise one probe of the endpoint (``HF_ENDPOINT``), at most :data:`PROBE_TIMEOUT_S`
  seconds: when the Hub cannot be reached, the cached copy is used (quietly, with one
  line saying so), or a clear error names the local alternative (``--data`` /
  ``MATHIF_DATA`` for the data, a model folder for ``--model``).

Nothing here runs at import time or while scoring: only when data or a model is loaded.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mathif.errors import InputError

DEFAULT_ENDPOINT = "https://huggingface.co"
OFFLINE_ENVS = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
# The whole probe (connect and the first reply byte) fits in this, whatever the network does.
PROBE_TIMEOUT_S = 3.0
# "org/name" or "name": what the Hub accepts as a repository id.
_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*(/[\w.-]+)?")

log = logging.getLogger(__name__)


def offline() -> bool:
    """Whether the user asked for no Hub access (read now, not when a library was imported)."""
    return any(os.environ.get(name, "").strip().upper() in ("1", "ON", "YES", "TRUE")
               for name in OFFLINE_ENVS)


def endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def cache_dir() -> str | None:
    """The Hub cache as the environment says now (``HF_HUB_CACHE``, else ``HF_HOME/hub``);
    ``None``: the library's default."""
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    if os.environ.get("HF_HOME"):
        return os.path.join(os.environ["HF_HOME"], "hub")
    return None


def unreachable(timeout: float = PROBE_TIMEOUT_S) -> str | None:
    """Why the Hub cannot be reached, or ``None`` when it answers (any HTTP status counts:
    the server is there). Bounded by ``timeout`` seconds in total."""
    import urllib.error  # here, not at import: scoring never reaches the network
    import urllib.request

    url = endpoint() + "/api/whoami-v2"
    outcome: list[str | None] = []

    def probe() -> None:
        try:
            request = urllib.request.Request(url, method="HEAD",
                                             headers={"User-Agent": "mathif"})
            with urllib.request.urlopen(request, timeout=timeout):
                pass
            outcome.append(None)
        except urllib.error.HTTPError:
            outcome.append(None)  # it answered
        except Exception as exc:  # URLError, timeouts, refused or reset connections
            reason = getattr(exc, "reason", None) or exc
            outcome.append(f"{type(reason).__name__}: {reason}".strip())

    thread = threading.Thread(target=probe, name="mathif-hub-probe", daemon=True)
    thread.start()
    thread.join(timeout)
    if not outcome:
        return f"no answer from {endpoint()} within {timeout:g}s"
    return outcome[0]


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence huggingface_hub's own warnings and progress bars while mathif talks to it (its
    retry warnings and bars are noise: mathif reports what matters in one line)."""
    logger = logging.getLogger("huggingface_hub")
    saved = logger.level
    logger.setLevel(logging.ERROR)
    bars = _hub_bars()
    was_off = bars.are_progress_bars_disabled() if bars is not None else True
    if bars is not None:
        bars.disable_progress_bars()
    try:
        yield
    finally:
        logger.setLevel(saved)
        if bars is not None and not was_off:
            bars.enable_progress_bars()


def _hub_bars() -> Any:
    """huggingface_hub's progress-bar switches (``huggingface_hub.utils``), if importable."""
    try:
        from huggingface_hub import utils
    except ImportError:  # pragma: no cover - a core dependency
        return None
    return utils


def silence_libraries() -> None:
    """``--quiet``: no loading or download bars from transformers and huggingface_hub."""
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    bars = _hub_bars()
    if bars is not None:
        bars.disable_progress_bars()
    with contextlib.suppress(ImportError, AttributeError):
        import transformers

        transformers.utils.logging.disable_progress_bar()
        transformers.utils.logging.set_verbosity_error()


def _cached_model(name: str, revision: str | None) -> str | None:
    """The cached snapshot folder of Hub model ``name``, or ``None`` when it is not cached."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError:  # pragma: no cover - a core dependency
        return None
    try:
        with quiet():
            return str(snapshot_download(name, revision=revision, local_files_only=True,
                                         cache_dir=cache_dir()))
    except Exception:  # not in the cache (LocalEntryNotFoundError and friends)
        return None


def _looks_like_path(name: str) -> bool:
    """Not a Hub id: an absolute or relative path, or more than one ``/``."""
    return name.startswith(("/", ".", "~")) or not _REPO_ID.fullmatch(name)


def resolve_model(name: str, *, revision: str | None = None) -> str:
    """What to load for ``--model name``: a local folder, or a Hub id the Hub will serve.

    Decided before anything is written or loaded, so a wrong name costs one line and no run
    folder: a path that does not exist, or a Hub id when the Hub is off or unreachable and
    the model is not cached, raises :class:`InputError`. A cached Hub model is used from
    its snapshot folder when the Hub cannot be reached (or ``HF_HUB_OFFLINE`` is set).
    """
    path = Path(name).expanduser()
    if path.exists():
        if not path.is_dir():
            raise InputError(f"model {name!r} is a file, not a model folder (give the folder "
                             "holding config.json, or a Hub id)")
        return str(path)
    if _looks_like_path(name):
        raise InputError(f"model {name!r} not found: no such folder, and not a Hub model id")
    local = _cached_model(name, revision) if offline() else None
    if offline():
        if local is None:
            raise InputError(
                f"model {name!r} is not in the Hugging Face cache and HF_HUB_OFFLINE is set: "
                f"download it where there is network (`hf download {name}`), or give a local "
                "model folder as --model")
        return local
    reason = unreachable()
    if reason is None:
        return name
    local = _cached_model(name, revision)
    if local is None:
        raise InputError(
            f"model {name!r} not found: not a folder, and the Hub ({endpoint()}) cannot be "
            f"reached ({reason}). Give a local model folder as --model, or download the model "
            "where there is network and set HF_HUB_OFFLINE=1 to use the cached copy")
    log.info("the Hub (%s) cannot be reached: using the cached copy of %s", endpoint(), name)
    return local
