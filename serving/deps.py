"""Typed dependency aliases: routes declare what they need, tests override the providers.

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


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_store(request: Request) -> ModelStore:
    store: ModelStore = request.app.state.store
    return store


def get_metrics(request: Request) -> ServingMetrics:
    metrics: ServingMetrics = request.app.state.metrics
    return metrics


def get_checker(request: Request) -> Scorer:
    """The current scorer, with or without a model: enough for rules-only checks."""
    return get_store(request).scorer


def get_scorer(request: Request) -> Scorer:
    """The current scorer with a model; 503 (``ModelUnavailable``) when none is loaded."""
    return get_store(request).require_model()


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[ModelStore, Depends(get_store)]
MetricsDep = Annotated[ServingMetrics, Depends(get_metrics)]
CheckerDep = Annotated[Scorer, Depends(get_checker)]
ScorerDep = Annotated[Scorer, Depends(get_scorer)]
