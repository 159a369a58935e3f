"""The catalog is the one description of the simulated world: the generator reads every habit and
answer from it, and writes the remittance codes it names (so its comments and data cannot drift
from what the histories contain)."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from features.rules.catalog import DEFAULT_NOC_CODES
from reference.store import load_reference
from synthetic import catalog as cat
from synthetic.history import batch_bytes
from synthetic.world import CAUSES, build_world

ROOT = Path(__file__).resolve().parents[2]


def _imported_packages(package: str) -> set[str]:
    """Top-level packages that any module of ``package`` imports, function-level imports included."""
    found: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found


def test_synthetic_imports_only_claims_edi_and_reference() -> None:
    """The generator must not learn from the model it is meant to test: no features, training or serving."""
    project = {"claims", "edi", "reference", "inputs", "features", "synthetic", "training", "serving", "claimrisk"}
    assert _imported_packages("synthetic") & project <= {"claims", "edi", "reference", "synthetic"}


def test_every_habit_is_drawn_and_every_drawn_habit_is_in_the_catalog() -> None:
    drawn = {
        node.args[2].value
        for module in ("generate.py", "pricing.py")
        for node in ast.walk(ast.parse((ROOT / "synthetic" / module).read_text()))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("_habit", "habit")
        and isinstance(node.args[2], ast.Constant)
    }
    assert drawn == set(cat.HABITS)


def test_defects_hazards_and_signatures_name_the_same_causes() -> None:
    world = build_world(2, load_reference())
    from synthetic.generate import generate_batch

    batch = generate_batch(world, np.random.default_rng(2), 0, 500)
    judged = set(batch.line_defects) | set(batch.claim_defects)
    assert judged == set(cat.DEFECT_BASE_HAZARD)
    assert set(batch.claim_defects) == cat.CLAIM_LEVEL_CAUSES
    assert set(cat.SIGNATURES) == set(CAUSES)


def test_noc_codes_billed_are_the_ones_the_rules_treat_as_noc() -> None:
    assert set(cat.CLASS_NOC_CODE.values()) | {cat.OPPS_NOC_CODE} <= set(DEFAULT_NOC_CODES)


def test_remittance_codes_come_from_the_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    """Changing a signature in the catalog changes the remittance rows (nothing hard-codes it)."""
    monkeypatch.setattr(cat, "CONTRACTUAL_REASON", "X45")
    monkeypatch.setattr(cat, "REDUCTION_SIGNATURE", ("CO", "X151", ("XN362",)))
    monkeypatch.setattr(cat, "PENDING_SIGNATURE", ("OA", "X133", ()))
    monkeypatch.setattr(cat, "UNITS_MUE_SIGNATURE", ("CO", "Y151", ("YN362",)))
    monkeypatch.setitem(cat.SIGNATURES, "UNITS_EXCEED_MUE", ("CO", "Z151", ("ZN362",)))
    world = build_world(9, load_reference())
    _, rows, _, _ = batch_bytes(world, 0, 0, 3000, 0)
    text = rows.decode()
    for code in ('"reason":"X45"', '"reason":"X151"', '"XN362"', '"group":"OA","reason":"X133"'):
        assert code in text
    for old in ('"reason":"45"', '"reason":"151"', '"N362"', '"reason":"133"'):
        assert old not in text
