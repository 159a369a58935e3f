"""NOC_UNITS_NOT_ONE: the cases that decide it fire, and the ones next to them do not."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize(
    ("payer_type", "units", "fires"),
    [("medicare", 2, True), ("medicare", 1, False), ("medicare", 0.5, True), ("commercial", 2, False),
     ("medicaid", 2, False), ("other", 3, False)],
)
def test_noc_units_not_one(kit: Any, rc: Any, payer_type: str, units: float, fires: bool) -> None:
    claim = rc.with_lines(kit, rc.drug_line(units=units, modifiers=["JZ"]), rc.admin_line(), payer={"id": "P9", "type": payer_type})
    assert (("NOC_UNITS_NOT_ONE", 1) in kit.fired(claim)) is fires
