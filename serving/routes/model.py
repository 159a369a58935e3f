"""``GET /v1/model``: what is being served (reloading is ``serving.routes.admin``, a separate scope)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from serving.deps import MetricsDep, ScorerDep, SettingsDep
from serving.responses import json_response
from serving.schemas import MODEL_RESPONSES, ModelInfo

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
        # set by the loaders: True when a CLAIMRISK_MODEL_SIGNING_KEY signature was verified
        "signed": bool(meta.get("signed", False)),
    }


@router.get("/model", response_model=ModelInfo, summary="the served model and its holdout metrics", responses=_MODEL_RESPONSES)
async def get_model(request: Request, scorer: ScorerDep, settings: SettingsDep, metrics: MetricsDep) -> Response:
    request.state.model_version = scorer.model_version
    info = model_info(scorer, settings.model_source)
    # PSI of this worker's recent scored claims against the training window (serving.drift)
    info["drift"] = report = metrics.drift.report(scorer)
    metrics.refresh_drift(report)
    return json_response(info)
