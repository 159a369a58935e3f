from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from claims.errors import RecordError
from claims.model import Claim
from edi.claims837 import PAYER_TYPE_BY_SBR09, iter_837


def _read(path: Path) -> tuple[list[Claim], list[RecordError]]:
    items = list(iter_837(path))
    claims = [i for i in items if isinstance(i, Claim)]
    errors = [i for i in items if isinstance(i, RecordError)]
    assert len(claims) + len(errors) == len(items)
    return claims, errors


def _only_claim(path: Path) -> Claim:
    claims, errors = _read(path)
    assert errors == []
    assert len(claims) == 1
    return claims[0]


# ---- the samples, with real values ----------------------------------------------------------


def test_own_j3490_example(samples: Path) -> None:
    claim = _only_claim(samples / "own_example_j3490_837p.x12")
    assert claim.claim_id == "PCN20260115A"
    assert claim.claim_type == "professional"
    assert claim.payer.id == "EXHP1" and claim.payer.name == "EXAMPLE HEALTH PLAN"
    assert claim.payer.type == "commercial"
    assert claim.billing_provider_npi == "1234567893"
    assert claim.place_of_service == "11" and claim.frequency_code == "1"
    assert claim.total_charge == 1250.0
    assert claim.diagnosis_codes == ["M069", "Z79899"]
    assert claim.prior_authorization == "PA778899"
    assert claim.submission_date == dt.date(2026, 1, 15)
    assert [a.model_dump() for a in claim.attachments] == [
        {"report_type": "OZ", "transmission": "FX", "control_number": "INV20260110A", "line_number": 1}
    ]
    (line,) = claim.lines
    assert line.procedure_code == "J3490" and line.modifiers == []
    assert line.description == "EXAMPLEMAB 100MG IV"
    assert (line.charge, line.units, line.unit_basis) == (1250.0, 1.0, "UN")
    assert line.service_date == dt.date(2026, 1, 10)
    assert line.diagnosis_pointers == [1, 2]
    assert line.note == "EXAMPLEMAB 100MG/10ML VIAL 200MG IV GIVEN"
    assert line.drug is not None
    assert (line.drug.ndc, line.drug.quantity, line.drug.unit) == ("99999012301", 20.0, "ML")


def test_drug_example_10_1(samples: Path) -> None:
    claim = _only_claim(samples / "LinuxForHealth-x12_demo.drug.example10.1.837")
    assert claim.claim_id == "CLMNO12345" and claim.total_charge == 103.37
    assert claim.payer.id == "PLANID12345" and claim.payer.name == "R&R Health Plan"
    assert claim.diagnosis_codes == ["03591"]  # HI*BK: the ICD-9 principal qualifier, kept as sent
    assert [line.procedure_code for line in claim.lines] == ["90782", "J1550"]
    assert claim.lines[0].drug is None
    drug = claim.lines[1].drug
    assert drug is not None and (drug.ndc, drug.quantity, drug.unit) == ("00026063512", 10.0, "ML")
    assert claim.submission_date == dt.date(2004, 8, 1)


def test_drug_example_10_2_prescription_numbers_and_rd8_dates(samples: Path) -> None:
    claim = _only_claim(samples / "LinuxForHealth-x12_demo.drug.example10.2.837")
    assert claim.place_of_service == "12" and claim.total_charge == 2232.93
    assert len(claim.lines) == 6
    assert [line.drug.prescription_number for line in claim.lines[1:]] == [  # type: ignore[union-attr]
        "2530001", "2530001", "2530001", "2530002", "2530003"]
    assert [line.drug.ndc for line in claim.lines[1:]] == [  # type: ignore[union-attr]
        "00004196501", "63323024910", "00338004938", "08290033010", "08290038005"]
    assert claim.lines[2].drug.quantity == 14.0 and claim.lines[2].drug.unit == "UN"  # type: ignore[union-attr]
    assert all(line.service_date == dt.date(2004, 2, 1) for line in claim.lines)  # RD8 -> first date
    assert claim.lines[0].units == 7.0


def test_patient_loop_claim_is_not_lost(samples: Path) -> None:
    claim = _only_claim(samples / "LinuxForHealth-x12_demo.example1.837")
    assert claim.claim_id == "26463774"
    assert claim.payer.id == "999996666" and claim.payer.type == "commercial"  # from the HL 22 parent
    assert claim.billing_provider_npi == "1912301953"
    assert claim.diagnosis_codes == ["0340", "V7389"]
    assert [line.diagnosis_pointers for line in claim.lines] == [[1], [1], [2], [2]]
    assert [line.charge for line in claim.lines] == [40.0, 15.0, 35.0, 10.0]


def test_anesthesia_minutes_and_foreign_component_separator(samples: Path) -> None:
    claim = _only_claim(samples / "LinuxForHealth-x12_demo.example9.837")
    assert claim.payer.type == "medicare"  # SBR09 MB
    assert claim.place_of_service == "22" and claim.frequency_code == "1"  # CLM05 written with '>'
    assert claim.diagnosis_codes == ["36616"]
    (line,) = claim.lines
    assert line.procedure_code == "00142" and line.modifiers == ["QK", "QS", "P1"]
    assert (line.unit_basis, line.units, line.charge) == ("MJ", 61.0, 827.0)
    assert line.diagnosis_pointers == [1]  # SV107 "1.00"


def test_institutional_claim(samples: Path) -> None:
    claim = _only_claim(samples / "LinuxForHealth-x12_institutional-claim.837i")
    assert claim.claim_type == "institutional"
    assert claim.type_of_bill == "141" and claim.place_of_service == "14"
    assert claim.payer.id == "00435" and claim.payer.type == "medicare"  # 2330B STATE TEACHERS ignored
    assert claim.diagnosis_codes == ["3669", "4019", "79431"]  # BH/BE/BG codes are not diagnoses
    assert [(line.revenue_code, line.procedure_code, line.units) for line in claim.lines] == [
        ("0305", "85025", 1.0), ("0730", "93005", 3.0)]
    assert claim.lines[1].charge == 76.54
    assert claim.prior_authorization is None


# ---- payer type from SBR09 ----------------------------------------------------------------------

OWN = (Path(__file__).resolve().parents[1] / "data" / "x12" / "own_example_j3490_837p.x12").read_text()


@pytest.mark.parametrize(
    ("sbr09", "expected"),
    [("MA", "medicare"), ("MB", "medicare"), ("16", "medicare"), ("MC", "medicaid"), ("CI", "commercial"),
     ("BL", "commercial"), ("HM", "commercial"), ("12", "commercial"), ("13", "commercial"),
     ("14", "commercial"), ("15", "commercial"), ("ZZ", "other"), ("WC", "other"), ("", "other")],
)
def test_sbr09_payer_type(tmp_path: Path, sbr09: str, expected: str) -> None:
    path = tmp_path / "p.837"
    path.write_text(OWN.replace("SBR*P*18*GRP001******CI~", f"SBR*P*18*GRP001******{sbr09}~"))
    assert _only_claim(path).payer.type == expected
    assert PAYER_TYPE_BY_SBR09.get(sbr09, "other") == expected


# ---- malformed input: errors with positions, nothing else lost ------------------------------


def _two_claims() -> str:
    """The own example with a second claim (own values) under its own subscriber loop."""
    second = (
        "HL*3*1*22*0~SBR*P*18*GRP002******MC~NM1*IL*1*ROE*RICK****MI*MEM2~"
        "NM1*PR*2*STATE MEDICAID*****PI*MCD01~CLM*PCN2*300.00***11:B:7*Y*A*Y*Y~HI*ABK:E119~"
        "LX*1~SV1*HC:J3590:JZ*300.00*UN*2***1~DTP*472*D8*20260111~REF*6R*L2~"
    )
    text = OWN.replace("SE*28*0001~", second + "SE*38*0001~")
    return text


def test_two_claims_fixture_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "two.837"
    path.write_text(_two_claims())
    claims, errors = _read(path)
    assert errors == []
    assert [c.claim_id for c in claims] == ["PCN20260115A", "PCN2"]
    second = claims[1]
    assert second.payer.type == "medicaid" and second.frequency_code == "7"
    assert second.lines[0].modifiers == ["JZ"] and second.lines[0].line_control_number == "L2"


def _variant(tmp_path: Path, text: str) -> tuple[list[Claim], list[RecordError]]:
    path = tmp_path / "bad.837"
    path.write_text(text)
    return _read(path)


def _segment_number(text: str, prefix: str) -> int:
    segments = [s.strip() for s in text.split("~") if s.strip()]
    return next(i for i, s in enumerate(segments, 1) if s.startswith(prefix))


def test_bad_clm02_rejects_that_claim_only(tmp_path: Path) -> None:
    text = _two_claims().replace("CLM*PCN20260115A*1250.00*", "CLM*PCN20260115A*12X0.00*")
    claims, errors = _variant(tmp_path, text)
    assert [c.claim_id for c in claims] == ["PCN2"]
    (error,) = errors
    assert error.claim_id == "PCN20260115A"
    assert error.position == f"segment {_segment_number(text, 'CLM*PCN20260115A')} (CLM)"
    assert "CLM02" in error.reason and "12X0" not in str(error)


def test_garbage_segment_inside_a_claim(tmp_path: Path) -> None:
    text = _two_claims().replace("LX*1~SV1*HC:J3590", "@@#!garbage~LX*1~SV1*HC:J3590")
    claims, errors = _variant(tmp_path, text)
    assert [c.claim_id for c in claims] == ["PCN20260115A"]
    error, count_error = errors  # the extra segment also breaks SE01
    assert error.claim_id == "PCN2" and "unknown segment" in error.reason
    assert "SE01" in count_error.reason
    assert error.position.startswith(f"segment {_segment_number(text, '@@#!')} (")


def test_unknown_hl_level_reports_the_loop_and_its_claims(tmp_path: Path) -> None:
    text = _two_claims().replace("HL*3*1*22*0~", "HL*3*1*99*0~")
    claims, errors = _variant(tmp_path, text)
    assert [c.claim_id for c in claims] == ["PCN20260115A"]
    hl_position = _segment_number(text, "HL*3*1*99")
    assert [e.position for e in errors] == [f"segment {hl_position} (HL)",
                                            f"segment {_segment_number(text, 'CLM*PCN2*')} (CLM)"]
    assert errors[1].claim_id == "PCN2" and str(hl_position) in errors[1].reason


def test_invalid_field_reported_without_the_value(tmp_path: Path) -> None:
    text = _two_claims().replace("NM1*85*2*NORTHWIND INFUSION CLINIC*****XX*1234567893",
                                 "NM1*85*2*NORTHWIND INFUSION CLINIC*****XX*12345")
    claims, errors = _variant(tmp_path, text)
    assert claims == []  # both claims share the bad billing provider
    assert {e.claim_id for e in errors} == {"PCN20260115A", "PCN2"}
    assert all("billing_provider_npi" in e.reason and "12345" not in e.reason for e in errors)


def test_truncated_file(tmp_path: Path) -> None:
    text = _two_claims()
    cut = text[: text.index("DTP*472*D8*20260111")]
    claims, errors = _variant(tmp_path, cut)
    assert [c.claim_id for c in claims] == ["PCN20260115A"]
    (error,) = errors
    assert error.claim_id == "PCN2" and "no SE" in error.reason


def test_missing_se(tmp_path: Path) -> None:
    text = _two_claims().replace("SE*38*0001~", "")
    claims, errors = _variant(tmp_path, text)
    assert [c.claim_id for c in claims] == ["PCN20260115A", "PCN2"]
    (error,) = errors
    assert error.position == f"segment {_segment_number(text, 'GE*')} (GE)" and "no SE" in error.reason


def test_wrong_se_count(tmp_path: Path) -> None:
    text = _two_claims().replace("SE*38*0001~", "SE*41*0001~")
    claims, errors = _variant(tmp_path, text)
    assert len(claims) == 2
    (error,) = errors
    assert "SE01 says 41" in error.reason and "has 38" in error.reason


def test_isa_not_fixed_width_and_crlf(tmp_path: Path) -> None:
    isa = OWN[: OWN.index("~") + 1]
    short = "ISA*00**00**ZZ*SUBMITTERID*ZZ*RECEIVERID*260115*1200*^*00501*000000101*0*T*:~"
    text = _two_claims().replace(isa, short).replace("~", "~\r\n")
    claims, errors = _variant(tmp_path, text)
    assert errors == [] and [c.claim_id for c in claims] == ["PCN20260115A", "PCN2"]
    assert claims[0].lines[0].drug.ndc == "99999012301"  # type: ignore[union-attr]


def test_file_starting_at_st(tmp_path: Path) -> None:
    text = _two_claims()
    start, end = text.index("ST*837"), text.index("GE*")
    claims, errors = _variant(tmp_path, text[start:end])
    assert errors == []
    assert [c.claim_id for c in claims] == ["PCN20260115A", "PCN2"]
    assert claims[0].claim_type == "professional"  # from ST03


def test_missing_optional_payer_name(tmp_path: Path) -> None:
    text = _two_claims().replace("NM1*PR*2*STATE MEDICAID*****PI*MCD01", "NM1*PR*2******PI*MCD01")
    claims, errors = _variant(tmp_path, text)
    assert errors == []
    assert claims[1].payer.id == "MCD01" and claims[1].payer.name is None


def test_missing_payer_id_is_an_error(tmp_path: Path) -> None:
    text = _two_claims().replace("NM1*PR*2*STATE MEDICAID*****PI*MCD01~", "")
    claims, errors = _variant(tmp_path, text)
    assert [c.claim_id for c in claims] == ["PCN20260115A"]
    assert errors[0].claim_id == "PCN2" and "payer.id" in errors[0].reason


def test_bad_claim_between_good_ones_in_many_transactions(tmp_path: Path) -> None:
    text = _two_claims()
    envelope_end = text.index("GE*")
    transaction = text[text.index("ST*837"):envelope_end]
    bad = transaction.replace("SV1*HC:J3590:JZ*300.00*", "SV1*HC:J3590:JZ*3OO*")
    body = transaction + bad + transaction
    claims, errors = _variant(tmp_path, text[: text.index("ST*837")] + body + text[envelope_end:])
    assert [c.claim_id for c in claims] == ["PCN20260115A", "PCN2", "PCN20260115A", "PCN20260115A", "PCN2"]
    (error,) = errors
    assert error.claim_id == "PCN2" and "SV102" in error.reason


def test_not_x12_raises_format_error(tmp_path: Path) -> None:
    path = tmp_path / "x.837"
    path.write_text('{"claim_id": "A"}\n')
    with pytest.raises(ValueError, match="segment 1"):
        list(iter_837(path))
