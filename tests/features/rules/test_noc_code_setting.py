"""NOC_CODE_SETTING: the cases that decide it fire, and the ones next to them do not."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize(("claim_type", "fires"), [("professional", True), ("institutional", False)])
def test_c9399_setting(kit: Any, rc: Any, claim_type: str, fires: bool) -> None:
    claim = rc.with_lines(kit, rc.admin_line(1), rc.drug_line(line_number=2, procedure_code="C9399"), claim_type=claim_type)
    assert (("NOC_CODE_SETTING", 2) in kit.fired(claim)) is fires
    j3490 = rc.with_lines(kit, rc.admin_line(1), rc.drug_line(line_number=2), claim_type=claim_type)
    assert "NOC_CODE_SETTING" not in kit.rule_ids(j3490)
