"""OpenAPI for bodies the handlers parse themselves, and who may call what.

``/v1/check`` and ``/v1/score`` read raw bytes (faster, and the 422 is ours), so FastAPI cannot see
their request models; the request bodies are declared here and the claim's JSON schema is added to
``components``. Numbers the claim model bounds in a validator are given the same bounds in the
schema, so that schema-driven clients (and schemathesis) know which values are acceptable.

Two credentials, two schemes: scoring and model routes take an ``X-API-Key``; the worklist under
``/v1/queue`` answers only to a person (CONTRACT §8), a personal token sent as ``Authorization:
Bearer crk_...`` (or the web application's session), never an API key, so its operations name the
bearer scheme. Its write operations carry request examples a client can send as they are.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema

from claims.examples import EXAMPLE_CLAIM
from claims.model import MAX_MONEY, Claim

REF = "#/components/schemas/{model}"


def claim_body() -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/Claim"},
                    "examples": {"noc_drug_claim": {"summary": "a J3490 claim", "value": EXAMPLE_CLAIM}},
                }
            },
        }
    }


def batch_body() -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/ClaimBatchRequest"},
                    "examples": {"two_claims": {"summary": "a batch", "value": {"claims": [EXAMPLE_CLAIM]}}},
                }
            },
        }
    }


def _bound_numbers(node: Any) -> None:
    """``{"type": "number"}`` leaves get the ±MAX_MONEY bounds the claim's validator enforces."""
    if isinstance(node, dict):
        if node.get("type") == "number" and "maximum" not in node:
            node["minimum"] = -MAX_MONEY
            node["maximum"] = MAX_MONEY
        for value in node.values():
            _bound_numbers(value)
    elif isinstance(node, list):
        for value in node:
            _bound_numbers(value)


def claim_schemas(max_batch: int) -> dict[str, Any]:
    _, top = models_json_schema([(Claim, "validation")], ref_template=REF)
    schemas: dict[str, Any] = dict(top.get("$defs", {}))
    _bound_numbers(schemas)
    schemas["ClaimBatchRequest"] = {
        "title": "ClaimBatchRequest",
        "type": "object",
        "additionalProperties": False,
        "required": ["claims"],
        "properties": {
            "claims": {
                "type": "array",
                "minItems": 1,
                # Not ``maxItems``: a batch over the maximum is a 413 (too large), not a 422.
                # Any item is accepted: each is validated as a Claim on its own, and one that is not
                # a valid claim is reported in ``errors`` while the others are scored.
                "items": {"anyOf": [{"$ref": "#/components/schemas/Claim"}, {}]},
                "description": (
                    f"up to {max_batch} claims (see Claim; more answers 413), validated one by one: "
                    "an invalid one is reported in `errors`"
                ),
            }
        },
    }
    return schemas


PERSONAL_TOKEN = "PersonalToken"
QUEUE_PREFIX = "/v1/queue"
_QUEUE_EXAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("/v1/queue/import", "post"): {
        "application/x-ndjson": {"one_claim": {"summary": "contract claims, one JSON object per line",
                                               "value": orjson.dumps(EXAMPLE_CLAIM).decode() + "\n"}},
    },
    ("/v1/queue/claims/{claim_id}/what-if", "post"): {
        "application/json": {"fix_the_ndc": {"summary": "the score with the NDC corrected, not saved",
                                             "value": {"edits": {"lines.0.drug.ndc": "00002-7510-01"}}}},
    },
    ("/v1/queue/claims/{claim_id}", "patch"): {
        "application/json": {
            "fix_the_ndc": {"summary": "save the NDC fix on revision 1 (409 if it moved on)",
                            "value": {"revision": 1, "edits": {"lines.0.drug.ndc": "00002-7510-01"}}},
            "clear_a_field": {"summary": "null clears an optional field",
                              "value": {"revision": 2, "edits": {"prior_authorization": None}}},
        },
    },
    ("/v1/queue/claims/{claim_id}/status", "post"): {
        "application/json": {
            "start_review": {"summary": "take the claim into review", "value": {"revision": 1, "status": "in_review"}},
            "dismiss": {"summary": "dismissing needs a reason",
                        "value": {"revision": 1, "status": "dismissed", "reason": "duplicate of another claim"}},
        },
    },
}


def add_queue_examples(paths: dict[str, Any]) -> None:
    """Request examples on the worklist's write operations (import, what-if, edit, status)."""
    for (path, method), media in _QUEUE_EXAMPLES.items():
        content = paths.get(path, {}).get(method, {}).get("requestBody", {}).get("content", {})
        for media_type, examples in media.items():
            if media_type in content:
                content[media_type]["examples"] = examples


def install_openapi(app: FastAPI, max_batch: int) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(claim_schemas(max_batch))
            schema["components"]["securitySchemes"] = {
                "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                PERSONAL_TOKEN: {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "crk_... (claimrisk users token NAME)",
                    "description": "a user's personal token; the worklist refuses API keys",
                },
            }
            for path, item in schema.get("paths", {}).items():
                if path.startswith("/v1/"):
                    for operation in item.values():
                        operation["security"] = [{PERSONAL_TOKEN if path.startswith(QUEUE_PREFIX) else "ApiKey": []}]
            add_queue_examples(schema.get("paths", {}))
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
