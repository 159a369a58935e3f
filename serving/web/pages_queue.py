"""The queue page (``/app/``) and its bulk actions.

Filtering, sorting, keyset paging and totals are ``worklist.queue.list_queue``: the same service
the ``/v1/queue`` API calls, so the page and the API cannot rank claims differently (a browser test
compares them); each row's problem count comes with it. The page adds only presentation: the
filter form and the links that carry the filter from page to page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import select

from features.rules.catalog import RULES
from serving.web.context import CsrfDep, DbDep, PageError, Visitor, needs, page_errors, redirect, render
from worklist.errors import WorklistError
from worklist.models import User
from worklist.queue import QueueFilter, SortKey, list_queue
from worklist.roles import Action
from worklist.workflow import TRANSITIONS, assign, set_status

router = APIRouter()
PAGE_SIZE = 50
DECISIONS = ("review", "pass")
FILTER_FIELDS = ("payer", "rule", "decision", "status", "assignee", "submitted_from", "submitted_to", "q", "sort")
SORT_LABELS = {
    SortKey.EXPECTED_LOSS: "Expected loss",
    SortKey.RISK: "Risk",
    SortKey.RECOVERABLE: "Recoverable",
    SortKey.AGE: "Age in queue",
    SortKey.DAYS_LEFT: "Days left to file",
}
QueueReader = Annotated[Visitor, Depends(needs(Action.QUEUE_READ))]


@dataclass(frozen=True)
class QueueQuery:
    """The queue page's query string, checked: unknown values are refused with a message, not a 500."""

    values: dict[str, str]
    where: QueueFilter
    sort: SortKey

    def link(self, **changes: str | None) -> str:
        merged = {**self.values, **changes}
        kept = {k: v for k, v in merged.items() if v}
        return "/app/" + ("?" + urlencode(kept) if kept else "")


def _date(text: str, label: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise PageError(422, f"The {label} date must look like 2026-01-31.") from None


def parse_query(request: Request) -> QueueQuery:
    params = request.query_params
    values = {name: params.get(name, "").strip()[:80] for name in FILTER_FIELDS}
    try:
        sort = SortKey(values["sort"] or SortKey.EXPECTED_LOSS)
    except ValueError:
        raise PageError(422, "Unknown sort order.") from None
    where = QueueFilter(
        payer_id=values["payer"] or None,
        rule_id=values["rule"] or None,
        decision=values["decision"] or None,
        status=values["status"] or None,
        assignee=values["assignee"] or None,
        submitted_from=_date(values["submitted_from"], "from"),
        submitted_to=_date(values["submitted_to"], "to"),
        claim_id=values["q"] or None,
    )
    return QueueQuery(values, where, sort)


@router.get("/", name="web_queue")
def queue_page(request: Request, db: DbDep, visitor: QueueReader, cursor: str | None = None) -> Response:
    query = parse_query(request)
    with page_errors():
        page = list_queue(
            db, visitor.user, query.where, sort=query.sort, cursor=cursor, limit=PAGE_SIZE, with_totals=True
        )
    users = db.scalars(select(User.name).where(User.disabled.is_(False)).order_by(User.name)).all()
    return render(
        request,
        "queue.html",
        visitor=visitor,
        page=page,
        query=query,
        rule_ids=sorted(RULES),
        decisions=DECISIONS,
        statuses=list(TRANSITIONS),
        sort_labels=SORT_LABELS,
        users=users,
        first_page=cursor is None,
    )


@router.post("/queue/bulk", dependencies=[CsrfDep])
def bulk_action(
    request: Request,
    db: DbDep,
    visitor: QueueReader,
    action: Annotated[str, Form(max_length=40)],
    claims: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI reads the default, never mutates it
    back: Annotated[str, Form(max_length=2000)] = "/app/",
) -> Response:
    """"Assign to me" or a status change for every ticked claim. Each claim names the revision the
    biller saw (``claim_id@revision``): a claim changed meanwhile is reported, not overwritten."""
    done, failed = 0, 0
    for item in claims[:500]:
        claim_id, _, revision = item.rpartition("@")
        try:
            if action == "assign_me":
                assign(db, visitor.user, claim_id, visitor.user.name, int(revision))
            elif action.startswith("status:"):
                set_status(db, visitor.user, claim_id, action.removeprefix("status:"), int(revision))
            else:
                raise PageError(422, "Unknown bulk action.")
            done += 1
        except (WorklistError, ValueError):
            db.rollback()
            failed += 1
    message = f"{done} claims updated" + (f"; {failed} could not be (changed by someone else, or not allowed)" if failed else ".")
    target = back if back.startswith("/app/") and not back.startswith("//") else "/app/"
    return redirect(request, target, flash=message)
