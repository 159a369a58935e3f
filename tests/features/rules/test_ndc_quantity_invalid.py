"""NDC_QUANTITY_INVALID: the cases that decide it fire, and the ones next to them do not."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize(("quantity", "fires"), [(0, True), (-1, True), (None, True), (0.001, False), (20, False)])
def test_ndc_quantity(kit: Any, rc: Any, quantity: float | None, fires: bool) -> None:
    claim = rc.with_lines(kit, rc.drug_line(drug={"ndc": "99999-0123-01", "quantity": quantity, "unit": "ML"}), rc.admin_line())
    assert (("NDC_QUANTITY_INVALID", 1) in kit.fired(claim)) is fires
