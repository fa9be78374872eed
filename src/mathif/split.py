"""Which text is scored: the answer part of a model output (SPEC §3).

The official pipeline cuts the raw output with plain ``str.split`` calls, each keeping piece
``[1]``, i.e. the text between the first and the *second* occurrence of the tag (not everything
after the first), in this order:

1. if ``<think>`` occurs: ``split("<think>")[1]``;
2. if ``</think>`` occurs: ``split("</think>")[1]``;
3. if ``<answer>`` occurs: ``split("<answer>")[1]``; then if ``</answer>`` occurs:
   ``split("</answer>")[0]``.

So a second ``<think>`` anywhere (a model that reopens its thinking, or an answer that mentions
the tag) cuts the answer part there, and an output without ``</think>`` (truncated, or a model
without think tags) is scored whole. We reproduce that exactly (:func:`answer_part`).

The reasoning part is ours (the official code discards it); reports measure its length. It is
the text before the first ``</think>``, without an opening ``<think>`` tag at its start, and
empty when the output has no ``</think>``. It never loses model text that precedes the close
tag, even when the thinking was reopened (``plan <think> more </think> answer`` has reasoning
``plan <think> more``). Because the official split may stop at a second ``<think>``, the answer
part of an unusual output can be a piece of that reasoning: ``<think>a<think>b</think>c`` has
reasoning ``a<think>b`` and answer part ``a``.
"""

from __future__ import annotations

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
ANSWER_OPEN = "<answer>"
ANSWER_CLOSE = "</answer>"


def _second_piece(text: str, tag: str) -> str:
    """``text.split(tag)[1]`` without splitting the whole text (``tag`` occurs in ``text``)."""
    start = text.find(tag) + len(tag)
    end = text.find(tag, start)
    return text[start:] if end == -1 else text[start:end]


def official_answer_part(raw: str) -> str:
    """The answer part exactly as the official pipeline cuts it (see the module docstring)."""
    text = raw
    if THINK_OPEN in text:
        text = _second_piece(text, THINK_OPEN)
    if THINK_CLOSE in text:
        text = _second_piece(text, THINK_CLOSE)
    if ANSWER_OPEN in text:
        text = _second_piece(text, ANSWER_OPEN)
    if ANSWER_CLOSE in text:
        text = text[: text.find(ANSWER_CLOSE)]
    return text


def reasoning_part(raw: str) -> str:
    """The text before the first ``</think>`` without a leading ``<think>`` tag ("" if none)."""
    end = raw.find(THINK_CLOSE)
    if end == -1:
        return ""
    head = raw[:end]
    stripped = head.lstrip()
    if stripped.startswith(THINK_OPEN):
        return stripped[len(THINK_OPEN) :]
    return head


def split_output(raw: str, reasoning: str | None = None) -> tuple[str, str]:
    """Return ``(reasoning, answer_part)`` of a model output.

    ``reasoning`` is the separate reasoning field that OpenAI-compatible servers return
    (``reasoning_content`` / ``reasoning``). When it is given (not ``None``), ``raw`` is the
    message content and is the answer part as is, because the server already took the thinking
    out.
    """
    if reasoning is not None:
        return reasoning, raw
    return reasoning_part(raw), official_answer_part(raw)


def answer_part(raw: str, reasoning: str | None = None) -> str:
    """The text that constraints and correctness are scored on."""
    if reasoning is not None:
        return raw
    return official_answer_part(raw)
