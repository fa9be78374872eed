"""Throughput of mathif's checkers against a reference-style implementation, same responses.

Reproducible (fixed seed). Builds ~3,000 (item, response) pairs over the official MathIF items:
short answers (IFEval GPT-4 / Llama-3.1 responses), reasoning-model answers (R1-distill runs) and
long reasoning traces (DeepScaleR AIME generations), with some responses made to comply (all
caps / lowercase / quoted / ending phrase / repeated request) so that the expensive paths run.

The baseline mirrors the official IFEval/MathIF checker code: ``nltk.word_tokenize`` (the real
NLTK, reading the same English punkt_tab tables from disk), ``langdetect.detect`` per call,
``RegexpTokenizer(r"\\w+")`` word counts, the reference regexes. Both sides apply the harness
rule "empty answer fails everything".

    python benchmarks/bench_constraints.py [--shared ../shared] [--n 3000] [--seed 0]
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import langdetect
import nltk
from nltk.tokenize import RegexpTokenizer

from mathif.constraints import check_all
from mathif.constraints import text as T

Item = tuple[list[str], list[Any], str]  # names, args, question


# ---- the reference-style baseline (IFEval's check_following bodies) -------------------------


def _ref_language(value: str, kw: dict[str, Any]) -> bool:
    try:
        return bool(langdetect.detect(value) == kw["language"])
    except langdetect.LangDetectException:
        return True


def _ref_case(value: str, upper: bool) -> bool:
    try:
        ok = value.isupper() if upper else value.islower()
        return ok and langdetect.detect(value) == "en"
    except langdetect.LangDetectException:
        return True


def _compare(n: int, relation: str, threshold: int) -> bool:
    return n < threshold if relation == "less than" else n >= threshold


def _ref_highlights(value: str, kw: dict[str, Any]) -> bool:
    n = 0
    for h in re.findall(r"\*[^\n\*]*\*", value):
        if h.strip("*").strip():
            n += 1
    for h in re.findall(r"\*\*[^\n\*]*\*\*", value):
        if h.removeprefix("**").removesuffix("**").strip():
            n += 1
    return n >= kw["num_highlights"]


def _ref_bullets(value: str, kw: dict[str, Any]) -> bool:
    a = re.findall(r"^\s*\*[^\*].*$", value, flags=re.MULTILINE)
    b = re.findall(r"^\s*-.*$", value, flags=re.MULTILINE)
    return len(a) + len(b) == kw["num_bullets"]


def _ref_sections(value: str, kw: dict[str, Any]) -> bool:
    pattern = r"\s?" + kw["section_spliter"].strip() + r"\s?\d+\s?"
    return len(re.split(pattern, value)) - 1 >= kw["num_sections"]


REFERENCE: dict[str, Callable[[str, dict[str, Any]], bool]] = {
    "length_constraint_checkers:number_words": lambda v, kw: _compare(
        len(RegexpTokenizer(r"\w+").tokenize(v)), kw["relation"], kw["num_words"]
    ),
    "language:response_language": _ref_language,
    "keywords:existence": lambda v, kw: all(
        re.search(k, v, flags=re.IGNORECASE) for k in sorted(kw["keywords"])
    ),
    "keywords:frequency": lambda v, kw: _compare(
        len(re.findall(kw["keyword"].strip(), v, flags=re.IGNORECASE)),
        kw["relation"],
        kw["frequency"],
    ),
    "keywords:forbidden_words": lambda v, kw: (
        not any(
            re.search(r"\b" + w + r"\b", v, flags=re.IGNORECASE)
            for w in sorted(set(kw["forbidden_words"]))
        )
    ),
    "detectable_format:number_bullet_lists": _ref_bullets,
    "detectable_format:number_highlighted_sections": _ref_highlights,
    "detectable_format:multiple_sections": _ref_sections,
    "change_case:english_capital": lambda v, kw: _ref_case(v, True),
    "change_case:english_lowercase": lambda v, kw: _ref_case(v, False),
    "change_case:capital_word_frequency": lambda v, kw: _compare(
        sum(1 for w in nltk.word_tokenize(v) if w.isupper()),
        kw["capital_relation"],
        kw["capital_frequency"],
    ),
    "punctuation:no_comma": lambda v, kw: not re.search(r"\,", v),
    "combination:repeat_prompt": lambda v, kw: (
        v.strip().lower().startswith(kw["prompt_to_repeat"].strip().lower())
    ),
    "startend:end_checker": lambda v, kw: (
        v.strip().strip('"').lower().endswith(kw["end_phrase"].strip().lower())
    ),
    "startend:quotation": lambda v, kw: (
        len(v.strip()) > 1 and v.strip()[0] == '"' and v.strip()[-1] == '"'
    ),
}


def reference_check_all(names: Sequence[str], args: Sequence[Any], text: str) -> list[bool]:
    return [
        bool(text.strip()) and REFERENCE[n](text, a or {}) for n, a in zip(names, args, strict=True)
    ]


def mathif_check_all(names: Sequence[str], args: Sequence[Any], text: str) -> list[bool]:
    if not text.strip():
        return [False] * len(names)
    return check_all(names, text, args)


# ---- workload ---------------------------------------------------------------------------------


def _jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_items(shared: Path) -> list[Item]:
    items = []
    for path in sorted((shared / "mathif").glob("*.jsonl")):
        for row in _jsonl(path):
            items.append((row["constraint_name"], row["constraint_args"], row["question"]))
    return items


def load_texts(shared: Path) -> tuple[list[str], list[str], list[str]]:
    ext = shared / "external"
    short = [
        r["response"]
        for r in _jsonl(ext / "ifeval-google/input_response_data_gpt4_20231107_145030.jsonl")
    ]
    short += [
        r["response"]
        for r in _jsonl(ext / "ifeval-llama31-8b-jacklingjie/Meta-Llama-3.1-8B-Instruct.jsonl")
    ]
    medium = []
    for path in sorted((ext / "r1distill-thinking-llms-interp").glob("*.json")):
        for task in json.loads(path.read_text(encoding="utf-8"))["tasks"]:
            answers = task["model_answers"]
            if isinstance(answers, str):
                answers = ast.literal_eval(answers)
            medium.extend(str(v) for v in answers.values())
    long = []
    for path in sorted((ext / "deepscaler-aime24-tegra").glob("*.jsonl")):
        for row in _jsonl(path):
            long.extend(row["generated_responses"])
    return short, medium, long


def build_workload(shared: Path, n: int, seed: int) -> list[tuple[list[str], list[Any], str]]:
    rng = random.Random(seed)
    items = load_items(shared)
    short, medium, long = load_texts(shared)
    pool = (
        [("short", t) for t in short]
        + [("medium", t) for t in medium]
        + [("long", t) for t in long]
    )
    chosen = rng.sample(pool, min(n, len(pool)))
    work = []
    for _kind, text in chosen:
        names, args, question = rng.choice(items)
        if rng.random() < 0.5:  # make the response try to comply
            for name, arg in zip(names, args, strict=True):
                if name == "change_case:english_capital":
                    text = text.upper()
                elif name == "change_case:english_lowercase":
                    text = text.lower()
                elif name == "startend:quotation":
                    text = f'"{text}"'
                elif name == "startend:end_checker":
                    text = f"{text}\n{arg['end_phrase']}"
                elif name == "combination:repeat_prompt":
                    text = f"{question}\n{text}"
        work.append((names, args, text))
    return work


def install_punkt_tab() -> Path:
    """Put mathif's English punkt_tab files on NLTK's data path so real NLTK can load them."""
    root = Path(tempfile.mkdtemp(prefix="bench_nltk_"))
    shutil.copytree(T.punkt_directory(), root / "tokenizers" / "punkt_tab" / "english")
    nltk.data.path.insert(0, str(root))
    return root


def main() -> None:
    default_shared = Path(__file__).resolve().parents[1] / ".." / "shared"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shared", type=Path, default=Path(os.environ.get("MATHIF_SHARED", default_shared))
    )
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    ns = parser.parse_args()

    work = build_workload(ns.shared, ns.n, ns.seed)
    chars = sum(len(t) for _, _, t in work)
    checks = sum(len(names) for names, _, _ in work)
    print(f"{len(work)} responses, mean {chars / len(work):.0f} chars, {checks} checks")
    install_punkt_tab()
    # Warm both sides once (profile loading, punkt tables, pattern compilation) outside timing.
    reference_check_all(*work[0])
    mathif_check_all(*work[0])
    nltk.word_tokenize("Warm up. Done.")
    langdetect.detect("warm up the detector")
    T.detect_language("warm up the detector")

    # Interleaved per response, so that load from other processes hits both sides alike.
    T.clear_caches()
    base_s = fast_s = 0.0
    base_out, fast_out = [], []
    for names, args, text in work:
        start = time.perf_counter()
        base_out.append(reference_check_all(names, args, text))
        middle = time.perf_counter()
        fast_out.append(mathif_check_all(names, args, text))
        base_s += middle - start
        fast_s += time.perf_counter() - middle
    base_rate = len(work) / base_s
    fast_rate = len(work) / fast_s
    differ = sum(a != b for a, b in zip(base_out, fast_out, strict=True))
    print(f"baseline (reference-style): {base_s:7.2f} s  {base_rate:8.0f} responses/s")
    print(f"mathif check_all:           {fast_s:7.2f} s  {fast_rate:8.0f} responses/s")
    print(f"ratio: {fast_rate / base_rate:.2f}x   responses with any differing verdict: {differ}")
    print("(differences can only come from unseeded langdetect in the baseline)")


if __name__ == "__main__":
    main()
