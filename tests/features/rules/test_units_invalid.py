"""UNITS_INVALID: the cases that decide it fire, and the ones next to them do not."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize(("units", "fires"), [(0, True), (-2, True), (0.001, False), (1, False)])
def test_units_invalid(kit: Any, rc: Any, units: float, fires: bool) -> None:
    claim = rc.with_lines(kit, rc.drug_line(), rc.admin_line(2) | {"units": units})
    assert (("UNITS_INVALID", 2) in kit.fired(claim)) is fires
