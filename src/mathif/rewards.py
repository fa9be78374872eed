"""RL rewards from MathIF's own checkers and graders, for TRL and verl.

One reward, documented and configurable (:class:`RewardConfig`)::

    reward = correct * w_correct            # the final answer equals the gold (0/1)
           + hard    * w_hard               # every constraint followed (0/1)
           + soft    * w_soft               # the fraction of constraints followed (0-1)
           + format  * w_format             # think tags present and closed (0/1), paper: 0.1
           - length  * w_length             # overlong penalty (0-1), off by default

Every term is computed on the **answer part** (SPEC §3: the text after ``</think>``; a
completion without ``</think>`` is all answer part), exactly as ``mathif score`` scores a
benchmark response: the same split, the same 15 checkers, an empty answer failing every
constraint, the same graders (``mathif`` or ``reference``) through the same killable worker
pool with its hard timeout. With ``scope="answer+reasoning"`` the constraints on the whole
response's style (:data:`REASONING_SCOPE`: language, letter case, commas, forbidden words)
must hold in the reasoning too.

The format term is 1 when ``</think>`` occurs exactly once, ``<think>`` at most once and
only at the very start (a chat template may have opened it in the prompt), and the answer
part after ``</think>`` is not blank. A completion whose reasoning arrives in a separate field
(``reasoning_content``/``reasoning``/``thinking`` of a chat message) has format 1 when that
reasoning and the content are both non-blank and the content holds no think tag.

The length penalty is DAPO's overlong shaping: 0 up to ``length_limit - length_buffer``,
rising linearly to 1 at ``length_limit``, counted in ``length_unit`` (``chars``, ``words``
(``\\w+`` runs), or ``tokens`` where the trainer passes token ids: TRL does, verl's
``compute_score`` does not).

Entry points:

- :func:`reward` (and :func:`make_reward` for another mix): a TRL ``GRPOTrainer`` reward
  function, ``reward(prompts, completions, **columns) -> list[float]``. The columns are the
  dataset's: ``answer``, ``constraint_name``, ``constraint_args`` (what ``mathif build``
  writes; lists of dicts, Arrow's null-padded structs or JSON strings are all read),
  optionally ``source``. Plain-text and conversational completions. The components are
  logged through TRL's ``log_metric`` (``mathif/correct``, ...) and ``log_extra`` when the
  trainer passes them, and kept in ``reward.last``.
- :func:`compute_score`: verl's custom reward function (``custom_reward_function.path`` =
  this file, ``name: compute_score``); :func:`compute_score_batch` for verl's ``batch``
  reward manager. Each returns ``{"score": ..., "correct": ..., "hard": ..., ...}`` (verl
  logs the extra keys); the mix comes from ``custom_reward_function.reward_kwargs``.

Model text is the attacker: nothing here raises on any completion (``None``, numbers, lone
surrogates, megabytes of text, hostile markup); a completion longer than ``max_chars``
(200,000 characters, about 50,000 tokens: beyond any sane completion, and the bound that keeps
the slowest checker, capital-word counting, within seconds on adversarial text) gets 0 for
every term but the length penalty, without being checked; every verdict is deterministic
(langdetect is seeded) except that a grading timeout, by nature, depends on the machine.
"""

# No ``from __future__ import annotations`` here: verl executes this file by its path without
# registering it in ``sys.modules``, and dataclasses cannot resolve string annotations then.
import json
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from mathif import constraints
from mathif.constraints.text import count_words
from mathif.grading import DEFAULT_TIMEOUT, GRADERS, Grade, grade_many
from mathif.jsonl import scrub_text
from mathif.split import THINK_CLOSE, THINK_OPEN, split_output

log = logging.getLogger(__name__)

COMPONENTS = ("correct", "hard", "soft", "format", "length")
SCOPES = ("answer", "answer+reasoning")
LENGTH_UNITS = ("chars", "words", "tokens")
#: Constraints about the whole response's style, also checked on the reasoning with
#: ``scope="answer+reasoning"`` (the others are about the answer's shape or position).
REASONING_SCOPE = frozenset({
    "language:response_language",
    "change_case:english_capital",
    "change_case:english_lowercase",
    "punctuation:no_comma",
    "keywords:forbidden_words",
})
_REASONING_KEYS = ("reasoning_content", "reasoning", "thinking")
# verl passes these to every reward function; they mean nothing to this one.
_VERL_EXTRAS = frozenset({"reward_router_address", "reward_model_tokenizer"})


@dataclass(frozen=True)
class RewardConfig:
    """The reward mix and how it is computed (see the module docstring for the formula)."""

    correct: float = 1.0
    hard: float = 0.5
    soft: float = 0.5
    format: float = 0.1
    length: float = 0.0
    length_limit: int = 16384
    length_buffer: int = 4096
    length_unit: str = "chars"
    grader: str = "mathif"
    scope: str = "answer"
    timeout: float = DEFAULT_TIMEOUT
    workers: int | None = None
    max_chars: int = 200_000
    answer_column: str = "answer"

    def __post_init__(self) -> None:
        for name in ("correct", "hard", "soft", "format", "length", "timeout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                    math.isfinite(value)):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
        for name in ("length_limit", "length_buffer", "max_chars"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
        if self.length_buffer > self.length_limit:
            raise ValueError("length_buffer cannot exceed length_limit")
        if self.timeout <= 0:
            raise ValueError("timeout must be positive")
        if self.workers is not None and (isinstance(self.workers, bool)
                                         or not isinstance(self.workers, int)
                                         or self.workers < 1):
            raise ValueError(f"workers must be a positive integer or None, got {self.workers!r}")
        for name, allowed in (("grader", GRADERS), ("scope", SCOPES),
                              ("length_unit", LENGTH_UNITS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> "RewardConfig":
        """A config from keyword values (verl's ``reward_kwargs``); unknown names refused."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown reward settings {unknown}; known: {sorted(known)}")
        return cls(**dict(values))


@dataclass(frozen=True)
class RewardBreakdown:
    """One completion's reward and its terms (before weighting), for logging.

    ``length`` is the penalty fraction (0-1); ``follow`` has one verdict per constraint;
    ``grade_reason`` is the grader's (``match``, ``mismatch``, ``no_answer``, ``timeout``,
    ``error``) or ``too_long``/``not_text`` when the completion was not graded.
    """

    reward: float
    correct: float
    hard: float
    soft: float
    format: float
    length: float
    follow: tuple[bool, ...]
    grade_reason: str
    extracted_answer: str | None

    def to_verl(self) -> dict[str, Any]:
        """verl's result dict: ``score`` plus the terms (numbers only, as verl logs them)."""
        return {"score": self.reward, "correct": self.correct, "hard": self.hard,
                "soft": self.soft, "format": self.format, "length_penalty": self.length}


@dataclass(frozen=True)
class _Text:
    """A completion reduced to text: its answer part and reasoning, or why it has none."""

    raw: str  # the content (cut at max_chars when too long)
    reasoning: str
    answer: str
    format_ok: bool
    problem: str | None  # "not_text" / "too_long"
    chars: int  # content plus separate reasoning, uncut
    separate: bool = False  # the reasoning came in its own field


# ---- completions ----------------------------------------------------------------------------


def _as_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    return None


def _content_text(content: Any) -> str | None:
    """A message's content: a string, or a list of typed parts (their ``text`` joined)."""
    text = _as_text(content)
    if text is not None or not isinstance(content, (list, tuple)):
        return text
    parts = [_as_text(p.get("text")) if isinstance(p, Mapping) else _as_text(p)
             for p in content]
    return "".join(p for p in parts if p is not None)


def _message_parts(completion: Any) -> tuple[str, str | None] | None:
    """``(content, separate reasoning or None)`` of a completion, or ``None`` if not text.

    A conversational completion is a list of messages: the last assistant message counts
    (earlier turns, tool results, are not the answer).
    """
    text = _as_text(completion)
    if text is not None:
        return text, None
    if isinstance(completion, Mapping):
        messages: Sequence[Any] = [completion]
    elif isinstance(completion, (list, tuple)):
        messages = completion
    else:
        return None
    chosen = None
    for message in messages:
        if isinstance(message, Mapping) and message.get("role", "assistant") == "assistant":
            chosen = message
    if chosen is None:
        return None
    content = _content_text(chosen.get("content"))
    reasoning = None
    for key in _REASONING_KEYS:
        found = _content_text(chosen.get(key))
        if found:
            reasoning = found
            break
    if content is None and reasoning is None:
        return None
    return content or "", reasoning


def _think_format(raw: str, answer: str) -> bool:
    if raw.count(THINK_CLOSE) != 1:
        return False
    opens = raw.count(THINK_OPEN)
    if opens > 1 or (opens == 1 and raw.lstrip().find(THINK_OPEN) != 0):
        return False
    return bool(answer.strip())


def _read(completion: Any, max_chars: int) -> _Text:
    parts = _message_parts(completion)
    if parts is None:
        return _Text("", "", "", False, "not_text", 0)
    content, reasoning = parts
    chars = len(content) + len(reasoning or "")
    if chars > max_chars:
        return _Text(content[:max_chars], "", "", False, "too_long", chars)
    content = scrub_text(content)[0]
    if reasoning is not None:
        reasoning = scrub_text(reasoning)[0]
        ok = bool(reasoning.strip()) and bool(content.strip()) and (
            THINK_OPEN not in content and THINK_CLOSE not in content)
        return _Text(content, reasoning, content, ok, None, chars, separate=True)
    thought, answer = split_output(content)
    return _Text(content, thought, answer, _think_format(content, answer), None, chars)


# ---- dataset columns ------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """numpy scalars / arrays (verl's parquet rows) and tuples as plain Python values."""
    if isinstance(value, (str, bytes, bool, int, float)) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return _plain(tolist())
    return value


def _constraint_list(value: Any, what: str, row: int) -> list[Any]:
    value = _plain(value)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValueError(f"row {row}: {what} is a string but not JSON") from None
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"row {row}: {what} must be a list, got {type(value).__name__}")
    return value


def row_constraints(names: Any, args: Any, row: int = 0
                    ) -> tuple[tuple[str, ...], tuple[dict[str, Any], ...]]:
    """An item's constraint ids and validated arguments from dataset columns.

    Arrow (``datasets``, parquet) stores a list of differently shaped dicts as structs padded
    with nulls: keys a checker does not declare, holding ``None``, are dropped here.
    """
    name_list = _constraint_list(names, "constraint_name", row)
    arg_list = _constraint_list(args, "constraint_args", row) or [None] * len(name_list)
    if len(arg_list) != len(name_list):
        raise ValueError(f"row {row}: {len(name_list)} constraint names but {len(arg_list)} "
                         "argument entries")
    out_args: list[dict[str, Any]] = []
    for i, (name, arg) in enumerate(zip(name_list, arg_list, strict=True)):
        if not isinstance(name, str):
            raise ValueError(f"row {row}: constraint_name[{i}] must be a string")
        if isinstance(arg, str):
            arg = json.loads(arg) if arg.strip() else None
        if arg is not None and not isinstance(arg, Mapping):
            raise ValueError(f"row {row}: constraint_args[{i}] must be an object or null")
        try:
            declared = {p.name for p in constraints.registry.get(name).params}
        except constraints.UnknownConstraintError:
            raise ValueError(f"row {row}: unknown constraint id {name!r}") from None
        clean = {k: v for k, v in (arg or {}).items() if k in declared or v is not None}
        try:
            out_args.append(constraints.validate_args(name, clean))
        except constraints.ArgumentError as exc:
            raise ValueError(f"row {row}: constraint_args[{i}].{exc.field}: {exc.message}"
                             ) from None
    return tuple(name_list), tuple(out_args)


# ---- scoring ----------------------------------------------------------------------------------


def _follow(names: Sequence[str], args: Sequence[Mapping[str, Any]], text: _Text,
            scope: str) -> list[bool]:
    if not text.answer.strip():
        return [False] * len(names)
    out = []
    for name, arg in zip(names, args, strict=True):
        ok = constraints.check(name, text.answer, arg)
        if ok and scope == "answer+reasoning" and name in REASONING_SCOPE and (
                text.reasoning.strip()):
            ok = constraints.check(name, text.reasoning, arg)
        out.append(ok)
    return out


def _length(config: RewardConfig, text: _Text, token_count: int | None) -> float:
    if config.length == 0:
        return 0.0
    if config.length_unit == "tokens":
        if token_count is None:
            raise ValueError("length_unit='tokens' needs the completions' token ids "
                             "(TRL passes them; use 'chars' or 'words' elsewhere)")
        size = token_count
    elif config.length_unit == "words":
        # a separate reasoning field counts too; a too-long text is counted up to max_chars
        size = count_words(text.raw) + (count_words(text.reasoning) if text.separate else 0)
    else:
        size = text.chars
    start = config.length_limit - config.length_buffer
    if size <= start:
        return 0.0
    if config.length_buffer == 0:
        return 1.0
    return min(1.0, (size - start) / config.length_buffer)


@dataclass(frozen=True)
class Case:
    """What one completion is scored against."""

    gold: str
    names: tuple[str, ...] = ()
    args: tuple[Mapping[str, Any], ...] = ()
    source: str | None = None


def score_completions(completions: Sequence[Any], cases: Sequence[Case],
                      config: RewardConfig | None = None,
                      token_counts: Sequence[int | None] | None = None
                      ) -> list[RewardBreakdown]:
    """The reward and its terms for each completion (one :class:`Case` each); correctness is
    graded in one batch through the worker pool. Never raises on a completion."""
    config = config or RewardConfig()
    if len(completions) != len(cases):
        raise ValueError(f"{len(completions)} completions but {len(cases)} cases")
    counts = list(token_counts) if token_counts is not None else [None] * len(completions)
    texts = [_read(c, config.max_chars) for c in completions]
    follows: list[list[bool]] = []
    for text, case in zip(texts, cases, strict=True):
        if text.problem is not None:
            follows.append([False] * len(case.names))
            continue
        try:
            follows.append(_follow(case.names, case.args, text, config.scope))
        except Exception:  # a checker bug must not stop a training run
            log.exception("constraint check failed; scored as not followed")
            follows.append([False] * len(case.names))
    graded = [i for i, t in enumerate(texts) if t.problem is None]
    grades: dict[int, Grade] = {}
    if config.correct != 0 and graded:
        pairs = [(texts[i].answer, cases[i].gold, cases[i].source) for i in graded]
        done = grade_many(pairs, grader=config.grader, timeout=config.timeout,
                          workers=config.workers)
        grades = dict(zip(graded, done, strict=True))
    out = []
    for i, (text, follow) in enumerate(zip(texts, follows, strict=True)):
        g = grades.get(i)
        correct = 1.0 if g is not None and g.correct else 0.0
        hard = 1.0 if all(follow) else 0.0
        soft = sum(follow) / len(follow) if follow else 1.0
        form = 1.0 if text.format_ok else 0.0
        length = _length(config, text, counts[i])
        total = (config.correct * correct + config.hard * hard + config.soft * soft
                 + config.format * form - config.length * length)
        reason = text.problem or (g.reason if g is not None else "not_graded")
        out.append(RewardBreakdown(total, correct, hard, soft, form, length, tuple(follow),
                                   reason, g.extracted_answer if g is not None else None))
    return out


# ---- TRL ----------------------------------------------------------------------------------


def _column(columns: Mapping[str, Any], name: str, size: int) -> list[Any] | None:
    value = columns.get(name)
    if value is None:
        return None
    values = list(value)
    if len(values) != size:
        raise ValueError(f"column {name!r} has {len(values)} values for {size} completions")
    return values


class MathIFReward:
    """A TRL reward function (``GRPOTrainer(reward_funcs=...)``) with a given mix.

    TRL names a reward function's column after ``__name__``: this one is ``mathif``.
    """

    def __init__(self, config: RewardConfig | None = None) -> None:
        self.config = config or RewardConfig()
        self.__name__ = "mathif"
        self.last: list[RewardBreakdown] = []

    def __call__(self, prompts: Sequence[Any] | None = None,
                 completions: Sequence[Any] | None = None, **columns: Any) -> list[float]:
        if completions is None:
            raise ValueError("the reward needs `completions`")
        completions = list(completions)
        size = len(completions)
        answers = _column(columns, self.config.answer_column, size)
        if answers is None:
            raise ValueError(f"the dataset needs a {self.config.answer_column!r} column (the "
                             "gold answers; RewardConfig.answer_column names it)")
        names = _column(columns, "constraint_name", size)
        args = _column(columns, "constraint_args", size)
        if names is None and (self.config.hard or self.config.soft):
            raise ValueError("the dataset needs `constraint_name` and `constraint_args` "
                             "columns (mathif build writes them), or set the hard and soft "
                             "weights to 0")
        sources = _column(columns, "source", size) or [None] * size
        cases = []
        for i in range(size):
            row_names, row_args = row_constraints(names[i] if names else None,
                                                  args[i] if args else None, i)
            source = sources[i] if isinstance(sources[i], str) else None
            cases.append(Case(str(_plain(answers[i])), row_names, row_args, source))
        ids = columns.get("completion_ids")
        counts = [len(x) if hasattr(x, "__len__") else None for x in ids] if ids else None
        self.last = score_completions(completions, cases, self.config, counts)
        self._log(columns)
        return [b.reward for b in self.last]

    def _log(self, columns: Mapping[str, Any]) -> None:
        log_metric: Callable[[str, float], None] | None = columns.get("log_metric")
        log_extra: Callable[[str, list[Any]], None] | None = columns.get("log_extra")
        if not self.last:
            return
        for name in COMPONENTS:
            values = [float(getattr(b, name)) for b in self.last]
            if callable(log_metric):
                log_metric(f"mathif/{name}", sum(values) / len(values))
            if callable(log_extra):
                log_extra(f"mathif_{name}", values)


def make_reward(config: RewardConfig | None = None, **settings: Any) -> MathIFReward:
    """A TRL reward function with another mix: ``make_reward(hard=1.0, soft=0.0)``."""
    base = config or RewardConfig()
    return MathIFReward(replace(base, **settings) if settings else base)


#: The TRL reward function with the default mix (``RewardConfig()``).
reward = MathIFReward()


# ---- verl ---------------------------------------------------------------------------------

_CONFIGS: dict[tuple[tuple[str, Any], ...], RewardConfig] = {}


def _verl_config(kwargs: Mapping[str, Any]) -> RewardConfig:
    settings = {k: _plain(v) for k, v in kwargs.items() if k not in _VERL_EXTRAS}
    key = tuple(sorted((k, json.dumps(v, sort_keys=True, default=str))
                       for k, v in settings.items()))
    config = _CONFIGS.get(key)
    if config is None:
        config = _CONFIGS[key] = RewardConfig.of(settings)
    return config


def _verl_case(ground_truth: Any, extra_info: Any, data_source: Any) -> Case:
    info = _plain(extra_info) if isinstance(extra_info, Mapping) else {}
    names, args = row_constraints(info.get("constraint_name"), info.get("constraint_args"))
    source = info.get("source") if isinstance(info.get("source"), str) else None
    if source is None and isinstance(data_source, str):
        source = data_source
    gold = _plain(ground_truth)
    if isinstance(gold, Mapping):  # some pipelines store {"answer": ...}
        gold = gold.get("answer", gold.get("ground_truth", ""))
    return Case("" if gold is None else str(gold), names, args, source)


def compute_score(data_source: Any = None, solution_str: Any = None, ground_truth: Any = None,
                  extra_info: Any = None, **kwargs: Any) -> dict[str, Any]:
    """verl's custom reward function: ``{"score": reward, "correct": ..., "hard": ...,
    "soft": ..., "format": ..., "length_penalty": ...}``.

    ``ground_truth`` is the gold answer; ``extra_info`` carries ``constraint_name`` and
    ``constraint_args`` (a list or a JSON string) and optionally ``source``; keyword
    arguments (verl's ``reward_kwargs``) set the :class:`RewardConfig`.
    """
    config = _verl_config(kwargs)
    case = _verl_case(ground_truth, extra_info, data_source)
    return score_completions([solution_str], [case], config)[0].to_verl()


def compute_score_batch(data_sources: Sequence[Any] | None = None,
                        solution_strs: Sequence[Any] | None = None,
                        ground_truths: Sequence[Any] | None = None,
                        extra_infos: Sequence[Any] | None = None,
                        **kwargs: Any) -> list[dict[str, Any]]:
    """The same for verl's ``batch`` reward manager: one grading batch for all."""
    config = _verl_config(kwargs)
    texts = list(solution_strs or [])
    n = len(texts)
    sources = list(data_sources) if data_sources is not None else [None] * n
    golds = list(ground_truths) if ground_truths is not None else [None] * n
    infos = list(extra_infos) if extra_infos is not None else [None] * n
    if not (len(sources) == len(golds) == len(infos) == n):
        raise ValueError("data_sources, solution_strs, ground_truths and extra_infos differ "
                         "in length")
    cases = [_verl_case(g, e, s) for g, e, s in zip(golds, infos, sources, strict=True)]
    return [b.to_verl() for b in score_completions(texts, cases, config)]


# ---- data for the trainers ------------------------------------------------------------------


def training_rows(items: Sequence[Any], *, conversational: bool = True,
                  template: str = "paper") -> list[dict[str, Any]]:
    """TRL rows from MathIF items (:class:`~mathif.Item`, e.g. a built set): ``prompt`` (the
    benchmark's user message, as a chat message when ``conversational``) plus the columns
    the reward reads. ``constraint_args`` is kept as JSON text, which Arrow stores as is."""
    from mathif.prompts import build_prompt

    rows = []
    for item in items:
        text = build_prompt(item, template=template)
        rows.append({
            "prompt": [{"role": "user", "content": text}] if conversational else text,
            "answer": item.answer,
            "source": item.source,
            "constraint_name": list(item.constraint_name),
            "constraint_args": json.dumps([dict(a) for a in item.constraint_args]),
            "key": item.key,
        })
    return rows


def verl_rows(items: Sequence[Any], *, data_source: str = "mathif", template: str = "paper"
              ) -> list[dict[str, Any]]:
    """verl's RL dataset rows (``data_source``, ``prompt``, ``ability``, ``reward_model``,
    ``extra_info``) from MathIF items, for a parquet file."""
    from mathif.prompts import build_prompt

    return [{
        "data_source": data_source,
        "prompt": [{"role": "user", "content": build_prompt(item, template=template)}],
        "ability": "math",
        "reward_model": {"style": "rule", "ground_truth": item.answer},
        "extra_info": {
            "index": index,
            "key": item.key,
            "source": item.source,
            "constraint_name": list(item.constraint_name),
            "constraint_args": json.dumps([dict(a) for a in item.constraint_args]),
        },
    } for index, item in enumerate(items)]


def config_record(config: RewardConfig) -> dict[str, Any]:
    """The settings as a plain dict (for logging a run's reward definition)."""
    return asdict(config)
