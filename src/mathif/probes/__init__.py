"""Probes of what happens while a model reasons: multi-phase generation above the backends.

A probe lets the model write until it ends its reasoning (a stop at the marker, ``</think>``
by default), edits the transcript there (replaces the marker with ``Wait``, with a reminder of
the constraints, or closes a reasoning that ran out of budget) and lets the model continue
the same assistant turn. The scored output is the whole transcript, split as SPEC §3 says.

- :mod:`mathif.probes.settings` — the probes and their strings (``mathif eval`` flags);
- :mod:`mathif.probes.policy` — what each probe does at each step (pure functions);
- :mod:`mathif.probes.steps` — the step log of a run folder (``phases.jsonl``);
- :mod:`mathif.probes.driver` — runs the phases over a
  :class:`~mathif.generation.protocol.ContinuingBackend`, all requests of a phase in one call,
  resumably, and shares identical requests between the runs of a sweep;
- :mod:`mathif.probes.sweep` — several values of a probe in one command;
- :mod:`mathif.probes.analysis` — the paper's figures over runs (sweeps, reminders).

Only the settings are imported here, so that :mod:`mathif.config` can use them.
"""

from __future__ import annotations

from mathif.probes.settings import KINDS, ProbeSettings

__all__ = ["KINDS", "ProbeSettings"]
