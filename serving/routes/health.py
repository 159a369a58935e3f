"""Liveness, readiness and metrics: unauthenticated, so load balancers and Prometheus can probe them."""

from __future__ import annotations

from fastapi import APIRouter, Response

from serving.deps import MetricsDep, StoreDep
from serving.metrics import CONTENT_TYPE_LATEST
from serving.responses import json_response
from serving.schemas import Health, Readiness

router = APIRouter(tags=["operations"])

_OK = b'{"status":"ok"}'


@router.get("/healthz", response_model=Health, summary="the process is running")
async def healthz() -> Response:
    return Response(_OK, media_type="application/json")


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="a model is loaded and scoring works",
    responses={503: {"model": Readiness, "description": "no model is served: reason no_model, loading or model_invalid"}},
)
async def readyz(store: StoreDep) -> Response:
    """Ready, or not ready with a fixed reason code (CONTRACT §4): this route is unauthenticated,
    so the paths and exception text behind a failed load are in the log, never here."""
    scorer = store.scorer
    if scorer.has_model:
        return json_response({"status": "ready", "model_version": scorer.model_version})
    return json_response({"status": "not_ready", "reason": store.reason}, 503)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}, "description": "text format"}},
)
async def metrics(metrics: MetricsDep) -> Response:
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)
