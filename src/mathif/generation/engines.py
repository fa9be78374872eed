"""Which backend runs a model, and its options, declared once.

``auto`` picks vLLM where it is installed and a GPU is present (the paper's engine and by far
the fastest), else transformers. Each backend's options are one frozen dataclass (below): the
``mathif eval`` flags, the check of every value, the keyword arguments of the backend's
constructor and the options that change outputs (part of the run settings, compared on resume)
all come from it. An option that the chosen backend would ignore is an error, because a
silently ignored ``--concurrency`` or ``--tensor-parallel-size`` wastes a long run.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, ClassVar

from mathif.errors import InputError
from mathif.generation.protocol import Backend
from mathif.options import (
    FLAG,
    JSON_OBJECT,
    NON_NEGATIVE_INT,
    POSITIVE_FLOAT,
    POSITIVE_INT,
    PROBABILITY,
    TEXT,
    check_fields,
    option,
    option_fields,
)

if TYPE_CHECKING:
    from mathif.data import Item

BACKEND_NAMES = ("auto", "vllm", "hf", "openai", "replay")
log = logging.getLogger(__name__)

_DTYPE_HELP = "auto (default), bfloat16, float16, float32"


@dataclass(frozen=True)
class BackendOptions:
    """Options of one backend; ``None`` everywhere means "the backend's default"."""

    backend: ClassVar[str] = ""
    group: ClassVar[str] = ""  # the section of `mathif eval --help` its flags appear in

    def __post_init__(self) -> None:
        check_fields(self)

    def given(self) -> dict[str, Any]:
        """The options that were set, in declaration order (the constructor's arguments)."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) is not None}

    def output_settings(self) -> dict[str, Any]:
        """The set options that change what the model outputs: part of the run settings."""
        return {f.name: getattr(self, f.name) for f, spec in option_fields(self)
                if spec.output and getattr(self, f.name) is not None}

    @classmethod
    def of(cls, options: Mapping[str, Any] | None) -> BackendOptions:
        """From plain keyword options; one that does not apply to this backend is an error."""
        given = {k: v for k, v in (options or {}).items() if v is not None}
        stray = sorted(set(given) - {f.name for f in fields(cls)})
        if stray:
            shown = ", ".join("--" + s.replace("_", "-") for s in stray)
            raise ValueError(f"{shown} do(es) not apply to the {cls.backend} backend")
        if "base_url" in given and isinstance(given["base_url"], str):
            given["base_url"] = [given["base_url"]]
        for name, value in given.items():
            if isinstance(value, list):
                given[name] = tuple(value)
        return cls(**given)


@dataclass(frozen=True)
class VLLMOptions(BackendOptions):
    backend: ClassVar[str] = "vllm"
    group: ClassVar[str] = "vllm / hf backends"

    dtype: str | None = option(help=_DTYPE_HELP, output=True)
    tensor_parallel_size: int | None = option(help="GPUs one model is split over",
                                              kind=POSITIVE_INT, metavar="N")
    pipeline_parallel_size: int | None = option(help="pipeline stages of one model",
                                                kind=POSITIVE_INT, metavar="N")
    data_parallel_size: int | None = option(help="N engine replicas, each on its own GPUs",
                                            kind=POSITIVE_INT, metavar="N")
    max_model_len: int | None = option(help="context length of the engine", kind=POSITIVE_INT,
                                       metavar="N")
    gpu_memory_utilization: float | None = option(
        help="share of GPU memory vLLM may use, in (0, 1]", kind=PROBABILITY, metavar="F")
    enforce_eager: bool | None = option(help="no CUDA graphs", kind=FLAG)
    quantization: str | None = option(help="quantization method (vLLM's names)", output=True)
    trust_remote_code: bool | None = option(help="run the model repository's own code",
                                            kind=FLAG)
    engine_args: Mapping[str, Any] | None = option(
        help="more vllm.LLM arguments, e.g. '{\"max_num_seqs\": 512}'", kind=JSON_OBJECT,
        metavar="JSON")


@dataclass(frozen=True)
class HFOptions(BackendOptions):
    backend: ClassVar[str] = "hf"
    group: ClassVar[str] = "vllm / hf backends"

    dtype: str | None = option(help=_DTYPE_HELP, output=True)
    device: str | None = option(help="hf: cuda, cpu, mps (default: automatic)")
    batch_size: int | None = option(help="hf: sequences per batch (default 8)",
                                    kind=POSITIVE_INT)
    trust_remote_code: bool | None = option(help="run the model repository's own code",
                                            kind=FLAG)


@dataclass(frozen=True)
class OpenAIOptions(BackendOptions):
    backend: ClassVar[str] = "openai"
    group: ClassVar[str] = "openai backend"

    base_url: tuple[str, ...] | None = option(
        help="server base URL(s), e.g. http://127.0.0.1:8000/v1; several URLs spread the "
        "requests over a fleet", many=True, metavar="URL")
    concurrency: int | None = option(help="requests in flight (default 32)", kind=POSITIVE_INT)
    request_timeout: float | None = option(
        help="deadline of one attempt of a request (default 1800)", kind=POSITIVE_FLOAT,
        metavar="SECONDS")
    max_retries: int | None = option(
        help="retries on 429/5xx/timeouts/connection errors (default 8)",
        kind=NON_NEGATIVE_INT)
    api_key_env: str | None = option(
        help="environment variable holding the API key (default: MATHIF_API_KEY, then "
        "OPENAI_API_KEY)", metavar="NAME")
    extra_body: Mapping[str, Any] | None = option(
        help="extra request fields, e.g. '{\"top_k\": 20}' (null removes one)",
        kind=JSON_OBJECT, metavar="JSON", output=True)
    continuation: str | None = option(
        help="how the probes continue an assistant turn: completions (default: the "
        "/completions endpoint, chat template applied here) or chat (vLLM's "
        "continue_final_message)", choices=("completions", "chat"), metavar="MODE")
    tokenizer: str | None = option(
        help="probes: the tokenizer (name or path) whose chat template renders the prompt "
        "here (default: --model)", metavar="NAME_OR_PATH")


@dataclass(frozen=True)
class ReplayOptions(BackendOptions):
    backend: ClassVar[str] = "replay"
    group: ClassVar[str] = "replay backend"

    control_responses: str | None = option(
        help="recorded responses of the control run (with --with-control)", kind=TEXT,
        metavar="FILE", output=True)


OPTIONS: dict[str, type[BackendOptions]] = {
    cls.backend: cls for cls in (VLLMOptions, HFOptions, OpenAIOptions, ReplayOptions)
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


def backend_options(
    name: str, options: BackendOptions | Mapping[str, Any] | None
) -> BackendOptions:
    """The options of backend ``name`` (``options`` as a mapping of plain values, or the
    backend's own options object)."""
    cls = OPTIONS[name]
    if isinstance(options, BackendOptions):
        if not isinstance(options, cls):
            raise ValueError(f"{type(options).__name__} are not options of the {name} backend")
        return options
    return cls.of(options)


def make_backend(
    name: str,
    model: str,
    *,
    options: BackendOptions | Mapping[str, Any] | None = None,
    chat_template_kwargs: Mapping[str, Any] | None = None,
    items: Sequence[Item] = (),
) -> Backend:
    """Build backend ``name`` for ``model``; heavy libraries are imported only here.

    ``items`` are the run's items (a :class:`~mathif.data.Dataset`, for the replay backend's
    matching of lines to items).
    """
    name = resolve_backend(name)
    opts = backend_options(name, options).given()
    kwargs = dict(chat_template_kwargs or {})
    for key in ("engine_args", "extra_body"):
        if key in opts:
            opts[key] = dict(opts[key])
    if name in ("vllm", "hf"):
        return _local_model_backend(name, model, kwargs, opts)
    if name == "openai":
        from mathif.generation.openai import DEFAULT_BASE_URL, OpenAIBackend, RetryPolicy

        retries = opts.pop("max_retries", None)
        retry = RetryPolicy(max_retries=retries) if retries is not None else None
        if "base_url" in opts:
            opts["base_url"] = list(opts["base_url"])
        else:
            log.warning("openai backend: no --base-url given, so requests go to %s",
                        DEFAULT_BASE_URL)
        return OpenAIBackend(model, chat_template_kwargs=kwargs, retry=retry, **opts)
    from mathif.generation.replay import ReplayBackend

    if kwargs:
        raise ValueError("--chat-template-kwargs does not apply to the replay backend")
    return ReplayBackend(model, items, control_path=opts.get("control_responses"))


def _local_model_backend(name: str, model: str, kwargs: dict[str, Any],
                         opts: dict[str, Any]) -> Backend:
    """A vllm or hf backend, its model checked first (:func:`mathif.hub.resolve_model`: a
    missing folder, the Hub off or unreachable) and a model that still fails to load reported
    in one line rather than a library's traceback."""
    from mathif.hub import resolve_model

    local = resolve_model(model)
    try:
        if name == "vllm":
            from mathif.generation.vllm import VLLMBackend

            return VLLMBackend(local, chat_template_kwargs=kwargs, **opts)
        from mathif.generation.hf import HFBackend

        return HFBackend(local, chat_template_kwargs=kwargs, **opts)
    except OSError as exc:  # transformers: no such repository, no config.json, no weights
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise InputError(f"model {model!r} could not be loaded: {detail}") from None
