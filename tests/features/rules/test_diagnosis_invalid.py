"""DIAGNOSIS_INVALID: the cases that decide it fire, and the ones next to them do not."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize(
    ("codes", "fires", "bad"),
    [(["M06.9"], False, []), (["m069"], False, []), (["M06"], True, ["M06"]), (["M06.9", "ZZZ.99"], True, ["ZZZ.99"])],
)
def test_diagnosis_invalid(kit: Any, rc: Any, codes: list[str], fires: bool, bad: list[str]) -> None:
    claim = rc.with_lines(kit, rc.drug_line(), rc.admin_line(), diagnosis_codes=codes)
    results = {r["id"]: r for r in kit.run_rules(claim).for_claim(0)}
    assert ("DIAGNOSIS_INVALID" in results) is fires
    if fires:
        assert results["DIAGNOSIS_INVALID"]["line_number"] is None
        assert results["DIAGNOSIS_INVALID"]["evidence"]["codes"] == bad
