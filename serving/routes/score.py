"""``POST /v1/score`` and ``/v1/score/batch``: risk, decision, expected loss and fix-level explanations.

Plain path operations on an ``APIRouter`` (included with ``app.include_router``). They take the
``Request`` and read the body themselves: a claim is validated straight from bytes
(``serving.parsing``), which is faster than FastAPI's JSON decoding plus validation and lets the
API decide what a 422 says (never the submitted value). ``?threshold=`` is validated by the same
pydantic type FastAPI would use, with the same 422 body, and declared in the OpenAPI document with
the request bodies (``openapi_extra``), so schema-driven clients see both.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import BeforeValidator, Field, TypeAdapter, ValidationError

from serving.errors import InvalidInput, validation_details
from serving.openapi import batch_body, claim_body
from serving.parsing import parse_batch_frame, parse_claim
from serving.responses import json_response
from serving.schemas import MODEL_RESPONSES, BatchResult, ScoreResult

router = APIRouter(prefix="/v1", tags=["claims"])

_JSON_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
THRESHOLD_HELP = "override the model's operating point for this request"


def _json_number(value: Any) -> Any:
    """Only a JSON number literal: lax float parsing would take ``"\\v1"`` or ``" 1"`` as 1.0, which
    the OpenAPI document (type: number) says is invalid."""
    if isinstance(value, str) and not _JSON_NUMBER.fullmatch(value):
        raise ValueError("expected a number")
    return value


_THRESHOLD = TypeAdapter(Annotated[float, Field(ge=0.0, le=1.0), BeforeValidator(_json_number)])

THRESHOLD_PARAMETER: dict[str, Any] = {
    "name": "threshold",
    "in": "query",
    "required": False,
    "schema": {
        "anyOf": [{"type": "number", "maximum": 1.0, "minimum": 0.0}, {"type": "null"}],
        "description": THRESHOLD_HELP,
        "title": "Threshold",
    },
    "description": THRESHOLD_HELP,
}


def query_threshold(request: Request) -> float | None:
    """``?threshold=`` (the last one when repeated, as FastAPI reads it), or None."""
    if not request.scope["query_string"]:
        return None
    raw = request.query_params.get("threshold")
    if raw is None:
        return None
    try:
        return float(_THRESHOLD.validate_python(raw))
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
        for error in errors:
            error["loc"] = ("query", "threshold", *error["loc"])
        raise InvalidInput("the request is invalid", validation_details(list(errors))) from None


def _operation(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "parameters": [THRESHOLD_PARAMETER]}


@router.post(
    "/score",
    response_model=ScoreResult,
    summary="score one claim before it is sent",
    responses=MODEL_RESPONSES,
    openapi_extra=_operation(claim_body()),
)
async def score(request: Request) -> Response:
    app_state = request.app.state
    scorer = app_state.store.require_model()  # 503 before the body is parsed
    threshold = query_threshold(request)
    claim = parse_claim(await request.body())
    cut = threshold if threshold is not None else app_state.settings.threshold
    # scored with the claims of the requests waiting alongside it (serving.batching)
    scored = await app_state.score_batcher.score(scorer, claim, cut)
    state = request.state  # read by the access log (serving.logs)
    state.model_version = scorer.model_version
    state.risk = round(scored.risk, 6)
    state.n_claims = 1
    return json_response(scored.answer)


@router.post(
    "/score/batch",
    response_model=BatchResult,
    summary="score up to the configured maximum of claims; invalid claims are reported, not fatal",
    responses=MODEL_RESPONSES,
    openapi_extra=_operation(batch_body()),
)
async def score_batch(request: Request) -> Response:
    app_state = request.app.state
    scorer = app_state.store.require_model()
    threshold = query_threshold(request)
    settings = app_state.settings
    parsed = parse_batch_frame(await request.body(), settings.max_batch)
    threshold = threshold if threshold is not None else settings.threshold
    results: list[dict[str, object]] = []
    if parsed.frame.n_claims:
        arrays = scorer.score_arrays(parsed.frame, threshold, with_fixes=True, with_all_fixed=True)
        app_state.metrics.observe_risks(arrays.risk, arrays.review)
        app_state.metrics.observe_drift(scorer, arrays)
        results = scorer.answers(arrays)
    else:
        scorer.resolve_threshold(threshold)  # same errors as a non-empty batch would give
    state = request.state
    state.model_version = scorer.model_version
    state.n_claims = parsed.frame.n_claims
    state.n_errors = len(parsed.errors)
    return json_response({"results": results, "errors": parsed.errors})
