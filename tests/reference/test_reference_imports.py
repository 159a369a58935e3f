"""``reference`` sits just above ``claims``: it may use claims' errors, nothing of the layers above."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT = {"claims", "edi", "reference", "inputs", "features", "synthetic", "training", "serving", "claimrisk"}


def test_reference_imports_only_claims() -> None:
    found: set[str] = set()
    for path in (ROOT / "reference").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):  # function-level imports count too
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    assert found & PROJECT <= {"claims", "reference"}
