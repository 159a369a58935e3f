"""Claim builders shared by the per-rule tests (one test file per rule, named after it)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest


def drug_line(**changes: Any) -> dict[str, Any]:
    line: dict[str, Any] = {
        "line_number": 1, "procedure_code": "J3490", "description": "EXAMPLEMAB 100MG IV", "charge": 1000.0,
        "units": 1, "service_date": "2026-01-10", "diagnosis_pointers": [1],
        "drug": {"ndc": "99999-0123-01", "quantity": 20, "unit": "ML"},
    }
    line.update(changes)
    return line


def admin_line(number: int = 2, code: str = "96365") -> dict[str, Any]:
    return {"line_number": number, "procedure_code": code, "charge": 250.0, "units": 1,
            "service_date": "2026-01-10", "diagnosis_pointers": [1]}


def with_lines(kit: Any, *lines: dict[str, Any], **changes: Any) -> dict[str, Any]:
    total = round(sum(line.get("charge") or 0.0 for line in lines), 2)
    return kit.make_claim(lines=list(lines), total_charge=total, **changes)


@pytest.fixture
def rc() -> SimpleNamespace:
    """``rc.drug_line(...)``, ``rc.admin_line(...)``, ``rc.with_lines(kit, ...)``: a NOC drug line, an
    administration line and a claim of such lines with a balanced total."""
    return SimpleNamespace(drug_line=drug_line, admin_line=admin_line, with_lines=with_lines)
