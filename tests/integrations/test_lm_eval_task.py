"""The lm-evaluation-harness task: mathif's items, the paper's prompt and decoding, and
per-sample metrics that are mathif's own verdicts.

lm-eval runs in process here with a model that answers crafted texts (every kind of verdict),
through its real pipeline: task loading from ``--include_path``, chat rendering, filters,
``process_results``, aggregation, groups and the samples files its tracker writes. The run
against a real server is in tests/generation/test_harnesses.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mathif.data import Dataset, Item
from mathif.integrations.lm_eval import TASKS_DIR, follow_rate, load_docs
from mathif.prompts import build_prompt
from mathif.run import ScoreResult, score, score_file
from tests.integrations.crafted import assert_varied, crafted_table
from tests.integrations.harness import need

need("lm_eval", "lm-eval")
import lm_eval  # noqa: E402
from lm_eval.api.model import LM  # noqa: E402
from lm_eval.loggers import EvaluationTracker  # noqa: E402
from lm_eval.tasks import TaskManager  # noqa: E402

PAPER = {"until": [], "do_sample": True, "temperature": 1.0, "top_p": 0.95,
         "max_gen_toks": 16384}
SOURCE_TASKS = ["mathif_gsm8k", "mathif_math500", "mathif_minerva", "mathif_olympiad",
                "mathif_aime"]
LIMIT = 9  # the first nine items of each task: one of each crafted kind


class CraftedLM(LM):
    """Answers each document with a crafted text; records what lm-eval asked."""

    def __init__(self, texts: dict[str, str]) -> None:
        super().__init__()
        self.texts = texts
        self.requests: list[tuple[Any, dict[str, Any]]] = []

    def generate_until(self, requests: list[Any], disable_tqdm: bool = False) -> list[str]:
        out = []
        for request in requests:
            context, gen_kwargs = request.args
            self.requests.append((context, gen_kwargs))
            out.append(self.texts[request.doc["key"]])
        return out

    def loglikelihood(self, requests: list[Any], disable_tqdm: bool = False) -> list[Any]:
        raise NotImplementedError

    def loglikelihood_rolling(self, requests: list[Any], disable_tqdm: bool = False
                              ) -> list[Any]:
        raise NotImplementedError

    @property
    def tokenizer_name(self) -> str:
        return "crafted"

    def apply_chat_template(self, chat_history: list[dict[str, str]],
                            add_generation_prompt: bool = True) -> str:
        return json.dumps(chat_history)  # as the chat-completions models hand it over


@pytest.fixture(scope="module")
def env(mathif_dir: Path) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MATHIF_DATA", str(mathif_dir))
        patch.setenv("HF_DATASETS_OFFLINE", "1")
        patch.setenv("HF_HUB_OFFLINE", "1")
        yield


@pytest.fixture(scope="module")
def manager(env: None) -> TaskManager:
    return TaskManager(include_path=str(TASKS_DIR), include_defaults=False)


def test_the_tasks_folder_is_printed_for_include_path() -> None:
    proc = subprocess.run([sys.executable, "-m", "mathif.integrations.lm_eval", "--path"],
                          capture_output=True, text=True, timeout=120, check=True)
    assert Path(proc.stdout.strip()) == TASKS_DIR
    assert (TASKS_DIR / "mathif.yaml").is_file()


def test_tasks_groups_and_their_items(manager: TaskManager, dataset: Dataset) -> None:
    assert set(manager.all_groups) == {"mathif_by_source", "mathif_by_count"}
    loaded = manager.load(["mathif", "mathif_control", "mathif_by_source", "mathif_by_count"])
    tasks = loaded["tasks"]
    sizes = {name: len(task.eval_docs) for name, task in tasks.items()}
    assert sizes == {"mathif": 420, "mathif_control": 420, "mathif_gsm8k": 90,
                     "mathif_math500": 90, "mathif_minerva": 90, "mathif_olympiad": 90,
                     "mathif_aime": 60, "mathif_single": 140, "mathif_double": 140,
                     "mathif_triple": 140}
    by_key = dataset.by_key()
    for name, task in tasks.items():
        assert task.config.generation_kwargs == PAPER, name
        assert task.OUTPUT_TYPE == "generate_until"
        for doc in task.eval_docs:
            item = by_key[doc["key"]]
            expected = build_prompt(item, constraints=name != "mathif_control")
            assert task.doc_to_text(doc) == expected  # byte for byte
            assert task.doc_to_target(doc) == item.answer
            if name.startswith("mathif_") and name[7:] in ("single", "double", "triple"):
                assert item.count_name == name[7:]
            elif name in SOURCE_TASKS:
                assert item.source == name[7:]


def test_document_options_are_checked(env: None) -> None:
    with pytest.raises(ValueError, match="grader"):
        load_docs(grader="official")
    with pytest.raises(ValueError, match="source"):
        load_docs(sources=["gsm9k"])
    docs = load_docs(sources="aime", counts="2,3", grader="reference", version=1.0)["test"]
    assert len(docs) == 40 and set(docs["grader"]) == {"reference"}
    assert follow_rate([[True, False], [True]]) == pytest.approx(2 / 3)


def run(manager: TaskManager, tasks: list[str], out: Path, texts: dict[str, str],
        **kwargs: Any) -> tuple[dict[str, Any], CraftedLM, dict[str, Path]]:
    """lm-eval's pipeline as ``lm_eval --log_samples --output_path out`` runs it."""
    lm = CraftedLM(texts)
    if "metadata" in kwargs:  # as `lm_eval --metadata JSON`: the task manager holds it
        manager = TaskManager(include_path=str(TASKS_DIR), include_defaults=False,
                              metadata=kwargs.pop("metadata"))
    tracker = EvaluationTracker(output_path=str(out))
    results = lm_eval.simple_evaluate(model=lm, tasks=tasks, task_manager=manager,
                                      limit=LIMIT, apply_chat_template=True,
                                      bootstrap_iters=0, evaluation_tracker=tracker,
                                      log_samples=True, **kwargs)
    assert results is not None
    samples = results.pop("samples")
    tracker.save_results_aggregated(results=results, samples=samples)
    files = {}
    for task in results["configs"]:
        tracker.save_results_samples(task_name=task, samples=samples[task])
        [files[task]] = out.rglob(f"samples_{task}_*.jsonl")
    return results, lm, files


def logged(path: Path) -> dict[str, dict[str, Any]]:
    return {r["doc"]["key"]: r for r in map(json.loads, path.read_text().splitlines())}


def items_of(dataset: Dataset, keys: set[str]) -> list[Item]:
    return [item for item in dataset if item.key in keys]


@pytest.fixture(scope="module")
def crafted_texts(dataset: Dataset) -> dict[str, str]:
    return {k: r.text for k, r in crafted_table(dataset, separate_reasoning=False).items()}


@pytest.mark.parametrize("grader", ["mathif", "reference"])
def test_per_sample_metrics_are_mathif_score_item_by_item(
        manager: TaskManager, dataset: Dataset, mathif_dir: Path, crafted_texts: dict[str, str],
        tmp_path: Path, grader: str) -> None:
    results, lm, files = run(manager, ["mathif_by_source", "mathif_control"], tmp_path,
                             crafted_texts, metadata={"grader": grader})
    # the paper's prompt, as one user message; the paper's decoding
    assert len(lm.requests) == 6 * LIMIT
    for context, gen_kwargs in lm.requests:
        [message] = json.loads(context)
        assert message["role"] == "user" and "within \\boxed{}." in message["content"]
        assert gen_kwargs == PAPER
    main_lines = {k: v for task in SOURCE_TASKS for k, v in logged(files[task]).items()}
    items = items_of(dataset, set(main_lines))
    direct = score(items, {i.key: crafted_texts[i.key] for i in items}, grader=grader)
    assert_varied({s.key: (s.hard, s.soft, s.correct) for s in direct.samples})
    other = score(items, {i.key: crafted_texts[i.key] for i in items},
                  grader="reference" if grader == "mathif" else "mathif")
    assert [s.correct for s in other.samples] != [s.correct for s in direct.samples]
    for sample in direct.samples:
        line = main_lines[sample.key]
        assert line["doc"]["grader"] == grader
        assert (line["hacc"], line["sacc"], line["correct"], line["follow"]) == (
            float(sample.hard), sample.soft, float(bool(sample.correct)), list(sample.follow)
        ), sample.key
    # the aggregates are the benchmark's numbers (as fractions); the group's are overall
    overall = direct.metrics.overall
    group = results["groups"]["mathif_by_source"]
    for metric in ("hacc", "sacc", "correct"):
        assert 100 * group[f"{metric},none"] == pytest.approx(getattr(overall, metric),
                                                              abs=1e-3)
    # the control run: correctness of the prompt without constraints
    control_lines = logged(files["mathif_control"])
    control_items = items_of(dataset, set(control_lines))
    control = score(control_items, {i.key: crafted_texts[i.key] for i in control_items},
                    grader=grader)
    assert {k: v["correct"] for k, v in control_lines.items()} == {
        s.key: float(bool(s.correct)) for s in control.samples}
    assert set(control_lines["gsm8k_single:0"]) >= {"correct"}
    assert "hacc" not in control_lines["gsm8k_single:0"]


def test_imported_samples_files_give_the_same_results_json(
        manager: TaskManager, dataset: Dataset, mathif_dir: Path, crafted_texts: dict[str, str],
        tmp_path: Path) -> None:
    _, _, files = run(manager, ["mathif", "mathif_control"], tmp_path, crafted_texts)
    items = items_of(dataset, set(logged(files["mathif"])))
    texts = {i.key: crafted_texts[i.key] for i in items}
    direct: ScoreResult = score(items, texts, control=texts)
    imported = score_file(files["mathif"], data=mathif_dir, control=files["mathif_control"])
    assert imported.results.to_record()["metrics"] == direct.results.to_record()["metrics"]
    assert imported.metrics.overall.correct_without_constraints is not None


def test_gen_kwargs_override_the_paper_defaults(manager: TaskManager,
                                                crafted_texts: dict[str, str],
                                                tmp_path: Path) -> None:
    _, lm, _ = run(manager, ["mathif_aime"], tmp_path, crafted_texts,
                   gen_kwargs="max_gen_toks=64,temperature=0.6")
    assert {json.dumps(g, sort_keys=True) for _, g in lm.requests} == {json.dumps(
        {**PAPER, "max_gen_toks": 64, "temperature": 0.6}, sort_keys=True)}
