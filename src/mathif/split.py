"""Which text is scored: the answer part of a model output (SPEC §3).

The official pipeline cuts the raw output with plain string splits, in this order:
after the first ``<think>``; then the text between the first ``</think>`` and the next one;
then after ``<answer>`` and before ``</answer>``. An output without ``</think>`` (truncated,
or a model without think tags) is scored whole. We reproduce that exactly, and also return the
reasoning so that reports can measure it.
"""

from __future__ import annotations

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
ANSWER_OPEN = "<answer>"
ANSWER_CLOSE = "</answer>"


def split_output(raw: str, reasoning: str | None = None) -> tuple[str, str]:
    """Return ``(reasoning, answer_part)`` of a model output.

    ``reasoning`` is the separate reasoning field that OpenAI-compatible servers return
    (``reasoning_content`` / ``reasoning``). When it is given (not ``None``), ``raw`` is the
    message content and is the answer part as is, because the server already took the thinking
    out.
    """
    if reasoning is not None:
        return reasoning, raw
    text = raw
    if THINK_OPEN in text:
        text = text.split(THINK_OPEN, 1)[1]
    thought = ""
    if THINK_CLOSE in text:
        pieces = text.split(THINK_CLOSE)
        thought, text = pieces[0], pieces[1]
    if ANSWER_OPEN in text:
        text = text.split(ANSWER_OPEN)[1]
    if ANSWER_CLOSE in text:
        text = text.split(ANSWER_CLOSE)[0]
    return thought, text


def answer_part(raw: str, reasoning: str | None = None) -> str:
    """The text that constraints and correctness are scored on."""
    return split_output(raw, reasoning)[1]
