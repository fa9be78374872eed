"""The user message sent to the model (SPEC §2).

The paper's template concatenates the question, the instruction to box the answer and the
constraint descriptions with no separator at all; that exact text is the default so that
results are comparable with the paper. Chat-template rendering happens in generation, which
owns the tokenizer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mathif.data import Item

BOX_INSTRUCTION = "Let's think step by step and output the final answer within \\boxed{}."
# Where the constraints go, for the sensitivity probes: after the question (paper, spaced),
# before it (constraints-first), or in a system message (system).
TEMPLATES = ("paper", "spaced", "constraints-first", "system")


def build_prompt(item: Item, *, template: str = "paper", constraints: bool = True) -> str:
    """The user-message text for ``item``.

    ``template="paper"`` reproduces the official concatenation byte for byte;
    ``template="spaced"`` puts blank lines between the parts (an explicit, non-paper option);
    ``"constraints-first"`` puts the constraints first, then a blank line, the question and
    the box instruction; ``"system"`` leaves them out of the user message, which is then the
    paper's control prompt (they go to the system message: :func:`system_text`).
    ``constraints=False`` gives the "w/o constraint" control prompt.
    """
    if template not in TEMPLATES:
        raise ValueError(f"unknown prompt template {template!r}; choose from {TEMPLATES}")
    constraint_text = " ".join(item.constraint_desc) if constraints else ""
    if template == "paper":
        return item.question + BOX_INSTRUCTION + constraint_text
    if template == "system":
        return item.question + BOX_INSTRUCTION
    parts = [item.question.strip(), BOX_INSTRUCTION]
    if template == "constraints-first":
        parts = [constraint_text.strip(), *parts] if constraint_text.strip() else parts
        return "\n\n".join(parts)
    if constraint_text.strip():
        parts.append(constraint_text.strip())
    return "\n\n".join(parts)


def system_text(item: Item, *, template: str = "paper", constraints: bool = True
                ) -> str | None:
    """What the template puts in a system message: the constraints for ``"system"``
    (``None`` for the other templates, and without constraints)."""
    if template != "system" or not constraints:
        return None
    text = " ".join(item.constraint_desc).strip()
    return text or None
