"""MathIF inside the harnesses people already use: lm-evaluation-harness and Inspect.

Both tasks are thin: items come from :func:`mathif.load`, prompts from
:func:`mathif.prompts.build_prompt`, and every verdict from :func:`~mathif.integrations.
verdicts.score_response`, which is mathif's own scoring (the SPEC §3 split, the 15 checkers,
the grader). A number is therefore the same whichever door a user comes in by; runs made in a
harness come back to mathif through :mod:`mathif.harness_logs` (``mathif score LOG``).

- :mod:`mathif.integrations.lm_eval`: task configs for ``lm_eval --include_path``;
- :mod:`mathif.integrations.inspect`: the ``mathif/mathif`` Inspect task and its scorer.

Importing this package imports no harness.
"""
