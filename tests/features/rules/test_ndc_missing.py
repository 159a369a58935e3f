"""NDC_MISSING: the cases that decide it fire, and the ones next to them do not."""

from __future__ import annotations

from typing import Any


def test_ndc_missing_needs_a_drug_line(kit: Any, rc: Any) -> None:
    no_block = rc.with_lines(kit, rc.drug_line(drug=None), rc.admin_line())
    assert kit.fired(no_block) == {("NDC_MISSING", 1)}
    specific = rc.with_lines(kit, rc.drug_line(procedure_code="J9035", drug=None), rc.admin_line())
    assert ("NDC_MISSING", 1) in kit.fired(specific)
    office_visit = rc.with_lines(kit, rc.admin_line(1, "99213"))
    assert kit.fired(office_visit) == set()
