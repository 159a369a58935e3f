"""UNITS_EXCEED_MUE: the golden cases of CONTRACT §3 (indicator 1 per line vs 3 per date of service,
both claim types, an inpatient bill, the payer's ``mue`` switch, NOC codes) at their boundaries.

Shipped MUE tables (practitioner and outpatient hospital, effective 2026-04-01): J9035 230 units,
indicator 3; J0716 4 units, indicator 1 outpatient and 3 practitioner; J7175 9000 units, indicator 1 (both).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from features.payer_policy import PolicySet


def j9035(number: int, units: float, date: str = "2026-01-10") -> dict[str, Any]:
    return {"line_number": number, "procedure_code": "J9035", "charge": 100.0, "units": units,
            "service_date": date, "diagnosis_pointers": [1]}


def coded(number: int, code: str, units: float) -> dict[str, Any]:
    return j9035(number, units) | {"procedure_code": code}


def outpatient(kit: Any, rc: Any, *lines: dict[str, Any], bill: str = "131") -> dict[str, Any]:
    return rc.with_lines(kit, *lines, claim_type="institutional", type_of_bill=bill, place_of_service="13")


def mue_results(kit: Any, claim: dict[str, Any], policies: PolicySet | None = None) -> list[dict[str, Any]]:
    return [r for r in kit.run_rules(claim, policies=policies).for_claim(0) if r["id"] == "UNITS_EXCEED_MUE"]


@pytest.mark.parametrize(("units", "fires"), [(230, False), (230.5, True), (231, True)])
def test_indicator_3_single_line_boundary(kit: Any, rc: Any, units: float, fires: bool) -> None:
    results = mue_results(kit, rc.with_lines(kit, j9035(1, units), rc.admin_line()))
    assert bool(results) is fires
    if fires:
        r = results[0]
        assert (r["line_number"], r["carc"], r["rarc"], r["severity"]) == (1, "151", ["N362"], "error")
        assert r["evidence"] | {"units": None} == {
            "procedure_code": "J9035", "service_date": "2026-01-10", "units": None, "mue": 230.0, "indicator": 3,
            "per": "date of service", "lines": [1], "setting": "practitioner", "mue_effective": "2026-04-01",
            "recourse": r["evidence"]["recourse"],
        }
        assert r["evidence"]["units"] == units
        assert "appeal" in r["fix"] and "230 units of J9035 per date of service" in r["fix"]


def test_indicator_3_sums_the_code_on_one_date_and_reports_once_on_the_first_line(kit: Any, rc: Any) -> None:
    claim = rc.with_lines(kit, rc.admin_line(1), j9035(2, 120), j9035(3, 5, "2026-01-11"), j9035(5, 111))
    results = mue_results(kit, claim)
    assert len(results) == 1
    assert results[0]["line_number"] == 2
    assert results[0]["evidence"]["lines"] == [2, 5] and results[0]["evidence"]["units"] == 231.0
    assert "lines 2, 5" in results[0]["message"]
    at_limit = rc.with_lines(kit, rc.admin_line(1), j9035(2, 120), j9035(3, 200, "2026-01-11"), j9035(5, 110))
    assert mue_results(kit, at_limit) == []


def test_indicator_1_edits_each_line_not_the_day(kit: Any, rc: Any) -> None:
    # J0716: outpatient MUE 4, indicator 1. Two lines of 4 on one date pass; a line of 5 fails alone.
    assert mue_results(kit, outpatient(kit, rc, coded(1, "J0716", 4), coded(2, "J0716", 4))) == []
    results = mue_results(kit, outpatient(kit, rc, coded(1, "J0716", 4), coded(2, "J0716", 5), coded(3, "J0716", 6)))
    assert [(r["line_number"], r["evidence"]["lines"], r["evidence"]["units"]) for r in results] == [
        (2, [2], 5.0), (3, [3], 6.0),
    ]
    r = results[0]
    assert (r["evidence"]["indicator"], r["evidence"]["per"], r["evidence"]["setting"]) == (1, "line", "outpatient")
    assert "per line" in r["fix"] and "modifier" in r["fix"]


def test_claim_types_pick_their_table_and_inpatient_bills_are_not_edited(kit: Any, rc: Any) -> None:
    # J0716: practitioner 4 units indicator 3, outpatient 4 units indicator 1; Q4005 outpatient only.
    assert mue_results(kit, rc.with_lines(kit, coded(1, "J0716", 3), coded(2, "J0716", 2)))[0]["evidence"] | {
        "recourse": None} == {
        "procedure_code": "J0716", "service_date": "2026-01-10", "units": 5.0, "mue": 4.0, "indicator": 3,
        "per": "date of service", "lines": [1, 2], "setting": "practitioner", "mue_effective": "2026-04-01",
        "recourse": None,
    }
    assert mue_results(kit, outpatient(kit, rc, coded(1, "J0716", 3), coded(2, "J0716", 2))) == []
    assert mue_results(kit, rc.with_lines(kit, coded(1, "Q4005", 999))) == []
    for bill in ("131", "0131", "851"):
        assert [r["line_number"] for r in mue_results(kit, outpatient(kit, rc, coded(1, "J0716", 9), bill=bill))] == [1]
        assert mue_results(kit, outpatient(kit, rc, coded(1, "Q4005", 999), bill=bill))
    for bill in ("111", "0111", "121", None):
        assert mue_results(kit, outpatient(kit, rc, j9035(1, 999), bill=bill)) == []
    assert mue_results(kit, outpatient(kit, rc, j9035(1, 231)))[0]["evidence"]["setting"] == "outpatient"


def test_earlier_dates_take_the_earliest_table(kit: Any, rc: Any) -> None:
    old = mue_results(kit, rc.with_lines(kit, j9035(1, 231, "2024-02-01")))
    assert old and old[0]["evidence"]["mue_effective"] == "2026-04-01"


def test_zero_mue_means_never_payable_in_that_setting(kit: Any, rc: Any) -> None:
    # J1817 has an MUE of 0 units in both tables.
    assert [r["evidence"]["mue"] for r in mue_results(kit, rc.with_lines(kit, coded(1, "J1817", 1)))] == [0.0]


def test_noc_codes_and_codes_without_an_mue_are_not_edited(kit: Any, rc: Any) -> None:
    assert mue_results(kit, rc.with_lines(kit, rc.drug_line(units=99999), rc.admin_line())) == []
    assert mue_results(kit, rc.with_lines(kit, rc.admin_line(1, code="96365") | {"units": 99})) == []
    assert mue_results(kit, rc.with_lines(kit, coded(1, "J9999", 500))) == []


def test_payer_policy_can_turn_the_edit_off(kit: Any, rc: Any, tmp_path: Path) -> None:
    claim = rc.with_lines(kit, j9035(1, 300))
    assert mue_results(kit, claim)
    (tmp_path / "EXHP1.yaml").write_text("mue: false\n")
    assert mue_results(kit, claim, PolicySet.load(tmp_path)) == []
    assert mue_results(kit, claim | {"payer": {"id": "OTHER", "type": "commercial"}}, PolicySet.load(tmp_path))


def test_indicator_2_is_not_appealable(kit: Any, rc: Any) -> None:
    # J1414: MUE 1 unit, indicator 2 (date of service, CMS policy)
    results = mue_results(kit, outpatient(kit, rc, coded(1, "J1414", 1), coded(2, "J1414", 1)))
    assert [(r["line_number"], r["evidence"]["lines"], r["evidence"]["indicator"]) for r in results] == [(1, [1, 2], 2)]
    assert "not appealable" in results[0]["fix"]


def test_batch_equals_one_claim_at_a_time(kit: Any, rc: Any) -> None:
    claims = [
        rc.with_lines(kit, j9035(1, 120), j9035(2, 111)),
        outpatient(kit, rc, coded(1, "J0716", 5), j9035(2, 240)),
        outpatient(kit, rc, j9035(1, 999), bill="111"),
        rc.with_lines(kit, j9035(3, 100), rc.admin_line(4), j9035(7, 131)),
    ]
    batch = kit.run_rules(*claims).results()
    assert batch == [kit.run_rules(c).for_claim(0) for c in claims]
    assert sum(r["id"] == "UNITS_EXCEED_MUE" for rs in batch for r in rs) == 4
