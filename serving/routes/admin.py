"""``POST /v1/admin/reload``: pick up a promotion now. Administrative scope only.

Reloading swaps the model every answer is computed with, so it is not something a scoring key may
do: the router is included only when ``CLAIMRISK_ADMIN_KEYS`` is set (otherwise the route does
not exist and answers 404, rather than being open), and each call needs one of those keys.
``serving.guards.RequestGuard`` already answers 401/403 before the body is read; the router's
dependency checks the key again, so the route stays closed even if the guard's path match and
the router's ever disagreed (a mount prefix, say).
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Request, Response

from serving.deps import MetricsDep, StoreDep
from serving.errors import ServingError
from serving.guards import API_KEY_HEADER, key_matches
from serving.model_store import freeze_heap
from serving.responses import json_response
from serving.schemas import MODEL_RESPONSES, ReloadResult


class AdminKeyRequired(ServingError):
    status_code = 403
    code = "forbidden"


async def require_admin_key(request: Request) -> None:
    """403 unless the request carries one of ``CLAIMRISK_ADMIN_KEYS`` (constant-time compare)."""
    presented = request.headers.get(API_KEY_HEADER)
    digests = request.app.state.settings.admin_key_digests()
    if not key_matches(digests, presented.encode() if presented is not None else None):
        raise AdminKeyRequired("an administrative X-API-Key is required")


router = APIRouter(prefix="/v1/admin", tags=["model"], dependencies=[Depends(require_admin_key)])

_RESPONSES = {
    **{k: v for k, v in MODEL_RESPONSES.items() if k not in (413, 422)},
    403: {"model": MODEL_RESPONSES[401]["model"], "description": "a key that is not an administrative key"},
    404: {"model": MODEL_RESPONSES[401]["model"], "description": "no CLAIMRISK_ADMIN_KEYS configured: the route is off"},
}


@router.post(
    "/reload",
    response_model=ReloadResult,
    summary="load the currently promoted model now (requests in flight finish on the old one; every worker reloads)",
    responses=_RESPONSES,
)
async def reload_model(request: Request, store: StoreDep, metrics: MetricsDep) -> Response:
    previous = store.scorer.model_version
    scorer = await asyncio.to_thread(store.load)  # a failed load raises 503 and keeps the old model
    metrics.set_model(scorer.model_version)
    freeze_heap()
    notice = request.app.state.reload_notice
    if notice is not None:  # the other worker processes load it too (serving.workers)
        notice.publish()
    request.state.model_version = scorer.model_version
    return json_response(
        {
            "model_version": scorer.model_version,
            "previous_model_version": previous,
            "changed": scorer.model_version != previous,
        }
    )
