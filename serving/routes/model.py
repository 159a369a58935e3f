"""``GET /v1/model`` (what is being served) and ``POST /v1/admin/reload`` (pick up a promotion now)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request, Response

from serving.deps import MetricsDep, ScorerDep, SettingsDep, StoreDep
from serving.model_store import freeze_heap
from serving.responses import json_response
from serving.schemas import MODEL_RESPONSES, ModelInfo, ReloadResult

router = APIRouter(prefix="/v1", tags=["model"])

_MODEL_RESPONSES = {k: v for k, v in MODEL_RESPONSES.items() if k not in (413, 422)}


def model_info(scorer: Any, source: str) -> dict[str, Any]:
    meta = scorer.metadata
    return {
        "model_version": scorer.model_version,
        "source": source,
        "threshold": scorer.threshold,
        "trained_at": meta.get("trained_at"),
        "metrics": meta.get("metrics") or {},
        "data": meta.get("data") or meta.get("data_summary") or {},
        "rules_version": scorer.context.rules_version,
        "reference_data_version": scorer.context.reference_data_version,
        "model_rules_version": meta.get("rules_version"),
        "model_reference_data_version": meta.get("reference_data_version"),
        "sha256": meta.get("sha256"),
    }


@router.get("/model", response_model=ModelInfo, summary="the served model and its holdout metrics", responses=_MODEL_RESPONSES)
async def get_model(request: Request, scorer: ScorerDep, settings: SettingsDep) -> Response:
    request.state.model_version = scorer.model_version
    return json_response(model_info(scorer, settings.model_source))


@router.post(
    "/admin/reload",
    response_model=ReloadResult,
    summary="load the currently promoted model now (requests in flight finish on the old one; every worker reloads)",
    responses=_MODEL_RESPONSES,
)
async def reload_model(request: Request, store: StoreDep, metrics: MetricsDep) -> Response:
    previous = store.scorer.model_version
    scorer = await asyncio.to_thread(store.load)
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
