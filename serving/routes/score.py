"""``POST /v1/score`` and ``/v1/score/batch``: risk, decision, expected loss and fix-level explanations."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BeforeValidator

from claims.columnar import from_claims
from serving.deps import MetricsDep, ScorerDep, SettingsDep
from serving.openapi import batch_body, claim_body
from serving.parsing import parse_batch_frame, parse_claim
from serving.responses import json_response
from serving.schemas import MODEL_RESPONSES, BatchResult, ScoreResult

router = APIRouter(prefix="/v1", tags=["claims"])

_JSON_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")


def _json_number(value: Any) -> Any:
    """Only a JSON number literal: lax float parsing would take ``"\\v1"`` or ``" 1"`` as 1.0, which
    the OpenAPI document (type: number) says is invalid."""
    if isinstance(value, str) and not _JSON_NUMBER.fullmatch(value):
        raise ValueError("expected a number")
    return value


ThresholdQuery = Annotated[
    float | None,
    Query(ge=0.0, le=1.0, description="override the model's operating point for this request"),
    BeforeValidator(_json_number),
]


@router.post(
    "/score",
    response_model=ScoreResult,
    summary="score one claim before it is sent",
    responses=MODEL_RESPONSES,
    openapi_extra=claim_body(),
)
async def score(
    request: Request, scorer: ScorerDep, settings: SettingsDep, metrics: MetricsDep, threshold: ThresholdQuery = None
) -> Response:
    claim = parse_claim(await request.body())
    cut = threshold if threshold is not None else settings.threshold
    arrays = scorer.score_arrays(from_claims([claim]), cut, with_fixes=True)
    metrics.observe_risks(arrays.risk, arrays.review)
    state = request.state
    state.model_version = scorer.model_version
    state.risk = round(float(arrays.risk[0]), 6)
    state.n_claims = 1
    return json_response(scorer.answers(arrays)[0])


@router.post(
    "/score/batch",
    response_model=BatchResult,
    summary="score up to the configured maximum of claims; invalid claims are reported, not fatal",
    responses=MODEL_RESPONSES,
    openapi_extra=batch_body(),
)
async def score_batch(
    request: Request, scorer: ScorerDep, settings: SettingsDep, metrics: MetricsDep, threshold: ThresholdQuery = None
) -> Response:
    parsed = parse_batch_frame(await request.body(), settings.max_batch)
    threshold = threshold if threshold is not None else settings.threshold
    results: list[dict[str, object]] = []
    if parsed.frame.n_claims:
        arrays = scorer.score_arrays(parsed.frame, threshold, with_fixes=True)
        metrics.observe_risks(arrays.risk, arrays.review)
        results = scorer.answers(arrays)
    else:
        scorer.resolve_threshold(threshold)  # same errors as a non-empty batch would give
    state = request.state
    state.model_version = scorer.model_version
    state.n_claims = parsed.frame.n_claims
    state.n_errors = len(parsed.errors)
    return json_response({"results": results, "errors": parsed.errors})
