"""DESCRIPTION_INCOMPLETE: the cases that decide it fire, and the ones next to them do not."""

from __future__ import annotations

from typing import Any


def test_description_rules_only_for_noc_codes(kit: Any, rc: Any) -> None:
    line = rc.drug_line(procedure_code="J9035", description=None, units=20,
                     drug={"ndc": "50242-0060-01", "quantity": 2, "unit": "UN"})
    assert kit.fired(rc.with_lines(kit, line, rc.admin_line())) == set()
