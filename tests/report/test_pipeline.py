"""A run folder written by the real scoring pipeline (mathif.run) is reported as written.

The other report tests write ``samples.jsonl`` by hand; this one makes sure the hand-written
layout and the pipeline's agree, by scoring real responses with the real checkers and reading
the folder back.
"""

from __future__ import annotations

from pathlib import Path

from mathif import report
from mathif.data import Item
from mathif.metrics import aggregate
from mathif.run import ScoredInput, ScoreResult, score_inputs, verdict_record, write_run
from mathif.scoring import Response, judge


def _responses(item: Item, index: int) -> list[Response]:
    thinking = " ".join(["step"] * (20 + 7 * (index % 13)))
    answers = [
        f"The answer is \\boxed{{{item.answer}}}.",
        f"{item.question.strip()} the answer is {item.answer}",
        "",
    ]
    return [Response(f"<think>{thinking}</think>{answers[index % 3]}")]


def _check(result: ScoreResult, chosen: list[Item], tmp_path: Path) -> None:
    write_run(tmp_path / "run", result)
    rep = report.build([tmp_path / "run"])
    run = rep.runs[0]
    written = result.metrics
    for key in ("n_items", "n_responses", "n_errors"):
        assert run.metrics[key] == written[key]
    for key in ("hacc", "sacc"):
        assert run.metrics["overall"][key] == written["overall"][key]
    assert run.metrics["by_constraint"].keys() == written["by_constraint"].keys()
    assert [v.follow for _, v in run.pairs] == [v.follow for v in result.verdicts]
    # Reasoning comes back from the raw response (the pipeline does not store it separately).
    assert run.pairs[0][1].reasoning.startswith("step step")
    assert run.paper_row is not None and run.paper_row.model == "Qwen3-0.6B"
    assert "| *Qwen3-0.6B (paper)* | 27.86 | 50.44 |" in report.to_markdown(rep)
    assert report.to_html(rep).count('<tr class="item"') == len(chosen)


def test_report_reads_what_the_pipeline_wrote(items: list[Item], tmp_path: Path) -> None:
    """The pipeline's own judge, record writer and folder writer."""
    chosen = items[::7]
    pairs, records = [], []
    for i, item in enumerate(chosen):
        verdict = judge(item, _responses(item, i)[0], 0)
        pairs.append((item, verdict))
        records.append(verdict_record({**item.to_record(),
                                       "response": _responses(item, i)[0].text}, verdict))
    results = {"schema_version": 1, "mathif_version": "test",
               "manifest": {"model": "Qwen/Qwen3-0.6B"}, "metrics": aggregate(pairs)}
    result = ScoreResult(items=tuple(chosen), verdicts=tuple(v for _, v in pairs),
                         results=results, records=tuple(records))
    _check(result, chosen, tmp_path)


def test_report_reads_what_score_inputs_wrote(items: list[Item], tmp_path: Path) -> None:
    chosen = items[::7]
    inputs = [ScoredInput(item, _responses(item, i), item.to_record())
              for i, item in enumerate(chosen)]
    result = score_inputs(inputs, grader=None, manifest={"model": "Qwen/Qwen3-0.6B"})
    _check(result, chosen, tmp_path)
