"""The Inspect task: mathif's items and prompt, the paper's decoding, and a scorer whose
verdicts are mathif's own, with reasoning taken from Inspect's reasoning blocks.

Inspect runs here with its mockllm provider answering crafted texts (some with the reasoning
in a separate block, as providers that separate it return them); the run against a real
server is in tests/generation/test_harnesses.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mathif.data import Dataset, Item
from mathif.prompts import build_prompt
from mathif.responses import Response
from mathif.run import score, score_file
from tests.integrations.crafted import assert_varied, crafted_table
from tests.integrations.harness import need
from tests.integrations.logs import as_scored

need("inspect_ai", "inspect")
from inspect_ai import eval as inspect_eval  # noqa: E402
from inspect_ai.log import EvalLog, read_eval_log  # noqa: E402
from inspect_ai.model import (  # noqa: E402
    ContentReasoning,
    ContentText,
    ModelOutput,
    ModelUsage,
    get_model,
)

from mathif.integrations.inspect import mathif  # noqa: E402


@pytest.fixture(scope="module")
def env(mathif_dir: Path) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MATHIF_DATA", str(mathif_dir))
        patch.setenv("HF_HUB_OFFLINE", "1")
        yield


def test_the_task_holds_mathif_items_with_the_paper_prompt(env: None, dataset: Dataset) -> None:
    task = mathif()
    samples = list(task.dataset)
    assert [s.id for s in samples] == [item.key for item in dataset]
    for sample, item in zip(samples, dataset, strict=True):
        [message] = sample.input
        assert message.role == "user" and message.content == build_prompt(item)
        assert sample.target == item.answer and sample.metadata["key"] == item.key
    config = task.config
    assert (config.temperature, config.top_p, config.max_tokens) == (1.0, 0.95, 16384)
    assert len(mathif(sources="aime", counts="2,3").dataset) == 40
    assert len(mathif(sources=["aime", "gsm8k"], counts=[1]).dataset) == 50
    assert len(mathif(counts="triple").dataset) == 140
    control = mathif(constraints=False)
    assert [s.input[0].content for s in control.dataset] == [
        build_prompt(item, constraints=False) for item in dataset]
    with pytest.raises(ValueError, match="grader"):
        mathif(grader="official")
    with pytest.raises(ValueError, match="source"):
        mathif(sources="gsm9k")


def output_for(table: dict[str, Response], by_prompt: dict[str, str]) -> Any:
    """mockllm's answer to a prompt: the crafted response of its item, its reasoning (if
    any) in a reasoning block as providers that separate it return it."""

    def answer(messages: list[Any], tools: Any, tool_choice: Any, config: Any) -> ModelOutput:
        response = table[by_prompt[messages[-1].text]]
        content: Any = response.text
        if response.reasoning is not None:
            content = [ContentReasoning(reasoning=response.reasoning),
                       ContentText(text=response.text)]
        output = ModelOutput.from_content("mockllm/model", content)
        # given, so that mockllm does not count tokens (its tokenizer would be downloaded)
        output.usage = ModelUsage(input_tokens=len(messages[-1].text) // 4,
                                  output_tokens=len(response.text) // 4)
        return output

    return answer


def run(task: Any, items: list[Item], tmp_path: Path, log_format: str,
        table: dict[str, Response]) -> EvalLog:
    by_prompt = {s.input[0].content: s.id for s in task.dataset}
    model = get_model("mockllm/model", custom_outputs=output_for(table, by_prompt))
    [log] = inspect_eval(task, model=model, log_dir=str(tmp_path), log_format=log_format,
                         display="none", max_connections=4)
    assert log.status == "success", log.error
    return log


@pytest.mark.parametrize(("grader", "log_format"), [("mathif", "eval"), ("reference", "json")])
def test_scores_are_mathif_score_and_logs_import_to_the_same_results(
        env: None, dataset: Dataset, mathif_dir: Path, tmp_path: Path, log_format: str,
        grader: str) -> None:
    task = mathif(sources=["aime", "minerva"], counts=[1, 3], grader=grader)
    items = [i for i in dataset if i.key in {s.id for s in task.dataset}]
    table = crafted_table(items)
    log = run(task, items, tmp_path, log_format, table)
    direct = score(items, table, grader=grader)
    assert_varied({s.key: (s.hard, s.soft, s.correct) for s in direct.samples})
    by_key = {s.key: s for s in direct.samples}
    for sample in read_eval_log(log.location).samples or []:
        verdict = by_key[str(sample.id)]
        [result] = sample.scores.values()
        assert result.value == {"hacc": float(verdict.hard), "sacc": verdict.soft,
                                "correct": float(bool(verdict.correct))}, sample.id
        assert result.answer == result.explanation == verdict.answer_part
        assert result.metadata["constraints"] == [
            {"id": name, "followed": f}
            for name, f in zip(verdict.item.constraint_name, verdict.follow, strict=True)]
        assert result.metadata["grader"] == grader
    # the aggregate is the benchmark's number, as a fraction
    means = {s.name: s.metrics["mean"].value for s in log.results.scores}
    assert means.keys() == {"hacc", "sacc", "correct"}
    for metric, value in means.items():
        assert 100 * value == pytest.approx(getattr(direct.metrics.overall, metric), abs=1e-3)
    # the log read back by `mathif score` gives the results.json of the same responses
    imported = score_file(log.location, data=mathif_dir, grader=grader)
    logged = as_scored(log.location)
    same = score(items, {i.key: logged[i.key] for i in items}, grader=grader)
    assert imported.results.to_record()["metrics"] == same.results.to_record()["metrics"]
    assert imported.results.manifest["model"] == "mockllm/model"


def test_the_control_run_is_scored_on_correctness(env: None, dataset: Dataset,
                                                  tmp_path: Path) -> None:
    task = mathif(sources="aime", counts=1, constraints=False)
    items = [i for i in dataset if i.key in {s.id for s in task.dataset}]
    table = crafted_table(items)
    log = run(task, items, tmp_path, "eval", table)
    direct = {s.key: s for s in score(items, table).samples}
    for sample in read_eval_log(log.location).samples or []:
        [result] = sample.scores.values()
        assert result.value == {"correct": float(bool(direct[str(sample.id)].correct))}
