"""ADMIN_CODE_MISSING: the cases that decide it fire, and the ones next to them do not."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize(
    ("admin_code", "fires"),
    [("96360", False), ("96379", False), ("96380", True), ("96401", False), ("96549", False), ("96550", True),
     ("99213", True)],
)
def test_admin_code_range(kit: Any, rc: Any, admin_code: str, fires: bool) -> None:
    claim = rc.with_lines(kit, rc.drug_line(), rc.admin_line(2, admin_code))
    assert (("ADMIN_CODE_MISSING", None) in kit.fired(claim)) is fires


def test_admin_code_not_for_institutional_or_specific_codes(kit: Any, rc: Any) -> None:
    assert "ADMIN_CODE_MISSING" not in kit.rule_ids(rc.with_lines(kit, rc.drug_line(), claim_type="institutional"))
    line = rc.drug_line(procedure_code="J9035", units=20, drug={"ndc": "50242-0060-01", "quantity": 2, "unit": "UN"})
    assert "ADMIN_CODE_MISSING" not in kit.rule_ids(rc.with_lines(kit, line))
