"""Affix constraints: what the answer starts and ends with.

All three compare after ``strip()`` and case-fold with ``lower()``, as the reference does; the
end check also drops surrounding double quotes first, so a quoted answer that ends with the
phrase inside the quotes passes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .registry import Checker, Param, non_blank, register

_REPEAT_DESCRIPTION = (
    "First repeat the request word for word without change, then give your answer "
    "(1. do not say any words or characters before repeating the request; "
    "2. the request you need to repeat does not include this sentence)"
)


def _check_repeat(text: str, args: Mapping[str, Any]) -> bool:
    return text.strip().lower().startswith(args["prompt_to_repeat"].strip().lower())


REPEAT_PROMPT = register(
    Checker(
        id="combination:repeat_prompt",
        category="affix",
        params=(Param("prompt_to_repeat", str, non_blank),),
        describe=lambda _args: _REPEAT_DESCRIPTION,
        check=_check_repeat,
    )
)


def _describe_end(args: Mapping[str, Any]) -> str:
    return (
        f'Finish your response with this exact phrase "{args["end_phrase"].strip()}". '
        "No other words should follow this phrase."
    )


def _check_end(text: str, args: Mapping[str, Any]) -> bool:
    return text.strip().strip('"').lower().endswith(args["end_phrase"].strip().lower())


END_CHECKER = register(
    Checker(
        id="startend:end_checker",
        category="affix",
        params=(Param("end_phrase", str, non_blank),),
        describe=_describe_end,
        check=_check_end,
    )
)


def _check_quotation(text: str, _args: Mapping[str, Any]) -> bool:
    stripped = text.strip()
    return len(stripped) > 1 and stripped[0] == '"' and stripped[-1] == '"'


QUOTATION = register(
    Checker(
        id="startend:quotation",
        category="affix",
        params=(),
        describe=lambda _args: "Wrap your entire response with double quotation marks. ",
        check=_check_quotation,
    )
)
