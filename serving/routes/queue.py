"""``/v1/queue/...``: the worklist over REST, thin routes over the ``worklist`` services.

Every route declares the action it performs through ``queue_auth.caller`` (one dependency:
personal token or web session, then ``worklist.roles``), calls one service, and maps the service's
domain errors to 401/403/404/409/422 (``queue_auth.service_errors``). Edits, status changes and
assignments name the revision the caller saw; a stale one answers 409 and nothing is overwritten.
Routes are plain ``def``: the services are synchronous SQLAlchemy, so FastAPI runs them in its
thread pool and the event loop keeps serving scores meanwhile.

Imports and remittances are raw request bodies (JSONL, X12 837 or 835), streamed to a private
temporary file up to ``CLAIMRISK_MAX_UPLOAD_BYTES`` (the guard answers 413 past it) and handed to
the same services as ``claimrisk queue import`` / ``queue outcomes``.

Denial reasons (CONTRACT §7): queue rows carry ``top_reason`` and ``top_reason_probability``; a
claim's score carries ``reasons`` exactly as ``/v1/score`` answers them, rebuilt from the stored
family probabilities and fired rules by the scorer's own ``reason_answers``
(``serving.web.context.stored_reasons``, which the claim page shows too).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from serving.responses import json_response
from serving.routes.queue_auth import Caller, caller, scorer_of, service_errors
from serving.web.context import stored_reasons
from worklist.audit import list_events
from worklist.export import CLAIM_FORMATS, export_claims, export_queue
from worklist.importing import import_path
from worklist.outcomes import attach_outcomes_path, results
from worklist.queue import MAX_PAGE_SIZE, QueueFilter, SortKey, list_queue
from worklist.rescoring import rescore_open
from worklist.roles import Action
from worklist.users import add_user, disable_user, list_users
from worklist.workflow import add_note, assign, edit_claim, get_claim, set_status, what_if

router = APIRouter(prefix="/v1/queue", tags=["worklist"])

Reader = Annotated[Caller, Depends(caller(Action.QUEUE_READ))]
MAX_LISTED_ERRORS = 1000
EXPORT_MEDIA = {
    "csv": "text/csv",
    "parquet": "application/vnd.apache.parquet",
    "jsonl": "application/x-ndjson",
    "837": "application/edi-x12",
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "a body that is not JSON"},
    401: {"description": "no valid personal token or session (API keys are not accepted here)"},
    403: {"description": "the user's role may not do this"},
    404: {"description": "no such claim or user"},
    409: {"description": "the claim moved on since the revision named: reload it"},
    422: {"description": "invalid input: field paths and reasons, never the submitted values"},
}


_TOP_REASON = {"top_reason": "documentation", "top_reason_probability": 0.4185}
QUEUE_PAGE_EXAMPLE: dict[str, Any] = {
    "rows": [{
        "claim_id": "CLM-2026-000123", "revision": 1, "status": "new", "assignee": None, "payer_id": "MCR-JH",
        "claim_type": "professional", "submission_date": "2026-03-02", "filing_deadline": "2027-03-02",
        "days_left": 312, "total_charge": 1840.0, "risk": 0.6712, "decision": "review", "expected_loss": 1235.01,
        "recoverable": 905.77, "risk_if_all_fixed": 0.1789, "best_fix": "DOCUMENTATION_MISSING",
        "best_fix_line": None, "risk_if_best_fixed": 0.2301, "model_version": "7", "problem_count": 2, **_TOP_REASON,
    }],
    "next_cursor": "WzEyMzUuMDEsIDQyXQ",
    "totals": None,
}
CLAIM_REASONS_EXAMPLE: list[dict[str, Any]] = [
    {"family": "documentation", "probability": 0.4185, "rules": ["DOCUMENTATION_MISSING"]},
    {"family": "units", "probability": 0.1402, "rules": ["UNITS_MISMATCH"]},
    {"family": "medical_necessity", "probability": 0.0511, "rules": []},
]


def _example(example: Any, description: str) -> dict[int | str, dict[str, Any]]:
    """``responses`` with a 200 example (the routes answer plain JSON, not a response model)."""
    return {**_RESPONSES, 200: {"description": description, "content": {"application/json": {"example": example}}}}


def _as(action: Action) -> Any:
    return Depends(caller(action))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EditRequest(_Strict):
    revision: int = Field(ge=1, description="the revision the edits were made on (409 when stale)")
    edits: dict[str, Any] = Field(
        min_length=1,
        description="dotted field paths (0-based list indexes) -> new values; null clears an optional field",
        json_schema_extra={"examples": [{"lines.0.drug.ndc": "00002-7510-01", "diagnosis_codes": ["E119"]}]},
    )


class WhatIfRequest(_Strict):
    edits: dict[str, Any] = Field(
        min_length=1, json_schema_extra={"examples": [{"lines.0.drug.ndc": "00002-7510-01"}]}
    )


class StatusRequest(_Strict):
    revision: int = Field(ge=1)
    status: Literal["new", "in_review", "fixed", "ready", "sent", "dismissed"]
    reason: str | None = Field(default=None, max_length=200, description="required to dismiss")


class AssignRequest(_Strict):
    revision: int = Field(ge=1)
    assignee: str | None = Field(description="a user name; null unassigns", max_length=80)


class NoteRequest(_Strict):
    text: str = Field(min_length=1, max_length=4000)


class UserRequest(_Strict):
    name: str = Field(min_length=1, max_length=80)
    role: Literal["biller", "analyst", "admin"]
    password: str | None = Field(default=None, min_length=12, description="omitted: a token-only account")


def _plain(value: Any) -> Any:
    """A service dataclass as JSON-ready data (dates as ISO strings)."""
    data = dataclasses.asdict(value) if dataclasses.is_dataclass(value) and not isinstance(value, type) else value
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_plain(v) for v in data]
    if isinstance(data, dt.date):
        return data.isoformat()
    return data


def queue_filter(
    payer_id: str | None = None,
    rule_id: str | None = None,
    decision: Literal["review", "pass"] | None = None,
    status: Literal["new", "in_review", "fixed", "ready", "sent", "dismissed"] | None = None,
    assignee: str | None = None,
    submitted_from: dt.date | None = None,
    submitted_to: dt.date | None = None,
    claim_id: Annotated[str | None, Query(max_length=38, description="a claim id prefix")] = None,
) -> QueueFilter:
    return QueueFilter(payer_id, rule_id, decision, status, assignee, submitted_from, submitted_to, claim_id)


Filter = Annotated[QueueFilter, Depends(queue_filter)]


@router.get("/claims", summary="a page of the queue: filtered, sorted, keyset-paginated, with totals",
            responses=_example(QUEUE_PAGE_EXAMPLE, "the page's rows (each with its likeliest denial reason)"))
def queue_page(
    caller_: Reader,
    where: Filter,
    sort: SortKey = SortKey.EXPECTED_LOSS,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    totals: bool = False,
) -> Response:
    with service_errors():
        page = list_queue(caller_.db, caller_.user, where, sort=sort, cursor=cursor, limit=limit, with_totals=totals)
    return json_response(_plain(page))


@router.get("/claims/{claim_id}", summary="one claim: content, current score, workflow, revisions, notes",
            responses=_example({"score": {**_TOP_REASON, "reasons": CLAIM_REASONS_EXAMPLE}},
                               "the claim; its score's ``reasons`` as ``/v1/score`` answers them (excerpt)"))
def claim_view(claim_id: str, caller_: Annotated[Caller, _as(Action.CLAIM_VIEW)]) -> Response:
    with service_errors():
        view = _plain(get_claim(caller_.db, caller_.user, claim_id))
    view["score"]["reasons"] = stored_reasons(view["score"])
    return json_response(view)


@router.post("/claims/{claim_id}/what-if", summary="re-score the claim with edits applied; nothing is saved",
             responses=_RESPONSES)
def claim_what_if(
    request: Request, claim_id: str, body: WhatIfRequest, caller_: Annotated[Caller, _as(Action.WHAT_IF)]
) -> Response:
    scorer = scorer_of(request)
    with service_errors():
        return json_response(what_if(caller_.db, caller_.user, claim_id, body.edits, scorer))


@router.patch("/claims/{claim_id}", summary="save edits as a new revision, re-scored (409 when stale)",
              responses=_RESPONSES)
def claim_edit(
    request: Request, claim_id: str, body: EditRequest, caller_: Annotated[Caller, _as(Action.CLAIM_EDIT)]
) -> Response:
    scorer = scorer_of(request)
    with service_errors():
        revision = edit_claim(caller_.db, caller_.user, claim_id, body.edits, body.revision, scorer)
    return json_response({"claim_id": claim_id, "revision": revision})


@router.post("/claims/{claim_id}/status", summary="move the claim along the workflow", responses=_RESPONSES)
def claim_status(claim_id: str, body: StatusRequest, caller_: Annotated[Caller, _as(Action.CLAIM_STATUS)]) -> Response:
    with service_errors():
        set_status(caller_.db, caller_.user, claim_id, body.status, body.revision, body.reason)
    return json_response({"claim_id": claim_id, "status": body.status})


@router.post("/claims/{claim_id}/assignee", summary="give the claim to a user (null: unassign)", responses=_RESPONSES)
def claim_assign(claim_id: str, body: AssignRequest, caller_: Annotated[Caller, _as(Action.CLAIM_ASSIGN)]) -> Response:
    with service_errors():
        assign(caller_.db, caller_.user, claim_id, body.assignee, body.revision)
    return json_response({"claim_id": claim_id, "assignee": body.assignee})


@router.post("/claims/{claim_id}/notes", status_code=201, summary="append a note", responses=_RESPONSES)
def claim_note(claim_id: str, body: NoteRequest, caller_: Annotated[Caller, _as(Action.CLAIM_NOTE)]) -> Response:
    with service_errors():
        add_note(caller_.db, caller_.user, claim_id, body.text)
    return json_response({"claim_id": claim_id}, status_code=201)


@contextmanager
def _private_folder(prefix: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=prefix) as folder:  # mkdtemp: 0700, this user only
        yield Path(folder)


async def _save_body(request: Request, target: Path) -> None:
    """Stream the body to ``target`` (created 0600) without holding it in memory."""
    fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "wb") as out:
        async for chunk in request.stream():
            out.write(chunk)


def _errors(errors: list[Any]) -> list[dict[str, Any]]:
    return [{"source": e.source, "position": e.position, "reason": e.reason} for e in errors[:MAX_LISTED_ERRORS]]


IMPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "contract claims as JSONL, or an X12 837P/837I interchange (streamed)",
        "content": {
            "application/x-ndjson": {"schema": {"type": "string"}},
            "application/edi-x12": {"schema": {"type": "string"}},
        },
    }
}


@router.post("/import", summary="score and queue the claims of a JSONL or 837 body", responses=_RESPONSES,
             openapi_extra=IMPORT_BODY)
async def queue_import(request: Request, caller_: Annotated[Caller, _as(Action.CLAIMS_IMPORT)]) -> Response:
    scorer = scorer_of(request)  # 503 before the body is read
    with _private_folder("claimrisk-import-") as folder:
        path = folder / "upload"
        await _save_body(request, path)
        with service_errors():
            report = await run_in_threadpool(import_path, caller_.db, path, scorer, caller_.user)
    return json_response({**report.counts(), **report.versions, "errors": _errors(report.errors)},
                         status_code=200)


@router.post("/outcomes", summary="attach remittance outcomes (835 or section 6 JSONL) to queued claims",
             responses=_RESPONSES, openapi_extra=IMPORT_BODY)
async def queue_outcomes(request: Request, caller_: Annotated[Caller, _as(Action.OUTCOMES_IMPORT)]) -> Response:
    with _private_folder("claimrisk-outcomes-") as folder:
        path = folder / "upload"
        await _save_body(request, path)
        with service_errors():
            report, errors = await run_in_threadpool(attach_outcomes_path, caller_.db, caller_.user, path)
    return json_response({**_plain(report), "errors": _errors(errors)})


@router.get("/export", summary="the queue as CSV/Parquet, or its claims as JSONL/837 (default status ready)",
            responses=_RESPONSES)
def queue_export(
    caller_: Annotated[Caller, _as(Action.QUEUE_EXPORT)],
    where: Filter,
    format: Literal["csv", "parquet", "jsonl", "837"] = "csv",  # noqa: A002 - the query parameter's name
) -> Response:
    with _private_folder("claimrisk-export-") as folder, service_errors():
        path = folder / f"queue.{format}"
        if format in CLAIM_FORMATS:
            chosen = where if where != QueueFilter() else QueueFilter(status="ready")
            export_claims(caller_.db, caller_.user, path, chosen, fmt=format)
        else:
            export_queue(caller_.db, caller_.user, path, where, fmt=format)
        content = path.read_bytes()
    headers = {"Content-Disposition": f'attachment; filename="{path.name}"', "Cache-Control": "no-store"}
    return Response(content, media_type=EXPORT_MEDIA[format], headers=headers)


@router.get("/results", summary="worked vs not-worked claims with outcomes, and calibration", responses=_RESPONSES)
def queue_results(caller_: Annotated[Caller, _as(Action.RESULTS_READ)]) -> Response:
    with service_errors():
        return json_response(_plain(results(caller_.db, caller_.user)))


@router.post("/rescore", summary="re-score every open claim with the served champion", responses=_RESPONSES)
def queue_rescore(request: Request, caller_: Annotated[Caller, _as(Action.RESCORE)]) -> Response:
    scorer = scorer_of(request)
    with service_errors():
        report = rescore_open(caller_.db, caller_.user, scorer)
    return json_response(_plain(report))


@router.get("/audit", summary="the latest audit events (admins)", responses=_RESPONSES)
def queue_audit(
    caller_: Annotated[Caller, _as(Action.AUDIT_READ)],
    claim_id: Annotated[str | None, Query(max_length=38)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    with service_errors():
        events = list_events(caller_.db, caller_.user, claim_id=claim_id, limit=limit)
    return json_response([{**_plain(e), "at": e.at.isoformat()} for e in events])


@router.get("/users", summary="the users (admins)", responses=_RESPONSES)
def users_list(caller_: Annotated[Caller, _as(Action.USERS_MANAGE)]) -> Response:
    with service_errors():
        return json_response(_plain(list_users(caller_.db, caller_.user)))


@router.post("/users", status_code=201, summary="create a user (admins)", responses=_RESPONSES)
def users_add(body: UserRequest, caller_: Annotated[Caller, _as(Action.USERS_MANAGE)]) -> Response:
    with service_errors():
        user = add_user(caller_.db, caller_.user, body.name, body.role, body.password)
    return json_response({"name": user.name, "role": user.role}, status_code=201)


@router.post("/users/{name}/disable", summary="disable a user: sign-in and tokens stop working (admins)",
             responses=_RESPONSES)
def users_disable(name: str, caller_: Annotated[Caller, _as(Action.USERS_MANAGE)]) -> Response:
    with service_errors():
        disable_user(caller_.db, caller_.user, name)
    return json_response({"name": name, "disabled": True})
