"""The continuation primitive, shared by the backends that can continue an assistant turn.

A continued request is the chat rendered for generation (``add_generation_prompt=True``, as
for the plain benchmark) followed by the assistant text already written
(:attr:`~mathif.generation.protocol.Request.prefix`): exactly the token stream the model would
have seen had it written that text itself, with no end-of-turn in between. Stop strings end a
generation and stay at the end of its text, so a probe sees where the model ended its
reasoning.

Local engines (vllm, hf) append token ids: the ids a piece was generated as when they are
known, else the piece's text tokenised alone (inserted text). Servers get text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mathif.generation.protocol import BackendError, Piece, Request

# How many trailing tokens may spell a stop string (a marker is usually one added token).
MAX_STOP_TOKENS = 8


def prefix_text(prefix: Sequence[Piece]) -> str:
    return "".join(piece.text for piece in prefix)


def prefix_ids(tokenizer: Any, prefix: Sequence[Piece]) -> list[int]:
    """Token ids of the assistant text already written, piece by piece."""
    out: list[int] = []
    for piece in prefix:
        if piece.ids is not None:
            out.extend(piece.ids)
        elif piece.text:
            out.extend(int(i) for i in tokenizer(piece.text, add_special_tokens=False)
                       ["input_ids"])
    return out


def continued_ids(tokenizer: Any, prompt_ids: Sequence[int], request: Request) -> list[int]:
    """The ids a request continues from: its rendered chat, then its prefix."""
    if not request.prefix:
        return list(prompt_ids)
    return [*prompt_ids, *prefix_ids(tokenizer, request.prefix)]


def first_stop(text: str, stops: Sequence[str]) -> tuple[int, str] | None:
    """``(end, stop)``: where the earliest stop string in ``text`` ends, and which it is."""
    best: tuple[int, str] | None = None
    for stop in stops:
        if not stop:
            continue
        at = text.find(stop)
        if at >= 0 and (best is None or at + len(stop) < best[0]):
            best = (at + len(stop), stop)
    return best


def stop_token_count(tokenizer: Any, ids: Sequence[int], stop: str) -> int | None:
    """How many trailing ``ids`` spell exactly ``stop`` (``None``: not on token boundaries)."""
    for n in range(1, min(MAX_STOP_TOKENS, len(ids)) + 1):
        tail = str(tokenizer.decode(list(ids[-n:]), skip_special_tokens=False))
        if tail == stop:
            return n
        if len(tail) > len(stop) + 16:
            break
    return None


def cut_tokens(tokenizer: Any, ids: Sequence[int], stops: Sequence[str],
               *, skip_special_tokens: bool = True) -> tuple[list[int], str, str | None]:
    """Generated ids cut right after the first stop string: ``(ids, text, stop)``.

    The text is cut at the end of the stop string; the ids keep every token up to the one
    that completes it (when a token runs past the stop string, ids and text differ by that
    overhang, and :func:`exact_ids` says so).
    """
    text = str(tokenizer.decode(list(ids), skip_special_tokens=skip_special_tokens))
    hit = first_stop(text, stops)
    if hit is None:
        return list(ids), text, None
    end, stop = hit
    lo, hi = 1, len(ids)
    while lo < hi:  # the fewest tokens whose text holds the stop string
        mid = (lo + hi) // 2
        part = str(tokenizer.decode(list(ids[:mid]), skip_special_tokens=skip_special_tokens))
        if first_stop(part, [stop]) is not None:
            hi = mid
        else:
            lo = mid + 1
    return list(ids[:lo]), text[:end], stop


def exact_ids(tokenizer: Any, ids: Sequence[int], text: str,
              *, skip_special_tokens: bool = True) -> tuple[int, ...] | None:
    """``ids`` when they decode to exactly ``text`` (so the text can be continued from them),
    else ``None`` (the text is then re-tokenised)."""
    decoded = str(tokenizer.decode(list(ids), skip_special_tokens=skip_special_tokens))
    return tuple(int(i) for i in ids) if decoded == text else None


def check_marker(tokenizer: Any, marker: str, model: str) -> None:
    """Refuse a model whose tokenizer and chat template do not know ``marker``.

    The probes intercept the end of the reasoning: a model that never writes the marker (no
    think tags) would run the plain benchmark under a probe's name.
    """
    if not marker:
        raise BackendError("the end-of-reasoning marker is empty")
    vocab: dict[str, int] = {}
    get_vocab = getattr(tokenizer, "get_vocab", None)
    if callable(get_vocab):
        vocab = dict(get_vocab())
    template = getattr(tokenizer, "chat_template", None)
    if isinstance(template, dict):
        template = "\n".join(str(v) for v in template.values())
    added = [str(t) for t in getattr(tokenizer, "added_tokens_decoder", {}).values()]
    if marker in vocab or marker in added or (isinstance(template, str) and marker in template):
        return
    raise BackendError(
        f"{model} does not think with {marker!r}: neither its tokenizer nor its chat "
        f"template knows that marker, so a probe would never see the end of its reasoning. "
        "The probes need a reasoning model with think tags; give --think-marker if it uses "
        "another marker")
