"""``POST /v1/check``: rules only, no model needed."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from claims.columnar import from_claims
from serving.deps import CheckerDep
from serving.openapi import claim_body
from serving.parsing import parse_claim
from serving.responses import json_response
from serving.schemas import ERROR_RESPONSES, CheckResult

router = APIRouter(prefix="/v1", tags=["claims"])


@router.post(
    "/check",
    response_model=CheckResult,
    summary="run the rules on one claim",
    responses=ERROR_RESPONSES,
    openapi_extra=claim_body(),
)
async def check(request: Request, checker: CheckerDep) -> Response:
    claim = parse_claim(await request.body())
    result = checker.check(from_claims([claim]))[0]
    request.state.n_claims = 1
    return json_response(result)
