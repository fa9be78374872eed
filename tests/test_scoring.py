import pytest

from mathif.grading import Grade
from mathif.metrics import aggregate, relative_diff
from mathif.responses import Response
from mathif.samples import Sample, Verdict
from mathif.scoring import follow_constraints, judge


def _item(dataset, names: tuple[str, ...]):
    return next(i for i in dataset if i.constraint_name == names)


def test_empty_answer_part_fails_every_constraint(dataset) -> None:
    item = _item(dataset, ("punctuation:no_comma",))
    assert follow_constraints(item, "no commas here") == [True]
    assert follow_constraints(item, "   \n") == [False]  # would pass no_comma, but is empty
    verdict = judge(item, "<think>reasoning, with commas</think>\n")
    assert verdict is not None
    assert verdict.follow == (False,) and not verdict.hard and verdict.soft == 0.0


def test_constraints_are_checked_on_the_answer_part_only(dataset) -> None:
    item = _item(dataset, ("punctuation:no_comma",))
    verdict = judge(item, "<think>a, b, c</think>The answer is 4")
    assert verdict is not None and verdict.follow == (True,)
    assert verdict.reasoning == "a, b, c" and verdict.answer_part == "The answer is 4"
    separate = judge(item, Response("a, b", reasoning="no commas"))
    assert separate is not None and separate.follow == (False,)


def test_hard_and_soft() -> None:
    from mathif.data import parse_item

    item = parse_item(
        {
            "source": "gsm8k", "id": "x", "question": "q", "answer": "1",
            "constraint_name": ["punctuation:no_comma", "startend:quotation"],
            "constraint_desc": [
                "In your entire response, refrain from the use of any commas.",
                "Wrap your entire response with double quotation marks.",
            ],
            "constraint_args": [None, None],
        },
        key="x:0", file="synthetic", line=1,
    )
    half = judge(item, '"a, b"')
    assert half is not None
    assert half.follow == (False, True) and half.soft == 0.5 and half.hard is False
    full = judge(item, '"a b"')
    assert full is not None
    assert full.follow == (True, True) and full.soft == 1.0 and full.hard is True
    none = judge(item, "a, b")
    assert none is not None and none.follow == (False, False) and none.soft == 0.0


def test_generation_errors_are_not_scored_as_empty_answers(dataset) -> None:
    item = dataset[0]
    response = Response("", error="HTTP 500 after 5 retries")
    assert judge(item, response) is None
    sample = Sample(item, 0, response)
    assert not sample.scored and sample.follow == ()
    metrics = aggregate([sample])
    assert metrics.n_errors == 1 and metrics.n_items == 0
    assert metrics.items_without_response == 1
    assert metrics.overall.hacc is None


def _v(item, sample: int, follow: tuple[bool, ...], correct: bool | None = None) -> Sample:
    verdict = Verdict(follow, all(follow), sum(follow) / len(follow), "x")
    grade = None if correct is None else Grade(correct, "x", "mathif", "match")
    return Sample(item, sample, Response("x"), verdict, grade)


def test_metrics_by_hand(dataset) -> None:
    single = next(i for i in dataset if i.n_constraints == 1)
    double = next(i for i in dataset if i.n_constraints == 2 and i.source != single.source)
    pairs = [
        _v(single, 0, (True,), correct=True),
        _v(single, 1, (False,), correct=False),  # two samples: averaged
        _v(double, 0, (True, False), correct=True),
    ]
    m = aggregate(pairs)
    # item values: single hard 0.5 soft 0.5; double hard 0 soft 0.5
    assert m.overall.hacc == 25.0
    assert m.overall.sacc == 50.0
    assert m.overall.correct == 75.0
    assert m.overall.any_sample_hacc == 50.0
    assert m.by_count["single"].hacc == 50.0
    assert m.by_count["double"].sacc == 50.0
    assert m.by_source[single.source].n_items == 1
    first = double.constraint_name[0]
    assert m.by_constraint[first].n >= 1
    q = m.quadrants
    assert q is not None
    assert q.correct_followed == 25.0  # single: 0.5, double: 0 -> 0.25
    assert q.wrong_not_followed == 25.0
    assert q.correct_not_followed == 50.0
    assert sum(q.values()) == pytest.approx(100.0)


def test_relative_diff_is_the_papers_diff_column() -> None:
    assert relative_diff(58.57, 68.10) == pytest.approx(-13.99, abs=0.01)  # Qwen3-4B, Table 3
    assert relative_diff(50.0, None) is None
    assert relative_diff(50.0, 0.0) is None


def test_control_correctness_and_diff(dataset) -> None:
    item = dataset[0]
    main = [_v(item, 0, (True,) * item.n_constraints, correct=False)]
    control = [_v(item, 0, (True,) * item.n_constraints, correct=True)]
    m = aggregate(main, control=control)
    assert m.overall.correct_without_constraints == 100.0
    assert m.overall.diff_percent == -100.0


def _all_constraints_item(dataset):
    """One synthetic item carrying one instance of each of the 15 constraint types."""
    from mathif.data import parse_item

    seen: dict[str, tuple[str, dict | None]] = {}
    for item in dataset:
        for name, desc, args in zip(item.constraint_name, item.constraint_desc,
                                    item.fields["constraint_args"], strict=True):
            seen.setdefault(name, (desc, args))
    record = {
        "source": "aime", "id": "all", "question": "q", "answer": "1",
        "constraint_name": list(seen),
        "constraint_desc": [d for d, _ in seen.values()],
        "constraint_args": [a for _, a in seen.values()],
    }
    assert len(seen) == 15
    return parse_item(record, key="all:0", file="synthetic", line=1)


@pytest.mark.parametrize(
    "text",
    [
        "*" * 200_000,
        ("Word, *emph* **bold** - item\n" * 180_000)[:5_000_000],  # ~5 MB of markdown
        "A" * 5_000_000,
        "\n" * 1_000_000 + "</think>" + "- " * 100_000,
    ],
    ids=["asterisks", "markdown-5MB", "caps-5MB", "newlines"],
)
def test_huge_responses_are_scored_by_every_checker(dataset, text: str) -> None:
    item = _all_constraints_item(dataset)
    verdict = judge(item, text)  # completes: bounded, linear-time checkers
    assert verdict is not None and len(verdict.follow) == 15


@pytest.mark.parametrize("grader", ["mathif", "reference"])
def test_judge_and_grade_equals_the_two_steps(dataset, grader: str) -> None:
    """One pass (each answer graded as soon as it is judged, slow ones in a worker meanwhile)
    gives the samples that judging everything, then grading everything gives."""
    from mathif.scoring import grade_samples, judge_and_grade, judge_sample

    items = list(dataset)[:40]
    texts = [
        "<think>x</think>The answer is $\\boxed{{{gold}}}$.",
        "</think>THE ANSWER IS \\BOXED{{{upper}}}",
        "no answer here, sorry",
        "<think>r</think>$\\boxed{{\\frac{{\\sqrt{{3}}}}{{2}}}}$",  # needs sympy: a worker
    ]
    samples = []
    for n, item in enumerate(items):
        text = texts[n % len(texts)].format(gold=item.answer, upper=item.answer.upper())
        error = "server error" if n % 11 == 5 else None
        samples.append(Sample(item, 0, Response(text if error is None else "", error=error)))
    one_pass = judge_and_grade(samples, grader=grader)
    two_steps = grade_samples([judge_sample(s) for s in samples], grader=grader)
    assert one_pass == two_steps
    assert sum(s.grade is None for s in one_pass) == sum(s.response.error is not None
                                                         for s in samples) > 0
    assert any(s.correct for s in one_pass) and not all(s.correct for s in one_pass
                                                        if s.grade is not None)
