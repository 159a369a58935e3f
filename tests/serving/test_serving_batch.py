"""The batch endpoint's Arrow path agrees with the single-claim path, claim by claim.

``/v1/score/batch`` reads its claims through the Arrow JSONL reader instead of pydantic + ``from_claims``;
these tests pin that the two paths see the same claims (identical columnar frames) and give the same
answers, and that invalid claims are still reported by index without failing the others.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from fastapi.testclient import TestClient

from claims.columnar import ClaimFrame, from_claims
from claims.model import Claim
from serving.parsing import parse_batch_frame

SECRET_NDC = "55555-4444-33"


def _history_claims(history_dir: Path, n: int) -> list[dict[str, Any]]:
    lines = (history_dir / "claims.jsonl").read_text().splitlines()
    return [json.loads(x) for x in lines[:n]]


def _assert_same_frame(a: ClaimFrame, b: ClaimFrame) -> None:
    assert a.n_claims == b.n_claims
    assert a.claim_ids.tolist() == b.claim_ids.tolist()
    for part in ("lines", "diagnoses", "attachments"):
        left, right = getattr(a, part), getattr(b, part)
        assert list(left) == list(right), part
        for name in left:
            x, y = left[name], right[name]
            assert x.dtype == y.dtype, (part, name)
            if x.dtype == object:
                assert x.tolist() == y.tolist(), (part, name)
            else:
                assert np.array_equal(x, y, equal_nan=x.dtype.kind in "fM"), (part, name)


def test_batch_frame_equals_from_claims(history_dir: Path) -> None:
    claims = _history_claims(history_dir, 200)
    parsed = parse_batch_frame(orjson.dumps({"claims": claims}), max_batch=1000)
    assert parsed.errors == []
    assert parsed.positions.tolist() == list(range(200))
    _assert_same_frame(parsed.frame, from_claims([Claim.model_validate(c) for c in claims]))


def test_batch_answers_equal_single_answers(model_client: TestClient, history_dir: Path, claim: dict) -> None:
    claims = _history_claims(history_dir, 40)
    integral = copy.deepcopy(claim)
    integral["claim_id"] = "INTEGRAL-FLOAT"
    integral["lines"][0]["line_number"] = 1.0  # the Arrow reader rejects it; the lenient retry accepts it
    bad_type = dict(claim, claim_id="BAD-TYPE", total_charge="12")
    unknown = dict(claim, claim_id="UNKNOWN-FIELD", member_ndc=SECRET_NDC)
    submitted = claims[:10] + [bad_type, integral] + claims[10:30] + [[], unknown] + claims[30:]
    response = model_client.post("/v1/score/batch", json={"claims": submitted})
    assert response.status_code == 200
    body = response.json()
    assert [(e["index"], e["claim_id"]) for e in body["errors"]] == [(10, "BAD-TYPE"), (32, None), (33, "UNKNOWN-FIELD")]
    assert "total_charge" in body["errors"][0]["error"]
    assert "member_ndc" in body["errors"][2]["error"] and SECRET_NDC not in response.text
    valid = [c for i, c in enumerate(submitted) if i not in (10, 32, 33)]
    assert [r["claim_id"] for r in body["results"]] == [c["claim_id"] for c in valid]
    for submitted_claim, result in zip(valid, body["results"], strict=True):
        single = model_client.post("/v1/score", json=submitted_claim).json()
        assert result == single, submitted_claim["claim_id"]
    assert any(r["rules"] for r in body["results"])  # the comparison covered risk_if_fixed


def test_batch_of_only_invalid_claims_is_200_with_errors(model_client: TestClient) -> None:
    response = model_client.post("/v1/score/batch", json={"claims": [{"claim_id": "X"}, 3]})
    assert response.status_code == 200
    assert response.json()["results"] == []
    assert [e["index"] for e in response.json()["errors"]] == [0, 1]


@pytest.mark.parametrize("raw", ["%0B1", "%201", "1%20", "abc", "", ".5", "nan"])
def test_threshold_must_be_a_json_number(model_client: TestClient, claim: dict, raw: str) -> None:
    response = model_client.post(f"/v1/score?threshold={raw}", json=claim)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "threshold"]


@pytest.mark.parametrize("raw, expected", [("0", 0.0), ("1", 1.0), ("0.25", 0.25), ("2.5e-1", 0.25)])
def test_threshold_accepts_json_numbers(model_client: TestClient, claim: dict, raw: str, expected: float) -> None:
    response = model_client.post(f"/v1/score?threshold={raw}", json=claim)
    assert response.status_code == 200
    assert response.json()["threshold"] == expected
