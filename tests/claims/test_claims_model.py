"""The claim model's strictness and defaults (CONTRACT §2)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from claims.jsonl import validation_reason
from claims.model import Claim


def base_claim(**overrides: Any) -> dict[str, Any]:
    claim: dict[str, Any] = {
        "claim_id": "PCN1",
        "payer": {"id": "EXHP1"},
        "lines": [{"line_number": 1, "procedure_code": "J3490"}],
    }
    claim.update(overrides)
    return claim


def reason(data: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as info:
        Claim.model_validate(data)
    return validation_reason(info.value)


def test_unknown_field_is_rejected_with_its_path() -> None:
    data = base_claim()
    data["lines"][0]["drug"] = {"ndc": "12345678901", "strength": "10MG"}
    assert reason(data) == "lines.0.drug.strength: Extra inputs are not permitted"
    assert reason(base_claim(colour="red")) == "colour: Extra inputs are not permitted"


def test_string_for_number_is_rejected_and_int_for_float_accepted() -> None:
    data = base_claim()
    data["lines"][0]["charge"] = "12.50"
    assert reason(data) == "lines.0.charge: Value error, expected a number"
    data["lines"][0]["charge"] = 12
    claim = Claim.model_validate(data)
    assert claim.lines[0].charge == 12.0 and isinstance(claim.lines[0].charge, float)


def test_bool_is_not_a_number_nor_an_integer() -> None:
    data = base_claim()
    data["lines"][0]["units"] = True
    assert reason(data) == "lines.0.units: Value error, expected a number"
    data = base_claim()
    data["lines"][0]["line_number"] = True
    assert reason(data).startswith("lines.0.line_number: Input should be a valid integer")


def test_non_finite_and_huge_numbers_are_rejected() -> None:
    for value in (float("nan"), float("inf"), 1e11):
        assert reason(base_claim(total_charge=value)).startswith(
            "total_charge: Value error, expected a finite"
        )
    assert Claim.model_validate(base_claim(total_charge=1e10)).total_charge == 1e10


@pytest.mark.parametrize("value", ["2026-02-30", "2026-1-05", "20260105", "2026-01-05T00:00:00", 20260105])
def test_bad_dates_are_rejected(value: Any) -> None:
    assert reason(base_claim(submission_date=value)).startswith("submission_date:")


def test_line_counts_depend_on_claim_type() -> None:
    lines = [{"line_number": i, "procedure_code": "J3490"} for i in range(1, 52)]
    assert reason(base_claim(lines=lines)) == "Value error, a professional claim has at most 50 lines, got 51"
    assert len(Claim.model_validate(base_claim(lines=lines, claim_type="institutional")).lines) == 51
    assert reason(base_claim(lines=[])) == "lines: List should have at least 1 item after validation, not 0"


def test_duplicate_line_numbers_are_rejected() -> None:
    lines = [{"line_number": 2, "procedure_code": "J3490"}, {"line_number": 2, "procedure_code": "J9999"}]
    assert reason(base_claim(lines=lines)) == "lines: Value error, line_number 2 appears more than once"


def test_defaults() -> None:
    claim = Claim.model_validate(base_claim())
    assert claim.claim_type == "professional"
    assert claim.frequency_code == "1"
    assert claim.payer.type == "other"
    assert claim.submission_date == dt.date.today()
    assert claim.lines[0].unit_basis == "UN"
    assert claim.lines[0].modifiers == [] and claim.diagnosis_codes == [] and claim.attachments == []


def test_explicit_null_is_not_absence() -> None:
    assert reason(base_claim(claim_type=None)).startswith("claim_type: Input should be")
    assert reason(base_claim(submission_date=None)).startswith("submission_date:")


def test_json_round_trip_is_identical() -> None:
    data = base_claim(
        claim_type="institutional",
        payer={"id": "EXHP1", "name": "EXAMPLE HEALTH PLAN", "type": "commercial"},
        billing_provider_npi="1234567893",
        type_of_bill="131",
        total_charge=1250.5,
        diagnosis_codes=["M06.9", "Z79.899"],
        attachments=[{"report_type": "OZ", "transmission": "FX", "control_number": "INV1", "line_number": 1}],
        submission_date="2026-01-15",
        lines=[
            {
                "line_number": 1,
                "procedure_code": "J3490",
                "modifiers": ["JW"],
                "description": "EXAMPLEMAB 100MG IV — ünïcode",
                "charge": 1250.5,
                "units": 1,
                "service_date": "2026-01-10",
                "diagnosis_pointers": [1, 2],
                "revenue_code": "0636",
                "drug": {"ndc": "99999-0123-01", "quantity": 20, "unit": "ML"},
            }
        ],
    )
    claim = Claim.model_validate(data)
    again = Claim.model_validate_json(claim.model_dump_json())
    assert again == claim
    assert again.model_dump() == claim.model_dump()
