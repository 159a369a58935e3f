"""NDC_UNIT_INVALID: the cases that decide it fire, and the ones next to them do not."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize(
    ("unit", "fires"), [("F2", False), ("GR", False), ("ME", False), ("ML", False), ("UN", False),
                        ("XX", True), (None, True), ("MG", True)],
)
def test_ndc_unit(kit: Any, rc: Any, unit: str | None, fires: bool) -> None:
    claim = rc.with_lines(kit, rc.drug_line(drug={"ndc": "99999-0123-01", "quantity": 2, "unit": unit}), rc.admin_line())
    assert (("NDC_UNIT_INVALID", 1) in kit.fired(claim)) is fires
