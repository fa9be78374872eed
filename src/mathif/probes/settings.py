"""The probes' settings, declared once (flags of ``mathif eval``, checks, the resume key).

One probe per run: ``force_continue`` (s1-style budget forcing: each time the model ends its
reasoning, the marker is replaced by ``continue_text``, K times), ``remind_constraints`` (at the
first end of the reasoning, the marker is replaced by ``remind_template`` holding the item's
constraints) or ``think_budget`` (at most N reasoning tokens, then the marker and
``budget_bridge`` close the reasoning and the model answers). ``force_continue`` and
``think_budget`` take several values for a sweep (one run folder per value).

These strings decide what the model reads, so a run's settings (stored in its manifest and
compared on resume) hold the probe and every string it inserts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from mathif.options import FLAG, Kind, check_fields, option

KINDS = ("force_continue", "remind_constraints", "think_budget")
DEFAULT_MARKER = "</think>"
DEFAULT_CONTINUE = "Wait"
CONSTRAINTS_FIELD = "{constraints}"
DEFAULT_REMINDER = "Wait, " + CONSTRAINTS_FIELD + "\n"
DEFAULT_BRIDGE = "\n\n"


def _int_values(minimum: int) -> Kind:
    """One integer, or several separated by commas (a sweep)."""

    def convert(text: str) -> int | tuple[int, ...]:
        values = tuple(int(part) for part in text.split(","))
        return values[0] if len(values) == 1 else values

    def valid(value: Any) -> bool:
        values = value if isinstance(value, tuple) else (value,)
        return (bool(values) and len(set(values)) == len(values)
                and all(isinstance(v, int) and not isinstance(v, bool) and v >= minimum
                        for v in values))

    expect = (f"an integer >= {minimum} or distinct ones separated by commas, e.g. "
              f"{minimum},{minimum + 2},{minimum + 4}")
    return Kind(expect, convert, valid)


def unescape(text: str) -> str:
    """A flag's text with ``\\n``, ``\\t`` and ``\\\\`` read as a newline, a tab and a
    backslash (shells make real newlines awkward to pass)."""
    out = []
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in "nt\\":
            out.append({"n": "\n", "t": "\t", "\\": "\\"}[text[i + 1]])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


COUNTS = _int_values(0)
BUDGETS = _int_values(1)
ANY_TEXT = Kind("a text (\\n: a newline)", unescape, lambda v: isinstance(v, str))
NON_EMPTY = Kind("a non-empty text (\\n: a newline)", unescape,
                 lambda v: isinstance(v, str) and v != "")


@dataclass(frozen=True)
class ProbeSettings:
    """What a probe inserts into the model's reasoning, and when (see the module docstring)."""

    force_continue: int | tuple[int, ...] | None = option(
        kind=COUNTS, metavar="K[,K...]",
        help="each time the model ends its reasoning, replace the marker with --continue-text "
        "and let it go on, K times; several values run a sweep (one run folder per value)")
    remind_constraints: bool = option(
        False, kind=FLAG,
        help="when the model first ends its reasoning, replace the marker with "
        "--remind-template (the item's constraints) and let it go on")
    think_budget: int | tuple[int, ...] | None = option(
        kind=BUDGETS, metavar="N[,N...]",
        help="at most N reasoning tokens; then the marker and --budget-bridge close the "
        "reasoning and the model answers (--max-tokens bounds the whole); several values run a "
        "sweep")
    think_marker: str = option(
        DEFAULT_MARKER, kind=NON_EMPTY, metavar="TEXT",
        help=f"the end-of-reasoning marker the probes intercept (default {DEFAULT_MARKER})")
    continue_text: str = option(
        DEFAULT_CONTINUE, kind=NON_EMPTY, metavar="TEXT",
        help=f"--force-continue: what replaces the marker (default {DEFAULT_CONTINUE!r})")
    remind_template: str = option(
        DEFAULT_REMINDER, kind=NON_EMPTY, metavar="TEXT",
        help="--remind-constraints: what replaces the marker; {constraints} becomes the item's "
        f"constraint text (default {DEFAULT_REMINDER!r})")
    budget_bridge: str = option(
        DEFAULT_BRIDGE, kind=ANY_TEXT, metavar="TEXT",
        help="--think-budget: text after the marker when the budget closes the reasoning (it "
        f"is part of the scored answer; default {DEFAULT_BRIDGE!r})")

    def __post_init__(self) -> None:
        check_fields(self)
        chosen = [k for k in KINDS if self._given(k)]
        if len(chosen) > 1:
            shown = ", ".join("--" + k.replace("_", "-") for k in chosen)
            raise ValueError(f"one probe per run: {shown} were given together")
        if CONSTRAINTS_FIELD not in self.remind_template:
            raise ValueError(f"remind_template must contain {CONSTRAINTS_FIELD} (where the "
                             "item's constraints go)")

    def _given(self, kind: str) -> bool:
        value = getattr(self, kind)
        return value is not None and value is not False

    @property
    def kind(self) -> str | None:
        """The probe of this run, or ``None`` (the plain benchmark)."""
        return next((k for k in KINDS if self._given(k)), None)

    @property
    def active(self) -> bool:
        return self.kind is not None

    @property
    def value(self) -> int | tuple[int, ...] | None:
        kind = self.kind
        if kind is None or kind == "remind_constraints":
            return None
        result: int | tuple[int, ...] | None = getattr(self, kind)
        return result

    @property
    def is_sweep(self) -> bool:
        return isinstance(self.value, tuple)

    def values(self) -> list[int]:
        """The values of a sweep, in the order given (one value for a single run)."""
        value = self.value
        if value is None:
            return []
        return list(value) if isinstance(value, tuple) else [value]

    def at(self, value: int) -> ProbeSettings:
        """These settings for one value of the sweep."""
        kind = self.kind
        if kind not in ("force_continue", "think_budget"):
            raise ValueError("only --force-continue and --think-budget take values")
        if kind == "force_continue":
            return replace(self, force_continue=value)
        return replace(self, think_budget=value)

    def folder_name(self) -> str:
        """The name of this value's run folder in a sweep, e.g. ``force-continue-4``."""
        kind = self.kind
        if kind is None or self.is_sweep:
            raise ValueError("a folder name is for one value of a probe")
        suffix = f"-{self.value}" if self.value is not None else ""
        return kind.replace("_", "-") + suffix

    def reminder(self, constraint_text: str) -> str:
        return self.remind_template.replace(CONSTRAINTS_FIELD, constraint_text)

    def to_settings(self) -> dict[str, Any]:
        """The probe's part of the run settings: what it is and every string it inserts."""
        kind = self.kind
        if kind is None:
            return {}
        value = self.value
        out: dict[str, Any] = {"kind": kind,
                               "value": list(value) if isinstance(value, tuple) else value,
                               "marker": self.think_marker}
        if kind == "force_continue":
            out["continue_text"] = self.continue_text
        elif kind == "remind_constraints":
            out["remind_template"] = self.remind_template
        else:
            out["budget_bridge"] = self.budget_bridge
        return out

    @classmethod
    def from_settings(cls, record: Any) -> ProbeSettings | None:
        """The probe of a run from its stored settings (``None``: no probe, or unreadable)."""
        if not isinstance(record, dict) or record.get("kind") not in KINDS:
            return None
        kind, value = record["kind"], record.get("value")
        try:
            fields: dict[str, Any] = {
                "think_marker": record.get("marker", DEFAULT_MARKER),
                "continue_text": record.get("continue_text", DEFAULT_CONTINUE),
                "remind_template": record.get("remind_template", DEFAULT_REMINDER),
                "budget_bridge": record.get("budget_bridge", DEFAULT_BRIDGE),
            }
            if kind == "remind_constraints":
                fields["remind_constraints"] = True
            else:
                fields[kind] = tuple(value) if isinstance(value, list) else value
            return cls(**fields)
        except (TypeError, ValueError):
            return None
