"""The FastAPI application: wiring only (settings, model store, middleware, error handlers, routes).

Middleware order, outermost first: access log (times and counts every request, rejected ones too)
→ request guard (401 without a key, 413 for oversized bodies, both before any body is read) → the
routes. The model is loaded in the lifespan; if it cannot be, the app still starts, answers rules-only
checks and reports 503 from ``/readyz`` and the scoring routes until a model appears.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

from claimrisk import __version__
from serving.config import Settings
from serving.errors import ServingError, validation_details
from serving.guards import RequestGuard
from serving.logs import AccessLogMiddleware
from serving.metrics import ServingMetrics
from serving.model_store import ModelStore, freeze_heap
from serving.openapi import install_openapi
from serving.responses import json_response
from serving.routes import check, health, model, score
from serving.scorer import load_rule_context

logger = logging.getLogger("claimrisk.app")

DESCRIPTION = (
    "Denial risk for drug claims before they are sent: the rules a claim breaks, the calibrated "
    "probability that the payer denies it, and how much fixing each problem would lower that risk."
)


async def _watch_export(store: ModelStore, metrics: ServingMetrics, every: float) -> None:
    """Pick up a newly promoted export without a restart; a failed load keeps the old model."""
    while True:
        await asyncio.sleep(every)
        try:
            if store.export_changed() and await asyncio.to_thread(store.try_load):
                metrics.set_model(store.scorer.model_version)
                freeze_heap()
        except Exception as exc:  # never let the watcher die
            logger.error("model watch failed", extra={"event": "model_watch_failed", "reason": type(exc).__name__})


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    metrics = ServingMetrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = ModelStore(settings, load_rule_context())
        app.state.store = store
        await asyncio.to_thread(store.try_load)
        metrics.set_model(store.scorer.model_version)
        freeze_heap()
        watcher = None
        if settings.reload_poll_seconds > 0 and settings.model_source == "export":
            watcher = asyncio.create_task(_watch_export(store, metrics, settings.reload_poll_seconds))
        try:
            yield
        finally:
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher

    app = FastAPI(
        title="claimrisk",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        # FastAPI's native OpenTelemetry checks the global providers on every request; the app has
        # its own Prometheus metrics and JSON access log, so it is opt-in (CLAIMRISK_OTEL=true).
        telemetry={"tracing": settings.otel, "metrics": settings.otel, "logs": settings.otel},
    )
    app.state.settings = settings
    app.state.metrics = metrics

    @app.exception_handler(ServingError)
    async def _serving_error(request: Request, exc: ServingError) -> Response:
        return json_response(exc.body(), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        body = {"error": "invalid_input", "message": "the request is invalid", "detail": validation_details(list(exc.errors()))}
        return json_response(body, status_code=422)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # Only the type: an exception message may quote a value from the claim.
        logger.error("unhandled error", extra={"event": "unhandled_error", "reason": type(exc).__name__})
        return json_response({"error": "internal_error", "message": "internal error"}, status_code=500)

    for router in (health.router, check.router, score.router, model.router):
        app.include_router(router)
    install_openapi(app, settings.max_batch)

    app.add_middleware(
        RequestGuard, key_digests=settings.api_key_digests(), max_body_bytes=settings.max_body_bytes
    )
    app.add_middleware(AccessLogMiddleware, metrics=metrics, enabled=settings.access_log)
    return app
