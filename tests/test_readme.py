"""The README's commands are true (issue 11, points 8 and 9).

The documented smoke test runs exactly as written, in a fresh folder, with ``MATHIF_DATA``
pointing at ``../shared/mathif`` and no Hub (an endpoint that refuses connections, an empty
cache). The install lines name a CPU-only and a GPU install, and ``.ci/install`` installs the
CPU build of torch from PyTorch's CPU index, falling back to the plain pin when that index
cannot be used.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, need_shared

README = (REPO / "README.md").read_text(encoding="utf-8")
SMOKE_MARK = "<!-- smoke-test:"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def smoke_commands() -> list[str]:
    """The lines of the fenced block right after the smoke-test marker."""
    after = README[README.index(SMOKE_MARK):]
    block = re.search(r"```bash\n(.*?)```", after, re.S)
    assert block is not None, "the smoke-test marker is not followed by a bash block"
    return [line for line in block.group(1).splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _shims(folder: Path) -> Path:
    """``python`` and ``mathif`` on PATH are this interpreter and this checkout."""
    folder.mkdir()
    for name, target in (("python", f'exec "{sys.executable}" "$@"'),
                         ("mathif", f'exec "{sys.executable}" -m mathif.cli "$@"')):
        path = folder / name
        path.write_text(f"#!/bin/sh\n{target}\n")
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return folder


@pytest.mark.slow
def test_the_documented_smoke_test_runs_offline_as_written(tmp_path: Path) -> None:
    data = need_shared("mathif")
    for module in ("torch", "transformers", "tokenizers"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed (the smoke test needs the hf extra)")
    commands = smoke_commands()
    assert any(c.startswith("mathif eval") for c in commands)
    bin_dir = _shims(tmp_path / "bin")
    work = tmp_path / "fresh"
    work.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HF_", "TRANSFORMERS_", "MATHIF_"))}
    env.update(
        MATHIF_DATA=str(data),
        HF_ENDPOINT=f"http://127.0.0.1:{_closed_port()}",  # no Hub
        HF_HOME=str(tmp_path / "empty-hf-home"),
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        PYTHONPATH=os.pathsep.join([str(REPO / "src"), str(REPO)]),
    )
    for command in commands:
        done = subprocess.run(["bash", "-c", command], cwd=work, env=env, capture_output=True,
                              text=True, timeout=900, check=False)
        assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    results = json.loads((work / "runs" / "smoke" / "results.json").read_text())
    assert results["metrics"]["n_items"] == 15 and results["metrics"]["n_errors"] == 0
    assert results["manifest"]["data"]["official"] is True
    assert "truncated" in done.stdout and "[" in done.stdout  # the summary's new lines


def test_the_readme_gives_a_gpu_and_a_cpu_only_install() -> None:
    lines = README.splitlines()
    cpu = [ln for ln in lines if CPU_INDEX in ln and "pip install" in ln]
    assert cpu and 'pip install -e ".[hf]"' in cpu[0]
    assert any(ln.startswith('pip install -e ".[hf]"') and CPU_INDEX not in ln for ln in lines)
    assert "needs no download" not in README  # it needed the data from the Hub


def _fake_pip(folder: Path, log: Path, cpu_index_works: bool) -> Path:
    """A ``python`` whose ``-m pip install`` only records its arguments (and fails on the
    CPU index when it is "unreachable")."""
    folder.mkdir(exist_ok=True)
    fail = "" if cpu_index_works else f'case "$*" in *{CPU_INDEX}*) exit 1;; esac\n'
    script = folder / "python"
    script.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\n{fail}exit 0\n')
    script.chmod(0o755)
    return folder


@pytest.mark.parametrize("cpu_index_works", [True, False])
def test_ci_installs_the_cpu_build_of_torch(tmp_path: Path, cpu_index_works: bool) -> None:
    install = (REPO / ".ci" / "install").read_text()
    assert "bash .ci/install_torch.sh" in install
    assert 'pip install "torch==' not in install  # no plain (CUDA) install before it
    log = tmp_path / "pip.log"
    bin_dir = _fake_pip(tmp_path / "bin", log, cpu_index_works)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", str(REPO / ".ci" / "install_torch.sh")], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    calls = log.read_text().splitlines()
    assert CPU_INDEX in calls[0] and "torch==2.13.0" in calls[0]
    if cpu_index_works:
        assert len(calls) == 1
    else:
        assert calls[1:] == ["-m pip install torch==2.13.0"]
        assert "could not be used" in done.stderr
