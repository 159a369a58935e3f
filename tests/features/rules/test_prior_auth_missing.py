"""PRIOR_AUTH_MISSING: the cases that decide it fire, and the ones next to them do not."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize(
    ("payer_type", "claim_pa", "line_pa", "fires"),
    [("commercial", None, None, True), ("commercial", "PA1", None, False), ("commercial", None, "LPA", False),
     ("medicaid", None, None, True), ("medicare", None, None, False), ("other", None, None, False)],
)
def test_prior_auth(kit: Any, rc: Any, payer_type: str, claim_pa: str | None, line_pa: str | None, fires: bool) -> None:
    claim = rc.with_lines(kit, rc.drug_line(prior_authorization=line_pa, modifiers=["JZ"]), rc.admin_line(),
                       prior_authorization=claim_pa, payer={"id": "P1", "type": payer_type})
    assert (("PRIOR_AUTH_MISSING", 1) in kit.fired(claim)) is fires
