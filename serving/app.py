"""The FastAPI application: wiring only (settings, model store, middleware, error handlers, routes).

Middleware order, outermost first: access log (times and counts every request, rejected ones too)
→ request guard (401 without a key, 413 for oversized bodies, both before any body is read) → the
routes. The model is loaded in the lifespan; if it cannot be, the app still starts, answers rules-only
checks and reports 503 from ``/readyz`` and the scoring routes until a model appears.

``claimrisk serve --workers N`` (N > 1) runs ``create_worker_app`` in each of N uvicorn worker
processes: each loads and verifies the model itself, watches the export on its own, and follows
the reload notice of ``serving.workers`` so that ``POST /v1/admin/reload`` reaches all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

from serving.batching import ScoreBatcher
from serving.config import Settings
from serving.errors import ServingError, validation_details
from serving.guards import RequestGuard
from serving.logs import AccessLogMiddleware
from serving.metrics import ServingMetrics
from serving.model_store import ModelStore, freeze_heap
from serving.openapi import install_openapi
from serving.rescore_job import rescore_in_background
from serving.responses import json_response
from serving.routes import admin, check, health, model, queue, score
from serving.scorer import load_rule_context
from serving.web import install_web
from serving.workers import NOTICE_POLL_SECONDS, ReloadNotice, reload_notice_from_env
from worklist.users import prepare_sign_in

logger = logging.getLogger("claimrisk.app")

DESCRIPTION = (
    "Denial risk for drug claims before they are sent: the rules a claim breaks, the calibrated "
    "probability that the payer denies it, and how much fixing each problem would lower that risk."
)


def package_version() -> str:
    """The installed distribution's version (pyproject.toml), read without importing the CLI
    package: serving sits below ``claimrisk`` in the layer order."""
    try:
        return version("claimrisk")
    except PackageNotFoundError:  # a source tree run without ``pip install -e .``
        return "0+unknown"


async def _load_when(
    store: ModelStore, metrics: ServingMetrics, every: float, due: Callable[[], bool], event: str
) -> None:
    """Poll ``due`` and load the promoted model when it says so; a failed load keeps the old model.

    Two pollers use it: the export watch (a newly promoted export appears without a restart) and,
    with several workers, the reload notice (another worker answered ``POST /v1/admin/reload``)."""
    while True:
        await asyncio.sleep(every)
        try:
            if due() and await asyncio.to_thread(store.try_load):
                metrics.set_model(store.scorer.model_version)
                freeze_heap()
        except Exception as exc:  # never let the watcher die
            logger.error("model watch failed", extra={"event": event, "reason": type(exc).__name__})


def create_worker_app() -> FastAPI:
    """The app of one uvicorn worker process (``claimrisk serve --workers N``): a fresh process
    reads its settings and sets up logging itself, and joins the server's reload notice."""
    from serving.logs import configure_logging

    settings = Settings()
    configure_logging(settings.log_level)
    return create_app(settings, reload_notice=reload_notice_from_env())


def create_app(settings: Settings | None = None, *, reload_notice: ReloadNotice | None = None) -> FastAPI:
    settings = settings or Settings()
    metrics = ServingMetrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = ModelStore(settings, load_rule_context())
        store.on_new_model = rescore_in_background  # the worklist follows promotions (serving.rescore_job)
        app.state.store = store
        await asyncio.to_thread(store.try_load)
        await asyncio.to_thread(prepare_sign_in)
        metrics.set_model(store.scorer.model_version)
        freeze_heap()
        watchers: list[asyncio.Task[None]] = []
        if settings.reload_poll_seconds > 0 and settings.model_source == "export":
            watchers.append(asyncio.create_task(
                _load_when(store, metrics, settings.reload_poll_seconds, store.export_changed, "model_watch_failed")
            ))
        if reload_notice is not None:
            watchers.append(asyncio.create_task(
                _load_when(store, metrics, NOTICE_POLL_SECONDS, reload_notice.received, "reload_notice_failed")
            ))
        try:
            yield
        finally:
            for watcher in watchers:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
            metrics.worker_exited()

    app = FastAPI(
        title="claimrisk",
        version=package_version(),
        description=DESCRIPTION,
        lifespan=lifespan,
        # FastAPI's native OpenTelemetry checks the global providers on every request; the app has
        # its own Prometheus metrics and JSON access log, so it is opt-in (CLAIMRISK_OTEL=true).
        telemetry={"tracing": settings.otel, "metrics": settings.otel, "logs": settings.otel},
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.score_batcher = ScoreBatcher(observe=metrics.observe_score_batch)
    app.state.reload_notice = reload_notice

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
    app.include_router(queue.router)  # /v1/queue: signed-in users and personal tokens only
    if settings.admin_keys:  # without admin keys the admin routes do not exist (404), never open
        app.include_router(admin.router)
    install_web(app)  # the worklist application under /app/ (serving.web)
    install_openapi(app, settings.max_batch)

    app.add_middleware(
        RequestGuard,
        key_digests=settings.api_key_digests(),
        admin_key_digests=settings.admin_key_digests(),
        max_body_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.max_upload_bytes,
    )
    app.add_middleware(AccessLogMiddleware, metrics=metrics, enabled=settings.access_log)
    return app
