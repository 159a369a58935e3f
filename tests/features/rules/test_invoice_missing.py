"""INVOICE_MISSING: the cases that decide it fire, and the ones next to them do not."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize(
    ("attachments", "fires"),
    [
        ([{"report_type": "OZ", "transmission": "FX"}], False),  # claim level
        ([{"report_type": "04", "transmission": "EL"}], False),
        ([{"report_type": "OZ", "transmission": "FX", "line_number": 1}], False),  # this line
        ([{"report_type": "OZ", "transmission": "FX", "line_number": 2}], True),  # another line
        ([{"report_type": "OZ", "transmission": "AA"}], True),  # not sent
        ([{"report_type": "03", "transmission": "FX"}], True),  # not an invoice type
        ([], True),
    ],
)
def test_invoice_missing(kit: Any, rc: Any, attachments: list[dict[str, Any]], fires: bool) -> None:
    claim = rc.with_lines(kit, rc.drug_line(), rc.admin_line(), attachments=attachments)
    assert (("INVOICE_MISSING", 1) in kit.fired(claim)) is fires
    assert ("INVOICE_MISSING", 2) not in kit.fired(claim)
