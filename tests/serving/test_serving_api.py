"""Status codes and bodies of the HTTP API (CONTRACT §4), in process with TestClient."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

API_KEY = "test-key-0123456789"  # the key the keyed_client fixture is configured with
SECRET_DX = "Q87.40"


def test_healthz_answers_ok_without_a_model(no_model_client: TestClient) -> None:
    response = no_model_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["x-request-id"]


def test_readyz_and_scoring_routes_answer_503_without_a_model(
    no_model_client: TestClient, claim: dict, empty_models_dir: Any
) -> None:
    ready = no_model_client.get("/readyz")
    assert ready.status_code == 503
    # a fixed reason code, and nothing else: the unauthenticated probe names no path (CONTRACT §4)
    assert ready.json() == {"status": "not_ready", "reason": "no_model"}
    for method, path, body in [
        ("POST", "/v1/score", claim),
        ("POST", "/v1/score/batch", {"claims": [claim]}),
        ("GET", "/v1/model", None),
    ]:
        response = no_model_client.request(method, path, json=body)
        assert response.status_code == 503, path
        assert response.json()["error"] == "model_unavailable"
        assert response.json()["reason"] == "no_model"
        assert str(empty_models_dir) not in response.text and "claimrisk.json" not in response.text


def test_check_needs_no_model(no_model_client: TestClient, claim: dict) -> None:
    claim["lines"][0]["drug"] = None  # a NOC drug line without an NDC
    response = no_model_client.post("/v1/check", json=claim)
    assert response.status_code == 200
    body = response.json()
    assert body["claim_id"] == claim["claim_id"]
    assert set(body) == {"claim_id", "rules", "rules_version", "reference_data_version"}
    fired = {(r["id"], r["line_number"]) for r in body["rules"]}
    assert ("NDC_MISSING", 1) in fired
    assert all("risk_if_fixed" not in r for r in body["rules"])


def test_422_gives_field_path_and_never_echoes_the_value(no_model_client: TestClient, claim: dict) -> None:
    claim["lines"][0]["drug"]["ndc"] = 5544433  # not a string
    claim["diagnosis_codes"] = [SECRET_DX, 12]
    claim["lines"][0]["description"] = ["SECRETDRUGNAME 5MG"]
    response = no_model_client.post("/v1/check", json=claim)
    assert response.status_code == 422
    body = response.json()
    locs = {tuple(d["loc"]) for d in body["detail"]}
    assert ("lines", 0, "drug", "ndc") in locs
    assert ("diagnosis_codes", 1) in locs
    assert ("lines", 0, "description") in locs
    assert all(set(d) == {"loc", "msg", "type"} for d in body["detail"])
    text = response.text
    for value in ("5544433", SECRET_DX, "SECRETDRUGNAME"):
        assert value not in text


def test_422_for_unknown_field_and_malformed_json(no_model_client: TestClient, claim: dict) -> None:
    claim["patient_name"] = "JANE DOE"
    response = no_model_client.post("/v1/check", json=claim)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["patient_name"]
    assert "JANE DOE" not in response.text
    response = no_model_client.post("/v1/check", content=b'{"claim_id": "A1", "payer": ')
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


def test_422_for_a_bad_threshold_does_not_echo_it(model_client: TestClient, claim: dict) -> None:
    response = model_client.post("/v1/score?threshold=1.73e3", json=claim)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "threshold"]
    assert "1.73e3" not in response.text and "1730" not in response.text


def test_413_on_declared_content_length(empty_models_dir: Any, claim: dict, make_client: Callable[..., TestClient]) -> None:
    with make_client(models_dir=empty_models_dir, max_body_bytes=4096) as client:
        big = dict(claim, note="x" * 80)
        body = orjson.dumps({"claims": [big] * 40})
        assert len(body) > 4096
        response = client.post("/v1/score/batch", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 413
        assert response.json()["error"] == "payload_too_large"


def test_413_on_a_chunked_body_without_content_length(
    empty_models_dir: Any, claim: dict, make_client: Callable[..., TestClient]
) -> None:
    with make_client(models_dir=empty_models_dir, max_body_bytes=4096) as client:
        payload = orjson.dumps({"claims": [claim] * 40})

        def chunks() -> Iterator[bytes]:
            for start in range(0, len(payload), 1000):
                yield payload[start : start + 1000]

        response = client.post("/v1/check", content=chunks(), headers={"content-type": "application/json"})
        assert "content-length" not in response.request.headers
        assert response.request.headers.get("transfer-encoding") == "chunked"
        assert response.status_code == 413


def test_413_for_a_batch_over_the_configured_maximum(
    models_dir: Any, claim: dict, make_client: Callable[..., TestClient]
) -> None:
    with make_client(models_dir=models_dir, max_batch=3) as client:
        response = client.post("/v1/score/batch", json={"claims": [claim] * 4})
        assert response.status_code == 413
        assert "at most 3" in response.json()["message"]
        ok = client.post("/v1/score/batch", json={"claims": [claim] * 3})
        assert ok.status_code == 200
        assert len(ok.json()["results"]) == 3


def test_401_without_or_with_a_wrong_key_and_200_with_the_right_one(keyed_client: TestClient, claim: dict) -> None:
    assert keyed_client.post("/v1/check", json=claim).status_code == 401
    wrong = keyed_client.post("/v1/check", json=claim, headers={"X-API-Key": "not-the-key-123"})
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"] == "APIKey"
    good = keyed_client.post("/v1/check", json=claim, headers={"X-API-Key": API_KEY})
    assert good.status_code == 200
    # probes and metrics stay open for load balancers and Prometheus
    assert keyed_client.get("/healthz").status_code == 200
    assert keyed_client.get("/metrics").status_code == 200


def test_401_comes_before_the_body_is_read_even_when_malformed(keyed_client: TestClient) -> None:
    for body in (b"{not json", b'{"claims": 5}', b"\xff\xfe"):
        assert keyed_client.post("/v1/check", content=body).status_code == 401
        assert keyed_client.post("/v1/score/batch", content=body).status_code == 401
    # with the key, the same malformed body is a 422 (so the 401 above was not a parse result)
    assert keyed_client.post("/v1/check", content=b"{not json", headers={"X-API-Key": API_KEY}).status_code == 422


def test_401_before_413(empty_models_dir: Any, make_client: Callable[..., TestClient]) -> None:
    with make_client(models_dir=empty_models_dir, api_keys=[API_KEY], max_body_bytes=2048) as client:
        response = client.post("/v1/check", content=b"x" * 10_000)
        assert response.status_code == 401


def test_weak_api_keys_are_refused_at_start_up() -> None:
    from pydantic import ValidationError

    from serving.config import Settings

    with pytest.raises(ValidationError):
        Settings(api_keys=["short"])
    with pytest.raises(ValidationError):
        Settings(api_keys=["changeme"])


def test_api_keys_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from serving.config import Settings

    monkeypatch.setenv("CLAIMRISK_API_KEYS", "first-key-123456, second-key-654321")
    assert [k.get_secret_value() for k in Settings().api_keys] == ["first-key-123456", "second-key-654321"]
    monkeypatch.setenv("CLAIMRISK_API_KEYS", '["json-key-1234567"]')
    assert [k.get_secret_value() for k in Settings().api_keys] == ["json-key-1234567"]


def test_metrics_count_requests_per_route(no_model_client: TestClient) -> None:
    for _ in range(3):
        no_model_client.get("/healthz")
    text = no_model_client.get("/metrics").text
    assert 'claimrisk_http_requests_total{method="GET",route="/healthz",status="200"} 3.0' in text
    assert 'claimrisk_http_request_duration_seconds_bucket{le="0.001",route="/healthz"}' in text


def test_openapi_documents_bodies_errors_and_examples(no_model_client: TestClient) -> None:
    spec = no_model_client.get("/openapi.json").json()
    score = spec["paths"]["/v1/score"]["post"]
    body = score["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/Claim"}
    assert body["examples"]["noc_drug_claim"]["value"]["claim_id"] == "PCN20260115A"
    assert {"200", "401", "413", "422", "503"} <= set(score["responses"])
    assert "Claim" in spec["components"]["schemas"] and "Line" in spec["components"]["schemas"]
    batch = spec["components"]["schemas"]["ClaimBatchRequest"]["properties"]["claims"]
    assert "up to 1000 claims" in batch["description"] and "413" in batch["description"]
    charge = spec["components"]["schemas"]["Line"]["properties"]["charge"]
    assert json.dumps(charge).count("10000000000") == 2  # the validator's bounds are published


# -- with a model ---------------------------------------------------------------------------------


def test_score_answers_the_contract_fields(model_client: TestClient, claim: dict) -> None:
    response = model_client.post("/v1/score", json=claim)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {
        "claim_id", "risk", "decision", "threshold", "expected_loss", "model_version",
        "rules_version", "reference_data_version", "rules", "risk_if_all_fixed",  # CONTRACT §4, §8
        "reasons",  # CONTRACT §7
    }
    assert 0.0 <= body["risk"] <= 1.0
    assert body["decision"] == ("review" if body["risk"] >= body["threshold"] else "pass")
    assert body["expected_loss"] == pytest.approx(body["risk"] * claim["total_charge"])
    model = model_client.get("/v1/model").json()
    assert body["threshold"] == pytest.approx(model["threshold"])
    assert body["model_version"] == model["model_version"]
    for rule in body["rules"]:
        assert 0.0 <= rule["risk_if_fixed"] <= body["risk"] + 1e-12


def test_expected_loss_uses_line_charges_when_total_is_missing(model_client: TestClient, claim: dict) -> None:
    claim["total_charge"] = None
    claim["lines"][0]["charge"] = 800.0
    body = model_client.post("/v1/score", json=claim).json()
    assert body["expected_loss"] == pytest.approx(body["risk"] * 800.0)


def test_threshold_override_changes_the_decision(model_client: TestClient, claim: dict) -> None:
    low = model_client.post("/v1/score?threshold=0", json=claim).json()
    high = model_client.post("/v1/score?threshold=1", json=claim).json()
    assert (low["threshold"], low["decision"]) == (0.0, "review")
    assert high["threshold"] == 1.0
    assert high["decision"] == ("review" if high["risk"] >= 1.0 else "pass")
    assert low["risk"] == high["risk"]


def test_batch_with_one_invalid_claim_scores_the_others(model_client: TestClient, claim: dict) -> None:
    second = dict(claim, claim_id="SECOND")
    bad = dict(claim, claim_id="BAD1", total_charge="12", diagnosis_codes=[SECRET_DX, 7])
    response = model_client.post("/v1/score/batch", json={"claims": [claim, bad, second, "not a claim"]})
    assert response.status_code == 200
    body = response.json()
    assert [r["claim_id"] for r in body["results"]] == [claim["claim_id"], "SECOND"]
    assert [(e["index"], e["claim_id"]) for e in body["errors"]] == [(1, "BAD1"), (3, None)]
    assert "total_charge" in body["errors"][0]["error"] and "diagnosis_codes.1" in body["errors"][0]["error"]
    assert SECRET_DX not in response.text
    single = model_client.post("/v1/score", json=claim).json()
    assert body["results"][0] == single


def test_batch_shape_errors_are_422(model_client: TestClient, claim: dict) -> None:
    for payload in ({"claims": []}, {"claims": claim}, {"claims": [claim], "extra": 1}, [claim]):
        assert model_client.post("/v1/score/batch", json=payload).status_code == 422, payload


def test_model_endpoint_reports_versions_and_metrics(model_client: TestClient) -> None:
    body = model_client.get("/v1/model").json()
    assert body["model_version"]
    assert body["metrics"], "holdout metrics are reported"
    assert body["rules_version"] and body["reference_data_version"]
    assert len(body["sha256"]) == 64
    assert body["signed"] is False  # no CLAIMRISK_MODEL_SIGNING_KEY in these tests
    assert model_client.get("/readyz").json() == {"status": "ready", "model_version": body["model_version"]}


def test_integral_floats_are_integers(no_model_client: TestClient, claim: dict) -> None:
    """JSON Schema (and so OpenAPI clients) call 2.0 an integer; the API accepts it as 2."""
    claim["lines"][0]["line_number"] = 1.0
    claim["lines"][0]["diagnosis_pointers"] = [1.0, 2]
    response = no_model_client.post("/v1/check", json=claim)
    assert response.status_code == 200, response.text
    claim["lines"][0]["line_number"] = 1.5
    response = no_model_client.post("/v1/check", json=claim)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["lines", 0, "line_number"]


def test_configured_threshold_applies_unless_the_query_overrides_it(
    models_dir: Any, claim: dict, make_client: Callable[..., TestClient]
) -> None:
    with make_client(models_dir=models_dir, threshold=0.0) as client:
        assert client.post("/v1/score", json=claim).json()["threshold"] == 0.0
        assert client.post("/v1/score?threshold=0.9", json=claim).json()["threshold"] == 0.9
        batch = client.post("/v1/score/batch", json={"claims": [claim]}).json()
        assert batch["results"][0]["decision"] == "review"
