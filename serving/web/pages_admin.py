"""User administration (admin) and the model and payers page (analyst).

Both call services only: ``worklist.users`` for users (an admin creates, disables, resets a
password, sets a role; every change audited there); for the model page, the served model's own
metadata and model card, and ``worklist.outcomes`` for what the payers did with the queue's claims
(worked vs not, calibration, dollars caught, per payer, rule lift per payer). The plots are drawn
here as inline SVG (``serving.web.charts``) from those numbers: nothing is fetched from elsewhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from markupsafe import Markup

from serving.model_store import ModelStore
from serving.web.charts import Series, line_chart
from serving.web.context import CsrfDep, DbDep, Visitor, needs, page_errors, redirect, render
from serving.web.forms import NewUserForm, PasswordResetForm, RoleForm
from training.model_card import render_model_card
from worklist.errors import WorklistError
from worklist.outcomes import CalibrationBin, CurvePoint, dollars_caught, payer_outcomes, results, rule_lift
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
def create_user(request: Request, db: DbDep, visitor: Admin, form: Annotated[NewUserForm, Form()]) -> Response:
    return _admin_action(
        request, lambda: add_user(db, visitor.user, form.name, form.role, form.password), f"User {form.name} created."
    )


@router.post("/admin/users/{name}/disable", dependencies=[CsrfDep])
def disable(request: Request, db: DbDep, visitor: Admin, name: str) -> Response:
    return _admin_action(request, lambda: disable_user(db, visitor.user, name), f"User {name} disabled.")


@router.post("/admin/users/{name}/password", dependencies=[CsrfDep])
def reset_password(
    request: Request, db: DbDep, visitor: Admin, name: str, form: Annotated[PasswordResetForm, Form()]
) -> Response:
    return _admin_action(
        request, lambda: set_password(db, visitor.user, name, form.password), f"Password of {name} reset."
    )


@router.post("/admin/users/{name}/role", dependencies=[CsrfDep])
def change_role(request: Request, db: DbDep, visitor: Admin, name: str, form: Annotated[RoleForm, Form()]) -> Response:
    return _admin_action(
        request, lambda: set_role(db, visitor.user, name, form.role), f"Role of {name} set to {form.role}."
    )


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


VERSION_KEYS = (
    "model_version", "registry_version", "registered_model", "estimator", "trained_at", "threshold",
    "rules_version", "reference_data_version", "sha256", "signed",
)


def model_card(store: ModelStore, metadata: dict[str, Any]) -> str | None:
    """The champion's model card: the one exported beside it (``model_card.md``, written by
    ``claimrisk train --promote``), else rendered from its metadata when that holds the holdout
    metrics (a model loaded from the registry), else None."""
    exported = Path(store.settings.models_dir) / "model_card.md"
    if store.settings.model_source != "registry" and exported.is_file():
        return exported.read_text(encoding="utf-8", errors="replace")
    if not isinstance(metadata.get("metrics"), dict):
        return None
    columns = {"model": metadata["metrics"], **(metadata.get("baselines") or {})}
    if isinstance(metadata.get("oracle"), dict):
        columns["oracle"] = metadata["oracle"]
    return render_model_card(metadata, columns, metadata.get("candidates") or {})


def _plots(calibration: list[CalibrationBin], caught: list[CurvePoint]) -> dict[str, Markup | None]:
    used = [(b.mean_risk, b.observed_rate) for b in calibration if b.mean_risk is not None and b.observed_rate is not None]
    reliability = line_chart(
        "Reliability on claims with outcomes", "mean predicted risk", "observed denial rate",
        [Series("model", used, markers=True)], "perfect calibration",
    ) if used else None
    dollars = line_chart(
        "Denied dollars caught along the queue", "share of answered claims reviewed", "share of denied dollars caught",
        [Series("ranked by expected loss", [(p.reviewed_share, p.caught_share) for p in caught])], "random order",
    ) if caught else None
    return {"reliability": reliability, "dollars": dollars}


@router.get("/model", name="web_model")
def model_page(request: Request, db: DbDep, visitor: Analyst) -> Response:
    store: ModelStore = request.app.state.store
    metadata = dict(store.scorer.metadata or {})
    with page_errors():
        found = results(db, visitor.user)
        caught = dollars_caught(db, visitor.user)
        payers = payer_outcomes(db, visitor.user)
        lifts = rule_lift(db, visitor.user)
    versions = {key: metadata[key] for key in VERSION_KEYS if metadata.get(key) is not None}
    return render(
        request,
        "model.html",
        visitor=visitor,
        versions=versions,
        metrics=_flat_metrics(metadata.get("metrics")),
        card=model_card(store, metadata),
        results=found,
        curve=caught,
        plots=_plots(found.calibration, caught),
        payers=payers,
        lifts=lifts,
    )
