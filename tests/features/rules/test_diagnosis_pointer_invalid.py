"""DIAGNOSIS_POINTER_INVALID: the cases that decide it fire, and the ones next to them do not."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize(("pointers", "fires"), [([0], True), ([2], False), ([1, 2], False), ([3], True), ([], True),
                                                 ([-1, 1], True)])
def test_diagnosis_pointers(kit: Any, rc: Any, pointers: list[int], fires: bool) -> None:
    claim = rc.with_lines(kit, rc.drug_line(), rc.admin_line(2) | {"diagnosis_pointers": pointers})  # 2 diagnoses
    assert (("DIAGNOSIS_POINTER_INVALID", 2) in kit.fired(claim)) is fires
    assert ("DIAGNOSIS_POINTER_INVALID", 1) not in kit.fired(claim)


@pytest.mark.parametrize(
    ("claim_type", "pointers", "fires"),
    [
        ("institutional", [], False),  # 837I SV2 has no pointer element: no pointer is normal
        ("institutional", [1], False),
        ("institutional", [2], False),  # the last diagnosis: still in range
        ("institutional", [3], True),  # one past the last diagnosis
        ("institutional", [0], True),
        ("institutional", [1, 3], True),
        ("professional", [], True),  # 837P SV107 is required: no pointer fires
        ("professional", [2], False),
        ("professional", [3], True),
    ],
)
def test_diagnosis_pointers_by_claim_type(kit: Any, rc: Any, claim_type: str, pointers: list[int], fires: bool) -> None:
    claim = rc.with_lines(kit, rc.drug_line(), rc.admin_line(2) | {"diagnosis_pointers": pointers}, claim_type=claim_type)
    fired = kit.fired(claim)
    assert (("DIAGNOSIS_POINTER_INVALID", 2) in fired) is fires
    assert ("DIAGNOSIS_POINTER_INVALID", 1) not in fired


def test_institutional_lines_without_pointers_fire_nothing_on_pointers(kit: Any, rc: Any) -> None:
    claim = rc.with_lines(kit, rc.drug_line(diagnosis_pointers=[]), rc.admin_line(2) | {"diagnosis_pointers": []},
                       claim_type="institutional", type_of_bill="0131")
    assert not {r for r, _ in kit.fired(claim)} & {"DIAGNOSIS_POINTER_INVALID"}
    result = kit.run_rules(rc.with_lines(kit, rc.drug_line(diagnosis_pointers=[4]), claim_type="institutional"))
    (row,) = [r for r in result.for_claim(0) if r["id"] == "DIAGNOSIS_POINTER_INVALID"]
    assert row["line_number"] == 1
    assert row["evidence"] == {"pointer_count": 1, "pointer_min": 4, "pointer_max": 4, "diagnosis_count": 2}
