"""Harness logs written by hand, in the shapes lm-eval and Inspect write them.

The end-to-end tests check these shapes against the harnesses' own output; here they let the
reader be tested (and attacked) without either harness installed.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mathif.data import Item
from mathif.integrations.verdicts import item_fields
from mathif.responses import Response


def lm_eval_record(item: Item, text: str | None, doc_id: int) -> dict[str, Any]:
    doc = {**item_fields(item), "grader": "mathif"}
    return {"doc_id": doc_id, "doc": doc, "target": item.answer,
            "arguments": {"gen_args_0": {"arg_0": doc["prompt"], "arg_1": {"until": []}}},
            "resps": [[text]], "filtered_resps": [text], "filter": "none",
            "metrics": ["hacc", "sacc", "correct", "follow"], "doc_hash": "0",
            "prompt_hash": "0", "target_hash": "0", "hacc": 0.0}


def write_jsonl(path: Path, records: Iterable[Mapping[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")
    return path


def content_of(response: Response) -> str | list[dict[str, Any]]:
    if response.reasoning is None:
        return response.text
    return [{"type": "reasoning", "reasoning": response.reasoning},
            {"type": "text", "text": response.text}]


def inspect_sample(item: Item, response: Response, *, epoch: int = 1,
                   error: str | None = None) -> dict[str, Any]:
    output: dict[str, Any] = {"model": "mock", "choices": [], "usage": {
        "input_tokens": 100, "output_tokens": 12, "total_tokens": 112}}
    if error is None:
        output["choices"] = [{"message": {"role": "assistant", "content": content_of(response),
                                          "source": "generate"},
                              "stop_reason": "max_tokens" if epoch == 2 else "stop"}]
    return {
        "id": item.key, "epoch": epoch,
        "input": [{"role": "user", "content": item_fields(item)["prompt"]}],
        "target": item.answer, "messages": [], "output": output,
        "scores": {"mathif_scorer": {"value": float("nan")}},
        "metadata": item_fields(item),
        "error": {"message": error, "traceback": ""} if error else None,
    }


def inspect_log(samples: list[dict[str, Any]], *, model: str = "mockllm/model"
                ) -> dict[str, Any]:
    return {"version": 2, "status": "success",
            "eval": {"task": "mathif/mathif", "model": model, "dataset": {"name": "mathif"}},
            "samples": samples}


def write_inspect_json(path: Path, log: Mapping[str, Any]) -> Path:
    path.write_text(json.dumps(log, indent=2), encoding="utf-8")  # NaN written as NaN
    return path


def write_inspect_eval(path: Path, log: Mapping[str, Any],
                       compression: int = zipfile.ZIP_DEFLATED) -> Path:
    header = {k: v for k, v in log.items() if k != "samples"}
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        archive.writestr("_journal/start.json", json.dumps(header))
        for sample in log["samples"]:
            archive.writestr(f"samples/{sample['id']}_epoch_{sample['epoch']}.json",
                             json.dumps(sample))
        archive.writestr("header.json", json.dumps(header))
    return path


def as_scored(location: str) -> dict[str, Response]:
    """The responses of an Inspect log as ``mathif score`` is given them directly: read by
    Inspect's own reader (not mathif's), with their generation facts. Needs inspect-ai."""
    from inspect_ai.log import read_eval_log

    from mathif.harness_logs import _STOP_REASONS
    from mathif.integrations.inspect import response_of
    from mathif.responses import Usage

    out = {}
    for sample in read_eval_log(location).samples or []:
        response = response_of(sample.output)
        usage = sample.output.usage
        stop = sample.output.stop_reason
        out[str(sample.id)] = Response(response.text, reasoning=response.reasoning, usage=Usage(
            finish_reason=_STOP_REASONS.get(stop, stop),
            prompt_tokens=usage.input_tokens if usage else None,
            completion_tokens=usage.output_tokens if usage else None,
            reasoning_tokens=usage.reasoning_tokens if usage else None))
    return out
