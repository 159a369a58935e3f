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
import inspect
import logging
import typing
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.routing import request_response

from claimrisk import __version__
from serving.batching import ScoreBatcher
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
from serving.workers import NOTICE_POLL_SECONDS, ReloadNotice, reload_notice_from_env

logger = logging.getLogger("claimrisk.app")

DESCRIPTION = (
    "Denial risk for drug claims before they are sent: the rules a claim breaks, the calibrated "
    "probability that the payer denies it, and how much fixing each problem would lower that risk."
)


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


class RequestOnlyRoute(APIRoute):
    """A route whose ``async`` endpoint takes nothing but (optionally) the ``Request`` and returns a
    ``Response`` itself: it is called directly, without FastAPI's per-request handler (dependency
    solving, response-model serialisation, telemetry hooks), which for such an endpoint does
    nothing but costs tens of µs. Request parsing, errors and headers are the endpoint's own, so
    the answers are the same; the OpenAPI document is built from the route as before."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        if self.max_body_size is None:  # else FastAPI's app, which enforces that limit, stays
            # Starlette's request-response app: FastAPI's adds two exit stacks per request for
            # dependencies with ``yield``, of which such an endpoint has none.
            self.app = request_response(self.get_route_handler())

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.endpoint
        name = self.dependant.request_param_name

        async def handler(request: Request) -> Response:
            response = await (endpoint(**{name: request}) if name else endpoint())
            if not isinstance(response, Response):  # the qualification below makes this unreachable
                raise TypeError(f"{endpoint.__name__} must return a Response")
            return response

        return handler


def _takes_only_the_request(route: APIRoute) -> bool:
    """True when ``RequestOnlyRoute`` serves ``route`` exactly as FastAPI's own handler would."""
    dependant = route.dependant
    if not inspect.iscoroutinefunction(route.endpoint):
        return False
    if (
        dependant.path_params or dependant.query_params or dependant.header_params
        or dependant.cookie_params or dependant.body_params or dependant.dependencies
    ):
        return False
    if (
        dependant.websocket_param_name or dependant.http_connection_param_name
        or dependant.response_param_name or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
    ):
        return False
    returns = typing.get_type_hints(route.endpoint).get("return")
    return isinstance(returns, type) and issubclass(returns, Response)


def add_routes(app: FastAPI, router: APIRouter, *, direct: bool = True) -> None:
    """``app.include_router(router)``, with the router's routes registered on the app's own router.

    FastAPI keeps an included router as a nested branch that it walks, with scope bookkeeping, on
    every request (tens of µs for the third of four routers); the same routes in a flat list, in
    the same order and with the same settings (so the OpenAPI document is unchanged), are matched
    directly. Each route is re-created the way ``include_router`` once copied them; with
    ``direct``, those whose endpoint takes only the request become ``RequestOnlyRoute``.
    """
    for route in router.routes:
        if not isinstance(route, APIRoute):
            raise TypeError(f"only API routes can be added this way, got {type(route).__name__}")
        route_class: Any = RequestOnlyRoute if direct and _takes_only_the_request(route) else None
        app.router.add_api_route(
            route.path,
            route.endpoint,
            response_model=route.response_model,
            status_code=route.status_code,
            tags=route.tags,
            dependencies=route.dependencies,
            summary=route.summary,
            description=route.description,
            response_description=route.response_description,
            responses=route.responses,
            deprecated=route.deprecated,
            methods=route.methods,
            operation_id=route.operation_id,
            response_model_include=route.response_model_include,
            response_model_exclude=route.response_model_exclude,
            response_model_by_alias=route.response_model_by_alias,
            response_model_exclude_unset=route.response_model_exclude_unset,
            response_model_exclude_defaults=route.response_model_exclude_defaults,
            response_model_exclude_none=route.response_model_exclude_none,
            include_in_schema=route.include_in_schema,
            response_class=route.response_class,
            name=route.name,
            callbacks=route.callbacks,
            openapi_extra=route.openapi_extra,
            generate_unique_id_function=route.generate_unique_id_function,
            strict_content_type=route.strict_content_type,
            max_body_size=route.max_body_size,
            form_limits=route.form_limits,
            route_class_override=route_class,
        )


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
        app.state.store = store
        await asyncio.to_thread(store.try_load)
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
        version=__version__,
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
        # With FastAPI's OpenTelemetry on, every route keeps FastAPI's handler (it records the spans).
        add_routes(app, router, direct=not settings.otel)
    # Routes are tried in order on every request: the API's before FastAPI's documentation pages
    # (all paths are distinct, so only the cost changes; the OpenAPI document lists API routes only).
    app.router.routes.sort(key=lambda route: not isinstance(route, APIRoute))
    install_openapi(app, settings.max_batch)

    app.add_middleware(
        RequestGuard, key_digests=settings.api_key_digests(), max_body_bytes=settings.max_body_bytes
    )
    app.add_middleware(AccessLogMiddleware, metrics=metrics, enabled=settings.access_log)
    return app
