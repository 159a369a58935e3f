"""SPECIFIC_CODE_EXISTS: the cases that decide it fire, and the ones next to them do not."""

from __future__ import annotations

from typing import Any

import pytest


# NDC 00024-5924-10 is listed under J1817 only from the 2026Q1 crosswalk on (effective 2026-01-01).
@pytest.mark.parametrize(("service_date", "fires"), [("2025-12-31", False), ("2026-01-01", True)])
def test_specific_code_exists_by_service_quarter(kit: Any, rc: Any, service_date: str, fires: bool) -> None:
    line = rc.drug_line(service_date=service_date, drug={"ndc": "00024-5924-10", "quantity": 1, "unit": "ML"})
    claim = rc.with_lines(kit, line, rc.admin_line() | {"service_date": service_date})
    results = {r["id"]: r for r in kit.run_rules(claim).for_claim(0)}
    assert ("SPECIFIC_CODE_EXISTS" in results) is fires
    if fires:
        result = results["SPECIFIC_CODE_EXISTS"]
        assert result["line_number"] == 1 and result["carc"] == "189" and result["rarc"] == ["N657"]
        assert result["evidence"]["specific_codes"] == ["J1817"] and result["evidence"]["quarter"] == "2026Q1"
        assert "J1817" in result["message"] and "J1817" in result["fix"]


def test_specific_code_uses_submission_date_when_service_date_missing(kit: Any, rc: Any) -> None:
    line = rc.drug_line(service_date=None, drug={"ndc": "00024-5924-10", "quantity": 1, "unit": "ML"})
    claim = rc.with_lines(kit, line, rc.admin_line())
    assert ("SPECIFIC_CODE_EXISTS", 1) in kit.fired(claim)
