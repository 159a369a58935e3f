"""UNITS_MISMATCH: the cases that decide it fire, and the ones next to them do not."""

from __future__ import annotations

from typing import Any

import pytest


# J9035 / NDC 50242-0060-01 (Avastin 100 MG/4 ML): BILLUNITS 10 per item in every shipped quarter.
@pytest.mark.parametrize(
    ("quantity", "units", "fires"),
    [
        (2, 20, False),  # expected 20, tolerance max(1, 2) = 2
        (2, 22, False),  # exactly at +10 %
        (2, 22.01, True),
        (2, 18, False),  # exactly at -10 %
        (2, 17.99, True),
        (0.05, 1.5, False),  # expected 0.5: the 1-unit floor applies
        (0.05, 1.51, True),
        (1, 11, False),  # expected 10: 10 % == 1 unit
        (1, 11.5, True),
    ],
)
def test_units_mismatch_tolerance(kit: Any, rc: Any, quantity: float, units: float, fires: bool) -> None:
    line = rc.drug_line(procedure_code="J9035", units=units, description=None,
                     drug={"ndc": "50242-0060-01", "quantity": quantity, "unit": "UN"})
    claim = rc.with_lines(kit, rc.admin_line(1), line | {"line_number": 2})
    results = {r["id"]: r for r in kit.run_rules(claim).for_claim(0)}
    assert ("UNITS_MISMATCH" in results) is fires
    if fires:
        evidence = results["UNITS_MISMATCH"]["evidence"]
        assert results["UNITS_MISMATCH"]["line_number"] == 2
        assert evidence["bill_units"] == 10.0 and evidence["expected_units"] == pytest.approx(quantity * 10)
        assert evidence["quarter"] == "2026Q1"


def test_units_mismatch_only_for_un_and_specific_codes(kit: Any, rc: Any) -> None:
    ml = rc.drug_line(procedure_code="J9035", units=99, drug={"ndc": "50242-0060-01", "quantity": 2, "unit": "ML"})
    assert "UNITS_MISMATCH" not in kit.rule_ids(rc.with_lines(kit, ml, rc.admin_line()))
    noc = rc.drug_line(procedure_code="J3490", units=99, drug={"ndc": "50242-0060-01", "quantity": 2, "unit": "UN"})
    assert "UNITS_MISMATCH" not in kit.rule_ids(rc.with_lines(kit, noc, rc.admin_line()))
    other_code = rc.drug_line(procedure_code="J1817", units=99, drug={"ndc": "50242-0060-01", "quantity": 2, "unit": "UN"})
    ids = kit.rule_ids(rc.with_lines(kit, other_code, rc.admin_line()))
    assert "UNITS_MISMATCH" not in ids and "NDC_HCPCS_MISMATCH" in ids
