import pytest

from mathif.metrics import aggregate, relative_diff
from mathif.scoring import Response, Verdict, follow_constraints, judge


def _item(dataset, names: tuple[str, ...]):
    return next(i for i in dataset if i.constraint_name == names)


def test_empty_answer_part_fails_every_constraint(dataset) -> None:
    item = _item(dataset, ("punctuation:no_comma",))
    assert follow_constraints(item, "no commas here") == [True]
    assert follow_constraints(item, "   \n") == [False]  # would pass no_comma, but is empty
    verdict = judge(item, "<think>reasoning, with commas</think>\n")
    assert verdict.follow == (False,) and not verdict.hard and verdict.soft == 0.0


def test_constraints_are_checked_on_the_answer_part_only(dataset) -> None:
    item = _item(dataset, ("punctuation:no_comma",))
    verdict = judge(item, "<think>a, b, c</think>The answer is 4")
    assert verdict.follow == (True,)
    assert verdict.reasoning == "a, b, c" and verdict.answer == "The answer is 4"
    separate = judge(item, Response("a, b", reasoning="no commas"))
    assert separate.follow == (False,)


def test_hard_and_soft(dataset) -> None:
    item = next(
        i for i in dataset
        if i.constraint_name[:2] == ("punctuation:no_comma", "startend:quotation")
        or i.constraint_name[-2:] == ("punctuation:no_comma", "startend:quotation")
    ) if any(
        set(i.constraint_name) >= {"punctuation:no_comma", "startend:quotation"}
        for i in dataset
    ) else None
    if item is None:
        pytest.skip("no item with both no_comma and quotation")
    verdict = judge(item, '"a, b"')
    index = item.constraint_name.index("punctuation:no_comma")
    assert verdict.follow[index] is False
    assert verdict.soft == pytest.approx(sum(verdict.follow) / len(verdict.follow))
    assert verdict.hard is False


def test_generation_errors_are_not_scored_as_empty_answers(dataset) -> None:
    item = dataset[0]
    verdict = judge(item, Response("", error="HTTP 500 after 5 retries"))
    assert not verdict.scored and verdict.follow == ()
    metrics = aggregate([(item, verdict)])
    assert metrics["n_errors"] == 1 and metrics["n_items"] == 0
    assert metrics["items_without_response"] == 1
    assert metrics["overall"]["hacc"] is None


def _v(key: str, sample: int, follow: tuple[bool, ...], correct: bool | None = None) -> Verdict:
    return Verdict(key, sample, follow, all(follow), sum(follow) / len(follow), "x",
                   correct=correct, grader=None if correct is None else "mathif",
                   grade_reason=None)


def test_metrics_by_hand(dataset) -> None:
    single = next(i for i in dataset if i.n_constraints == 1)
    double = next(i for i in dataset if i.n_constraints == 2 and i.source != single.source)
    pairs = [
        (single, _v(single.key, 0, (True,), correct=True)),
        (single, _v(single.key, 1, (False,), correct=False)),  # two samples: averaged
        (double, _v(double.key, 0, (True, False), correct=True)),
    ]
    m = aggregate(pairs)
    # item values: single hard 0.5 soft 0.5; double hard 0 soft 0.5
    assert m["overall"]["hacc"] == 25.0
    assert m["overall"]["sacc"] == 50.0
    assert m["overall"]["correct"] == 75.0
    assert m["overall"]["any_sample_hacc"] == 50.0
    assert m["by_count"]["single"]["hacc"] == 50.0
    assert m["by_count"]["double"]["sacc"] == 50.0
    assert m["by_source"][single.source]["n_items"] == 1
    first = double.constraint_name[0]
    assert m["by_constraint"][first]["n"] >= 1
    q = m["quadrants"]
    assert q["correct_followed"] == 25.0  # single: 0.5, double: 0 -> 0.25
    assert q["wrong_not_followed"] == 25.0
    assert q["correct_not_followed"] == 50.0
    assert sum(q.values()) == pytest.approx(100.0)


def test_relative_diff_is_the_papers_diff_column() -> None:
    assert relative_diff(58.57, 68.10) == pytest.approx(-13.99, abs=0.01)  # Qwen3-4B, Table 3
    assert relative_diff(50.0, None) is None
    assert relative_diff(50.0, 0.0) is None


def test_control_correctness_and_diff(dataset) -> None:
    item = dataset[0]
    main = [(item, _v(item.key, 0, (True,) * item.n_constraints, correct=False))]
    control = [(item, _v(item.key, 0, (True,) * item.n_constraints, correct=True))]
    m = aggregate(main, control=control)
    assert m["overall"]["correct_without_constraints"] == 100.0
    assert m["overall"]["diff_percent"] == -100.0
