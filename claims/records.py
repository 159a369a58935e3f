"""One record at a time: JSON text -> a validated pydantic model, or the reason it cannot be one.

The reference path and the fallback for every record the vectorized readers doubt, for claims and
remittance rows alike, so both say the same thing about malformed JSON and both word a rejected
field the same way (never quoting the input: claims are PHI).
"""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from claims.errors import RecordError
from claims.model import Claim


def validation_reason(error: ValidationError) -> str:
    """The first pydantic error as ``field.path: message``, never quoting the input (PHI)."""
    first = error.errors(include_url=False, include_input=False, include_context=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else first["msg"]


Model = TypeVar("Model", bound=BaseModel)


def model_from_json(model: type[Model], raw: bytes, *, source: str, position: str) -> Model | RecordError:
    """One JSON text -> a validated ``model`` (a claim, a remittance row) or the reason it cannot be one."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return RecordError(source, position, f"invalid JSON: {exc.msg} at column {exc.colno}")
    return model_from_object(model, data, source=source, position=position)


def model_from_object(model: type[Model], data: Any, *, source: str, position: str) -> Model | RecordError:
    """A decoded JSON value -> a validated ``model``; a rejection names the claim id when it is
    readable, so a biller can find the record without the error quoting anything else of it."""
    if not isinstance(data, dict):
        return RecordError(source, position, f"expected a JSON object, got {_json_kind(data)}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        claim_id = data.get("claim_id")
        readable = claim_id if isinstance(claim_id, str) and 0 < len(claim_id) <= 38 else None
        return RecordError(source, position, validation_reason(exc), readable)


def claim_from_json(raw: bytes, *, source: str, position: str) -> Claim | RecordError:
    """One JSON text -> a validated claim or the reason it cannot be one."""
    return model_from_json(Claim, raw, source=source, position=position)


def claim_from_object(data: Any, *, source: str, position: str) -> Claim | RecordError:
    """A decoded JSON value (an API body, an 837 reader's dict) -> a validated claim or the reason."""
    return model_from_object(Claim, data, source=source, position=position)


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool) or value is None:
        return "a literal"
    return "a number"


