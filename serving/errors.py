"""Domain errors of the serving layer, each with its HTTP status.

The scorer and the model store raise these instead of HTTP exceptions so that they stay usable from
the CLI; one handler in ``app.py`` turns them into PHI-free JSON bodies.
"""

from __future__ import annotations

from typing import Any


class ServingError(Exception):
    status_code = 500
    code = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message}


class ModelUnavailable(ServingError):
    """No model to score with. The answer names a fixed ``reason`` code (``loading``, ``no_model``,
    ``model_invalid``); ``detail`` (paths, exception text) is for the log and the CLI, never an answer."""

    status_code = 503
    code = "model_unavailable"

    def __init__(self, message: str, *, reason: str = "no_model", detail: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.detail = detail if detail is not None else message

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, "reason": self.reason}


class ModelIntegrityError(ServingError):
    """The exported model file does not match the sha256 recorded when it was promoted."""

    status_code = 503
    code = "model_integrity"


class PayloadTooLarge(ServingError):
    status_code = 413
    code = "payload_too_large"


class InvalidInput(ServingError):
    """Validation failed; ``details`` hold field paths and reasons, never the submitted values."""

    status_code = 422
    code = "invalid_input"

    def __init__(self, message: str, details: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.details = details

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, "detail": self.details}


def validation_details(errors: list[Any]) -> list[dict[str, Any]]:
    """Pydantic/FastAPI errors -> ``[{"loc", "msg", "type"}]``: the submitted value is dropped on purpose.

    FastAPI's default 422 copies ``input`` (a diagnosis, an NDC, a free-text note) into the response
    and from there into proxies' and clients' logs; only the path and the reason are kept here.
    """
    return [
        {"loc": [p if isinstance(p, int | str) else str(p) for p in e.get("loc", ())],
         "msg": str(e.get("msg", "invalid")), "type": str(e.get("type", "value_error"))}
        for e in errors
    ]
