"""Invented example claims (CONTRACT §2's own example and an institutional one).

Used wherever an example has to be stored or published — the MLflow input example, the OpenAPI
docs — because an example taken from a user's history would copy PHI into the artifact store.
"""

from __future__ import annotations

from typing import Any

EXAMPLE_CLAIM: dict[str, Any] = {
    "claim_id": "PCN20260115A",
    "claim_type": "professional",
    "frequency_code": "1",
    "payer": {"id": "EXHP1", "name": "EXAMPLE HEALTH PLAN", "type": "commercial"},
    "billing_provider_npi": "1234567893",
    "place_of_service": "11",
    "total_charge": 1250.00,
    "diagnosis_codes": ["M06.9", "Z79.899"],
    "prior_authorization": "PA778899",
    "attachments": [{"report_type": "OZ", "transmission": "FX", "control_number": "INV20260110A", "line_number": 1}],
    "submission_date": "2026-01-15",
    "lines": [
        {
            "line_number": 1,
            "procedure_code": "J3490",
            "modifiers": [],
            "description": "EXAMPLEMAB 100MG IV",
            "charge": 1250.00,
            "units": 1,
            "unit_basis": "UN",
            "service_date": "2026-01-10",
            "diagnosis_pointers": [1, 2],
            "note": "EXAMPLEMAB 100MG/10ML VIAL 200MG IV GIVEN",
            "line_control_number": "L1",
            "drug": {"ndc": "99999-0123-01", "quantity": 20, "unit": "ML"},
        }
    ],
}

EXAMPLE_INSTITUTIONAL_CLAIM: dict[str, Any] = {
    "claim_id": "PCN20260201H",
    "claim_type": "institutional",
    "frequency_code": "1",
    "payer": {"id": "EXMCR", "name": "EXAMPLE MEDICARE CONTRACTOR", "type": "medicare"},
    "billing_provider_npi": "1234567893",
    "place_of_service": "13",
    "type_of_bill": "131",
    "total_charge": 2400.00,
    "diagnosis_codes": ["C50.911"],
    "submission_date": "2026-02-03",
    "lines": [
        {
            "line_number": 1,
            "procedure_code": "C9399",
            "modifiers": ["JZ"],
            "description": "EXAMPLEZUMAB 50MG IV",
            "charge": 2100.00,
            "units": 1,
            "unit_basis": "UN",
            "service_date": "2026-02-01",
            "revenue_code": "0636",
            "line_control_number": "H1",
            "drug": {"ndc": "99999-0456-10", "quantity": 50, "unit": "ME"},
        },
        {
            "line_number": 2,
            "procedure_code": "96413",
            "charge": 300.00,
            "units": 1,
            "unit_basis": "UN",
            "service_date": "2026-02-01",
            "revenue_code": "0510",
            "line_control_number": "H2",
        },
    ],
}

EXAMPLE_CLAIMS: tuple[dict[str, Any], ...] = (EXAMPLE_CLAIM, EXAMPLE_INSTITUTIONAL_CLAIM)
