"""Probe settings: flags, checks, the resume key; prompt placement templates; the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mathif.cli import build_parser, main
from mathif.cli.eval import config_of
from mathif.config import RunConfig
from mathif.generation.chat import build_messages
from mathif.generation.protocol import Sampling, derive_seed, step_seed
from mathif.probes.settings import DEFAULT_REMINDER, ProbeSettings
from mathif.prompts import BOX_INSTRUCTION, build_prompt


def parse(*flags: str) -> RunConfig:
    args = build_parser().parse_args(["eval", "--model", "m", "--backend", "hf", "--out", "o",
                                      *flags])
    return config_of(args)


def test_flags_make_the_probe_and_a_sweep() -> None:
    assert parse("--force-continue", "3").probe.value == 3
    sweep = parse("--force-continue", "0,2,4").probe
    assert sweep.is_sweep and sweep.values() == [0, 2, 4]
    assert [sweep.at(v).folder_name() for v in sweep.values()] == [
        "force-continue-0", "force-continue-2", "force-continue-4"]
    budget = parse("--think-budget", "512,1024", "--budget-bridge", r"\n\nFinal answer:",
                   "--max-tokens", "4096").probe
    assert budget.values() == [512, 1024] and budget.budget_bridge == "\n\nFinal answer:"
    assert parse("--remind-constraints").probe.kind == "remind_constraints"
    assert parse("--template", "constraints-first").prompt_template == "constraints-first"
    assert not parse().probe.active


@pytest.mark.parametrize("flags, message", [
    (("--force-continue", "-1"), "expected an integer >= 0"),
    (("--force-continue", "2,2"), "distinct"),
    (("--think-budget", "0"), "expected an integer >= 1"),
    (("--think-budget", "abc"), "expected an integer"),
    (("--think-marker", ""), "non-empty"),
])
def test_bad_probe_flags_are_refused_at_parse_time(flags: tuple[str, ...], message: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse(*flags)
    assert message in capsys.readouterr().err


def test_inconsistent_probes_are_refused() -> None:
    with pytest.raises(ValueError, match="one probe per run"):
        ProbeSettings(force_continue=2, remind_constraints=True)
    with pytest.raises(ValueError, match="must contain \\{constraints\\}"):
        ProbeSettings(remind_constraints=True, remind_template="Wait, remember.")
    with pytest.raises(ValueError, match="leaves no tokens to answer"):
        RunConfig(model="m", probe=ProbeSettings(think_budget=(512, 2048)),
                  sampling=Sampling(max_tokens=1024))
    with pytest.raises(ValueError, match="force_continue must be"):
        ProbeSettings(force_continue=-1)


def test_the_probe_joins_the_run_settings_only_when_given() -> None:
    plain = RunConfig(model="m", backend="hf").settings(data_checksum="x")
    assert "probe" not in plain
    probed = RunConfig(model="m", backend="hf", probe=ProbeSettings(force_continue=4)
                       ).settings(data_checksum="x")
    assert probed["probe"] == {"kind": "force_continue", "value": 4, "marker": "</think>",
                               "continue_text": "Wait"}
    assert {k: v for k, v in probed.items() if k != "probe"} == plain
    remind = ProbeSettings(remind_constraints=True)
    assert remind.to_settings()["remind_template"] == DEFAULT_REMINDER == "Wait, {constraints}\n"
    assert ProbeSettings.from_settings(probed["probe"]) == ProbeSettings(force_continue=4)
    assert ProbeSettings.from_settings({"kind": "nonsense"}) is None


def test_step_seeds() -> None:
    assert step_seed(7, "k", 1, 0) == derive_seed(7, "k", 1)
    assert len({step_seed(7, "k", 1, s) for s in range(5)}) == 5
    assert step_seed(None, "k", 1, 3) is None


def test_prompt_placement_templates(dataset: Any) -> None:
    item = next(i for i in dataset if i.n_constraints == 2)
    constraints = " ".join(item.constraint_desc)
    first = build_prompt(item, template="constraints-first")
    assert first == constraints.strip() + "\n\n" + item.question.strip() + "\n\n" + \
        BOX_INSTRUCTION
    assert build_prompt(item, template="constraints-first", constraints=False) == \
        item.question.strip() + "\n\n" + BOX_INSTRUCTION
    system, user = build_messages(item, template="system")
    assert (system.role, system.content) == ("system", constraints.strip())
    assert user.content == build_prompt(item, constraints=False)  # the paper's control text
    assert build_messages(item, template="system", constraints=False)[0].role == "user"
    both = build_messages(item, template="system", system_prompt="Be brief.")
    assert both[0].content == "Be brief.\n\n" + constraints.strip()
    # the paper's template is untouched
    assert build_prompt(item) == item.question + BOX_INSTRUCTION + constraints


def test_report_of_a_sweep_folder_through_the_cli(tmp_path: Path, dataset: Any,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from tests.probes.test_analysis import sweep_folder

    by_count: dict[str, list[Any]] = {}
    for item in dataset:
        by_count.setdefault(item.count_name, []).append(item)
    root = sweep_folder(tmp_path / "sweep", by_count, {0: [True, True, False, False],
                                                       4: [False, True, False, False]})
    assert main(["report", str(root), "--n-boot", "100", "--markdown", "-", "--html",
                 str(tmp_path / "r.html")]) == 0
    out = capsys.readouterr().out
    assert "toy/model · K=0" in out and "toy/model · K=4" in out
    assert "(Fig. 7 format)" in out
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "sweep.json").write_text(json.dumps({"format": "mathif-sweep/1", "points": [
        {"value": 1, "run": "../escape"}]}))
    assert main(["report", str(bad)]) == 2
    assert "must be a folder name inside the sweep" in capsys.readouterr().err
