"""Typed dependency aliases: routes declare what they need, tests override the providers.

Providers are ``async def`` on purpose: FastAPI runs a plain ``def`` dependency in the thread
pool, and three thread hand-offs per request cost more than scoring a claim.

``ScorerDep`` resolves the scorer once per request, so a model swapped in mid-request does not
change the answer being computed; it raises 503 when no model is loaded.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from serving.config import Settings
from serving.metrics import ServingMetrics
from serving.model_store import ModelStore
from serving.scorer import Scorer


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _store(request: Request) -> ModelStore:
    store: ModelStore = request.app.state.store
    return store


async def get_store(request: Request) -> ModelStore:
    return _store(request)


async def get_metrics(request: Request) -> ServingMetrics:
    metrics: ServingMetrics = request.app.state.metrics
    return metrics


async def get_checker(request: Request) -> Scorer:
    """The current scorer, with or without a model: enough for rules-only checks."""
    return _store(request).scorer


async def get_scorer(request: Request) -> Scorer:
    """The current scorer with a model; 503 (``ModelUnavailable``) when none is loaded."""
    return _store(request).require_model()


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[ModelStore, Depends(get_store)]
MetricsDep = Annotated[ServingMetrics, Depends(get_metrics)]
CheckerDep = Annotated[Scorer, Depends(get_checker)]
ScorerDep = Annotated[Scorer, Depends(get_scorer)]
