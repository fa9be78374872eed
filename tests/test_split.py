import random

import pytest

from mathif.split import answer_part, official_answer_part, reasoning_part, split_output
from tests.official import official

# (raw output, our reasoning part, the official answer part). The answer parts were checked
# against the official split in the pinned reference environment (tests/official).
CASES = [
    ("<think>plan</think>The answer is 4.", "plan", "The answer is 4."),
    ("plan</think>The answer is 4.", "plan", "The answer is 4."),  # R1 style: no <think>
    ("just an answer", "", "just an answer"),  # no think tags: the whole output
    ("<think>truncated reasoning", "", "truncated reasoning"),  # truncated: after <think>
    ("a</think>b</think>c", "a", "b"),  # split("</think>")[1]: up to the next </think>
    # a second <think> cuts step 1: "x" has no </think>, so it is the answer part
    ("<think>x<think>y</think>z", "x<think>y", "x"),
    # a model that reopens its thinking: the answer part ends at the second <think>
    ("<think>a</think>b<think>c</think>d", "a", "b"),
    # an answer that mentions the tag is cut there
    ("<think>r</think>Use a <think> tag. The answer is 5.", "r", "Use a "),
    # R1 style with a reopened thought: step 1 keeps the text after the first <think>
    ("plan <think> more </think> ans", "plan <think> more ", " ans"),
    ("\n<think>plan</think>ans", "plan", "ans"),
    ("junk<think>plan</think>ans", "junk<think>plan", "ans"),
    ("a</think>b<think>c</think>d", "a", "d"),
    ("<think><think></think>x", "<think>", ""),
    ("t</think>pre<answer>42</answer>post", "t", "42"),
    ("t</think>pre<answer>42", "t", "42"),
    ("t</think>42</answer>post", "t", "42"),
    ("t</think>a<answer>1<answer>2</answer>", "t", "1"),  # split("<answer>")[1]
    ("t</think><answer>1</answer>2</answer>", "t", "1"),
    ("t</think>", "t", ""),
    ("<think>", "", ""),
    ("", "", ""),
]


@pytest.mark.parametrize(("raw", "reasoning", "answer"), CASES)
def test_split_follows_the_official_order(raw: str, reasoning: str, answer: str) -> None:
    assert split_output(raw) == (reasoning, answer)
    assert answer_part(raw) == answer
    assert reasoning_part(raw) == reasoning


def test_separate_reasoning_field_keeps_content_whole() -> None:
    assert split_output("final </think> text", reasoning="thought") == (
        "thought",
        "final </think> text",
    )
    assert split_output("content", reasoning="") == ("", "content")
    assert answer_part("a<think>b", reasoning="r") == "a<think>b"


def test_answer_part_is_plain_str_split() -> None:
    """The definition itself, on random tag soup (no oracle needed)."""
    rng = random.Random(3)
    atoms = ["<think>", "</think>", "<answer>", "</answer>", "a", "b", " ", "<", ">", "think"]
    for _ in range(5000):
        raw = "".join(rng.choice(atoms) for _ in range(rng.randint(0, 12)))
        text = raw
        for tag in ("<think>", "</think>", "<answer>"):
            if tag in text:
                text = text.split(tag)[1]
        if "</answer>" in text:
            text = text.split("</answer>")[0]
        assert official_answer_part(raw) == text, raw


def test_split_equals_the_official_split_live() -> None:
    """The golden cases and random tag soup through the official split (skips without it)."""
    o = official()
    rng = random.Random(8)
    atoms = ["<think>", "</think>", "<answer>", "</answer>", "x", "\n", " ", "<think", "think>"]
    raws = [raw for raw, _, _ in CASES]
    raws += ["".join(rng.choice(atoms) for _ in range(rng.randint(0, 14))) for _ in range(2000)]
    assert o.split(raws) == [answer_part(raw) for raw in raws]
