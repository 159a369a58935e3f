"""NDC_INVALID: the cases that decide it fire, and the ones next to them do not."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize(
    ("ndc", "expected"),
    [
        ("99999-0123-01", set()),  # 5-4-2
        ("99999012301", set()),  # 11 digits
        ("9999-0123-01", set()),  # 4-4-2 -> padded
        ("99999-123-01", set()),  # 5-3-2
        ("99999-0123-1", set()),  # 5-4-1
        ("9999901230", {("NDC_INVALID", 1)}),  # bare 10 digits: ambiguous
        ("999-0123-01", {("NDC_INVALID", 1)}),  # 3-4-2 is no FDA shape
        ("99999-0123-011", {("NDC_INVALID", 1)}),
        ("ABCDE-0123-01", {("NDC_INVALID", 1)}),
        (None, {("NDC_MISSING", 1)}),
        ("", {("NDC_MISSING", 1)}),
    ],
)
def test_ndc_forms(kit: Any, rc: Any, ndc: str | None, expected: set[tuple[str, int]]) -> None:
    claim = rc.with_lines(kit, rc.drug_line(drug={"ndc": ndc, "quantity": 20, "unit": "ML"}), rc.admin_line())
    assert kit.fired(claim) == expected


def test_ndc_invalid_evidence_names_the_value(kit: Any, rc: Any) -> None:
    claim = rc.with_lines(kit, rc.admin_line(1), rc.drug_line(line_number=2, drug={"ndc": "9999901230", "quantity": 1, "unit": "UN"}))
    (result,) = kit.run_rules(claim).for_claim(0)
    assert result["id"] == "NDC_INVALID" and result["line_number"] == 2
    assert result["evidence"]["ndc"] == "9999901230"
