"""Structured JSON logs: one access line per request, and nothing from inside a claim.

The access log is written here from what the middleware sees (method, route template, status,
latency) plus the few facts a handler leaves in ``request.state`` (model version, risk, claim
counts). Request bodies, query strings and ``extra`` fields outside an allow-list never reach a log
line, so a diagnosis code, NDC or description cannot leak through a careless ``extra=``.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from typing import Any

import orjson

from serving.guards import ASGIApp, Message, Receive, Scope, Send
from serving.metrics import ServingMetrics

ACCESS_LOGGER = "claimrisk.access"
access_logger = logging.getLogger(ACCESS_LOGGER)

# The only ``extra`` keys a log line may carry: identifiers, timings, versions, counts, risks.
SAFE_FIELDS = (
    "event",
    "request_id",
    "method",
    "route",
    "status",
    "latency_ms",
    "model_version",
    "previous_model_version",
    "risk",
    "n_claims",
    "n_errors",
    "reason",
    # model loading only (never a claim): the operator's explanation of a failed load, with paths
    "detail",
    "signed",
    "still_serving",
)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "pid": record.process,  # which worker process, with ``claimrisk serve --workers N``
        }
        for name in SAFE_FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                entry[name] = value
        if record.exc_info and record.levelno >= logging.ERROR:
            entry["exc_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
        return orjson.dumps(entry, option=orjson.OPT_SERIALIZE_NUMPY).decode()


def configure_logging(level: str) -> None:
    """JSON to stderr for ``claimrisk`` and uvicorn loggers; uvicorn's own access log stays off."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name in ("claimrisk", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False
    logging.getLogger("uvicorn.access").disabled = True


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    """Honour a caller's X-Request-ID when it is a plain token (it is echoed into logs), else mint one."""
    for key, value in headers:
        if key == b"x-request-id":
            text = value.decode("latin-1")
            if _REQUEST_ID.match(text):
                return text
            break
    return uuid.uuid4().hex


class AccessLogMiddleware:
    """Times each request, tags it with a request id, logs one JSON line and feeds the metrics."""

    def __init__(self, app: ASGIApp, *, metrics: ServingMetrics, enabled: bool = True) -> None:
        self.app = app
        self.metrics = metrics
        self.enabled = enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_from(scope["headers"])
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        status = 500
        header = (b"x-request-id", request_id.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route_obj = scope.get("route")
            route = getattr(route_obj, "path", None) or "unmatched"
            self.metrics.observe_request(route, scope["method"], status, elapsed)
            if self.enabled and access_logger.isEnabledFor(logging.INFO):
                # What ``access_logger.info("request", extra=...)`` does, less the walk up the stack
                # for the caller's file and line, which no log line carries.
                record = access_logger.makeRecord(
                    ACCESS_LOGGER,
                    logging.INFO,
                    __file__,
                    0,
                    "request",
                    (),
                    None,
                    "__call__",
                    {
                        "event": "access",
                        "request_id": request_id,
                        "method": scope["method"],
                        "route": route,
                        "status": status,
                        "latency_ms": round(elapsed * 1000, 3),
                        "model_version": state.get("model_version"),
                        "risk": state.get("risk"),
                        "n_claims": state.get("n_claims"),
                        "n_errors": state.get("n_errors"),
                    },
                )
                access_logger.handle(record)
