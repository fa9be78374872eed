"""The run configuration, declared once.

:class:`RunConfig` is everything that defines a ``mathif eval`` run apart from its data and its
folder: the model and backend, the prompt, the decoding settings, the seed, the samples, the
grading settings and the backend's options. The command-line flags are built from its fields
(``mathif.cli``), the values are checked on construction, and the fields marked as changing
outputs make the run settings that are stored in the run folder's manifest and compared on
resume (:meth:`RunConfig.settings`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from mathif.generation.engines import (
    BACKEND_NAMES,
    BackendOptions,
    ReplayOptions,
    backend_options,
    resolve_backend,
)
from mathif.generation.protocol import Sampling
from mathif.grading import DEFAULT_TIMEOUT, GRADERS
from mathif.options import (
    FLAG,
    JSON_OBJECT,
    PERCENT,
    POSITIVE_FLOAT,
    POSITIVE_INT,
    SEED,
    check_fields,
    option,
    spec_of,
)
from mathif.probes.settings import ProbeSettings
from mathif.prompts import TEMPLATES

# Answers the grader could not decide (timeouts, grader errors), in percent of the graded
# answers, above which a run fails loudly: its correctness would be too low by that much.
MAX_UNGRADED_PERCENT = 1.0
GRADER_CHOICES = (*GRADERS, "none")
# Where the constraints are checked: the answer part (the benchmark), the reasoning, or both.
SCOPES = ("answer", "reasoning", "both")


@dataclass(frozen=True)
class GradeSettings:
    """How correctness is graded (``mathif score`` and ``mathif eval`` alike)."""

    grader: str | None = option(
        "mathif", choices=GRADER_CHOICES,
        help="math correctness grader: mathif (default, fair to constraint-obeying answers), "
        "reference (reproduces the official verdicts) or none")
    grade_timeout: float = option(
        DEFAULT_TIMEOUT, kind=POSITIVE_FLOAT, metavar="SECONDS",
        help=f"hard time limit per grading call (default {DEFAULT_TIMEOUT:g})")
    workers: int | None = option(help="grading worker processes (default: automatic)",
                                 kind=POSITIVE_INT)
    max_ungraded: float | None = option(
        MAX_UNGRADED_PERCENT, kind=PERCENT, metavar="PERCENT",
        help="fail (exit 3, after writing the results) when more than this share of the "
        f"answers could not be graded: timeouts or grader errors (default "
        f"{MAX_UNGRADED_PERCENT:g}; 100 accepts any number)")
    scope: str = option(
        "answer", choices=SCOPES,
        help="where the constraints are checked: answer (default: the answer part, as the "
        "benchmark), reasoning (the reasoning part too, reported beside it) or both (the same)")

    def __post_init__(self) -> None:
        if self.scope not in SCOPES:
            raise ValueError(f"scope must be one of {', '.join(SCOPES)}, got {self.scope!r}")
        if self.grader == "none":
            object.__setattr__(self, "grader", None)
        check_fields(self)


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a generation run, except its data and its folder.

    The fields marked ``output=True`` decide what the model outputs: they are the run settings
    (with the backend options that change outputs and the data checksum), checked on resume.
    Which items and how many samples are wanted is deliberately not among them: a run can be
    extended with more items or samples.
    """

    model: str | None = option(
        help="model name or local path (openai: the served model name; replay: the file of "
        "recorded responses)", output=True)
    backend: str = option("auto", choices=BACKEND_NAMES, output=True,
                          help="auto (default: vllm with a GPU, else hf), vllm, hf, openai, "
                          "replay")
    prompt_template: str = option("paper", choices=TEMPLATES, output=True,
                                  help="user-message template (default: paper, byte-exact)")
    system_prompt: str | None = option(help="a system message (default: none, as the paper)",
                                       output=True)
    chat_template_kwargs: Mapping[str, Any] | None = option(
        kind=JSON_OBJECT, metavar="JSON", output=True,
        help="chat template arguments, e.g. '{\"enable_thinking\": false}'")
    sampling: Sampling = field(default_factory=Sampling, metadata={"output": True})
    seed: int | None = option(
        0, kind=SEED, output=True,
        help="run seed; each (item, sample) gets a seed derived from it (default 0; 'none' for "
        "unseeded sampling)")
    samples: int = option(1, kind=POSITIVE_INT, help="samples per item (default 1)")
    with_control: bool = option(
        False, kind=FLAG,
        help="also generate without the constraints (correct w/o constraints)")
    grading: GradeSettings = field(default_factory=GradeSettings)
    # The backend's options (the class of the backend's name); None: its defaults.
    options: BackendOptions | None = None
    # A probe of the reasoning (mathif.probes); part of the settings only when one is given,
    # so that the plain benchmark's settings (and old run folders) stay as they were.
    probe: ProbeSettings = field(default_factory=ProbeSettings, metadata={"output": True})

    def __post_init__(self) -> None:
        check_fields(self)
        if self.probe.kind == "think_budget":
            too_big = [v for v in self.probe.values() if v >= self.sampling.max_tokens]
            if too_big:
                raise ValueError(
                    f"--think-budget {too_big[0]} leaves no tokens to answer within "
                    f"--max-tokens {self.sampling.max_tokens} (which bounds the reasoning and "
                    "the answer together): raise --max-tokens")

    def backend_options(self) -> BackendOptions:
        """The options of the (resolved) backend; refused when they belong to another one."""
        return backend_options(resolve_backend(self.backend), self.options)

    def resolved(self) -> RunConfig:
        """The backend resolved for this machine and local paths made absolute, so that a
        resume from another folder or machine compares equal."""
        name = resolve_backend(self.backend)
        if self.model is None:
            raise ValueError("give a model (a name, a local path, or for replay a file)")
        opts = self.backend_options()
        if isinstance(opts, ReplayOptions) and opts.control_responses is not None:
            opts = replace(opts, control_responses=local_id(name, opts.control_responses))
        return replace(self, backend=name, model=local_id(name, self.model), options=opts)

    def settings(self, *, data_checksum: str, engine: Mapping[str, Any] | None = None
                 ) -> dict[str, Any]:
        """The run settings: stored in the run manifest and compared on every resume.

        ``engine`` overrides the backend options' output settings (a backend object given
        directly has none).
        """
        out: dict[str, Any] = {}
        for f in fields(self):
            spec = spec_of(f)
            if not (f.metadata.get("output") or (spec is not None and spec.output)):
                continue
            value = getattr(self, f.name)
            if isinstance(value, ProbeSettings):
                if not value.active:
                    continue
                value = value.to_settings()
            elif isinstance(value, Sampling):
                value = value.to_dict()
            elif f.name == "chat_template_kwargs":
                value = dict(value or {})
            out[f.name] = value
        if engine is None:
            engine = self.options.output_settings() if self.options is not None else {}
        out["engine"] = dict(engine)
        out["data_checksum"] = data_checksum
        return out


def local_id(backend: str, model: str) -> str:
    """Local paths are stored absolute, so a resume from another folder still matches."""
    if backend in ("hf", "vllm", "replay") and Path(model).exists():
        return str(Path(model).resolve())
    return model
