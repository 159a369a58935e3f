"""The claim page: the claim, its fired problems and fixes, what-if, save, status, assignee, notes.

Every action is a ``worklist.workflow`` service (the API's too): what-if re-scores the edited claim
with the served model without saving; save makes a new revision re-scored on save, naming the
revision the biller saw so a concurrent save answers 409 instead of overwriting. Forms answer with
a 303 back to the page and a short message, so a reload never repeats an action.

"Why it may be denied" lists the CONTRACT §7 reasons of the stored score, rebuilt exactly as
``/v1/score`` answers them (``context.stored_reasons``, the API's too); what-if answers the edited
claim's reasons too, so a biller sees whether a fix moves the likely reason, not only the risk.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from serving.model_store import ModelStore
from serving.responses import json_response
from serving.web.claim_form import form_edits
from serving.web.context import (
    CsrfDep,
    DbDep,
    PageError,
    Visitor,
    needs,
    page_errors,
    redirect,
    render,
    stored_reasons,
    worklist_store,
)
from worklist.errors import WorklistError
from worklist.models import User
from worklist.roles import Action
from worklist.workflow import (
    TRANSITIONS,
    ClaimView,
    add_note,
    assign,
    current_content,
    edit_claim,
    get_claim,
    set_status,
    what_if,
)

router = APIRouter()
Viewer = Annotated[Visitor, Depends(needs(Action.CLAIM_VIEW))]
Editor = Annotated[Visitor, Depends(needs(Action.CLAIM_EDIT))]


def _scorer(request: Request) -> Any:
    store: ModelStore = request.app.state.store
    return store.require_model()


def _claim_url(claim_id: str) -> str:
    return "/app/claims/" + quote(claim_id, safe="")


async def _form_text(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def problems_of(view: ClaimView) -> list[dict[str, Any]]:
    """The fired problems, biggest risk reduction first (the fix worth doing first on top)."""
    rules = list(view.score.get("rules") or [])
    risk = float(view.score.get("risk") or 0.0)
    return sorted(rules, key=lambda r: (r.get("risk_if_fixed") is None, (r.get("risk_if_fixed") or risk) - risk))


@router.get("/claims/{claim_id}", name="web_claim")
def claim_page(request: Request, db: DbDep, visitor: Viewer, claim_id: str) -> Response:
    with page_errors():
        view = get_claim(db, visitor.user, claim_id)
    users = db.scalars(select(User.name).where(User.disabled.is_(False)).order_by(User.name)).all()
    return render(
        request,
        "claim.html",
        visitor=visitor,
        view=view,
        claim=view.content,
        score=view.score,
        problems=problems_of(view),
        reasons=stored_reasons(view.score),
        next_statuses=sorted(TRANSITIONS.get(view.status, ())),
        users=users,
        claim_url=_claim_url(view.claim_id),
    )


@router.post("/claims/{claim_id}/what-if", dependencies=[CsrfDep])
async def claim_what_if(request: Request, visitor: Editor, claim_id: str) -> Response:
    """JSON for the page's script: the risk the edited claim would get; nothing is saved."""
    form = await _form_text(request)
    scorer = _scorer(request)

    def run() -> dict[str, Any]:
        with worklist_store(request.app).session() as db:
            current = current_content(db, visitor.user, claim_id)
            return what_if(db, visitor.user, claim_id, form_edits(current, form), scorer)

    try:
        answer = await run_in_threadpool(run)
    except WorklistError as exc:
        return json_response({"error": type(exc).__name__, "message": str(exc)}, status_code=422)
    problems = [
        {"id": r["id"], "line_number": r.get("line_number"), "risk_if_fixed": r.get("risk_if_fixed")}
        for r in answer.get("rules", [])
    ]
    body = {
        "risk": answer["risk"],
        "decision": answer["decision"],
        "expected_loss": answer.get("expected_loss"),
        "risk_if_all_fixed": answer.get("risk_if_all_fixed"),
        "problems": problems,
        "reasons": [{"family": r["family"], "probability": r["probability"]} for r in answer.get("reasons", [])],
    }
    return json_response(body)


@router.post("/claims/{claim_id}/revisions", dependencies=[CsrfDep])
async def save_revision(request: Request, visitor: Editor, claim_id: str) -> Response:
    form = await _form_text(request)
    scorer = _scorer(request)

    def run() -> str:
        with worklist_store(request.app).session() as db:
            try:
                expected = int(form.get("revision", ""))
            except ValueError:
                raise PageError(422, "The form lacks the revision it was made from.") from None
            current = current_content(db, visitor.user, claim_id)
            try:
                number = edit_claim(db, visitor.user, claim_id, form_edits(current, form), expected, scorer)
            except WorklistError as exc:
                return f"Not saved: {exc}"
            return f"Saved as revision {number}."

    with page_errors():
        message = await run_in_threadpool(run)
    return redirect(request, _claim_url(claim_id), flash=message)


def _form_action(request: Request, claim_id: str, action: Callable[[], object], done: str, refused: str) -> Response:
    """Run one workflow service for a form and go back to the claim page saying what happened, or
    why not (a stale revision, a transition the workflow forbids): the status, assignee and note
    forms differ only in the service and the words."""
    try:
        action()
        message = done
    except WorklistError as exc:
        message = f"{refused}: {exc}"
    return redirect(request, _claim_url(claim_id), flash=message)


@router.post("/claims/{claim_id}/status", dependencies=[CsrfDep])
def change_status(
    request: Request,
    db: DbDep,
    visitor: Annotated[Visitor, Depends(needs(Action.CLAIM_STATUS))],
    claim_id: str,
    status: Annotated[str, Form(max_length=16)],
    revision: Annotated[int, Form()],
    reason: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    return _form_action(
        request, claim_id, lambda: set_status(db, visitor.user, claim_id, status, revision, reason or None),
        f"Status is now {status}.", "Not changed",
    )


@router.post("/claims/{claim_id}/assignee", dependencies=[CsrfDep])
def change_assignee(
    request: Request,
    db: DbDep,
    visitor: Annotated[Visitor, Depends(needs(Action.CLAIM_ASSIGN))],
    claim_id: str,
    revision: Annotated[int, Form()],
    assignee: Annotated[str, Form(max_length=80)] = "",
) -> Response:
    return _form_action(
        request, claim_id, lambda: assign(db, visitor.user, claim_id, assignee or None, revision),
        f"Assigned to {assignee}." if assignee else "Unassigned.", "Not changed",
    )


@router.post("/claims/{claim_id}/notes", dependencies=[CsrfDep])
def note(
    request: Request,
    db: DbDep,
    visitor: Annotated[Visitor, Depends(needs(Action.CLAIM_NOTE))],
    claim_id: str,
    text: Annotated[str, Form(max_length=4000)],
) -> Response:
    return _form_action(
        request, claim_id, lambda: add_note(db, visitor.user, claim_id, text), "Note added.", "Not added"
    )
