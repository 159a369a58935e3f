"""The worklist's OpenAPI: its operations name the bearer (personal token) scheme, never the API
key, and the request examples of import, what-if, edit and status are bodies the API accepts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from claims.examples import EXAMPLE_CLAIM
from claims.jsonl import read_claims_jsonl_bytes
from serving.routes.queue import EditRequest, StatusRequest, WhatIfRequest
from worklist.content import apply_edits


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from serving.app import create_app
    from serving.config import Settings

    app = create_app(Settings(models_dir=tmp_path_factory.mktemp("no-model"), reload_poll_seconds=0))
    found: dict[str, Any] = app.openapi()
    return found


def _examples(schema: dict[str, Any], path: str, method: str, media: str) -> list[Any]:
    body = schema["paths"][path][method]["requestBody"]["content"][media]
    return [example["value"] for example in body["examples"].values()]


def test_queue_operations_take_a_personal_token_and_the_rest_an_api_key(schema: dict[str, Any]) -> None:
    schemes = schema["components"]["securitySchemes"]
    assert schemes["PersonalToken"]["type"] == "http" and schemes["PersonalToken"]["scheme"] == "bearer"
    seen = {"queue": 0, "other": 0}
    for path, item in schema["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for operation in item.values():
            queue = path.startswith("/v1/queue")
            seen["queue" if queue else "other"] += 1
            assert operation["security"] == [{"PersonalToken" if queue else "ApiKey": []}], path
    assert seen["queue"] >= 15 and seen["other"] >= 3


def test_the_request_examples_are_accepted(schema: dict[str, Any], tmp_path: Path) -> None:
    (line,) = _examples(schema, "/v1/queue/import", "post", "application/x-ndjson")
    read = read_claims_jsonl_bytes(line.encode())
    assert (read.frame.n_claims, read.errors) == (1, [])
    for body in _examples(schema, "/v1/queue/claims/{claim_id}/what-if", "post", "application/json"):
        apply_edits(EXAMPLE_CLAIM, WhatIfRequest.model_validate(body).edits)
    edits = _examples(schema, "/v1/queue/claims/{claim_id}", "patch", "application/json")
    assert len(edits) == 2
    for body in edits:
        apply_edits(EXAMPLE_CLAIM, EditRequest.model_validate(body).edits)  # raises when a path is wrong
    statuses = [StatusRequest.model_validate(b) for b in _examples(schema, "/v1/queue/claims/{claim_id}/status", "post",
                                                                  "application/json")]
    assert {s.status for s in statuses} == {"in_review", "dismissed"}
    assert all(s.reason for s in statuses if s.status == "dismissed")
    assert orjson.loads(line)["claim_id"] == EXAMPLE_CLAIM["claim_id"]
