"""`samples.jsonl` and `results.json` are byte-identical to those of the code before the
typed-records rework (issue 10), except for documented additions.

The golden files were written by that code from synthetic inputs (tests/golden/build.py);
this test runs the same commands with today's code and compares bytes. The only accepted
differences are the grading outcome counts that issue 10 added (``metrics.grading`` and
``metrics.control.grading``, docs/results-schema.md), the ``found_by`` field that issue 15
added to graded samples (the rule that found the answer, docs/grading.md), and the SAcc
interval of each reasoning-length bin that issue 12 added
(``metrics.by_reasoning_length[].sacc_ci``, docs/results-schema.md).

Two deliberate changes of issue 11 were written into the golden ``samples.jsonl`` files (and
nothing else changed in them): a scored line without a ``key`` field is keyed by what its
item is (``sha256:...`` for these synthetic items) instead of ``"{file stem}:{line}"``, and
the replay backend's missing response no longer names its item in the error message (so
``results.json`` groups such errors into one).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.golden.build import COMMANDS, OUTPUTS

EXPECTED = REPO / "tests" / "golden" / "expected"
ADDED = ("grading",)  # documented additions to `metrics` (and `metrics.control`)
FOUND_BY = re.compile(r', "found_by": (?:null|"[a-z]+")')  # added to graded samples
ADDED_PER_BIN = ("sacc_ci",)  # documented additions to `metrics.by_reasoning_length[]`


@pytest.fixture(scope="module")
def produced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("golden").resolve()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO / "src"), str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    subprocess.run([sys.executable, "-c", "from pathlib import Path; import sys; "
                    "from tests.golden.build import run_all; run_all(Path(sys.argv[1]))",
                    str(folder)], check=True, env=env, cwd=REPO, timeout=600,
                   stdout=subprocess.DEVNULL)
    return folder


def _without_additions(text: str) -> str:
    results = json.loads(text)
    for name in ADDED:
        results["metrics"].pop(name, None)
        if isinstance(results["metrics"].get("control"), dict):
            results["metrics"]["control"].pop(name, None)
    for row in results["metrics"].get("by_reasoning_length") or ():
        for name in ADDED_PER_BIN:
            row.pop(name, None)
    return json.dumps(results, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("run", [name for name, _ in COMMANDS])
def test_outputs_are_byte_identical_to_the_golden_files(produced: Path, run: str) -> None:
    expected_files = sorted(p.name for p in (EXPECTED / run).iterdir())
    assert expected_files == sorted(n for n in OUTPUTS if (produced / run / n).exists())
    for name in expected_files:
        expected = (EXPECTED / run / name).read_text(encoding="utf-8")
        text = (produced / run / name).read_text(encoding="utf-8").replace(str(produced),
                                                                           "<RUN>")
        if name == "results.json":
            assert json.loads(text)["metrics"]["grading"]["n_graded"] > 0  # the addition
            assert text != expected
            text = _without_additions(text)
        elif '"grade_reason"' in text:
            assert '"found_by"' in text  # the addition
            text = FOUND_BY.sub("", text)
        assert text == expected, f"{run}/{name} differs from the golden file"


def test_the_golden_inputs_are_varied() -> None:
    """The golden runs cover what they are meant to: every constraint type and source,
    several samples per item, errors, truncation, and both graders."""
    from tests.golden.build import CONSTRAINTS, items

    rows = items()
    assert {name for row in rows for name in row["constraint_name"]} == {
        c[0] for c in CONSTRAINTS}
    assert {len(row["constraint_name"]) for row in rows} == {1, 2, 3}
    records = [json.loads(line) for line in
               (EXPECTED / "replay" / "control_samples.jsonl").read_text().splitlines()]
    assert any(r["error"] for r in records) and any(r["error"] is None for r in records)
    main = [json.loads(line) for line in
            (EXPECTED / "score" / "samples.jsonl").read_text().splitlines()]
    assert {r["grade_reason"] for r in main} >= {"match", "mismatch", "no_answer"}
    assert any(r["hard"] for r in main) and not all(r["hard"] for r in main)



@pytest.mark.parametrize("run", [name for name, _ in COMMANDS])
def test_the_same_code_reads_what_it_wrote(produced: Path, run: str) -> None:
    """``Results`` and ``Sample`` read their own JSON back unchanged."""
    from mathif.data import Item
    from mathif.results import Results
    from mathif.samples import Sample

    text = (produced / run / "results.json").read_text(encoding="utf-8")
    assert Results.from_record(json.loads(text)).to_json() == text
    for name in ("samples.jsonl", "control_samples.jsonl"):
        path = produced / run / name
        if not path.exists():
            continue
        items: dict[str, Item] = {}
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            record = json.loads(line)
            sample = Sample.from_record(record, file=str(path), line=n + 1, items=items)
            assert sample.to_record() == record
