"""WASTE_MODIFIER_MISSING: the cases that decide it fire, and the ones next to them do not."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize(
    ("payer_type", "modifiers", "fires"),
    [("medicare", [], True), ("medicare", ["JW"], False), ("medicare", ["59", "JZ"], False), ("commercial", [], False)],
)
def test_waste_modifier(kit: Any, rc: Any, payer_type: str, modifiers: list[str], fires: bool) -> None:
    claim = rc.with_lines(kit, rc.drug_line(modifiers=modifiers), rc.admin_line(), payer={"id": "P1", "type": payer_type})
    assert (("WASTE_MODIFIER_MISSING", 1) in kit.fired(claim)) is fires
    assert ("WASTE_MODIFIER_MISSING", 2) not in kit.fired(claim)  # the admin line is not a drug line
