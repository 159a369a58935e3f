"""write_837 / write_835 -> iter_837 / iter_835 gives back identical records; pyx12 accepts the files."""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path
from typing import Any

from claims.errors import RecordError
from claims.model import Claim
from edi.claims837 import iter_837
from edi.remits835 import classify_outcome, iter_835
from edi.writer import write_835, write_837


def _claims() -> list[Claim]:
    professional = {
        "claim_id": "PCN-1", "frequency_code": "7",
        "payer": {"id": "EXHP1", "name": "EXAMPLE HEALTH PLAN", "type": "commercial"},
        "billing_provider_npi": "1234567893", "place_of_service": "11", "total_charge": 1350.25,
        "diagnosis_codes": ["M069", "Z79899", "E119"], "prior_authorization": "PA778899",
        "attachments": [
            {"report_type": "04", "transmission": "EL", "control_number": None, "line_number": None},
            {"report_type": "OZ", "transmission": "FX", "control_number": "INV1", "line_number": 1},
        ],
        "note": "CLAIM NOTE", "submission_date": "2026-01-15",
        "lines": [
            {"line_number": 1, "procedure_code": "J3490", "modifiers": ["JZ", "59"],
             "description": "EXAMPLEMAB 100MG IV", "charge": 1250.25, "units": 1, "unit_basis": "UN",
             "service_date": "2026-01-10", "diagnosis_pointers": [1, 2], "prior_authorization": "LPA1",
             "note": "200MG GIVEN", "line_control_number": "L1",
             "drug": {"ndc": "99999-0123-01", "quantity": 2.5, "unit": "ML", "prescription_number": "RX1",
                      "link_sequence": "1"}},
            {"line_number": 2, "procedure_code": "96413", "charge": 100.0, "units": 1.0,
             "service_date": "2026-01-10", "diagnosis_pointers": [1]},
            {"line_number": 3, "procedure_code": "J9999", "description": "NO MODIFIERS", "charge": 0.0,
             "units": 0.333, "unit_basis": "MJ", "diagnosis_pointers": [],
             "drug": {"ndc": None, "quantity": None, "unit": None}},
        ],
    }
    medicare = {**professional, "claim_id": "PCN-2", "frequency_code": "1",
                "payer": {"id": "MCR", "name": None, "type": "medicare"}, "billing_provider_npi": None,
                "diagnosis_codes": [], "attachments": [], "note": None, "prior_authorization": None,
                "lines": [professional["lines"][1]]}
    institutional = {
        "claim_id": "UB-1", "claim_type": "institutional", "frequency_code": "1",
        "payer": {"id": "MCD", "name": "STATE MEDICAID", "type": "medicaid"}, "billing_provider_npi": "1234567893",
        "place_of_service": "13", "type_of_bill": "131", "total_charge": 900.0,
        "diagnosis_codes": [f"C{n:03d}" for n in range(14)], "submission_date": "2026-01-16",
        "lines": [
            {"line_number": 1, "procedure_code": "J9999", "description": "DRUGX 10MG", "charge": 800.0,
             "units": 1.0, "revenue_code": "0636", "service_date": "2026-01-12", "note": "TPO NOTE",
             "line_control_number": "U1", "drug": {"ndc": "99999012301", "quantity": 10.0, "unit": "ME"}},
            {"line_number": 2, "procedure_code": "0250", "revenue_code": "0250", "charge": 100.0, "units": 2.0,
             "unit_basis": "DA", "service_date": "2026-01-13"},
        ],
    }
    other = {**professional, "claim_id": "PCN-3", "payer": {"id": "OTHERPAYER", "name": "OTHER", "type": "other"},
             "submission_date": "2026-01-16"}
    return [Claim.model_validate(c) for c in (professional, medicare, institutional, other)]


def test_837_round_trip_is_identical(tmp_path: Path) -> None:
    claims = _claims()
    path = tmp_path / "claims.837"
    write_837(claims, path, claims_per_transaction=1)
    back = list(iter_837(path))
    assert back == claims
    many = tmp_path / "many.837"
    write_837(claims * 3, many)
    assert list(iter_837(many)) == claims * 3


def test_837_transactions_split_and_envelopes(tmp_path: Path) -> None:
    path = tmp_path / "claims.837"
    claims = _claims()
    write_837([claims[0]] * 5 + [claims[2]] * 2, path, claims_per_transaction=2)
    text = path.read_text()
    assert text.count("ST*837*") == 4  # 2+2+1 professional, 2 institutional
    assert text.count("GS*HC*") == 2 and "*005010X222A1~" in text and "*005010X223A2~" in text
    assert "GE*3*1~" in text and "GE*1*2~" in text and "IEA*2*" in text
    assert "HI*ABK:M069*ABF:Z79899*ABF:E119~" in text
    assert "LIN**N4*99999-0123-01~\nCTP****2.50*ML~\nREF*XZ*RX1~\nREF*VY*1~" in text
    assert "SV1*HC:J3490:JZ:59:::EXAMPLEMAB 100MG IV*1250.25*UN*1.00***1:2~" in text
    assert "SV2*0636*HC:J9999:::::DRUGX 10MG*800.00*UN*1.00~" in text
    items = list(iter_837(path))
    assert not [i for i in items if isinstance(i, RecordError)]
    assert len(items) == 7


def _pyx12_errors(path: Path) -> list[str]:
    """Validation errors reported by pyx12, collected from its error handler."""
    import io

    import pyx12.params
    import pyx12.x12n_document

    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    errors: list[str] = []
    html = io.StringIO()
    try:
        ok = pyx12.x12n_document.x12n_document(pyx12.params.params(), str(path), None, html)
    except Exception as exc:  # the 999 builder crash on 835s happens after validation
        ok = "Cannot create AK2" in str(exc)
    if not ok:
        errors = re.findall(r'class="error">(?:&nbsp;)*(.*?)</span>', html.getvalue()) or ["not valid"]
    return errors


def test_pyx12_validates_written_837p_and_835(tmp_path: Path) -> None:
    path = tmp_path / "p.837"
    claims = _claims()
    first = claims[0].lines[0]
    assert first.drug is not None
    # TR3: one REF in 2410, so XZ or VY, not both; line 3 has neither SV107 nor a charge
    lines = [first.model_copy(update={"drug": first.drug.model_copy(update={"link_sequence": None})}),
             claims[0].lines[1]]
    valid = [claims[0].model_copy(update={"lines": lines}), claims[3].model_copy(update={"lines": lines})]
    write_837(valid, path)
    assert _pyx12_errors(path) == []
    path835 = tmp_path / "r.835"
    write_835([{**r, "payer_claim_id": r["payer_claim_id"] or "ICN2"} for r in _rows()], path835)  # CLP07 is required
    assert _pyx12_errors(path835) == []


def test_pyx12_rejects_a_broken_837(tmp_path: Path) -> None:
    """The validator used above can fail: a wrong SE count is caught."""
    path = tmp_path / "p.837"
    write_837([_claims()[1]], path)
    path.write_text(path.read_text().replace("SE*", "SE*9", 1))
    assert _pyx12_errors(path) != []


def _adj(level: str, group: str, reason: str, amount: float) -> dict[str, Any]:
    return {"level": level, "group": group, "reason": reason, "amount": amount}


def _rows() -> list[dict[str, Any]]:
    specs: list[dict[str, Any]] = [
        {"claim_id": "PCN-1", "payer_claim_id": "ICN1", "claim_status": "1", "line_control_number": "L1",
         "procedure_code": "J3490", "modifiers": ["JZ"], "charge": 1250.25, "paid": 0.0, "units_paid": 1.0,
         "service_date": "2026-01-10",
         "adjustments": [_adj("line", "CO", "16", 1200.25), _adj("line", "CO", "45", 50.0)],
         "remarks": ["M119", "N350"]},
        {"claim_id": "PCN-1", "payer_claim_id": "ICN1", "claim_status": "1", "line_control_number": None,
         "procedure_code": "96413", "modifiers": [], "charge": 100.0, "paid": 70.0, "units_paid": None,
         "service_date": None, "adjustments": [_adj("line", "CO", "45", 10.0), _adj("line", "PR", "2", 20.0)],
         "remarks": []},
        {"claim_id": "PCN-2", "payer_claim_id": None, "claim_status": "4", "line_control_number": None,
         "procedure_code": None, "modifiers": [], "charge": 100.0, "paid": 0.0, "units_paid": None,
         "service_date": "2026-01-11", "adjustments": [_adj("claim", "CO", "197", 100.0)],
         "remarks": ["M62", "MA130"]},
        {"claim_id": "PCN-3", "payer_claim_id": "ICN3", "claim_status": "1", "line_control_number": "L9",
         "procedure_code": "J9999", "modifiers": [], "charge": 600.0, "paid": 0.0, "units_paid": 1.0,
         "service_date": "2026-01-12",
         "adjustments": [_adj("claim", "CO", "252", 100.0)]
         + [_adj("line", "CO", r, a) for r, a in (("16", 200), ("189", 100), ("50", 100), ("4", 50),
                                                  ("11", 50), ("252", 50), ("197", 50))],
         "remarks": ["M23"]},
    ]
    rows = []
    for number, spec in enumerate(specs):
        paid_date = "2026-02-01" if number < 3 else "2026-02-08"
        sequence = {"PCN-1": 1, "PCN-2": 2, "PCN-3": 1}[spec["claim_id"]]
        rows.append({**spec, "outcome": classify_outcome(
            claim_status=spec["claim_status"], charge=spec["charge"], paid=spec["paid"],
            adjustments=spec["adjustments"]), "payer_id": "EXHP1", "paid_date": paid_date, "sequence": sequence})
    return rows


def test_835_round_trip_is_identical(tmp_path: Path) -> None:
    rows = _rows()
    path = tmp_path / "remits.835"
    write_835(rows, path)
    back = list(iter_835(path))
    for row, expected in zip(back, rows, strict=True):
        assert isinstance(row, dict)
        expected = {**expected, "sequence": row["sequence"]}
        assert row == expected
    assert [r["sequence"] for r in back] == [1, 1, 2, 3]  # type: ignore[index]
    assert [r["outcome"] for r in back] == ["denied", "paid", "denied", "denied"]  # type: ignore[index]
    text = path.read_text()
    assert "CAS*CO*16*1200.25**45*50.00~" in text and "LQ*HE*N350~" in text and "MOA***M62*MA130~" in text
    assert "CAS*CO*16*200.00**189*100.00**50*100.00**4*50.00**11*50.00**252*50.00~\nCAS*CO*197*50.00~" in text
    assert text.count("ST*835*") == 2 and "BPR*I*70.00*C*CHK************20260201~" in text
    assert "BPR*H*0*C*NON************20260208~" in text


def test_writers_accept_json_rows_and_dates(tmp_path: Path) -> None:
    rows = _rows()
    for row in rows:
        if row["service_date"]:
            row["service_date"] = dt.date.fromisoformat(row["service_date"])
    path = tmp_path / "remits.835"
    write_835(rows, path)
    assert [r["service_date"] for r in iter_835(path)] == [  # type: ignore[index]
        "2026-01-10", None, "2026-01-11", "2026-01-12"]
