"""DOCUMENTATION_MISSING: the cases that decide it fire, and the ones next to them do not."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize(
    ("payer_type", "attachments", "fires"),
    [
        ("medicaid", [], True),
        ("medicaid", [{"report_type": "OZ", "transmission": "AA"}], True),
        ("medicaid", [{"report_type": "09", "transmission": "FX"}], False),
        ("medicaid", [{"report_type": "09", "transmission": "FX", "line_number": 1}], False),
        ("commercial", [], False),
        ("medicare", [], False),
    ],
)
def test_documentation_missing(kit: Any, rc: Any, payer_type: str, attachments: list[dict[str, Any]], fires: bool) -> None:
    claim = rc.with_lines(kit, rc.drug_line(modifiers=["JZ"]), rc.admin_line(), attachments=attachments,
                       payer={"id": "P1", "type": payer_type})
    assert (("DOCUMENTATION_MISSING", 1) in kit.fired(claim)) is fires
