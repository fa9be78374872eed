"""Synthetic inputs and the commands whose outputs are kept as golden files.

The golden outputs in this folder were written by the code before the typed-records rework
(issue 10), so that the test holds today's ``samples.jsonl`` and ``results.json`` byte for byte
to them (documented additions aside). Items are synthetic (no benchmark data is committed):
every constraint type, every source, one to three constraints, with varied responses.

    PYTHONPATH=<the code to record>/src python -m tests.golden.build DIR   # writes DIR/<run>/
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

SOURCES = ("HuggingFaceH4/gsm8k", "HuggingFaceH4/MATH-500", "zwhe99/simplerl-minerva-math",
           "zwhe99/simplerl-OlympiadBench", "aime")
GOLDS = ("42", "045", "\\frac{1}{2}", "7", "12", "3\\sqrt{2}", "100", "0.5", "x+1", "9")
# One instance of each constraint type: (id, args, description).
CONSTRAINTS: tuple[tuple[str, dict[str, Any] | None, str], ...] = (
    ("length_constraint_checkers:number_words", {"num_words": 40, "relation": "less than"},
     "Answer with less than 40 words."),
    ("language:response_language", {"language": "en"},
     "Your ENTIRE response should be in English language, no other language is allowed."),
    ("keywords:existence", {"keywords": ["answer", "sum"]},
     "Include keywords ['answer', 'sum'] in the response."),
    ("keywords:frequency", {"keyword": "the", "frequency": 2, "relation": "at least"},
     "In your response, the word the should appear at least 2 times."),
    ("keywords:forbidden_words", {"forbidden_words": ["maybe", "guess"]},
     "Do not include keywords ['maybe', 'guess'] in the response."),
    ("detectable_format:number_bullet_lists", {"num_bullets": 2},
     "Your answer must contain exactly 2 bullet points."),
    ("detectable_format:number_highlighted_sections", {"num_highlights": 1},
     "Highlight at least 1 sections in your answer with markdown."),
    ("detectable_format:multiple_sections", {"section_spliter": "Step", "num_sections": 2},
     "Your response must have 2 sections. Mark the beginning of each section with Step X."),
    ("change_case:english_capital", None,
     "Your entire response should be in English, and in all capital letters."),
    ("change_case:english_lowercase", None,
     "Your entire response should be in English, and in all lowercase letters."),
    ("change_case:capital_word_frequency", {"capital_frequency": 3,
                                            "capital_relation": "less than"},
     "In your response, words with all capital letters should appear less than 3 times."),
    ("punctuation:no_comma", None,
     "In your entire response, refrain from the use of any commas."),
    ("combination:repeat_prompt", {"prompt_to_repeat": "What is the sum?"},
     "First repeat the request word for word without change, then give your answer."),
    ("startend:end_checker", {"end_phrase": "Any other questions?"},
     "Finish your response with this exact phrase Any other questions?."),
    ("startend:quotation", None, "Wrap your entire response with double quotation marks."),
)
N_ITEMS = 30


def items() -> list[dict[str, Any]]:
    out = []
    for i in range(N_ITEMS):
        count = 1 + i % 3
        picked = [CONSTRAINTS[(i * 4 + k * 7) % len(CONSTRAINTS)] for k in range(count)]
        names = [c[0] for c in picked]
        if len(set(names)) < len(names):
            picked = picked[:1]
        out.append({
            "source": SOURCES[i % len(SOURCES)],
            "id": f"synthetic-{i}",
            "question": f"Problem {i}: what is the sum of the numbers {i} and {2 * i}?",
            "answer": GOLDS[i % len(GOLDS)],
            "constraint_desc": [c[2] for c in picked],
            "constraint_name": [c[0] for c in picked],
            "constraint_args": [c[1] for c in picked],
        })
    return out


def response(item: dict[str, Any], kind: int) -> str:
    gold = item["answer"]
    texts = (
        f"<think>Let me add, carefully.</think>The answer is $\\boxed{{{gold}}}$.",
        f"</think>THE FINAL ANSWER IS \\BOXED{{{gold.upper()}}}",
        f'"{item["question"]} So the answer is \\boxed{{{gold}}}. Any other questions?"',
        "<think>" + "the sum, step by step. " * 30,  # never closed: truncated
        "<think>short</think>* one\n* two\nStep 1\nthe sum\nStep 2\n"
        f"*the* answer \\boxed{{{gold}}}",
        "",
        f"answer: {gold}",
        "I do not know, maybe a guess.",
        f"<think>x</think>What is the sum? the sum is \\boxed{{{gold}1}}",
    )
    return texts[kind % len(texts)]


def write_inputs(folder: Path) -> None:
    """The data folder, the responses files and the replay files of the golden runs."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = items()
    data = folder / "data"
    data.mkdir(exist_ok=True)
    by_file: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_file.setdefault(f"synthetic_{row['source'].split('/')[-1].lower()}.jsonl",
                           []).append(row)
    for name, part in by_file.items():
        (data / name).write_text("".join(json.dumps(r) + "\n" for r in part))
    lines, control = [], []
    for n, row in enumerate(rows):
        record = dict(row)
        if n % 3 == 0:
            record = {"key": f"mix:{n}", **record}
        if n % 4 == 0:
            record["output"] = [response(row, n), response(row, n + 4)]
        elif n % 4 == 1:
            record["response"] = response(row, n)
        elif n % 4 == 2:
            record["responses"] = [response(row, n)]
        else:
            record["output"] = response(row, n)
            record["model"] = "x"
        lines.append(record)
        control.append({**row, "response": response(row, n + 2)})
    _jsonl(folder / "in.jsonl", lines)
    _jsonl(folder / "control.jsonl", control)
    _jsonl(folder / "replay.jsonl", [
        {"question": r["question"], "output": [response(r, i), response(r, i + 3)]}
        for i, r in enumerate(rows)])
    _jsonl(folder / "replay_control.jsonl", [
        {"question": r["question"], "response": response(r, i + 5)}
        for i, r in enumerate(rows) if i % 5])


def _jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


# (run folder, arguments of `mathif`), run in the inputs' folder.
COMMANDS = (
    ("score", ["score", "in.jsonl", "--out", "score", "--quiet"]),
    ("score_control", ["score", "in.jsonl", "--control", "control.jsonl", "--grader",
                       "reference", "--out", "score_control", "--quiet"]),
    ("replay", ["eval", "--backend", "replay", "--model", "replay.jsonl", "--data", "data",
                "--samples", "2", "--with-control", "--control-responses",
                "replay_control.jsonl", "--out", "replay", "--quiet"]),
)
OUTPUTS = ("samples.jsonl", "control_samples.jsonl", "results.json")


def run_all(folder: Path) -> None:
    """Write the inputs and run every command (with the mathif on ``PYTHONPATH``)."""
    write_inputs(folder)
    for _, args in COMMANDS:
        subprocess.run([sys.executable, "-m", "mathif.cli", *args], cwd=folder, check=True,
                       stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    target = Path(sys.argv[1]).resolve()
    run_all(target)
