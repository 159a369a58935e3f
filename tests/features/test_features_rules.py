"""Every rule of CONTRACT §3 fires at its boundary and not just inside it, on the exact line."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from features.rules.catalog import RULES


def drug_line(**changes: Any) -> dict[str, Any]:
    line: dict[str, Any] = {
        "line_number": 1, "procedure_code": "J3490", "description": "EXAMPLEMAB 100MG IV", "charge": 1000.0,
        "units": 1, "service_date": "2026-01-10", "diagnosis_pointers": [1],
        "drug": {"ndc": "99999-0123-01", "quantity": 20, "unit": "ML"},
    }
    line.update(changes)
    return line


def admin_line(number: int = 2, code: str = "96365") -> dict[str, Any]:
    return {"line_number": number, "procedure_code": code, "charge": 250.0, "units": 1,
            "service_date": "2026-01-10", "diagnosis_pointers": [1]}


def with_lines(kit: Any, *lines: dict[str, Any], **changes: Any) -> dict[str, Any]:
    total = round(sum(line.get("charge") or 0.0 for line in lines), 2)
    return kit.make_claim(lines=list(lines), total_charge=total, **changes)


def test_base_claim_is_clean(kit: Any) -> None:
    assert kit.fired(kit.BASE_CLAIM) == set()


def test_catalog_covers_contract_rules() -> None:
    contract = {
        "NDC_MISSING", "NDC_INVALID", "NDC_QUANTITY_INVALID", "NDC_UNIT_INVALID", "UNITS_INVALID",
        "NOC_UNITS_NOT_ONE", "UNITS_MISMATCH", "SPECIFIC_CODE_EXISTS", "NDC_HCPCS_MISMATCH",
        "DESCRIPTION_MISSING", "DESCRIPTION_INCOMPLETE", "INVOICE_MISSING", "DOCUMENTATION_MISSING",
        "DIAGNOSIS_MISSING", "DIAGNOSIS_INVALID", "DIAGNOSIS_POINTER_INVALID", "PRIOR_AUTH_MISSING",
        "ADMIN_CODE_MISSING", "WASTE_MODIFIER_MISSING", "NOC_CODE_SETTING", "TIMELY_FILING", "CHARGE_INVALID",
    }
    assert set(RULES) == contract
    assert RULES["ADMIN_CODE_MISSING"].severity == "warning" and RULES["ADMIN_CODE_MISSING"].carc is None
    assert RULES["WASTE_MODIFIER_MISSING"].severity == "warning" and RULES["WASTE_MODIFIER_MISSING"].carc == "4"
    assert (RULES["SPECIFIC_CODE_EXISTS"].carc, RULES["SPECIFIC_CODE_EXISTS"].rarc) == ("189", ("N657",))
    assert (RULES["TIMELY_FILING"].carc, RULES["TIMELY_FILING"].rarc) == ("29", ())
    assert (RULES["DOCUMENTATION_MISSING"].carc, RULES["DOCUMENTATION_MISSING"].rarc) == ("252", ("N706",))


def test_result_objects_follow_the_contract(kit: Any) -> None:
    claim = with_lines(kit, drug_line(line_number=3, units=0), diagnosis_codes=[])
    results = kit.run_rules(claim).for_claim(0)
    keys = {"id", "line_number", "severity", "message", "evidence", "carc", "rarc", "fix"}
    assert all(set(r) == keys for r in results)
    assert [(r["line_number"] or 0, r["id"]) for r in results] == sorted((r["line_number"] or 0, r["id"]) for r in results)
    units = next(r for r in results if r["id"] == "UNITS_INVALID")
    assert units["line_number"] == 3 and units["evidence"] == {"units": 0.0} and units["rarc"] == ["M53"]
    assert "0" in units["message"]
    missing = next(r for r in results if r["id"] == "DIAGNOSIS_MISSING")
    assert missing["line_number"] is None


# ------------------------------------------------------------------------------------- NDC
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
def test_ndc_forms(kit: Any, ndc: str | None, expected: set[tuple[str, int]]) -> None:
    claim = with_lines(kit, drug_line(drug={"ndc": ndc, "quantity": 20, "unit": "ML"}), admin_line())
    assert kit.fired(claim) == expected


def test_ndc_missing_needs_a_drug_line(kit: Any) -> None:
    no_block = with_lines(kit, drug_line(drug=None), admin_line())
    assert kit.fired(no_block) == {("NDC_MISSING", 1)}
    specific = with_lines(kit, drug_line(procedure_code="J9035", drug=None), admin_line())
    assert ("NDC_MISSING", 1) in kit.fired(specific)
    office_visit = with_lines(kit, admin_line(1, "99213"))
    assert kit.fired(office_visit) == set()


def test_ndc_invalid_evidence_names_the_value(kit: Any) -> None:
    claim = with_lines(kit, admin_line(1), drug_line(line_number=2, drug={"ndc": "9999901230", "quantity": 1, "unit": "UN"}))
    (result,) = kit.run_rules(claim).for_claim(0)
    assert result["id"] == "NDC_INVALID" and result["line_number"] == 2
    assert result["evidence"]["ndc"] == "9999901230"


@pytest.mark.parametrize(("quantity", "fires"), [(0, True), (-1, True), (None, True), (0.001, False), (20, False)])
def test_ndc_quantity(kit: Any, quantity: float | None, fires: bool) -> None:
    claim = with_lines(kit, drug_line(drug={"ndc": "99999-0123-01", "quantity": quantity, "unit": "ML"}), admin_line())
    assert (("NDC_QUANTITY_INVALID", 1) in kit.fired(claim)) is fires


@pytest.mark.parametrize(
    ("unit", "fires"), [("F2", False), ("GR", False), ("ME", False), ("ML", False), ("UN", False),
                        ("XX", True), (None, True), ("MG", True)],
)
def test_ndc_unit(kit: Any, unit: str | None, fires: bool) -> None:
    claim = with_lines(kit, drug_line(drug={"ndc": "99999-0123-01", "quantity": 2, "unit": unit}), admin_line())
    assert (("NDC_UNIT_INVALID", 1) in kit.fired(claim)) is fires


# ------------------------------------------------------------------------------------- units
@pytest.mark.parametrize(("units", "fires"), [(0, True), (-2, True), (0.001, False), (1, False)])
def test_units_invalid(kit: Any, units: float, fires: bool) -> None:
    claim = with_lines(kit, drug_line(), admin_line(2) | {"units": units})
    assert (("UNITS_INVALID", 2) in kit.fired(claim)) is fires


@pytest.mark.parametrize(
    ("payer_type", "units", "fires"),
    [("medicare", 2, True), ("medicare", 1, False), ("medicare", 0.5, True), ("commercial", 2, False),
     ("medicaid", 2, False), ("other", 3, False)],
)
def test_noc_units_not_one(kit: Any, payer_type: str, units: float, fires: bool) -> None:
    claim = with_lines(kit, drug_line(units=units, modifiers=["JZ"]), admin_line(), payer={"id": "P9", "type": payer_type})
    assert (("NOC_UNITS_NOT_ONE", 1) in kit.fired(claim)) is fires


# J9035 / NDC 50242-0060-01 (Avastin 100 MG/4 ML): BILLUNITS 10 per item in every shipped quarter.
@pytest.mark.parametrize(
    ("quantity", "units", "fires"),
    [
        (2, 20, False),  # expected 20, tolerance max(1, 2) = 2
        (2, 22, False),  # exactly at +10 %
        (2, 22.01, True),
        (2, 18, False),  # exactly at -10 %
        (2, 17.99, True),
        (0.05, 1.5, False),  # expected 0.5: the 1-unit floor applies
        (0.05, 1.51, True),
        (1, 11, False),  # expected 10: 10 % == 1 unit
        (1, 11.5, True),
    ],
)
def test_units_mismatch_tolerance(kit: Any, quantity: float, units: float, fires: bool) -> None:
    line = drug_line(procedure_code="J9035", units=units, description=None,
                     drug={"ndc": "50242-0060-01", "quantity": quantity, "unit": "UN"})
    claim = with_lines(kit, admin_line(1), line | {"line_number": 2})
    results = {r["id"]: r for r in kit.run_rules(claim).for_claim(0)}
    assert ("UNITS_MISMATCH" in results) is fires
    if fires:
        evidence = results["UNITS_MISMATCH"]["evidence"]
        assert results["UNITS_MISMATCH"]["line_number"] == 2
        assert evidence["bill_units"] == 10.0 and evidence["expected_units"] == pytest.approx(quantity * 10)
        assert evidence["quarter"] == "2026Q1"


def test_units_mismatch_only_for_un_and_specific_codes(kit: Any) -> None:
    ml = drug_line(procedure_code="J9035", units=99, drug={"ndc": "50242-0060-01", "quantity": 2, "unit": "ML"})
    assert "UNITS_MISMATCH" not in kit.rule_ids(with_lines(kit, ml, admin_line()))
    noc = drug_line(procedure_code="J3490", units=99, drug={"ndc": "50242-0060-01", "quantity": 2, "unit": "UN"})
    assert "UNITS_MISMATCH" not in kit.rule_ids(with_lines(kit, noc, admin_line()))
    other_code = drug_line(procedure_code="J1817", units=99, drug={"ndc": "50242-0060-01", "quantity": 2, "unit": "UN"})
    ids = kit.rule_ids(with_lines(kit, other_code, admin_line()))
    assert "UNITS_MISMATCH" not in ids and "NDC_HCPCS_MISMATCH" in ids


# ------------------------------------------------------------------------ crosswalk by quarter
# NDC 00024-5924-10 is listed under J1817 only from the 2026Q1 crosswalk on (effective 2026-01-01).
@pytest.mark.parametrize(("service_date", "fires"), [("2025-12-31", False), ("2026-01-01", True)])
def test_specific_code_exists_by_service_quarter(kit: Any, service_date: str, fires: bool) -> None:
    line = drug_line(service_date=service_date, drug={"ndc": "00024-5924-10", "quantity": 1, "unit": "ML"})
    claim = with_lines(kit, line, admin_line() | {"service_date": service_date})
    results = {r["id"]: r for r in kit.run_rules(claim).for_claim(0)}
    assert ("SPECIFIC_CODE_EXISTS" in results) is fires
    if fires:
        result = results["SPECIFIC_CODE_EXISTS"]
        assert result["line_number"] == 1 and result["carc"] == "189" and result["rarc"] == ["N657"]
        assert result["evidence"]["specific_codes"] == ["J1817"] and result["evidence"]["quarter"] == "2026Q1"
        assert "J1817" in result["message"] and "J1817" in result["fix"]


def test_specific_code_uses_submission_date_when_service_date_missing(kit: Any) -> None:
    line = drug_line(service_date=None, drug={"ndc": "00024-5924-10", "quantity": 1, "unit": "ML"})
    claim = with_lines(kit, line, admin_line())
    assert ("SPECIFIC_CODE_EXISTS", 1) in kit.fired(claim)


def test_ndc_hcpcs_mismatch(kit: Any) -> None:
    line = drug_line(procedure_code="J9035", drug={"ndc": "00024-5924-10", "quantity": 1, "unit": "ML"})
    claim = with_lines(kit, admin_line(1), line | {"line_number": 2})
    results = {r["id"]: r for r in kit.run_rules(claim).for_claim(0)}
    assert results["NDC_HCPCS_MISMATCH"]["line_number"] == 2
    assert results["NDC_HCPCS_MISMATCH"]["evidence"]["listed_codes"] == ["J1817"]
    matching = drug_line(procedure_code="J9035", units=20, drug={"ndc": "50242-0060-01", "quantity": 2, "unit": "UN"})
    assert kit.rule_ids(with_lines(kit, matching, admin_line())) == set()
    unknown_ndc = drug_line(procedure_code="J9035", drug={"ndc": "99999-0123-01", "quantity": 2, "unit": "ML"})
    assert kit.rule_ids(with_lines(kit, unknown_ndc, admin_line())) == set()


# ------------------------------------------------------------------------------ descriptions
@pytest.mark.parametrize(
    ("description", "note", "expected"),
    [
        (None, None, "DESCRIPTION_MISSING"),
        ("  ", None, "DESCRIPTION_MISSING"),
        (None, "EXAMPLEMAB 100MG/10ML VIAL", None),
        ("EXAMPLEMAB", None, "DESCRIPTION_INCOMPLETE"),
        ("100 MG IV", None, "DESCRIPTION_INCOMPLETE"),
        ("UNCLASSIFIED DRUG 100MG", None, "DESCRIPTION_INCOMPLETE"),
        ("EXAMPLEMAB", "200 MG GIVEN", None),
        ("EXAMPLEMAB 0.9%", None, None),
        ("EXAMPLEMAB 500 UNITS", None, None),
        ("EXAMPLEMAB 5 MCG SUBQ", None, None),
        ("EXAMPLEMAB 2 G", None, None),
        ("EXAMPLEMAB 100", None, "DESCRIPTION_INCOMPLETE"),
    ],
)
def test_descriptions(kit: Any, description: str | None, note: str | None, expected: str | None) -> None:
    claim = with_lines(kit, admin_line(1), drug_line(line_number=4, description=description, note=note))
    found = kit.fired(claim) & {("DESCRIPTION_MISSING", 4), ("DESCRIPTION_INCOMPLETE", 4)}
    assert found == ({(expected, 4)} if expected else set())


def test_description_rules_only_for_noc_codes(kit: Any) -> None:
    line = drug_line(procedure_code="J9035", description=None, units=20,
                     drug={"ndc": "50242-0060-01", "quantity": 2, "unit": "UN"})
    assert kit.fired(with_lines(kit, line, admin_line())) == set()


# ------------------------------------------------------------------------------ attachments
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
def test_invoice_missing(kit: Any, attachments: list[dict[str, Any]], fires: bool) -> None:
    claim = with_lines(kit, drug_line(), admin_line(), attachments=attachments)
    assert (("INVOICE_MISSING", 1) in kit.fired(claim)) is fires
    assert ("INVOICE_MISSING", 2) not in kit.fired(claim)


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
def test_documentation_missing(kit: Any, payer_type: str, attachments: list[dict[str, Any]], fires: bool) -> None:
    claim = with_lines(kit, drug_line(modifiers=["JZ"]), admin_line(), attachments=attachments,
                       payer={"id": "P1", "type": payer_type})
    assert (("DOCUMENTATION_MISSING", 1) in kit.fired(claim)) is fires


# ------------------------------------------------------------------------------ diagnoses
def test_diagnosis_missing_is_claim_level(kit: Any) -> None:
    claim = with_lines(kit, drug_line(diagnosis_pointers=[]), admin_line() | {"diagnosis_pointers": []},
                       diagnosis_codes=[])
    assert kit.fired(claim) == {("DIAGNOSIS_MISSING", None), ("DIAGNOSIS_POINTER_INVALID", 1),
                                ("DIAGNOSIS_POINTER_INVALID", 2)}


@pytest.mark.parametrize(
    ("codes", "fires", "bad"),
    [(["M06.9"], False, []), (["m069"], False, []), (["M06"], True, ["M06"]), (["M06.9", "ZZZ.99"], True, ["ZZZ.99"])],
)
def test_diagnosis_invalid(kit: Any, codes: list[str], fires: bool, bad: list[str]) -> None:
    claim = with_lines(kit, drug_line(), admin_line(), diagnosis_codes=codes)
    results = {r["id"]: r for r in kit.run_rules(claim).for_claim(0)}
    assert ("DIAGNOSIS_INVALID" in results) is fires
    if fires:
        assert results["DIAGNOSIS_INVALID"]["line_number"] is None
        assert results["DIAGNOSIS_INVALID"]["evidence"]["codes"] == bad


@pytest.mark.parametrize(("pointers", "fires"), [([0], True), ([2], False), ([1, 2], False), ([3], True), ([], True),
                                                 ([-1, 1], True)])
def test_diagnosis_pointers(kit: Any, pointers: list[int], fires: bool) -> None:
    claim = with_lines(kit, drug_line(), admin_line(2) | {"diagnosis_pointers": pointers})  # 2 diagnoses
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
def test_diagnosis_pointers_by_claim_type(kit: Any, claim_type: str, pointers: list[int], fires: bool) -> None:
    claim = with_lines(kit, drug_line(), admin_line(2) | {"diagnosis_pointers": pointers}, claim_type=claim_type)
    fired = kit.fired(claim)
    assert (("DIAGNOSIS_POINTER_INVALID", 2) in fired) is fires
    assert ("DIAGNOSIS_POINTER_INVALID", 1) not in fired


def test_institutional_lines_without_pointers_fire_nothing_on_pointers(kit: Any) -> None:
    claim = with_lines(kit, drug_line(diagnosis_pointers=[]), admin_line(2) | {"diagnosis_pointers": []},
                       claim_type="institutional", type_of_bill="0131")
    assert not {r for r, _ in kit.fired(claim)} & {"DIAGNOSIS_POINTER_INVALID"}
    result = kit.run_rules(with_lines(kit, drug_line(diagnosis_pointers=[4]), claim_type="institutional"))
    (row,) = [r for r in result.for_claim(0) if r["id"] == "DIAGNOSIS_POINTER_INVALID"]
    assert row["line_number"] == 1
    assert row["evidence"] == {"pointer_count": 1, "pointer_min": 4, "pointer_max": 4, "diagnosis_count": 2}


# ------------------------------------------------------------------------------ prior auth
@pytest.mark.parametrize(
    ("payer_type", "claim_pa", "line_pa", "fires"),
    [("commercial", None, None, True), ("commercial", "PA1", None, False), ("commercial", None, "LPA", False),
     ("medicaid", None, None, True), ("medicare", None, None, False), ("other", None, None, False)],
)
def test_prior_auth(kit: Any, payer_type: str, claim_pa: str | None, line_pa: str | None, fires: bool) -> None:
    claim = with_lines(kit, drug_line(prior_authorization=line_pa, modifiers=["JZ"]), admin_line(),
                       prior_authorization=claim_pa, payer={"id": "P1", "type": payer_type})
    assert (("PRIOR_AUTH_MISSING", 1) in kit.fired(claim)) is fires


# ------------------------------------------------------------------------------ shape of the claim
@pytest.mark.parametrize(
    ("admin_code", "fires"),
    [("96360", False), ("96379", False), ("96380", True), ("96401", False), ("96549", False), ("96550", True),
     ("99213", True)],
)
def test_admin_code_range(kit: Any, admin_code: str, fires: bool) -> None:
    claim = with_lines(kit, drug_line(), admin_line(2, admin_code))
    assert (("ADMIN_CODE_MISSING", None) in kit.fired(claim)) is fires


def test_admin_code_not_for_institutional_or_specific_codes(kit: Any) -> None:
    assert "ADMIN_CODE_MISSING" not in kit.rule_ids(with_lines(kit, drug_line(), claim_type="institutional"))
    line = drug_line(procedure_code="J9035", units=20, drug={"ndc": "50242-0060-01", "quantity": 2, "unit": "UN"})
    assert "ADMIN_CODE_MISSING" not in kit.rule_ids(with_lines(kit, line))


@pytest.mark.parametrize(
    ("payer_type", "modifiers", "fires"),
    [("medicare", [], True), ("medicare", ["JW"], False), ("medicare", ["59", "JZ"], False), ("commercial", [], False)],
)
def test_waste_modifier(kit: Any, payer_type: str, modifiers: list[str], fires: bool) -> None:
    claim = with_lines(kit, drug_line(modifiers=modifiers), admin_line(), payer={"id": "P1", "type": payer_type})
    assert (("WASTE_MODIFIER_MISSING", 1) in kit.fired(claim)) is fires
    assert ("WASTE_MODIFIER_MISSING", 2) not in kit.fired(claim)  # the admin line is not a drug line


@pytest.mark.parametrize(("claim_type", "fires"), [("professional", True), ("institutional", False)])
def test_c9399_setting(kit: Any, claim_type: str, fires: bool) -> None:
    claim = with_lines(kit, admin_line(1), drug_line(line_number=2, procedure_code="C9399"), claim_type=claim_type)
    assert (("NOC_CODE_SETTING", 2) in kit.fired(claim)) is fires
    j3490 = with_lines(kit, admin_line(1), drug_line(line_number=2), claim_type=claim_type)
    assert "NOC_CODE_SETTING" not in kit.rule_ids(j3490)


# ------------------------------------------------------------------------------ timely filing
@pytest.mark.parametrize(
    ("payer_type", "days", "fires"),
    [("commercial", 180, False), ("commercial", 181, True), ("other", 365, False), ("other", 366, True),
     ("medicare", 365, False), ("medicare", 366, True)],
)
def test_timely_filing_boundary(kit: Any, payer_type: str, days: int, fires: bool) -> None:
    submission = dt.date(2026, 1, 15)
    early = (submission - dt.timedelta(days=days)).isoformat()
    late = (submission - dt.timedelta(days=3)).isoformat()
    claim = with_lines(kit, drug_line(service_date=late, modifiers=["JZ"], units=1),
                       admin_line(2) | {"service_date": early}, submission_date=submission.isoformat(),
                       payer={"id": "P1", "type": payer_type})
    results = {r["id"]: r for r in kit.run_rules(claim).for_claim(0)}
    assert ("TIMELY_FILING" in results) is fires
    if fires:
        assert results["TIMELY_FILING"]["line_number"] is None
        assert results["TIMELY_FILING"]["evidence"]["days_since_service"] == days
        assert results["TIMELY_FILING"]["evidence"]["earliest_service_date"] == early


# ------------------------------------------------------------------------------ charges
@pytest.mark.parametrize(
    ("delta", "fires"), [(0.0, False), (0.01, False), (-0.01, False), (0.02, True), (-0.02, True)]
)
def test_total_charge_tolerance(kit: Any, delta: float, fires: bool) -> None:
    claim = with_lines(kit, drug_line(charge=1000.07), admin_line())
    claim["total_charge"] = round(1250.07 + delta, 2)
    assert (("CHARGE_INVALID", None) in kit.fired(claim)) is fires


@pytest.mark.parametrize(("charge", "fires"), [(0.0, True), (-10.0, True), (0.01, False)])
def test_line_charge(kit: Any, charge: float, fires: bool) -> None:
    claim = with_lines(kit, drug_line(), admin_line(2) | {"charge": charge})
    found = kit.fired(claim)
    assert (("CHARGE_INVALID", 2) in found) is fires
    assert ("CHARGE_INVALID", None) not in found  # the total still equals the sum


def test_missing_total_is_claim_level_charge_problem(kit: Any) -> None:
    claim = with_lines(kit, drug_line(), admin_line())
    del claim["total_charge"]
    assert kit.fired(claim) == {("CHARGE_INVALID", None)}


def test_line_numbers_are_reported_as_sent(kit: Any) -> None:
    claim = with_lines(kit, admin_line(7), drug_line(line_number=12, units=0, drug=None))
    assert {("UNITS_INVALID", 12), ("NDC_MISSING", 12)} <= kit.fired(claim)
    assert all(line in (12, None) for _, line in kit.fired(claim))
