"""CHARGE_INVALID: the cases that decide it fire, and the ones next to them do not."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize(
    ("delta", "fires"), [(0.0, False), (0.01, False), (-0.01, False), (0.02, True), (-0.02, True)]
)
def test_total_charge_tolerance(kit: Any, rc: Any, delta: float, fires: bool) -> None:
    claim = rc.with_lines(kit, rc.drug_line(charge=1000.07), rc.admin_line())
    claim["total_charge"] = round(1250.07 + delta, 2)
    assert (("CHARGE_INVALID", None) in kit.fired(claim)) is fires


@pytest.mark.parametrize(("charge", "fires"), [(0.0, True), (-10.0, True), (0.01, False)])
def test_line_charge(kit: Any, rc: Any, charge: float, fires: bool) -> None:
    claim = rc.with_lines(kit, rc.drug_line(), rc.admin_line(2) | {"charge": charge})
    found = kit.fired(claim)
    assert (("CHARGE_INVALID", 2) in found) is fires
    assert ("CHARGE_INVALID", None) not in found  # the total still equals the sum


def test_missing_total_is_claim_level_charge_problem(kit: Any, rc: Any) -> None:
    claim = rc.with_lines(kit, rc.drug_line(), rc.admin_line())
    del claim["total_charge"]
    assert kit.fired(claim) == {("CHARGE_INVALID", None)}
