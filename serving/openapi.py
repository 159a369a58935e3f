"""OpenAPI for bodies the handlers parse themselves.

``/v1/check`` and ``/v1/score`` read raw bytes (faster, and the 422 is ours), so FastAPI cannot see
their request models; the request bodies are declared here and the claim's JSON schema is added to
``components``. Numbers the claim model bounds in a validator are given the same bounds in the
schema, so that schema-driven clients (and schemathesis) know which values are acceptable.
"""

from __future__ import annotations

from typing import Any

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
                "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}
            }
            for path, item in schema.get("paths", {}).items():
                if path.startswith("/v1/"):
                    for operation in item.values():
                        operation["security"] = [{"ApiKey": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
