import pytest

from mathif.split import answer_part, split_output


@pytest.mark.parametrize(
    ("raw", "reasoning", "answer"),
    [
        ("<think>plan</think>The answer is 4.", "plan", "The answer is 4."),
        ("plan</think>The answer is 4.", "plan", "The answer is 4."),  # R1 style: no <think>
        ("just an answer", "", "just an answer"),  # no think tags: the whole output
        ("<think>truncated reasoning", "", "truncated reasoning"),  # truncated: after <think>
        ("a</think>b</think>c", "a", "b"),  # split("</think>")[1]: up to the next </think>
        ("<think>x<think>y</think>z", "x<think>y", "z"),  # only the first <think> is cut
        ("t</think>pre<answer>42</answer>post", "t", "42"),
        ("t</think>pre<answer>42", "t", "42"),
        ("t</think>42</answer>post", "t", "42"),
        ("t</think>", "t", ""),
    ],
)
def test_split_follows_the_official_order(raw: str, reasoning: str, answer: str) -> None:
    assert split_output(raw) == (reasoning, answer)
    assert answer_part(raw) == answer


def test_separate_reasoning_field_keeps_content_whole() -> None:
    assert split_output("final </think> text", reasoning="thought") == (
        "thought",
        "final </think> text",
    )
    assert split_output("content", reasoning="") == ("", "content")
