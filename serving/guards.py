"""ASGI middleware that rejects a request before any of its body is read or parsed.

Two checks belong here rather than in FastAPI dependencies, because FastAPI reads and parses the
body before dependencies run:

* API key: with keys configured, every ``/v1/*`` call without a matching ``X-API-Key`` answers 401
  at once, even when its body is malformed (nothing about it is parsed);
* body size: FastAPI, Starlette and uvicorn have no body limit, so a declared ``Content-Length``
  over the limit answers 413 immediately, and a chunked body is counted as it streams in and cut
  off with 413 as soon as it passes the limit.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

import orjson

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PROTECTED_PREFIX = "/v1/"


class BodyTooLarge(Exception):
    """Raised from ``receive`` once a streamed body passes the limit; turned into a 413 below."""


async def send_json(
    send: Send, status: int, body: dict[str, Any], headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    payload = orjson.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def too_large_body(limit: int) -> dict[str, Any]:
    return {"error": "payload_too_large", "message": f"request body exceeds {limit} bytes"}


class RequestGuard:
    def __init__(self, app: ASGIApp, *, key_digests: tuple[bytes, ...], max_body_bytes: int) -> None:
        self.app = app
        self.key_digests = key_digests
        self.max_body_bytes = max_body_bytes

    def _key_matches(self, presented: bytes | None) -> bool:
        if presented is None:
            return False
        digest = hashlib.sha256(presented).digest()
        matched = False
        for expected in self.key_digests:  # no early exit: timing must not reveal which key matched
            matched |= hmac.compare_digest(digest, expected)
        return matched

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        if self.key_digests and scope["path"].startswith(PROTECTED_PREFIX):
            presented = next((v for k, v in headers if k == b"x-api-key"), None)
            if not self._key_matches(presented):
                await send_json(
                    send,
                    401,
                    {"error": "unauthorized", "message": "a valid X-API-Key header is required"},
                    [(b"www-authenticate", b"APIKey")],
                )
                return
        limit = self.max_body_bytes
        declared = None
        chunked = False
        for key, value in headers:
            if key == b"content-length":
                if declared is None:
                    declared = value
            elif key == b"transfer-encoding":
                chunked = True
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                too_big = False  # uvicorn itself rejects a malformed Content-Length
                chunked = True  # and the body is counted below, as for a streamed one
            if too_big:
                await send_json(send, 413, too_large_body(limit), [(b"connection", b"close")])
                return
            if not chunked:
                # The server reads exactly the declared length, which is within the limit: there is
                # nothing to count (the common case, spared two wrappers per request).
                await self.app(scope, receive, send)
                return

        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await send_json(send, 413, too_large_body(limit), [(b"connection", b"close")])
