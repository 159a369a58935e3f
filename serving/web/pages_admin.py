"""User administration (admin) and the model and payers page (analyst).

Both call services only: ``worklist.users`` for users (an admin creates, disables, resets a
password, sets a role; every change audited there), the served model's own metadata and
``worklist.outcomes.results`` for the model page. The per-payer table reads the outcomes the
analysts imported (``payer_outcomes``): denial rate predicted vs observed per payer.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from serving.model_store import ModelStore
from serving.web.context import CsrfDep, DbDep, Visitor, needs, page_errors, redirect, render
from worklist.errors import WorklistError
from worklist.models import Outcome, QueueClaim
from worklist.outcomes import results
from worklist.roles import Action, Role
from worklist.users import add_user, disable_user, list_users, set_password, set_role

router = APIRouter()
Admin = Annotated[Visitor, Depends(needs(Action.USERS_MANAGE))]
Analyst = Annotated[Visitor, Depends(needs(Action.MODEL_READ))]
USERS_URL = "/app/admin/users"


@router.get("/admin/users", name="web_users")
def users_page(request: Request, db: DbDep, visitor: Admin) -> Response:
    with page_errors():
        users = list_users(db, visitor.user)
    return render(request, "users.html", visitor=visitor, users=users, roles=[r.value for r in Role])


def _admin_action(request: Request, action: Any, done: str) -> Response:
    try:
        action()
        message = done
    except WorklistError as exc:
        message = f"Not done: {exc}"
    return redirect(request, USERS_URL, flash=message)


@router.post("/admin/users", dependencies=[CsrfDep])
def create_user(
    request: Request,
    db: DbDep,
    visitor: Admin,
    name: Annotated[str, Form(max_length=80)],
    role: Annotated[str, Form(max_length=16)],
    password: Annotated[str, Form(max_length=1024)],
) -> Response:
    return _admin_action(request, lambda: add_user(db, visitor.user, name, role, password), f"User {name} created.")


@router.post("/admin/users/{name}/disable", dependencies=[CsrfDep])
def disable(request: Request, db: DbDep, visitor: Admin, name: str) -> Response:
    return _admin_action(request, lambda: disable_user(db, visitor.user, name), f"User {name} disabled.")


@router.post("/admin/users/{name}/password", dependencies=[CsrfDep])
def reset_password(
    request: Request, db: DbDep, visitor: Admin, name: str, password: Annotated[str, Form(max_length=1024)]
) -> Response:
    return _admin_action(
        request, lambda: set_password(db, visitor.user, name, password), f"Password of {name} reset."
    )


@router.post("/admin/users/{name}/role", dependencies=[CsrfDep])
def change_role(
    request: Request, db: DbDep, visitor: Admin, name: str, role: Annotated[str, Form(max_length=16)]
) -> Response:
    return _admin_action(request, lambda: set_role(db, visitor.user, name, role), f"Role of {name} set to {role}.")


def payer_outcomes(db: Session) -> list[dict[str, Any]]:
    """Per payer, over queue claims with a final outcome: claims, mean predicted risk, observed
    denial rate and denied dollars (one grouped query).
    TODO(worklist): belongs beside ``worklist.outcomes.results`` as a per-payer breakdown."""
    denied = case((Outcome.status == "denied", 1.0), else_=0.0)
    query = (
        select(
            QueueClaim.payer_id,
            func.count(),
            func.avg(QueueClaim.risk),
            func.avg(denied),
            func.coalesce(func.sum(Outcome.denied_amount), 0.0),
        )
        .join(Outcome, Outcome.claim_pk == QueueClaim.id)
        .where(Outcome.status != "excluded")
        .group_by(QueueClaim.payer_id)
        .order_by(func.count().desc())
    )
    return [
        {"payer": p, "claims": int(n), "predicted": float(r), "observed": float(o), "denied_dollars": float(d)}
        for p, n, r, o, d in db.execute(query)
    ]


def _flat_metrics(metrics: Any, prefix: str = "") -> list[tuple[str, float]]:
    """Numeric entries of the model's stored metrics, nested keys joined with dots."""
    if not isinstance(metrics, dict):
        return []
    out: list[tuple[str, float]] = []
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out += _flat_metrics(value, name + ".")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out.append((name, float(value)))
    return out[:60]


@router.get("/model", name="web_model")
def model_page(request: Request, db: DbDep, visitor: Analyst) -> Response:
    store: ModelStore = request.app.state.store
    metadata = dict(store.scorer.metadata or {})
    with page_errors():
        found = results(db, visitor.user)
    versions = {
        key: metadata.get(key)
        for key in ("model_version", "trained_at", "threshold", "rules_version", "reference_data_version", "sha256")
        if metadata.get(key) is not None
    }
    return render(
        request,
        "model.html",
        visitor=visitor,
        versions=versions,
        metrics=_flat_metrics(metadata.get("metrics")),
        results=found,
        payers=payer_outcomes(db),
    )
