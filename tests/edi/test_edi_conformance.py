"""Our reader against x12sdk 2.2.0 (the conformance oracle) on every sample it parses."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from claims.model import Claim
from edi.claims837 import iter_837
from edi.remits835 import iter_835

x12sdk_io = pytest.importorskip("x12sdk.io")

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "x12"
FILES_837 = sorted(p.name for p in SAMPLES.iterdir() if p.suffix in (".837", ".837i") or "837p" in p.name)
FILES_835 = sorted(p.name for p in SAMPLES.iterdir() if p.suffix == ".835" or "835" in p.name)
DIAGNOSIS_QUALIFIERS = {"ABK", "BK", "ABF", "BF", "ABJ", "APR"}


def _parts(composite: Any) -> list[str]:
    """Split x12sdk's raw composites on either separator seen in the samples (':' or '>')."""
    if isinstance(composite, list) and len(composite) > 1:
        return [str(c) for c in composite]
    if isinstance(composite, list):
        composite = composite[0]
    return re.split(r"[:>]", str(composite))


def _sdk_claims(path: Path) -> list[Any]:
    with x12sdk_io.X12ModelReader(str(path)) as reader:
        return [claim for model in reader.models() for claim in model.claims()]


def test_sample_lists_are_complete() -> None:
    assert len(FILES_837) == 6 and len(FILES_835) == 6


@pytest.mark.parametrize("name", FILES_837)
def test_837_matches_x12sdk(name: str) -> None:
    ours = [c for c in iter_837(SAMPLES / name) if isinstance(c, Claim)]
    theirs = _sdk_claims(SAMPLES / name)
    assert len(ours) == len(theirs) >= 1
    for claim, sdk in zip(ours, theirs, strict=True):
        clm = sdk.claim.clm_segment
        assert claim.claim_id == clm.patient_control_number
        assert claim.total_charge == float(clm.total_claim_charge_amount)
        assert claim.place_of_service == _parts(clm.health_care_service_location_information)[0]
        assert claim.payer.id == sdk.payer.nm1_segment.identification_code
        assert claim.payer.name == sdk.payer.nm1_segment.name_last_or_organization_name
        assert claim.billing_provider_npi == sdk.billing_provider_npi
        codes = []
        for hi in sdk.claim.hi_segment:
            for index in range(1, 13):
                element = getattr(hi, f"health_care_code_{index}")
                if element:
                    parts = _parts(element)
                    if parts[0] in DIAGNOSIS_QUALIFIERS:
                        codes.append(parts[1])
        assert claim.diagnosis_codes == codes
        refs = {r.reference_identification_qualifier: r.reference_identification for r in sdk.claim.ref_segment}
        assert claim.prior_authorization == refs.get("G1")
        assert len(claim.lines) == len(sdk.claim.loop_2400)
        for line, sdk_line in zip(claim.lines, sdk.claim.loop_2400, strict=True):
            assert line.line_number == int(sdk_line.lx_segment.assigned_number)
            if getattr(sdk_line, "sv1_segment", None) is not None:
                sv = sdk_line.sv1_segment
                parts = _parts(sv.product_service_id_qualifier)
                assert (line.charge, line.units, line.unit_basis) == (
                    float(sv.line_item_charge_amount), float(sv.service_unit_count), sv.unit_basis_measurement_code)
                assert line.diagnosis_pointers == [int(float(p)) for p in _parts(sv.composite_diagnosis_code_pointer)]
            else:
                sv = sdk_line.sv2_segment
                parts = _parts(sv.composite_medical_procedure_identifier)
                assert line.revenue_code == sv.service_line_revenue_code
                assert (line.charge, line.units) == (float(sv.line_item_charge_amount), float(sv.service_unit_count))
            assert line.procedure_code == parts[1]
            assert line.modifiers == [m for m in parts[2:6] if m]
            assert line.description == (parts[6] if len(parts) > 6 and parts[6] else None)
            dtps = sdk_line.dtp_segment
            dtps = dtps if isinstance(dtps, list) else [dtps]
            dates = [d.date_time_period for d in dtps if d is not None and d.date_time_qualifier == "472"]
            if dates:
                first = dates[0]
                if isinstance(first, str):  # RD8 range kept raw by x12sdk: its first date
                    first = dt.date(int(first[:4]), int(first[4:6]), int(first[6:8]))
                assert line.service_date == first
            drug = sdk_line.loop_2410
            if drug is None:
                assert line.drug is None
            else:
                assert line.drug is not None
                assert line.drug.ndc == drug.lin_segment.national_drug_code_universal_product_number
                assert line.drug.quantity == float(drug.ctp_segment.quantity)
                assert line.drug.unit == _parts(drug.ctp_segment.composite_unit_of_measure)[0]
            pwk = [(p.report_type_code, p.report_transmission_code, p.identification_code)
                   for p in sdk_line.pwk_segment]
            ours_pwk = [(a.report_type, a.transmission, a.control_number) for a in claim.attachments
                        if a.line_number == line.line_number]
            assert ours_pwk == pwk
            nte = sdk_line.nte_segment
            notes = [n.description for n in (nte if isinstance(nte, list) else [nte]) if n is not None]
            assert line.note == (notes[0] if notes else None)


@pytest.mark.parametrize("name", FILES_835)
def test_835_matches_x12sdk(name: str) -> None:
    rows = [r for r in iter_835(SAMPLES / name) if isinstance(r, dict)]
    theirs = _sdk_claims(SAMPLES / name)
    expected: list[dict[str, Any]] = []
    for sdk in theirs:
        loop = sdk.claim
        clp = loop.clp_segment
        claim_cas = [(c.adjustment_group_code, getattr(c, f"adjustment_reason_code_{i}"),
                      float(getattr(c, f"monetary_amount_{i}")))
                     for c in loop.cas_segment for i in range(1, 7) if getattr(c, f"adjustment_reason_code_{i}")]
        moa = []
        if loop.moa_segment is not None:
            moa = [getattr(loop.moa_segment, f"claim_payment_remark_code_{i}") for i in range(1, 6)]
        moa = [m for m in moa if m]
        base = {"claim_id": clp.patient_control_number, "claim_status": clp.claim_status_code,
                "payer_claim_id": clp.payer_claim_control_number}
        if not loop.loop_2110:
            expected.append({**base, "procedure_code": None, "charge": float(clp.total_claim_charge_amount),
                             "paid": float(clp.claim_payment_amount), "cas": claim_cas, "remarks": moa})
        for line in loop.loop_2110 or []:
            svc = line.svc_segment
            cas = [(c.adjustment_group_code, getattr(c, f"adjustment_reason_code_{i}"),
                    float(getattr(c, f"monetary_amount_{i}")))
                   for c in line.cas_segment for i in range(1, 7) if getattr(c, f"adjustment_reason_code_{i}")]
            expected.append({
                **base, "procedure_code": _parts(svc.composite_medical_procedure_identifier_1)[1],
                "charge": float(svc.line_item_charge_amount), "paid": float(svc.line_item_provider_payment_amount),
                "cas": claim_cas + cas,
                "remarks": [lq.form_identifier for lq in line.lq_segment if lq.code_list_qualifier_code == "HE"] + moa,
            })
    got = [{"claim_id": r["claim_id"], "claim_status": r["claim_status"], "payer_claim_id": r["payer_claim_id"],
            "procedure_code": r["procedure_code"], "charge": r["charge"], "paid": r["paid"],
            "cas": [(a["group"], a["reason"], a["amount"]) for a in r["adjustments"]], "remarks": r["remarks"]}
           for r in rows]
    assert got == expected
