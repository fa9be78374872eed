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
from mathif.responses import Entry, Response
from mathif.results import Results
from mathif.run import ScoreResult, score_entries, write_run
from mathif.samples import Sample
from mathif.scoring import judge


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
    assert run.metrics == written  # recomputed from samples.jsonl: the same numbers
    assert [s.follow for s in run.samples] == [s.follow for s in result.samples]
    # The same code writes and reads a line of samples.jsonl.
    assert [s.to_record() for s in run.samples] == [s.to_record() for s in result.samples]
    # Reasoning comes back from the raw response (the pipeline does not store it separately).
    assert run.samples[0].reasoning.startswith("step step")
    assert run.paper_row is not None and run.paper_row.model == "Qwen3-0.6B"
    assert "| *Qwen3-0.6B (paper)* | 27.86 | 50.44 |" in report.to_markdown(rep)
    assert report.to_html(rep).count('<tr class="item"') == len(chosen)


def test_report_reads_what_the_pipeline_wrote(items: list[Item], tmp_path: Path) -> None:
    """The pipeline's own judge, record writer and folder writer."""
    chosen = items[::7]
    samples = []
    for i, item in enumerate(chosen):
        response = _responses(item, i)[0]
        samples.append(Sample(item, 0, response, judge(item, response), None,
                              item.to_record()))
    results = Results(aggregate(samples), {"model": "Qwen/Qwen3-0.6B"})
    _check(ScoreResult(tuple(samples), results), chosen, tmp_path)


def test_report_reads_what_score_entries_wrote(items: list[Item], tmp_path: Path) -> None:
    chosen = items[::7]
    entries = [Entry(item, 0, _responses(item, i)[0], item.to_record())
               for i, item in enumerate(chosen)]
    result = score_entries(entries, grader=None, manifest={"model": "Qwen/Qwen3-0.6B"})
    _check(result, chosen, tmp_path)
