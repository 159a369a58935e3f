"""Request bodies -> validated claims, with PHI-free error reports.

A single claim is validated straight from bytes (``Claim.model_validate_json``), which is faster
than FastAPI's ``json.loads`` + validate and lets the API decide exactly what a 422 says.

A batch goes to the columnar form without building a ``Claim`` per claim: pydantic validation plus
``from_claims`` cost about 60 µs a claim, the floor of a batch. The claims are re-emitted as JSONL
(orjson) and read in memory by the Arrow reader of ``claims.jsonl``, which accepts exactly what
``Claim.model_validate`` accepts, with the same values. Only the claims it rejects are validated
one by one here, which keeps this module's wording of errors (every field, not just the first) and
its integral-float leniency; so one bad claim becomes one entry in ``errors`` and never fails the
others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
from pydantic import ValidationError

from claims.columnar import ClaimFrame, from_claims
from claims.model import Claim
from serving.errors import InvalidInput, PayloadTooLarge, validation_details


def _details(exc: ValidationError) -> list[dict[str, Any]]:
    return validation_details(exc.errors(include_url=False, include_input=False, include_context=False))


_INT_ERRORS = frozenset({"int_type", "int_from_float"})


def integral_floats_to_int(value: Any) -> Any:
    """``69.0`` -> ``69`` throughout a parsed document.

    JSON does not distinguish the two (JSON Schema calls 69.0 an integer), but the claim model's
    strict integers reject 69.0. Number fields accept ints, so this changes no meaning.
    """
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, dict):
        return {k: integral_floats_to_int(v) for k, v in value.items()}
    if isinstance(value, list):
        return [integral_floats_to_int(v) for v in value]
    return value


def _has_int_errors(exc: ValidationError) -> bool:
    return any(e["type"] in _INT_ERRORS for e in exc.errors(include_url=False, include_input=False))


def validate_claim(data: Any) -> Claim:
    """Validate a parsed claim; integral floats are retried as integers (the uncommon path only)."""
    try:
        return Claim.model_validate(data)
    except ValidationError as exc:
        if not _has_int_errors(exc):
            raise
    return Claim.model_validate(integral_floats_to_int(data))


def parse_claim(body: bytes) -> Claim:
    try:
        return Claim.model_validate_json(body)
    except ValidationError as exc:
        if not _has_int_errors(exc):
            raise InvalidInput("the claim is invalid", _details(exc)) from None
    try:
        return validate_claim(orjson.loads(body))
    except ValidationError as exc:
        raise InvalidInput("the claim is invalid", _details(exc)) from None


def describe(details: list[dict[str, Any]]) -> str:
    """``lines.0.charge: Value error, expected a number; ...`` — paths and reasons only."""
    parts = []
    for d in details:
        path = ".".join(str(p) for p in d["loc"]) or "(claim)"
        parts.append(f"{path}: {d['msg']}")
    return "; ".join(parts)


def _batch_shape_error(msg: str, loc: list[str | int], kind: str) -> InvalidInput:
    return InvalidInput("the batch is invalid", [{"loc": loc, "msg": msg, "type": kind}])


@dataclass(frozen=True)
class BatchFrame:
    frame: ClaimFrame  # the valid claims, in submitted order
    positions: np.ndarray  # int64: index in the submitted list of each claim of ``frame``
    errors: list[dict[str, Any]]  # {"index", "claim_id", "error"}, by index


def _batch_items(body: bytes, max_batch: int) -> list[Any]:
    """The ``claims`` list of a batch body; 422/413 for a body that is not a batch at all."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise _batch_shape_error(f"Invalid JSON: {exc.msg} at position {exc.pos}", [], "json_invalid") from None
    if not isinstance(data, dict):
        raise _batch_shape_error('expected an object {"claims": [...]}', [], "model_type")
    extra = [k for k in data if k != "claims"]
    if extra:
        raise _batch_shape_error("Extra inputs are not permitted", [extra[0]], "extra_forbidden")
    raw = data.get("claims")
    if not isinstance(raw, list):
        raise _batch_shape_error("a list of claims is required", ["claims"], "list_type")
    if not raw:
        raise _batch_shape_error("at least one claim is required", ["claims"], "too_short")
    if len(raw) > max_batch:
        raise PayloadTooLarge(f"a batch holds at most {max_batch} claims, got {len(raw)}")
    return raw


def _read_as_jsonl(items: list[Any]) -> tuple[ClaimFrame, np.ndarray]:
    """(frame of the items the Arrow reader accepts, their indices in ``items``)."""
    from claims.jsonl import read_claims_jsonl_bytes

    read = read_claims_jsonl_bytes(b"\n".join([orjson.dumps(item) for item in items]) + b"\n")
    return read.frame, np.asarray(read.positions, dtype=np.int64) - 1  # line numbers are 1-based


def parse_batch_frame(body: bytes, max_batch: int) -> BatchFrame:
    """A batch body -> the columnar form of its valid claims, plus one error per invalid claim."""
    items = _batch_items(body, max_batch)
    frame, positions = _read_as_jsonl(items)
    if positions.shape[0] == len(items):
        return BatchFrame(frame, positions, [])
    rejected = np.setdiff1d(np.arange(len(items)), positions)
    rescued: list[Claim] = []
    rescued_at: list[int] = []
    errors: list[dict[str, Any]] = []
    for index in rejected.tolist():
        item = items[index]
        try:
            rescued.append(validate_claim(item))  # integral floats (69.0) are accepted here
            rescued_at.append(index)
        except ValidationError as exc:
            claim_id = item.get("claim_id") if isinstance(item, dict) else None
            if not isinstance(claim_id, str) or not 1 <= len(claim_id) <= 38:
                claim_id = None
            errors.append({"index": index, "claim_id": claim_id, "error": describe(_details(exc))})
    if rescued:
        frame = ClaimFrame.concat([frame, from_claims(rescued)])
        positions = np.concatenate([positions, np.asarray(rescued_at, dtype=np.int64)])
        order = np.argsort(positions, kind="stable")
        frame, positions = frame.take(order), positions[order]
    return BatchFrame(frame, positions, errors)
