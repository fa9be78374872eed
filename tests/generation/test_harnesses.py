"""lm-evaluation-harness and Inspect run mathif's tasks end to end against a real server
(``transformers serve`` on 127.0.0.1 with the tiny model), offline; their per-sample verdicts
are ``mathif score``'s on the same responses, and their logs, read back by ``mathif score``,
give the results.json of the same responses scored directly.

Each harness runs as its command line does, in a child process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mathif.cli import main
from mathif.data import Item, load
from mathif.run import score
from tests.conftest import REPO
from tests.generation.conftest import subprocess_env
from tests.integrations.harness import need

MAX_TOKENS = 8


def lines_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def scored(out: Path) -> dict[str, dict[str, Any]]:
    """``mathif score --out`` samples, by key."""
    return {r["key"]: r for r in lines_of(out / "samples.jsonl")}


def metrics(out: Path) -> dict[str, Any]:
    return json.loads((out / "results.json").read_text())["metrics"]


def items_in(data_dir: Path, keys: set[str]) -> list[Item]:
    return [item for item in load(data_dir) if item.key in keys]


def test_lm_eval_against_a_server(served_model: str, tiny_model: Path, data_dir: Path,
                                  tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    need("lm_eval", "lm-eval")
    env = subprocess_env(tmp_path, MATHIF_DATA=str(data_dir), HF_DATASETS_OFFLINE="1")
    tasks_dir = subprocess.run([sys.executable, "-m", "mathif.integrations.lm_eval", "--path"],
                               capture_output=True, text=True, env=env, check=True,
                               timeout=120).stdout.strip()
    model_args = ",".join([
        f"model={tiny_model}", f"base_url={served_model}/chat/completions", "num_concurrent=1",
        "max_retries=2", "tokenized_requests=False",
        # transformers serve refuses an empty stop list (the task stops at nothing, as the
        # paper does); the model's end-of-turn token is a stop string it accepts
        "eos_string=<|im_end|>"])
    proc = subprocess.run(
        [sys.executable, "-m", "lm_eval", "--model", "local-chat-completions",
         "--model_args", model_args, "--include_path", tasks_dir,
         "--tasks", "mathif_by_count,mathif_control", "--apply_chat_template", "--limit", "3",
         "--gen_kwargs", f"max_gen_toks={MAX_TOKENS}", "--log_samples",
         "--output_path", str(tmp_path / "lm")],
        capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    files = {p.name.split("_20")[0].removeprefix("samples_"): p
             for p in (tmp_path / "lm").rglob("samples_*.jsonl")}
    assert set(files) == {"mathif_single", "mathif_double", "mathif_triple", "mathif_control"}
    [results_file] = (tmp_path / "lm").rglob("results_*.json")
    config = json.loads(results_file.read_text())["configs"]["mathif_single"]
    assert config["generation_kwargs"]["max_gen_toks"] == MAX_TOKENS
    assert config["generation_kwargs"]["temperature"] == 1.0

    # per sample, item by item: lm-eval's metrics are `mathif score` on the same responses
    for task in ("mathif_single", "mathif_double", "mathif_triple"):
        out = tmp_path / f"score-{task}"
        assert main(["score", str(files[task]), "--data", str(data_dir), "--out", str(out),
                     "--quiet"]) == 0
        mine = scored(out)
        logged = {r["doc"]["key"]: r for r in lines_of(files[task])}
        assert set(mine) == set(logged) and len(mine) == 3
        for key, line in logged.items():
            sample = mine[key]
            assert sample["response"] == line["resps"][0][0]
            assert (line["hacc"], line["sacc"], line["correct"], line["follow"]) == (
                float(sample["hard"]), sample["soft"], float(sample["correct"]),
                sample["follow"]), key

    # the samples files read back give the results.json of the same responses scored directly
    logged = {r["doc"]["key"]: r["resps"][0][0] for r in lines_of(files["mathif_single"])}
    control = {r["doc"]["key"]: r["resps"][0][0] for r in lines_of(files["mathif_control"])}
    out = tmp_path / "imported"
    monkeypatch.setenv("MATHIF_DATA", str(data_dir))  # `mathif score LOG` reads the items there
    assert main(["score", str(files["mathif_single"]), "--control",
                 str(files["mathif_control"]), "--out", str(out), "--quiet"]) == 0
    items = items_in(data_dir, set(logged))
    direct = score(items, {i.key: logged[i.key] for i in items},
                   control={i.key: control[i.key] for i in items})
    assert metrics(out) == direct.results.to_record()["metrics"]


def _registered_here(env: dict[str, str], cwd: Path) -> bool:
    """Whether ``inspect eval mathif/mathif`` finds this checkout's task (mathif installed
    from here, with its entry point)."""
    probe = subprocess.run(
        [sys.executable, "-c", "import importlib.metadata as m, mathif; print(mathif.__file__); "
         "print(any(e.name == 'mathif' for e in m.entry_points(group='inspect_ai')))"],
        capture_output=True, text=True, timeout=120, env=env, cwd=cwd)
    found = probe.stdout.split()
    return probe.returncode == 0 and found[0].startswith(str(REPO)) and found[1] == "True"


def test_inspect_against_a_server(served_model: str, tiny_model: Path, data_dir: Path,
                                  tmp_path: Path) -> None:
    need("inspect_ai", "inspect")
    from inspect_ai.log import read_eval_log, write_eval_log

    from tests.integrations.logs import as_scored

    env = subprocess_env(tmp_path, MATHIF_DATA=str(data_dir), LOCAL_BASE_URL=served_model,
                         LOCAL_API_KEY="none", INSPECT_LOG_DIR=str(tmp_path / "logs"))
    registry = {k: v for k, v in env.items() if k != "PYTHONPATH"}
    if _registered_here(registry, tmp_path):
        task, env = "mathif/mathif", registry  # as a user runs it
    else:  # mathif is installed from another checkout: the task by its file
        task = str(REPO / "src/mathif/integrations/inspect/__init__.py") + "@mathif"
    proc = subprocess.run(
        [sys.executable, "-m", "inspect_ai", "eval", task, "--model",
         f"openai-api/local/{tiny_model}", "-T", "sources=minerva,aime", "-T", "counts=2",
         "--limit", "4", "--max-tokens", str(MAX_TOKENS), "--max-connections", "2",
         "--display", "plain"],
        capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    [path] = (tmp_path / "logs").glob("*.eval")
    log = read_eval_log(str(path))
    assert log.status == "success" and log.eval.task.endswith("mathif")
    assert log.plan.config.max_tokens == MAX_TOKENS and log.plan.config.temperature == 1.0
    samples = log.samples or []
    assert [s.id for s in samples] == [f"minerva_double:{i}" for i in range(4)]

    # per sample: Inspect's scores are `mathif score` of the same log
    out = tmp_path / "imported"
    assert main(["score", str(path), "--data", str(data_dir), "--out", str(out),
                 "--quiet"]) == 0
    mine = scored(out)
    for sample in samples:
        [result] = sample.scores.values()
        verdict = mine[str(sample.id)]
        assert result.value == {"hacc": float(verdict["hard"]), "sacc": verdict["soft"],
                                "correct": float(verdict["correct"])}, sample.id
        assert result.answer == verdict["answer_part"]
        assert [c["followed"] for c in result.metadata["constraints"]] == verdict["follow"]

    # the log (as .eval and as .json) gives the results.json of its responses scored directly
    as_json = tmp_path / "log.json"
    write_eval_log(log, str(as_json), format="json")
    out_json = tmp_path / "imported-json"
    assert main(["score", str(as_json), "--data", str(data_dir), "--out", str(out_json),
                 "--quiet"]) == 0
    responses = as_scored(str(path))
    items = items_in(data_dir, set(responses))
    direct = score(items, {i.key: responses[i.key] for i in items})
    assert metrics(out) == metrics(out_json) == direct.results.to_record()["metrics"]
    assert os.path.getsize(out / "samples.jsonl") > 0
