"""Golden cases for the prose locator (:mod:`mathif.grading.prose`), one per rule.

Each case is a short answer part written for the test (the shapes come from the real
outputs described in issue 15), the question when the rule needs it, and what must be found:
the answer and the rule that found it, or nothing.  Negative cases sit next to positive ones.
"""

from __future__ import annotations

import pytest

from mathif.grading import extract_answer, grade, grade_many
from mathif.grading.prose import find_answer

GROOMING_Q = (
    "John adopts a dog. He takes the dog to the groomer, which costs $100. The groomer offers "
    "him a 30% discount for being a new customer. How much does the grooming cost?"
)
INCHES_Q = "What fraction of 2 feet is 3 inches? Express your answer as a common fraction."
DAPS_Q = "If 4 daps = 7 yaps, and 5 yaps = 3 baps, how many daps equal 42 baps?"
CANDLE_Q = (
    "A candle melts by 2 centimeters every hour that it burns. How many centimeters shorter "
    "will a candle be after burning from 1:00 PM to 5:00 PM?"
)
HOTDOG_Q = (
    "There were 60 guests at a picnic and 34 hotdogs were left after everyone had one. "
    "How many guests did not get a second hotdog?"
)
AGE_Q = (
    "If Ann is 9 years old and her brother is twice her age, "
    "how old will her brother be in 3 years?"
)
SOCKS_Q = (
    "Lindsay is doing the laundry. There are 50 socks that need washing. If she washes 10 pairs "
    "of socks and 15 loose socks, how many socks has Lindsay missed?"
)
LEGO_Q = (
    "John has 13 lego sets and he sells them for $15 each. He ends up buying 8 video games for "
    "$20 each and has $5 left. How many lego sets does he still have?"
)
CHOICE_Q = "Which shape is described? (A) Line (B) Circle (C) Plane (D) Sphere (E) Hyperbola"

# (answer part, question, expected answer, expected rule)
FOUND = [
    # issue item 1: the closing line holds several numbers; the asked one is chosen
    ("So, the grooming costs $70 after the 30% discount.", GROOMING_Q, "70", "conclusion"),
    ("So, 3 inches is 1/8 of 2 feet.", INCHES_Q, "1/8", "conclusion"),
    ("Answer: 40 daps equal 42 baps.", DAPS_Q, "40", "phrase"),
    (
        "The candle will be 8 centimeters shorter after burning from 1:00 PM to 5:00 PM.",
        CANDLE_Q,
        "8",
        "closing",
    ),
    ("Answer: Ann's brother will be 21 years old in 3 years.", AGE_Q, "21", "phrase"),
    # issue item 2: a verb is not the answer marker
    ("Therefore, 26 guests did not get a second hotdog.", HOTDOG_Q, "26", "conclusion"),
    # issue item 3: a plain closing sentence
    ("50 - 35 = 15 socks\n\nLindsay has missed 15 socks.", SOCKS_Q, "15", "closing"),
    ("Morgan can invite 2 friends to her birthday party.", None, "2", "closing"),
    # issue item 4: a prompt echo or a code fence after the answer
    (
        "Answer: 125 students take physics.\nYou are an AI assistant that helps people find "
        "information. User will you give you a question.",
        None,
        "125",
        "phrase",
    ),
    ("Therefore, Uncle Ben needs 4 bags of oats to feed his horses.\n```", None, "4", "conclusion"),
    (
        "The final answer is 5.\n```python\nprint(2 + 3)\n```\n```output\n5\n```",
        None,
        "5",
        "phrase",
    ),
    # issue item 5: a repetition loop cut mid-line
    (
        "The probability is 1/3.\nThe final answer is 1/3.\n" * 6 + "The final answer is 1",
        None,
        "1/3",
        "loop",
    ),
    (
        "128. The answer is 75.\n129. The answer is 75.\n130. The answer is 75.\n"
        "131. The answer is 75.\n132.",
        None,
        "75",
        "loop",
    ),
    # issue item 6: a rounded conclusion
    (
        "He still has $40 / $15 = 2.67 lego sets. However, since he cannot have a fraction of a "
        "lego set, we can conclude that John still has 2 lego sets.",
        LEGO_Q,
        "2",
        "closing",
    ),
    # a solution that starts over and is cut off: the answer before the restart stands
    (
        "Step 1: 6 * 2 = 12 penguins.\nThe final answer is 12 penguins.\n"
        "Step 1: There are 36 penguins. One third jump in: 36 / 3 = ",
        None,
        "12",
        "phrase",
    ),
    # choice letters, with or without their text
    ("Answer: (C) Plane", CHOICE_Q, "(C)", "choice"),
    # display math closing the text, reduced to its value
    ("So we get\n\\[\n\\frac{3}{4}\n\\]", None, "\\frac{3}{4}", "display"),
    (
        "Combining the fractions:\n\\[\n\\frac{16+24a}{20} - \\frac{5+15a}{20}\n\\]\n"
        "Thus, the combined fraction is:\n\\[\n\\frac{11+9a}{20}\n\\]",
        None,
        "\\frac{11+9a}{20}",
        "conclusion",
    ),
    # a tuple and an equation written in prose
    ("Therefore, the resulting point is (2,4).", None, "(2,4)", "conclusion"),
    ("The final answer is 5x - 7y + 11z + 4 = 0.", None, "5x - 7y + 11z + 4 = 0", "phrase"),
    # a mixed number
    ("The final answer is 137 and 1/2 miles.", None, "137\\frac{1}{2}", "phrase"),
    # boilerplate after the answer
    ("Thus, the answer is 42. I hope this helps!", None, "42", "phrase"),
    # other languages still work
    # a mixed number written as a sum
    (
        "So, the distance on the map, expressed as a fraction, is 15 + 39/40 inches.",
        None,
        "15 + 39/40",
        "conclusion",
    ),
    # "as" meaning "because": its number is a reason, not the answer
    (
        "The simplest radical form of $\\sqrt{53}$ is $\\sqrt{53}$, as 53 cannot be factored.",
        "What is $\\sqrt{53}$ in simplest radical form?",
        "\\sqrt{53}",
        "closing",
    ),
    # Unicode math in a trace, written as LaTeX for comparison
    (
        "Therefore, the range of f(x) is [π²/8, 5π²/4].",
        None,
        "[\\pi ^2/8, 5\\pi ^2/4]",
        "conclusion",
    ),
    # cut off while concluding: the value just computed for the asked quantity
    (
        "Distance = |-10| / sqrt(5) = 10 / sqrt(5).\n\nDistance = (10 * sqrt(5)) / 5 = "
        "2 * sqrt(5).\n\nTherefore, the shortest distance from",
        "What is the shortest distance from the point $(6, 0)$ to the line $y = 2x-2$?",
        "2 * sqrt(5)",
        "conclusion",
    ),
    # a loop whose conclusion follows "Therefore:" on its own line; its repeated steps
    # ("... two lanes empty is 3.") are not the answer
    (
        "The number of ways with two lanes empty is 3. Therefore:\n\nTotal arrangements = "
        "729 - 192 + 3 = 540.\n\nThis seems to be the correct approach.\n\n" * 4 + "However, let",
        "In how many ways can the cars stack up so that all three lanes are occupied?",
        "540",
        "loop",
    ),
    # the answer, then the question copied and the solution started over, cut off
    (
        "Step 4: Combined weight = 125 + 498 = 623 pounds.\nStep 5: Write the final answer. "
        "Their combined weights are 623 pounds.\n\nGrace weighs 125 pounds. Alex weighs 2 "
        "pounds less than 4 times what Grace weighs.\n\nStep 1: Identify the given information."
        " Grace weighs 125 pounds.\n\nStep 2: Determine Alex's weight. Alex weighs 2 pounds",
        "Grace weighs 125 pounds. Alex weighs 2 pounds less than 4 times what Grace weighs. "
        "What are their combined weights in pounds?",
        "623",
        "closing",
    ),
    # the asked letter given its value in a concluding step of a reasoning trace
    (
        "So, 4n - 6 = 70.\n\nSolving for n: 4n = 76 => n = 19.\n\nWait, but let me verify if "
        "that's correct. Let me recount the squares: the number of 1x1 squares is 2(n - 1). "
        "That seems right. The number of tilted squares is",
        "There is a total of 70 squares on this grid. What is the value of $n$?",
        "19",
        "conclusion",
    ),
    # cut off exactly in the closing delimiter of a display giving the asked letter its value
    (
        "Add 9 to both sides:\n\\[ 2x = 90 \\]\nDivide by 2:\n\\[ x = 45 \\",
        "What is the integer value of $x$ in the arithmetic sequence $3^2, x, 3^4$?",
        "45",
        "display",
    ),
    # "is:" and its display separated by a blank line, the display cut in its delimiter
    (
        "Thus, the number of valid subcommittees is:\n\n\\[\n2002 - 56 - 6 = 1940\n\\",
        "In how many ways can we form a subcommittee of 5 members?",
        "1940",
        "conclusion",
    ),
    # ASCII roots in prose
    (
        "Therefore, the distance between the lines is sqrt(93) / 3.",
        None,
        "sqrt(93) / 3",
        "conclusion",
    ),
    # a closing check does not replace the answer it checks
    (
        "Therefore, the answer is 3. To verify, we can check that (997 * 3) % 1000 = 1, which "
        "confirms that 3 is indeed the correct inverse.",
        None,
        "3",
        "phrase",
    ),
    ("La respuesta es 42.", None, "42", "phrase"),
    ("答案是 45", None, "45", "phrase"),
]

# (answer part, question): nothing may be found
NOTHING = [
    # a plan announcing the answer's unit is not an answer ("the final answer in hours")
    ("Step 3: Provide the final answer in hours.\nStep 4: Explain the reasoning.", None),
    # a value doubted as "too straightforward", then re-checked and cut off
    (
        "So, the original expression simplifies to 1/16.\n\nWait, that seems too "
        "straightforward. Let me verify.\n\nFirst, cos(16π/15) = -cos(π/15). So, the "
        "original expression is:\n\ncos(2π/15) cos(4π/15",
        "Simplify the product of cosines.",
    ),
    # one case of several, the others still being checked
    (
        "So, 2009 * 41 = 82,369, which is equal to 287^2. Therefore, a = 41.\n\nSo, that's one "
        "possible solution: a = 41, b = 287.\n\nBut let's check the other possible b's.\n\n"
        "Next, b = 574. Compute a = (574)^2 / 2009",
        "Positive integers $a$, $b$, and $2009$ form a geometric sequence. What is $a$?",
    ),
    ("Let me think about the problem step by step and set up equations", None),
    ("We try n = 5 and then n = 6 and keep going with the computation of the", None),
    # a hedged answer in a cut-off trace
    (
        "So xy = 25. That seems straightforward. So, perhaps the answer is 25.\n\n"
        "But let me verify step by step to ensure I did not",
        None,
    ),
    # an answer withdrawn, then cut off
    (
        "Thus, there are two such equations.\n\nHowever, upon further reflection, the "
        "factorization might not be correct. Let's recheck the factorization step:\n\nGiven",
        None,
    ),
    # a conclusion about one case of a case analysis, cut off
    (
        "So, from starting point C, the minimal total distance is 13.\n\nFinally, starting point "
        "D.\n\n1. D -> A -> B ->",
        None,
    ),
    # a restated question is not an answer
    ("How many apples does she have left?", None),
]

# (answer part, question, candidates): two different answers, nothing decides
AMBIGUOUS = [
    ("Therefore, the answer is 12 or 15.", None, ("12", "15")),
    ("The answer is either 4 or 9.", None, ("4", "9")),
]


@pytest.mark.parametrize(("text", "question", "answer", "rule"), FOUND)
def test_found(text: str, question: str | None, answer: str, rule: str) -> None:
    found = find_answer(text, question)
    assert (found.answer, found.rule) == (answer, rule), found


@pytest.mark.parametrize(("text", "question"), NOTHING)
def test_nothing(text: str, question: str | None) -> None:
    found = find_answer(text, question)
    assert found.answer is None and not found.ambiguous, found


@pytest.mark.parametrize(("text", "question", "candidates"), AMBIGUOUS)
def test_ambiguous(text: str, question: str | None, candidates: tuple[str, ...]) -> None:
    found = find_answer(text, question)
    assert found.answer is None and found.candidates == candidates, found
    result = grade(text, candidates[0], question=question)
    assert not result.correct
    assert result.reason == "ambiguous"
    assert result.extracted_answer == " | ".join(candidates)


def test_question_decides() -> None:
    """Without the question the echoed number is not known; with it the asked one wins."""
    text = "Answer: Ann's brother will be 21 years old in 3 years."
    assert grade(text, "21", question=AGE_Q).correct
    assert extract_answer(text, AGE_Q) == "21"


def test_found_by_is_recorded() -> None:
    rows = [
        (r"So \boxed{42}.", "42", None),
        ("Janet sells 9 eggs.\n#### 18", "18", None),
        ("So, the grooming costs $70 after the 30% discount.", "70", "gsm8k", GROOMING_Q),
        ("The final answer is 5.\n" * 5 + "The final answer is", "5", None),
        ("I could not finish the derivation because", "5", None),
    ]
    grades = grade_many(rows)  # type: ignore[arg-type]
    assert [g.found_by for g in grades] == ["box", "hashes", "conclusion", "loop", None]
    assert [g.correct for g in grades] == [True, True, True, True, False]


def test_reference_grader_ignores_the_question() -> None:
    text = "Answer: Ann's brother will be 21 years old in 3 years."
    with_q = grade(text, "21", grader="reference", question=AGE_Q)
    without = grade(text, "21", grader="reference")
    assert with_q == without
    assert with_q.found_by is None


def test_scoring_passes_the_question_and_records_the_rule() -> None:
    """``grade_samples`` hands the item's question to the grader; ``samples.jsonl`` keeps
    ``found_by`` and reads it back."""
    from mathif.data import Item
    from mathif.responses import Response
    from mathif.samples import Sample
    from mathif.scoring import grade_samples, judge_sample

    record = {
        "source": "gsm8k",
        "id": "x",
        "question": AGE_Q,
        "answer": "21",
        "constraint_desc": ["Answer in English."],
        "constraint_name": ["language:response_language"],
        "constraint_args": [{"language": "en"}],
    }
    item = Item.from_record(record, key="gsm8k_single:0", file="items.jsonl", line=1)
    text = "Ann is 9, her brother 18. In 3 years he will be 18 + 3 = 21 years old."
    sample = judge_sample(Sample(item, 0, Response(text), fields=item.to_record()))
    graded = grade_samples([sample], grader="mathif")[0]
    assert graded.grade is not None
    assert graded.grade.correct and graded.grade.extracted_answer == "21"
    assert graded.grade.found_by == "closing"
    record = graded.to_record()
    assert record["found_by"] == "closing"
    back = Sample.from_record(record, file="samples.jsonl", line=1)
    assert back.grade == graded.grade
