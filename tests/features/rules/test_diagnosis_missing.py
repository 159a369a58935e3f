"""DIAGNOSIS_MISSING: the cases that decide it fire, and the ones next to them do not."""

from __future__ import annotations

from typing import Any


def test_diagnosis_missing_is_claim_level(kit: Any, rc: Any) -> None:
    claim = rc.with_lines(kit, rc.drug_line(diagnosis_pointers=[]), rc.admin_line() | {"diagnosis_pointers": []},
                       diagnosis_codes=[])
    assert kit.fired(claim) == {("DIAGNOSIS_MISSING", None), ("DIAGNOSIS_POINTER_INVALID", 1),
                                ("DIAGNOSIS_POINTER_INVALID", 2)}
