"""ASGI middleware that rejects a request before any of its body is read or parsed.

Two checks belong here rather than in FastAPI dependencies, because FastAPI reads and parses the
body before dependencies run:

* API key: with keys configured, every ``/v1/*`` call without a matching ``X-API-Key`` answers 401
  at once, even when its body is malformed (nothing about it is parsed);
* admin scope: ``/v1/admin/*`` needs a key from ``CLAIMRISK_ADMIN_KEYS`` whatever the scoring keys
  say (401 without a valid key, 403 for a scoring key: a scoring key never reloads a model), and
  answers 404 when no admin key is configured, so the admin routes are off rather than open;
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
ADMIN_PREFIX = "/v1/admin"
API_KEY_HEADER = "x-api-key"
_API_KEY_HEADER = API_KEY_HEADER.encode()
_UNAUTHORIZED = {"error": "unauthorized", "message": "a valid X-API-Key header is required"}
_FORBIDDEN = {"error": "forbidden", "message": "an administrative X-API-Key is required"}
_NOT_FOUND = {"error": "not_found", "message": "not found"}


# Routes that take files: their body limit is ``max_upload_bytes`` (CLAIMRISK_MAX_UPLOAD_BYTES).
UPLOAD_PATHS = ("/v1/queue/import", "/v1/queue/outcomes", "/app/transfer/")
# Stored claims answer to a user, never to an API key (CONTRACT §8): the key check is skipped here
# and a request without any user credential is refused before its body is read; the routes'
# dependency then checks the token or session itself (serving.routes.queue).
USER_PREFIX = "/v1/queue"
SESSION_COOKIE = b"claimrisk_session="  # serving.web.security.COOKIE_NAME
_NO_USER = {"error": "unauthorized", "message": "a personal token (Authorization: Bearer crk_...) or a session is required"}


def has_user_credential(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether the request carries a bearer token or a session cookie (not whether it is valid)."""
    for key, value in headers:
        if key == b"authorization" and value[:7].lower() == b"bearer ":
            return True
        if key == b"cookie" and SESSION_COOKIE in value:
            return True
    return False


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


def key_matches(digests: tuple[bytes, ...], presented: bytes | None) -> bool:
    """Whether ``presented`` is one of the keys whose sha256 digests are given, in constant time:
    digests have one length whatever the key's, and every key is compared (no early exit), so
    timing reveals neither a key's length nor which key matched."""
    if presented is None:
        return False
    digest = hashlib.sha256(presented).digest()
    matched = False
    for expected in digests:
        matched |= hmac.compare_digest(digest, expected)
    return matched


class RequestGuard:
    def __init__(
        self, app: ASGIApp, *, key_digests: tuple[bytes, ...], max_body_bytes: int,
        admin_key_digests: tuple[bytes, ...] = (), max_upload_bytes: int | None = None,
    ) -> None:
        self.app = app
        self.max_upload_bytes = max_upload_bytes
        self.key_digests = key_digests
        self.admin_key_digests = admin_key_digests
        self.max_body_bytes = max_body_bytes

    def _refusal(self, path: str, headers: list[tuple[bytes, bytes]]) -> tuple[int, dict[str, str]] | None:
        """The status and body that refuse this request before its body is read, or None."""
        if path.startswith(ADMIN_PREFIX):
            if not self.admin_key_digests:
                return 404, _NOT_FOUND
            presented = next((v for k, v in headers if k == _API_KEY_HEADER), None)
            if key_matches(self.admin_key_digests, presented):
                return None
            if key_matches(self.key_digests, presented):
                return 403, _FORBIDDEN
            return 401, _UNAUTHORIZED
        if path.startswith(USER_PREFIX):
            return None if has_user_credential(headers) else (401, _NO_USER)
        if self.key_digests and path.startswith(PROTECTED_PREFIX):
            presented = next((v for k, v in headers if k == _API_KEY_HEADER), None)
            if not key_matches(self.key_digests, presented):
                return 401, _UNAUTHORIZED
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        refusal = self._refusal(scope["path"], headers)
        if refusal is not None:
            status, body = refusal
            scheme = b"Bearer" if body is _NO_USER else b"APIKey"
            await send_json(send, status, body, [(b"www-authenticate", scheme)] if status == 401 else [])
            return
        limit = self.max_body_bytes
        if self.max_upload_bytes is not None and scope["path"].startswith(UPLOAD_PATHS):
            limit = self.max_upload_bytes
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
