"""TIMELY_FILING: the cases that decide it fire, and the ones next to them do not."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest


@pytest.mark.parametrize(
    ("payer_type", "days", "fires"),
    [("commercial", 180, False), ("commercial", 181, True), ("other", 365, False), ("other", 366, True),
     ("medicare", 365, False), ("medicare", 366, True)],
)
def test_timely_filing_boundary(kit: Any, rc: Any, payer_type: str, days: int, fires: bool) -> None:
    submission = dt.date(2026, 1, 15)
    early = (submission - dt.timedelta(days=days)).isoformat()
    late = (submission - dt.timedelta(days=3)).isoformat()
    claim = rc.with_lines(kit, rc.drug_line(service_date=late, modifiers=["JZ"], units=1),
                       rc.admin_line(2) | {"service_date": early}, submission_date=submission.isoformat(),
                       payer={"id": "P1", "type": payer_type})
    results = {r["id"]: r for r in kit.run_rules(claim).for_claim(0)}
    assert ("TIMELY_FILING" in results) is fires
    if fires:
        assert results["TIMELY_FILING"]["line_number"] is None
        assert results["TIMELY_FILING"]["evidence"]["days_since_service"] == days
        assert results["TIMELY_FILING"]["evidence"]["earliest_service_date"] == early
