"""Responses made up for the harness tests: each kind of text the verdicts tell apart.

Random-weight models answer nonsense (every verdict false); these responses give true and
false verdicts of every kind, so that two scorings that disagree anywhere are caught.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from mathif.data import Item
from mathif.responses import Response


def crafted(item: Item, n: int, *, separate_reasoning: bool = True) -> Response:
    """Response number ``n`` (its kind cycles) to ``item``."""
    gold = item.answer
    kinds = [
        f"<think>Let me see.</think>The answer is \\boxed{{{gold}}}.",
        f"\\boxed{{{gold}}}",  # with a separate reasoning, when the harness keeps one
        "",
        f"<think>x</think>THE ANSWER IS \\BOXED{{{gold}}}. IS THERE ANYTHING ELSE I CAN HELP "
        "WITH?",
        "<think>unfinished reasoning, no answer yet \\boxed{1}",
        f"<think>a</think>b</think>c \\boxed{{{gold}}}",
        f"<answer>\\boxed{{{gold}}}</answer> trailing text, with a comma",
        f'"{item.question} so the answer is \\boxed{{-12345}}"',
        # the official grader accepts 100 times the gold (a percentage); mathif's does not
        f"The answer is \\boxed{{{gold}00}}.",
    ]
    text = kinds[n % len(kinds)]
    if n % len(kinds) == 1 and separate_reasoning:
        return Response(text, reasoning="I reasoned at length.")
    return Response(text)


def crafted_table(items: Iterable[Item], *, separate_reasoning: bool = True
                  ) -> dict[str, Response]:
    """One crafted response per item, by key (the kinds cycle along the items)."""
    return {item.key: crafted(item, n, separate_reasoning=separate_reasoning)
            for n, item in enumerate(items)}


def assert_varied(verdicts: Mapping[str, tuple[float, float, float]]) -> None:
    """The verdicts (hacc, sacc, correct) include both values of each: a comparison of two
    scorings over them can fail."""
    for column, name in enumerate(("hacc", "sacc", "correct")):
        values = {v[column] for v in verdicts.values()}
        assert len(values) >= 2, f"{name} is {values} for every response: craft other texts"
