"""What each probe does at each step: pure functions of the steps so far.

Every transcript runs the same shape of phases, so that the phases of different probes (and of
the values of a sweep) line up and can be shared:

1. reasoning steps: the model writes until it ends its reasoning (a stop at the marker, kept
   in the text) or runs out of tokens; the probe then edits the transcript:
   - ``force_continue`` K: the first K ends are replaced by ``continue_text``; the next end
     is kept;
   - ``remind_constraints``: the first end is replaced by the reminder (the item's
     constraints); the next end is kept. An item without constraints (the control run) gets
     no reminder;
   - ``think_budget`` N: the first step may write at most N tokens; an end is kept; a step
     that used the whole budget is closed with the marker and ``budget_bridge``;
2. once the reasoning is closed, one answer step writes the rest (no stop).

A transcript is over when its answer step is done, when the model stops without ending its
reasoning (end of turn), or when the whole run's ``--max-tokens`` is spent: ``max_tokens``
bounds the tokens the model generates over all steps (inserted text is not generated). The
reasoning tokens of a transcript are those of its reasoning steps, the marker that closed it
included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mathif.probes.settings import ProbeSettings
from mathif.probes.steps import Step


@dataclass(frozen=True)
class Plan:
    """The next request of a transcript: stop strings and token limit."""

    step: int
    stop: tuple[str, ...]
    max_tokens: int
    answer: bool  # the answer step (no stop)


@dataclass(frozen=True)
class Edit:
    """What the probe does with a finished step."""

    dropped: str
    inserted: str
    closed: bool
    final: bool


def used_tokens(steps: Sequence[Step]) -> int:
    return sum(s.completion_tokens or 0 for s in steps)


def is_closed(steps: Sequence[Step]) -> bool:
    return any(s.closed for s in steps)


def plan(probe: ProbeSettings, steps: Sequence[Step], max_tokens: int) -> Plan | None:
    """The next step of a transcript, or ``None`` when it is complete."""
    if steps and steps[-1].final:
        return None
    left = max_tokens - used_tokens(steps)
    if left <= 0:
        return None
    index = len(steps)
    if is_closed(steps):
        return Plan(index, (), left, answer=True)
    limit = left
    if probe.kind == "think_budget" and index == 0:
        assert isinstance(probe.value, int)
        limit = min(left, probe.value)
    return Plan(index, (probe.think_marker,), limit, answer=False)


def edit(probe: ProbeSettings, steps: Sequence[Step], planned: Plan, text: str,
         stop_reason: str | None, finish_reason: str | None, tokens: int | None,
         max_tokens: int, constraint_text: str) -> Edit:
    """The edit after a step that produced ``text`` (``steps`` are the ones before it)."""
    if planned.answer:
        return Edit("", "", closed=False, final=True)
    marker = probe.think_marker
    spent = used_tokens(steps) + (tokens or 0)
    out_of_tokens = spent >= max_tokens
    if stop_reason == marker and text.endswith(marker):
        kind = probe.kind
        if kind == "force_continue":
            assert isinstance(probe.value, int)
            done = sum(1 for s in steps if s.dropped == marker)
            if done < probe.value:
                return Edit(marker, probe.continue_text, closed=False, final=out_of_tokens)
        elif kind == "remind_constraints":
            reminded = any(s.dropped == marker for s in steps)
            if not reminded and constraint_text.strip():
                return Edit(marker, probe.reminder(constraint_text), closed=False,
                            final=out_of_tokens)
        return Edit("", "", closed=True, final=out_of_tokens)
    budget_hit = (probe.kind == "think_budget" and planned.step == 0 and tokens is not None
                  and tokens >= planned.max_tokens and finish_reason == "length")
    if budget_hit and not out_of_tokens:
        return Edit("", marker + probe.budget_bridge, closed=True, final=False)
    # The model ended its turn without ending its reasoning, or the tokens are spent.
    return Edit("", "", closed=False, final=True)


def transcript_text(steps: Sequence[Step]) -> str:
    return "".join(s.kept_text + s.inserted for s in steps)


def reasoning_tokens(steps: Sequence[Step]) -> int | None:
    """Generated tokens up to the end of the reasoning (all of them when it never ended)."""
    total = 0
    for s in steps:
        if s.completion_tokens is None:
            return None
        total += s.completion_tokens
        if s.closed:
            break
    return total
