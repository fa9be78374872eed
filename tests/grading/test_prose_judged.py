"""The hand-judged final answers of real model outputs (issue 15), graded by ``mathif``.

``data/prose_judged.tsv`` holds 735 cases from ``../shared/external`` (R1-distill base, hybrid
and thinking outputs on GSM8K and MATH-500, DeepScaleR AIME-24 samples), each judged by
reading the output as a mathematician would: what is the model's final answer, and is it the
gold?  No output text is stored: a row names the file, the record (task index, or line index
for the AIME files), the sample (model key, or response index), the verdict (``correct``,
``wrong``, ``none`` when the output states no final answer), the answer the judge read, and a
short reason.  The text is read in place; the tests skip when the data is absent.

The rubric: the final answer is the last value the output presents as its answer (a box, an
answer phrase, the concluding sentence of a finished solution) unless the output later
withdraws it, doubts it or hedges it; a re-check, a second method or a restarted solution cut
off by the token limit does not cancel it; in a reasoning trace, a value stated firmly for the
quantity asked counts; a conclusion about one case of several, a hedge ("perhaps") or an
undecided trace is no answer.

Splits: ``dev`` was used to build the locator; ``held``, ``held2`` and ``held3`` were each
sampled from outputs not looked at before, judged, and measured once before any change made
for them (see docs/grading.md for those first measurements).  They have since been looked at,
so every split is checked here case by case, with the misses that remain listed.

Run with ``-s`` to see recall and false accepts per split and stratum.
"""

from __future__ import annotations

import ast
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

from mathif.grading import Grade, grade_many

from .conftest import answer_part

DATA = Path(__file__).parent / "data" / "prose_judged.tsv"


@dataclass(frozen=True)
class Case:
    split: str
    stratum: str
    file: str
    record: int
    sample: str
    verdict: str  # correct, wrong, none
    answer: str  # the final answer the judge read ("" for none)
    reason: str

    @property
    def key(self) -> str:
        return f"{self.file}|{self.record}|{self.sample}"


# Correct answers the locator still misses (kept visible rather than tuned away): each is a
# reasoning trace cut off by the token limit, or text the comparison cannot read.
KNOWN_MISSES = {
    # "44" stated as the inverse inside a long trace whose last statements are sub-results
    "benchmark_results_qwen2.5-14b_math500.json|280|thinking_model",
    # the answer stated, then a check of another case cut off; its sub-results come last
    "benchmark_results_qwen2.5-14b_math500.json|223|thinking_model",
    "benchmark_results_qwen2.5-14b_math500.json|217|thinking_model",
    # "only N = 41 works", then "Wait, but hold on" and a re-reading of the wording, cut off
    "benchmark_results_qwen2.5-14b_math500.json|290|thinking_model",
    # the count stated as a word ("four", "three"), then further enumeration cut off
    "benchmark_results_qwen2.5-14b_math500.json|25|thinking_model",
    "benchmark_results_qwen2.5-14b_math500.json|12|thinking_model",
    # the LCM computed as 36, then "after \\boxed{" cut off; an earlier fraction is taken
    "benchmark_results_qwen2.5-14b_math500.json|119|thinking_model",
    # "11111111100, which is 11 digits ... 11 digits is the minimal length": the 11 is taken
    "benchmark_results_qwen2.5-14b_math500.json|49|thinking_model",
    # the interval's infinity symbol is garbled in the stored text ("(3, \ufffd)")
    "benchmark_results_qwen2.5-14b_math500.json|267|hybrid_model",
}


def load_cases() -> list[Case]:
    cases = []
    for line in DATA.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        split, stratum, file, record, sample, verdict, answer, reason = line.split("\t")
        cases.append(Case(split, stratum, file, int(record), sample, verdict, answer, reason))
    return cases


def read_outputs(external: Path, cases: list[Case]) -> dict[str, tuple[str, str, str, str]]:
    """(answer part, gold, source, question) for each case, read from the shared files."""
    wanted = {c.key for c in cases}
    out: dict[str, tuple[str, str, str, str]] = {}
    for path in sorted((external / "r1distill-thinking-llms-interp").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        source = "math500" if "math500" in path.name else "gsm8k"
        for index, task in enumerate(data["tasks"]):
            gold = task["correct_answer"]
            if "####" in gold:
                gold = gold.split("####")[-1].strip()
            for model, text in task["model_answers"].items():
                key = f"{path.name}|{index}|{model}"
                if key in wanted:
                    out[key] = (answer_part(text), gold, source, task["question"])
    for path in sorted((external / "deepscaler-aime24-tegra").glob("*.jsonl")):
        for index, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            if not line.strip():
                continue
            row = json.loads(line)
            responses = row["generated_responses"]
            if isinstance(responses, str):
                responses = ast.literal_eval(responses)
            for sample, text in enumerate(responses):
                key = f"{path.name}|{index}|{sample}"
                if key in wanted:
                    out[key] = (answer_part(text), str(row["gold_answer"]), "aime", row["question"])
    return out


@pytest.fixture(scope="module")
def judged(shared: Path) -> list[tuple[Case, Grade, Grade | None]]:
    """Each case with its mathif grade against the gold and, for an output judged wrong,
    against the answer the judge read."""
    external = shared / "external"
    if not (external / "r1distill-thinking-llms-interp").is_dir():
        pytest.skip(f"external real outputs not found under {shared}")
    cases = load_cases()
    outputs = read_outputs(external, cases)
    missing = [c.key for c in cases if c.key not in outputs]
    assert not missing, f"judged cases not found in the shared data: {missing[:5]}"
    rows = [outputs[c.key] for c in cases]
    against_gold = grade_many(rows)
    wrong = [i for i, c in enumerate(cases) if c.verdict == "wrong"]
    read = grade_many([(rows[i][0], cases[i].answer, rows[i][2], rows[i][3]) for i in wrong])
    against_judged: list[Grade | None] = [None] * len(cases)
    for i, g in zip(wrong, read, strict=True):
        against_judged[i] = g
    return list(zip(cases, against_gold, against_judged, strict=True))


def test_the_set_is_well_formed() -> None:
    cases = load_cases()
    assert len({c.key for c in cases}) == len(cases), "a case is listed twice"
    assert {c.verdict for c in cases} <= {"correct", "wrong", "none"}
    assert all(c.answer for c in cases if c.verdict != "none")
    assert all(c.reason for c in cases)
    splits = defaultdict(int)
    for c in cases:
        splits[c.split] += 1
    assert splits["dev"] >= 250 and splits["held"] + splits["held2"] + splits["held3"] >= 400
    assert KNOWN_MISSES.issubset({c.key for c in cases if c.verdict == "correct"})


def test_no_false_accepts(judged: list[tuple[Case, Grade, Grade | None]]) -> None:
    """Precision: no output judged wrong or answerless is graded correct."""
    accepted = [
        (c.split, c.key, g.extracted_answer, g.found_by)
        for c, g, _ in judged
        if c.verdict != "correct" and g.correct
    ]
    assert not accepted


def test_recall(judged: list[tuple[Case, Grade, Grade | None]]) -> None:
    """Every output judged correct is graded correct, except the listed misses."""
    stats: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    missed = []
    for c, g, _ in judged:
        for key in ((c.split, "ALL"), (c.split, c.stratum), ("ALL", "ALL")):
            s = stats[key]
            if c.verdict == "correct":
                s[0] += 1
                s[1] += g.correct
            else:
                s[2] += 1
                s[3] += g.correct
        if c.verdict == "correct" and not g.correct and c.key not in KNOWN_MISSES:
            missed.append((c.split, c.key, c.answer, g.extracted_answer, g.reason))
    print()
    for (split, stratum), (pos, hit, neg, fa) in sorted(stats.items()):
        print(
            f"{split:6s} {stratum:18s} recall {hit}/{pos} = {hit / max(pos, 1):.3f}  "
            f"false accepts {fa}/{neg}"
        )
    assert not missed
    pos, hit, _, _ = stats[("ALL", "ALL")]
    assert hit / pos >= 0.95


def test_known_misses_are_still_missed(judged: list[tuple[Case, Grade, Grade | None]]) -> None:
    """A listed miss that is now found should leave the list (keeps the list honest)."""
    found = [c.key for c, g, _ in judged if c.key in KNOWN_MISSES and g.correct]
    assert not found


def test_wrong_answers_are_read_as_judged(judged: list[tuple[Case, Grade, Grade | None]]) -> None:
    """For outputs judged wrong, the locator reads the answer the judge read (so a wrong
    verdict is wrong for the right reason), with few exceptions."""
    wrong = [j for c, _, j in judged if c.verdict == "wrong" and j is not None]
    agree = sum(j.correct for j in wrong)
    print(f"\nwrong outputs whose judged answer the locator extracts: {agree}/{len(wrong)}")
    assert agree >= 0.9 * len(wrong)
