"""A stored claim's content: canonical JSON, its hash, edits, and the columns the queue sorts on.

Content is kept as the biller's claim record (CONTRACT §2), serialised canonically (keys sorted, no
whitespace) so that the same record always gives the same bytes and the same sha256: that hash is
how a re-import of an unchanged claim is recognised and stored once. A JSONL record is kept as it
was sent (no defaults filled in); a claim that arrives as an object (837, API) is dumped without
its null fields, so both read back through the one contract reader to the same claim.

Scoring stored content goes back through ``claims.jsonl.read_claims_jsonl_bytes``, the Arrow
reader every file import uses, so a stored claim scores exactly as the file it came from did.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
from pydantic import ValidationError

from claims.columnar import ClaimFrame
from claims.jsonl import read_claims_jsonl_bytes
from claims.model import Claim
from claims.records import validation_reason
from worklist.errors import InvalidInput

_NAT_DAYS = np.iinfo(np.int64).max


def canonical(record: Mapping[str, Any]) -> bytes:
    return orjson.dumps(record, option=orjson.OPT_SORT_KEYS)


def canonical_raw(raw: bytes) -> bytes:
    """A JSONL record's canonical bytes (the reader has already validated it)."""
    return orjson.dumps(orjson.loads(raw), option=orjson.OPT_SORT_KEYS)


def claim_content(claim: Claim) -> bytes:
    return canonical(claim.model_dump(mode="json", exclude_none=True))


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def frame_of(contents: Sequence[bytes]) -> ClaimFrame:
    """The claim frame of stored contents, in order (each content is one JSONL record)."""
    if not contents:
        return ClaimFrame.empty()
    result = read_claims_jsonl_bytes(b"\n".join(contents), source="store")
    if result.errors or result.frame.n_claims != len(contents):
        raise InvalidInput(f"{len(result.errors)} stored claim(s) no longer read as contract claims")
    return result.frame


# ---- edits ------------------------------------------------------------------------------------


def _step(key: str, container: Any) -> Any:
    if isinstance(container, list):
        if not key.isdigit() or int(key) >= len(container):
            raise InvalidInput(f"no list element {key!r}")
        return int(key)
    if isinstance(container, dict):
        return key
    raise InvalidInput(f"cannot descend into {key!r}")


def apply_edits(record: Mapping[str, Any], edits: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``record`` with each edit applied. An edit's key is a dotted path of field names
    and 0-based list indexes (``lines.0.drug.ndc``, ``diagnosis_codes``), its value the new value
    (None clears an optional field). The result must still be a contract claim."""
    out = copy.deepcopy(dict(record))
    for path, value in edits.items():
        keys = path.split(".")
        if not path or any(not k for k in keys):
            raise InvalidInput(f"invalid field path {path!r}")
        node: Any = out
        for key in keys[:-1]:
            step = _step(key, node)
            if isinstance(node, dict) and node.get(step) is None:
                node[step] = {}
            node = node[step]
        last = _step(keys[-1], node)
        if value is None and isinstance(node, dict):
            node.pop(last, None)
        else:
            node[last] = copy.deepcopy(value)
    validate_record(out)
    return out


def validate_record(record: Mapping[str, Any]) -> Claim:
    """The record as a contract claim, or ``InvalidInput`` naming the field (never its value)."""
    try:
        return Claim.model_validate(record)
    except ValidationError as exc:
        raise InvalidInput(f"the edited claim is not valid: {validation_reason(exc)}") from None


def changed_paths(before: Any, after: Any, prefix: str = "") -> list[str]:
    """The dotted paths whose values differ (the revision's "which fields changed")."""
    if isinstance(before, dict) and isinstance(after, dict):
        out: list[str] = []
        for key in sorted(set(before) | set(after)):
            out += changed_paths(before.get(key), after.get(key), f"{prefix}{key}.")
        return out
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        out = []
        for index, (b, a) in enumerate(zip(before, after, strict=True)):
            out += changed_paths(b, a, f"{prefix}{index}.")
        return out
    return [] if before == after else [prefix.rstrip(".")]


# ---- queue columns ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimFacts:
    """Per claim of a frame, the values the queue filters and sorts on (arrays, claim order)."""

    claim_type: np.ndarray
    payer_id: np.ndarray
    payer_type: np.ndarray
    submission_date: list[dt.date]
    filing_deadline: list[dt.date]


@functools.cache
def _policies() -> Any:
    from features.payer_policy import PolicySet

    return PolicySet.load()


def claim_facts(frame: ClaimFrame) -> ClaimFacts:
    """Claim-level columns from each claim's first line row, and the filing deadline: the earliest
    service date (the submission date when no line has one) plus the payer policy's filing limit,
    the same dates ``TIMELY_FILING`` reads."""
    lines = frame.lines
    owner = lines["claim_index"]
    first = np.searchsorted(owner, np.arange(frame.n_claims))
    submission = lines["submission_date"][first]
    service = lines["service_date"].astype(np.int64)
    service = np.where(np.isnat(lines["service_date"]), _NAT_DAYS, service)
    earliest = np.minimum.reduceat(service, first) if frame.n_claims else service[:0]
    start = np.where(earliest == _NAT_DAYS, submission.astype(np.int64), earliest)
    payer_id, payer_type = lines["payer_id"][first], lines["payer_type"][first]
    policies = _policies()
    which = policies.resolve(payer_id, payer_type)  # before ``column``: resolving may add policies
    limit = policies.column("filing_limit_days")[which]
    deadline = (start + limit).astype("datetime64[D]")
    return ClaimFacts(
        claim_type=lines["claim_type"][first],
        payer_id=payer_id,
        payer_type=payer_type,
        submission_date=submission.astype(object).tolist(),
        filing_deadline=deadline.astype(object).tolist(),
    )
