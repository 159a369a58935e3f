"""NDC_HCPCS_MISMATCH: the cases that decide it fire, and the ones next to them do not."""

from __future__ import annotations

from typing import Any


def test_ndc_hcpcs_mismatch(kit: Any, rc: Any) -> None:
    line = rc.drug_line(procedure_code="J9035", drug={"ndc": "00024-5924-10", "quantity": 1, "unit": "ML"})
    claim = rc.with_lines(kit, rc.admin_line(1), line | {"line_number": 2})
    results = {r["id"]: r for r in kit.run_rules(claim).for_claim(0)}
    assert results["NDC_HCPCS_MISMATCH"]["line_number"] == 2
    assert results["NDC_HCPCS_MISMATCH"]["evidence"]["listed_codes"] == ["J1817"]
    matching = rc.drug_line(procedure_code="J9035", units=20, drug={"ndc": "50242-0060-01", "quantity": 2, "unit": "UN"})
    assert kit.rule_ids(rc.with_lines(kit, matching, rc.admin_line())) == set()
    unknown_ndc = rc.drug_line(procedure_code="J9035", drug={"ndc": "99999-0123-01", "quantity": 2, "unit": "ML"})
    assert kit.rule_ids(rc.with_lines(kit, unknown_ndc, rc.admin_line())) == set()
