"""Imports flow one way, and no module imports itself back through others.

The layers, lowest first (docs/architecture.md): a module may import its own package and the
packages of lower layers, never a higher layer or another package of its own layer. Function-level
imports count: a deferred import is still a dependency, it only hides the cycle until run time.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS: list[set[str]] = [
    {"claims"},
    {"edi", "reference"},
    {"inputs"},
    {"features", "synthetic"},
    {"training"},
    {"worklist"},
    {"serving"},
    {"claimrisk"},
]
LAYER_OF = {package: level for level, packages in enumerate(LAYERS) for package in packages}


def _modules() -> dict[str, Path]:
    """Dotted name -> file, for every shipped module of the project's packages."""
    out: dict[str, Path] = {}
    for package in LAYER_OF:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The project module an import names (the longest known prefix), or None for a third party."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in MODULES:
            return candidate
        parts.pop()
    return None


def _imports(module: str, path: Path) -> Iterator[tuple[int, str]]:
    """(line, imported project module) for every import statement, at any depth of the file."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            target = _resolve(name)
            if target is not None and target != module:
                yield node.lineno, target


GRAPH = {module: sorted({t for _, t in _imports(module, path)}) for module, path in MODULES.items()}


def test_layers_import_downward_only() -> None:
    wrong = []
    for module, path in MODULES.items():
        own = module.split(".")[0]
        for line, target in _imports(module, path):
            other = target.split(".")[0]
            if other != own and LAYER_OF[other] >= LAYER_OF[own]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} {module} imports {target}")
    assert not wrong, "imports against the layer order:\n" + "\n".join(wrong)


def _cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(graph.get(nxt, []))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_no_import_cycles() -> None:
    cycles = _cycles(GRAPH)
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": ["b"], "b": ["c"], "c": []}, []),
        ({"a": ["b"], "b": ["a"], "c": ["a"]}, [["a", "b"]]),
        ({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["d"]}, [["a", "b", "c"]]),
    ],
)
def test_the_cycle_finder_finds_cycles(graph: dict[str, list[str]], expected: list[list[str]]) -> None:
    assert _cycles(graph) == expected


def test_the_layer_check_sees_function_level_imports(tmp_path: Path) -> None:
    source = "def f():\n    from serving.scorer import Scorer\n    return Scorer\n"
    path = tmp_path / "x.py"
    path.write_text(source)
    assert [t for _, t in _imports("features.x", path)] == ["serving.scorer"]
