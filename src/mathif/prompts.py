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
TEMPLATES = ("paper", "spaced")


def build_prompt(item: Item, *, template: str = "paper", constraints: bool = True) -> str:
    """The user-message text for ``item``.

    ``template="paper"`` reproduces the official concatenation byte for byte;
    ``template="spaced"`` puts blank lines between the parts (an explicit, non-paper option).
    ``constraints=False`` gives the "w/o constraint" control prompt.
    """
    if template not in TEMPLATES:
        raise ValueError(f"unknown prompt template {template!r}; choose from {TEMPLATES}")
    constraint_text = " ".join(item.constraint_desc) if constraints else ""
    if template == "paper":
        return item.question + BOX_INSTRUCTION + constraint_text
    parts = [item.question.strip(), BOX_INSTRUCTION]
    if constraint_text.strip():
        parts.append(constraint_text.strip())
    return "\n\n".join(parts)
