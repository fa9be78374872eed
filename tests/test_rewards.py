"""mathif.rewards: golden values, the documented mix, TRL and verl call shapes, hostile model
text, determinism, and agreement with `mathif score` on the same responses."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from typing import Any

import pytest

import mathif
from mathif import rewards
from mathif.rewards import (
    Case,
    RewardConfig,
    compute_score,
    compute_score_batch,
    make_reward,
    reward,
    row_constraints,
    score_completions,
)

NO_COMMA = "punctuation:no_comma"
EXIST = "keywords:existence"
NAMES = [NO_COMMA, EXIST]
ARGS: list[dict[str, Any] | None] = [None, {"keywords": ["same", "value"]}]
GOOD = "<think>Let me see, 6 times 7.</think>The same value: \\boxed{42}"


def trl_call(completions: list[Any], fn: Any = reward, **extra: Any) -> list[float]:
    n = len(completions)
    return fn(prompts=["p"] * n, completions=completions, answer=["42"] * n,
              constraint_name=[NAMES] * n, constraint_args=[json.dumps(ARGS)] * n, **extra)


# ---- golden values of the documented mix ------------------------------------------------------


@pytest.mark.parametrize("completion,expected", [
    # correct, both constraints, think tags: 1 + 0.5 + 0.5 + 0.1
    (GOOD, (2.1, 1, 1, 1.0, 1)),
    # a comma in the answer: soft 0.5 (x 0.5), not hard
    ("<think>x</think>The same value, \\boxed{42}", (1.35, 1, 0, 0.5, 1)),
    # wrong answer, constraints kept
    ("<think>x</think>the same value \\boxed{41}", (1.1, 0, 1, 1.0, 1)),
    # no </think>: the whole text is the answer part (SPEC §3); no format point
    ("the same value \\boxed{42}", (2.0, 1, 1, 1.0, 0)),
    # the comma is in the reasoning only: scored on the answer part
    ("<think>a, b</think>same value \\boxed{42}", (2.1, 1, 1, 1.0, 1)),
    # empty answer part: every constraint fails (SPEC §3), no answer, no format
    ("<think>the same value is 42</think>   ", (0.0, 0, 0, 0.0, 0)),
    # two </think>: the answer part is between them; format fails
    ("<think>a</think>same value \\boxed{42}</think>x", (2.0, 1, 1, 1.0, 0)),
    # <think> not at the start
    ("hi <think>a</think>same value \\boxed{42}", (2.0, 1, 1, 1.0, 0)),
    # the chat template opened <think> in the prompt: the completion only closes it
    ("reasoning here</think>same value \\boxed{42}", (2.1, 1, 1, 1.0, 1)),
])
def test_golden_rewards(completion: str, expected: tuple[float, ...]) -> None:
    (value,) = trl_call([completion])
    (b,) = reward.last
    assert value == pytest.approx(expected[0])
    assert (b.correct, b.hard, b.soft, b.format) == pytest.approx(expected[1:])
    assert b.reward == value


def test_the_mix_is_configurable_and_each_term_separate() -> None:
    only_if = make_reward(correct=0.0, hard=1.0, soft=0.0, format=0.0)
    assert trl_call(["<think>x</think>The same value, \\boxed{42}"], only_if) == [0.0]
    assert trl_call([GOOD], only_if) == [1.0]
    paper_format = make_reward(correct=1.0, hard=0.0, soft=0.0, format=0.1)
    assert trl_call([GOOD], paper_format) == [pytest.approx(1.1)]
    with pytest.raises(ValueError):
        RewardConfig(grader="nope")
    with pytest.raises(ValueError):
        RewardConfig(hard=math.nan)
    with pytest.raises(ValueError):
        RewardConfig(length_buffer=10, length_limit=5)
    with pytest.raises(ValueError):
        RewardConfig.of({"hardd": 1.0})


def test_length_penalty_is_dapo_overlong_shaping() -> None:
    config = RewardConfig(correct=0, hard=0, soft=0, format=0, length=1.0, length_limit=100,
                          length_buffer=50)
    cases = [Case("42", (), ())] * 4
    texts = ["x" * 50, "x" * 75, "x" * 100, "x" * 500]
    values = [b.length for b in score_completions(texts, cases, config)]
    assert values == [0.0, 0.5, 1.0, 1.0]
    assert [b.reward for b in score_completions(texts, cases, config)] == [0, -0.5, -1, -1]
    words = RewardConfig(length=1.0, length_limit=10, length_buffer=5, length_unit="words")
    (b,) = score_completions(["one two three four five six seven eight"], [Case("1")], words)
    assert b.length == pytest.approx(0.6)
    tokens = make_reward(length=1.0, length_limit=10, length_buffer=10, length_unit="tokens")
    trl_call([GOOD], tokens, completion_ids=[[1] * 5])
    assert tokens.last[0].length == pytest.approx(0.5)
    with pytest.raises(ValueError, match="token ids"):
        score_completions([GOOD], [Case("42")], RewardConfig(length=1.0, length_unit="tokens"))


def test_reasoning_scope() -> None:
    text = "<think>a, b, c</think>same value \\boxed{42}"
    answer_only = score_completions([text], [Case("42", tuple(NAMES), (
        {}, {"keywords": ["same", "value"]}))])[0]
    both = score_completions([text], [Case("42", tuple(NAMES), (
        {}, {"keywords": ["same", "value"]}))], RewardConfig(scope="answer+reasoning"))[0]
    assert answer_only.follow == (True, True)
    assert both.follow == (False, True)  # no_comma also holds the reasoning to it


# ---- completions and columns in every shape -----------------------------------------------


def test_conversational_completions() -> None:
    chat = [
        [{"role": "assistant", "content": GOOD}],
        # content as typed parts
        [{"role": "assistant", "content": [{"type": "text", "text": GOOD}]}],
        # reasoning in its own field (parsed by the chat template / server)
        [{"role": "assistant", "content": "the same value \\boxed{42}",
          "reasoning_content": "6 times 7, so 42"}],
        # a tool turn then the final answer: the last assistant message counts
        [{"role": "assistant", "content": "calling"}, {"role": "tool", "content": "42"},
         {"role": "assistant", "content": GOOD}],
    ]
    assert trl_call(chat) == [pytest.approx(2.1)] * 4


def test_arrow_shaped_columns() -> None:
    """`datasets` stores a list of differently shaped dicts as null-padded structs; verl's
    parquet rows arrive as numpy arrays."""
    np = pytest.importorskip("numpy")
    padded = [{"keywords": None, "forbidden_words": None},
              {"keywords": ["same", "value"], "forbidden_words": None}]
    assert row_constraints(NAMES, padded) == (tuple(NAMES), ({}, {"keywords": ["same",
                                                                              "value"]}))
    as_numpy = np.array([{"keywords": np.array(["same", "value"])}], dtype=object)
    assert row_constraints(np.array([EXIST]), as_numpy)[1] == ({"keywords": ["same",
                                                                             "value"]},)
    assert trl_call([GOOD]) == reward(prompts=["p"], completions=[GOOD], answer=[42],
                                      constraint_name=[NAMES], constraint_args=[padded])
    with pytest.raises(ValueError, match="unknown constraint"):
        row_constraints(["nope:x"], [None])
    with pytest.raises(ValueError, match="row 0"):
        row_constraints([EXIST], [{"keywords": []}])


def test_missing_columns_are_a_clear_error() -> None:
    with pytest.raises(ValueError, match="'answer' column"):
        reward(prompts=["p"], completions=[GOOD])
    with pytest.raises(ValueError, match="constraint_name"):
        reward(prompts=["p"], completions=[GOOD], answer=["42"])
    math_only = make_reward(hard=0.0, soft=0.0)
    assert math_only(prompts=["p"], completions=[GOOD], answer=["42"]) == [pytest.approx(1.1)]
    with pytest.raises(ValueError, match="values for 2"):
        reward(prompts=["p", "q"], completions=[GOOD, GOOD], answer=["42"])


def test_components_are_logged_through_trl_hooks() -> None:
    metrics: dict[str, float] = {}
    extra: dict[str, list[Any]] = {}
    trl_call([GOOD, "nope"], log_metric=metrics.__setitem__, log_extra=extra.__setitem__)
    assert metrics == {"mathif/correct": 0.5, "mathif/hard": 0.5, "mathif/soft": 0.75,
                       "mathif/format": 0.5, "mathif/length": 0.0}
    assert extra["mathif_correct"] == [1.0, 0.0] and extra["mathif_soft"] == [1.0, 0.5]


# ---- hostile model text -----------------------------------------------------------------------


def hostile_completions() -> list[Any]:
    return [
        None, 42, 3.5, b"\xff\xfe bytes", {"role": "assistant"}, [], [None], [{"content": None}],
        "\ud800\udfff lone surrogates \udc80 \\boxed{42}",
        "<think>" * 10_000 + "</think>" * 10_000,
        # unclosed boxes: main's mathif extractor is quadratic in them (50,000 take minutes
        # in process); the linear scan of the grading rework (issue 9) removes that
        "\\boxed{" * 3_000,
        "*" * 200_000,
        "\n" * 300_000 + "- x",
        "\\boxed{9^{9^{9^{9^{9}}}}}",
        "\\boxed{__import__('os').system('touch /tmp/mathif_pwned')}",
        "a" * 250_000,  # over max_chars: not checked at all
        "(" * 100_000 + "same value" + ")" * 100_000,
        "\x00\x1c\x1d\u2028\u202e same value \\boxed{42}",
        float("nan"),
    ]


def test_hostile_completions_never_raise(tmp_path: Path) -> None:
    comps = hostile_completions()
    values = trl_call(comps)
    assert len(values) == len(comps) and all(math.isfinite(v) for v in values)
    assert values[0] == 0.0 and reward.last[0].grade_reason == "not_text"
    assert reward.last[15].grade_reason == "too_long"
    assert not Path("/tmp/mathif_pwned").exists()
    batch = compute_score_batch(["mathif"] * len(comps), comps, ["42"] * len(comps),
                                [{"constraint_name": NAMES, "constraint_args": ARGS}] * len(
                                    comps))
    assert [r["score"] for r in batch] == values


def test_a_pathological_completion_does_not_stall_the_batch() -> None:
    """Correctness of a sympy bomb is decided in a killable worker under the timeout; the
    batch's other completions are graded normally."""
    import time

    config = RewardConfig(grader="mathif", timeout=1.0)
    bomb = "<think>x</think>\\boxed{" + "+".join(f"(x^{i}+1)^{i}" for i in range(40, 60)) + "}"
    texts = [bomb] + [GOOD] * 20
    cases = [Case("42", tuple(NAMES), ({}, {"keywords": ["same", "value"]}))] * len(texts)
    start = time.monotonic()
    out = score_completions(texts, cases, config)
    assert time.monotonic() - start < 60  # a hang detector, not a timing assertion
    assert [b.correct for b in out[1:]] == [1.0] * 20


def test_deterministic() -> None:
    french = "<think>x</think>Réponse: la même valeur \\boxed{42}"
    comps = [GOOD, french, *hostile_completions()[:9]]
    first = trl_call(comps)
    assert all(trl_call(comps) == first for _ in range(3))


# ---- verl -------------------------------------------------------------------------------------


def test_verl_compute_score_golden() -> None:
    info = {"constraint_name": NAMES, "constraint_args": json.dumps(ARGS), "source": "gsm8k"}
    assert compute_score("mathif", GOOD, "42", info) == {
        "score": pytest.approx(2.1), "correct": 1.0, "hard": 1.0, "soft": 1.0, "format": 1.0,
        "length_penalty": 0.0}
    assert compute_score("mathif", "<think>x</think>no, \\boxed{7}", "42", info) == {
        "score": 0.1, "correct": 0.0, "hard": 0.0, "soft": 0.0, "format": 1.0,
        "length_penalty": 0.0}
    # verl's reward_kwargs set the mix; its own extras are ignored
    assert compute_score("mathif", GOOD, "42", info, hard=2.0, soft=0.0, format=0.0,
                         reward_router_address=None)["score"] == pytest.approx(3.0)
    # rows without constraints: math only, the constraint terms vacuous
    assert compute_score("gsm8k", GOOD, 42, None)["correct"] == 1.0
    with pytest.raises(ValueError, match="unknown reward settings"):
        compute_score("mathif", GOOD, "42", info, hardd=1.0)


def test_verl_reward_loaded_by_file_path() -> None:
    """verl imports the file without registering it as a module: the entry point works that
    way (also through verl's own loader when verl is installed)."""
    spec = importlib.util.spec_from_file_location("custom_module_x", rewards.__file__)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    info = {"constraint_name": NAMES, "constraint_args": ARGS}
    assert module.compute_score("mathif", GOOD, "42", info)["score"] == pytest.approx(2.1)
    if importlib.util.find_spec("verl") is not None:  # pragma: no cover - not installed here
        from verl.utils.import_utils import load_extern_object

        fn = load_extern_object(module_path=rewards.__file__, object_name="compute_score")
        assert fn("mathif", GOOD, "42", info)["score"] == pytest.approx(2.1)


# ---- the same verdicts as mathif score --------------------------------------------------------


def test_rewards_agree_with_mathif_score(dataset: mathif.Dataset) -> None:
    items = list(dataset.items[::7])
    texts = []
    for n, item in enumerate(items):
        if n % 3 == 0:
            texts.append(f"<think>ok</think>The answer is \\boxed{{{item.answer}}}")
        elif n % 3 == 1:
            texts.append("<think>x</think>" + item.question.lower())
        else:
            texts.append('"' + item.question + " so " + item.answer + '"')
    result = mathif.score(dataset.select(mathif.data.Selection()).items[::7], texts,
                          grader="reference")
    rows = rewards.training_rows(items)
    fn = make_reward(grader="reference")
    fn(prompts=[r["prompt"] for r in rows], completions=texts,
       **{k: [r[k] for r in rows] for k in ("answer", "source", "constraint_name",
                                              "constraint_args")})
    for sample, b in zip(result.samples, fn.last, strict=True):
        assert b.follow == sample.follow
        assert b.correct == float(bool(sample.correct))
