"""Claim builders for the features tests: a clean base claim that fires no rule, and a small
random generator (independent of the ``synthetic`` package) for path-equivalence tests."""

from __future__ import annotations

import copy
import datetime as dt
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from claims.columnar import ClaimFrame, from_claims
from claims.model import Claim
from features.payer_policy import PolicySet
from features.rules.engine import FiredRules, evaluate
from reference.store import load_reference

BASE_CLAIM: dict[str, Any] = {
    "claim_id": "PCN20260115A",
    "claim_type": "professional",
    "payer": {"id": "EXHP1", "name": "EXAMPLE HEALTH PLAN", "type": "commercial"},
    "billing_provider_npi": "1234567893",
    "place_of_service": "11",
    "total_charge": 1250.0,
    "diagnosis_codes": ["M06.9", "Z79.899"],
    "prior_authorization": "PA778899",
    "attachments": [{"report_type": "OZ", "transmission": "FX", "control_number": "INV1"}],
    "submission_date": "2026-01-15",
    "lines": [
        {
            "line_number": 1,
            "procedure_code": "J3490",
            "description": "EXAMPLEMAB 100MG IV",
            "charge": 1000.0,
            "units": 1,
            "service_date": "2026-01-10",
            "diagnosis_pointers": [1, 2],
            "drug": {"ndc": "99999-0123-01", "quantity": 20, "unit": "ML"},
        },
        {
            "line_number": 2,
            "procedure_code": "96365",
            "charge": 250.0,
            "units": 1,
            "service_date": "2026-01-10",
            "diagnosis_pointers": [1],
        },
    ],
}


def make_claim(**changes: Any) -> dict[str, Any]:
    claim = copy.deepcopy(BASE_CLAIM)
    claim.update(copy.deepcopy(changes))
    return claim


def frame_of(*claims: dict[str, Any]) -> ClaimFrame:
    return from_claims([Claim.model_validate(c) for c in claims])


def run_rules(*claims: dict[str, Any], policies: PolicySet | None = None) -> FiredRules:
    return evaluate(frame_of(*claims), policies=policies or PolicySet.load(), reference=load_reference())


def fired(claim: dict[str, Any], policies: PolicySet | None = None) -> set[tuple[str, int | None]]:
    return {(r["id"], r["line_number"]) for r in run_rules(claim, policies=policies).for_claim(0)}


def rule_ids(claim: dict[str, Any], policies: PolicySet | None = None) -> set[str]:
    return {rule for rule, _ in fired(claim, policies)}


# -------------------------------------------------------------------------- random claims
_CODES = ["J3490", "J3590", "J3591", "J9999", "C9399", "J9035", "J1817", "J0696", "96365", "96413", "96372",
          "99213", "A9270", "Q5103", "j3490 "]
_NDCS = [None, "", "99999-0123-01", "50242-0060-01", "50242006001", "00024-5924-10", "5024200601",
         "1234-5678-90", "12345-678-90", "12345-6789-0", "ABC", "00143-9856-25"]
_UNITS = [None, "UN", "ML", "ME", "GR", "F2", "XX", "un"]
_DESCS = [None, "", "EXAMPLEMAB 100MG IV", "EXAMPLEMAB", "100 MG IV", "UNCLASSIFIED DRUG 5 ML", "DRUGX 0.9%"]
_DX = ["M06.9", "Z79.899", "M06", "C50.911", "E11.9", "ZZZ.99", "I10", "J45.909"]
_MODS = [[], ["JW"], ["JZ"], ["59"], ["JZ", "59"]]
_PAYERS = [("EXHP1", "commercial"), ("MCR01", "medicare"), ("MCD01", "medicaid"), ("OTH1", "other"),
           ("BCBS", "commercial")]


def random_claims(n: int, seed: int) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)

    def pick(options: list[Any]) -> Any:
        return copy.deepcopy(options[int(rng.integers(len(options)))])

    claims = []
    for k in range(n):
        submission = dt.date(2026, 1, 15) - dt.timedelta(days=int(rng.integers(0, 30)))
        n_lines = int(rng.integers(1, 5))
        n_dx = int(rng.integers(0, 4))
        lines = []
        numbers = np.cumsum(rng.integers(1, 3, size=n_lines)).tolist()
        for j in range(n_lines):
            has_drug = rng.random() < 0.7
            line: dict[str, Any] = {
                "line_number": int(numbers[j]),
                "procedure_code": pick(_CODES),
                "modifiers": pick(_MODS),
                "description": pick(_DESCS),
                "charge": float(rng.choice([0.0, -5.0, 100.0, 250.5, 1234.56, 9999.99])) if rng.random() < 0.95 else None,
                "units": float(rng.choice([0, 1, 2, 10, 20, 21.5, 30])),
                "service_date": (
                    (submission - dt.timedelta(days=int(rng.choice([0, 5, 179, 180, 181, 364, 365, 366, 500]))))
                    .isoformat() if rng.random() < 0.9 else None
                ),
                "diagnosis_pointers": [int(p) for p in rng.integers(0, 5, size=int(rng.integers(0, 3)))],
                "prior_authorization": "LPA1" if rng.random() < 0.1 else None,
                "note": pick([None, None, "GIVEN 50 MG", "EXAMPLEMAB"]),
            }
            if has_drug:
                line["drug"] = {
                    "ndc": pick(_NDCS),
                    "quantity": float(rng.choice([0, 1, 2, 4, 20])) if rng.random() < 0.9 else None,
                    "unit": pick(_UNITS),
                }
            lines.append(line)
        total = sum(line["charge"] or 0.0 for line in lines) + float(rng.choice([0.0, 0.0, 0.01, 0.02, -3.0]))
        payer_id, payer_type = pick(_PAYERS)
        attachments = []
        for _ in range(int(rng.integers(0, 3))):
            attachments.append({
                "report_type": pick(["OZ", "04", "03", "oz"]),
                "transmission": pick(["FX", "AA", "EL"]),
                "control_number": "C1",
                "line_number": pick([None, lines[0]["line_number"], lines[-1]["line_number"]]),
            })
        claims.append({
            "claim_id": f"R{seed}-{k}",
            "claim_type": pick(["professional", "professional", "institutional"]),
            "payer": {"id": payer_id, "type": payer_type},
            "billing_provider_npi": pick(["1234567893", "1111111111", None]),
            "place_of_service": pick(["11", "22", "19", None]),
            "total_charge": round(total, 2) if rng.random() < 0.97 else None,
            "diagnosis_codes": [pick(_DX) for _ in range(n_dx)],
            "prior_authorization": "PA1" if rng.random() < 0.3 else None,
            "attachments": attachments,
            "submission_date": submission.isoformat(),
            "lines": lines,
        })
    return claims


@pytest.fixture(scope="session")
def kit() -> SimpleNamespace:
    """The helpers above, as one fixture (test modules cannot import conftest under importlib mode)."""
    return SimpleNamespace(
        BASE_CLAIM=BASE_CLAIM,
        make_claim=make_claim,
        frame_of=frame_of,
        run_rules=run_rules,
        fired=fired,
        rule_ids=rule_ids,
        random_claims=random_claims,
    )
