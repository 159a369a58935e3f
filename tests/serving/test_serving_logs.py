"""No claim content reaches the logs (CONTRACT §4): access lines carry ids, timings and risks only."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from serving.logs import JsonFormatter

SECRETS = {
    "ndc": "55555-4444-33",
    "dx": "Q87.40",
    "description": "ZORBLAXIMAB 250MG IV",
    "note": "ZORBLAXIMAB GIVEN 250MG",
    "payer_name": "SECRET MUTUAL HEALTH",
}


def _phi_claim(claim: dict[str, Any]) -> dict[str, Any]:
    claim["diagnosis_codes"] = [SECRETS["dx"]]
    claim["payer"]["name"] = SECRETS["payer_name"]
    line = claim["lines"][0]
    line["drug"]["ndc"] = SECRETS["ndc"]
    line["description"] = SECRETS["description"]
    line["note"] = SECRETS["note"]
    return claim


def _all_log_text(records: list[logging.LogRecord]) -> str:
    formatter = JsonFormatter()
    parts = []
    for record in records:
        parts.append(record.getMessage())
        parts.append(formatter.format(record))
        parts.append(repr(record.__dict__))
    return "\n".join(parts)


def _exercise(client: TestClient, claim: dict[str, Any], with_model: bool) -> None:
    assert client.post("/v1/check", json=claim).status_code == 200
    bad = dict(claim, diagnosis_codes=[SECRETS["dx"], 5], note=7)
    assert client.post("/v1/check", json=bad).status_code == 422
    status = 200 if with_model else 503
    assert client.post("/v1/score", json=claim).status_code == status
    assert client.post("/v1/score/batch", json={"claims": [claim, bad]}).status_code == status


def test_no_claim_content_in_logs_without_a_model(
    no_model_client: TestClient, claim: dict, caplog: pytest.LogCaptureFixture
) -> None:
    claim = _phi_claim(claim)
    with caplog.at_level(logging.DEBUG):
        _exercise(no_model_client, claim, with_model=False)
    access = [r for r in caplog.records if r.name == "claimrisk.access"]
    assert len(access) == 4, "one access line per request"
    text = _all_log_text(caplog.records)
    for value in SECRETS.values():
        assert value not in text


def test_no_claim_content_in_logs_when_scoring(
    models_dir: Any, claim: dict, caplog: pytest.LogCaptureFixture, make_client: Callable[..., TestClient]
) -> None:
    claim = _phi_claim(claim)
    with caplog.at_level(logging.DEBUG), make_client(models_dir=models_dir) as client:
        _exercise(client, claim, with_model=True)
    text = _all_log_text(caplog.records)
    for value in SECRETS.values():
        assert value not in text
    access = [orjson.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "claimrisk.access"]
    score_line = next(a for a in access if a["route"] == "/v1/score")
    assert score_line["status"] == 200
    assert 0.0 <= score_line["risk"] <= 1.0
    assert score_line["model_version"]
    assert len(score_line["request_id"]) == 32
    assert score_line["latency_ms"] > 0
    batch_line = next(a for a in access if a["route"] == "/v1/score/batch")
    assert (batch_line["n_claims"], batch_line["n_errors"]) == (1, 1)


def test_formatter_drops_extra_fields_outside_the_allow_list() -> None:
    record = logging.LogRecord("claimrisk.x", logging.INFO, __file__, 1, "hello", None, None)
    record.ndc = SECRETS["ndc"]
    record.route = "/v1/score"
    line = orjson.loads(JsonFormatter().format(record))
    assert line["route"] == "/v1/score"
    assert SECRETS["ndc"] not in orjson.dumps(line).decode()


def test_caller_request_id_is_kept_only_when_it_is_a_plain_token(no_model_client: TestClient) -> None:
    assert no_model_client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    odd = no_model_client.get("/healthz", headers={"X-Request-ID": "a b {json}"}).headers["x-request-id"]
    assert odd != "a b {json}" and len(odd) == 32
