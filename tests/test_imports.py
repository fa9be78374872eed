"""The package's shape: imports point down the flow (no cycles), every module imports alone,
and every third-party import is a declared dependency."""

from __future__ import annotations

import ast
import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

from tests.conftest import REPO

SRC = REPO / "src"
PACKAGE = SRC / "mathif"
# Modules that need an optional extra (torch, vllm, httpx) at import time, and the package
# that tells whether it is installed.
NEEDS = {"mathif.generation.tiny": "torch", "mathif.integrations.inspect": "inspect_ai"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = sorted(module_name(p) for p in PACKAGE.rglob("*.py") if p.name != "__main__.py")


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, module: str, is_package: bool, known: set[str]) -> set[str]:
    """What ``module`` imports, at any depth (type-checking blocks aside).

    ``from P import x`` is an import of the module ``P.x`` when there is one (the package's
    ``__init__`` runs, but a submodule importing a sibling is no cycle), else of ``P`` itself
    (an attribute of its ``__init__``: ``from mathif import __version__`` in a module that
    ``mathif/__init__.py`` imports is the cycle this catches).
    """
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in known else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph() -> dict[str, set[str]]:
    """mathif module -> the mathif modules it imports."""
    known = set(MODULES)
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        name = module_name(path)
        names = _imports(ast.parse(path.read_text(encoding="utf-8")), name,
                         path.name == "__init__.py", known)
        graph[name] = {n for n in names if n in known and n != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_no_import_cycles() -> None:
    """Imports point down the flow only, function-level imports included (a lazy import that
    goes back up the flow is still a cycle, just one that waits for the right call)."""
    graph = import_graph()
    assert "mathif.run" in graph and "mathif.data" in graph["mathif.run"]
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])


def test_the_cycle_finder_finds_cycles() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_every_module_imports_alone_in_a_fresh_interpreter() -> None:
    code = (
        "import importlib, sys, traceback\n"
        "bad = []\n"
        "for name in sys.argv[1:]:\n"
        "    for loaded in [m for m in sys.modules if m == 'mathif' or "
        "m.startswith('mathif.')]:\n"
        "        del sys.modules[loaded]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception:\n"
        "        bad.append(name + ': ' + traceback.format_exc(limit=3))\n"
        "print('\\n'.join(bad))\n"
        "sys.exit(1 if bad else 0)\n"
    )
    names = [m for m in MODULES
             if m not in NEEDS or importlib.util.find_spec(NEEDS[m]) is not None]
    # One interpreter per module would take a minute; each module is imported with no mathif
    # module loaded before it (third-party modules stay cached, which is what a user has too).
    proc = subprocess.run([sys.executable, "-c", code, *names], capture_output=True,
                          text=True, timeout=600, cwd=REPO,
                          env={**_env(), "PYTHONPATH": str(SRC)})
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("name", ["mathif", "mathif.cli", "mathif.run", "mathif.report",
                                  "mathif.evaluation", "mathif.generation.replay",
                                  "mathif.samples", "mathif.responses", "mathif.results"])
def test_entry_modules_import_in_a_new_process(name: str) -> None:
    proc = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True,
                          text=True, timeout=120, env={**_env(), "PYTHONPATH": str(SRC)})
    assert proc.returncode == 0, proc.stderr


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


def _declared() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        specs += extra
    names = set()
    for spec in specs:
        name = spec.split(";")[0]
        for sep in "<>=!~[ ":
            name = name.split(sep)[0]
        names.add(name.strip().lower().replace("_", "-"))
    return names


def test_every_third_party_import_is_declared() -> None:
    """`regex` was imported but not declared: an install from PyPI would break."""
    distributions = importlib.metadata.packages_distributions()
    declared = _declared()
    missing = {}
    for path in PACKAGE.rglob("*.py"):
        name = module_name(path)
        for target in _imports(ast.parse(path.read_text(encoding="utf-8")), name,
                               path.name == "__init__.py", set(MODULES)):
            top = target.split(".")[0]
            if not top or top == "mathif" or top in sys.stdlib_module_names:
                continue
            dists = {d.lower().replace("_", "-") for d in distributions.get(top, [top])}
            if not dists & declared:
                missing.setdefault(top, name)
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def _loaded_after(code: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running ``code``."""
    script = code + "\nimport sys\nprint(' '.join(sorted(sys.modules)))\n"
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    return set(proc.stdout.split())


def test_a_command_loads_only_what_it_uses(tmp_path: Path, dataset) -> None:  # type: ignore[no-untyped-def]
    """Start-up cost: `import mathif` and `mathif --help` load no command, no grader, no
    backend; `mathif score` loads neither the backends' run store nor the set builder."""
    bare = _loaded_after("import mathif")
    assert not any(m.startswith(("mathif.", "numpy", "sympy")) for m in bare
                   if m not in ("mathif.version", "mathif.lazy")), sorted(
        m for m in bare if "mathif." in m)
    helped = _loaded_after(
        "from mathif import cli\ntry:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass")
    assert not {"mathif.cli.eval", "mathif.cli.score", "mathif.grading.api", "numpy"} & helped
    import json

    responses = tmp_path / "r.jsonl"
    lines = [{**item.to_record(), "response": f"The answer is \\boxed{{{item.answer}}}"}
             for item in dataset.items[:20]]
    responses.write_text("".join(json.dumps(line) + "\n" for line in lines))
    scored = _loaded_after(
        "from mathif import cli\n"
        f"assert cli.main(['score', {str(responses)!r}, '--quiet', '--grader', 'reference',"
        f" '--out', {str(tmp_path / 'out')!r}]) == 0")
    assert {"mathif.cli.score", "mathif.run", "mathif.grading.reference"} <= scored
    assert not {"mathif.grading.prose", "mathif.grading.equivalence"} & scored  # mathif's
    assert not {"mathif.cli.eval", "mathif.builder", "mathif.generation.store",
                "mathif.generation.chat", "urllib.request", "sympy"} & scored
    public = _loaded_after("import mathif\nmathif.score\nmathif.build")
    assert {"mathif.run", "mathif.builder"} <= public  # the public names still resolve
