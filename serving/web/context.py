"""What every page needs: the store, the signed-in user, permission checks, CSRF, rendering.

Permissions are decided by ``worklist.roles`` (the same table the API and the CLI consult): a page
declares the action it performs with ``needs(Action.X)`` and gets the signed-in user or a 403 page;
no template or route compares role names. Unauthenticated visitors are sent to the sign-in page
(303), with the page they asked for kept as a local ``next`` path (never another site: no open
redirect).

Every HTML answer carries ``Cache-Control: no-store`` (claims are PHI: no copy in the browser's
cache or a proxy's) and a Content-Security-Policy that allows only this server's own scripts and
styles, so a value that slipped past escaping still could not run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import jinja2
import numpy as np
from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from serving.scorer import reason_answers
from serving.web.security import (
    COOKIE_NAME,
    CSRF_FIELD,
    CSRF_HEADER,
    SessionCodec,
    WebSession,
    csrf_matches,
    new_csrf,
    password_mark,
    resolve_secret,
)
from serving.web.settings import WebSettings
from worklist.db import Store, open_store
from worklist.errors import AuthenticationFailed, Conflict, Forbidden, InvalidInput, NotFound, WorklistError
from worklist.models import User
from worklist.roles import Action, allowed

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
_lock = threading.RLock()  # re-entrant: the codec is built while the store is being fetched


class SignInRequired(Exception):
    """No valid session: answered with a redirect to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__("sign-in required")
        self.next_path = next_path


class PageError(Exception):
    """A page that cannot be shown (403, 404, 409, 422): answered with the error page."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


_STATUS_OF: dict[type[WorklistError], int] = {
    NotFound: 404, Conflict: 409, Forbidden: 403, InvalidInput: 422, AuthenticationFailed: 401,
}


@contextmanager
def page_errors() -> Iterator[None]:
    """Turn a service's domain error into the matching error page (messages carry no claim content)."""
    try:
        yield
    except WorklistError as exc:
        raise PageError(_STATUS_OF.get(type(exc), 400), str(exc)) from None


def _money(value: Any) -> str:
    return "" if value is None else f"{float(value):.2f}"


def _decimal4(value: Any) -> str:
    return "" if value is None else f"{float(value):.4f}"


def _percent(value: Any) -> str:
    return "" if value is None else f"{float(value) * 100:.0f}"


# CONTRACT §7 family -> what a biller reads (the family id stays in the page's data attributes)
REASON_LABELS = {
    "ndc": "NDC (drug code)",
    "units": "Units",
    "description": "Drug description",
    "specific_code": "A more specific code exists",
    "coding": "Coding",
    "invoice": "Invoice",
    "documentation": "Documentation",
    "medical_necessity": "Medical necessity",
    "prior_auth": "Prior authorisation",
    "timely_filing": "Timely filing",
    "other": "Other",
}


def _reason_label(family: Any) -> str:
    return "" if family is None else REASON_LABELS.get(str(family), str(family))


def stored_reasons(score: dict[str, Any]) -> list[dict[str, Any]]:
    """CONTRACT §7 ``reasons`` of a stored score (``worklist.workflow``'s score dict): the families
    above the floor, highest first, each with its fired rules, built by the function that answers
    ``/v1/score`` from the stored probabilities and rules, so the store never says other than the
    API did for the same model. [] for a score without reason heads (as ``/v1/score`` answers)."""
    probabilities = score.get("reason_probabilities")
    if not probabilities:
        return []
    row = np.asarray([list(probabilities.values())], dtype=np.float64)
    return reason_answers(row, [list(score.get("rules") or [])])[0]


def _environment() -> jinja2.Environment:
    """Autoescape on for every template (not only ``.html``): all claim text is untrusted."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True
    )
    env.filters.update(money=_money, decimal4=_decimal4, percent=_percent, reason_label=_reason_label)
    return env


TEMPLATES = _environment()


# ---- shared per-app state -------------------------------------------------------------------


def _cached(app: FastAPI, name: str, build: Callable[[], Any]) -> Any:
    found = getattr(app.state, name, None)
    if found is None:
        with _lock:
            found = getattr(app.state, name, None)
            if found is None:
                found = build()
                setattr(app.state, name, found)
    return found


def web_settings(app: FastAPI) -> WebSettings:
    settings: WebSettings = _cached(app, "web_settings", WebSettings)
    return settings


def worklist_store(app: FastAPI) -> Store:
    """The worklist store at ``CLAIMRISK_DATABASE_URL``, opened (and migrated) on first use. Shared
    with the ``/v1/queue`` routes through ``app.state.worklist_store``."""
    store: Store = _cached(app, "worklist_store", open_store)
    return store


def session_codec(app: FastAPI) -> SessionCodec:
    def build() -> SessionCodec:
        settings = web_settings(app)
        with worklist_store(app).session() as db:
            return SessionCodec(resolve_secret(settings, db), settings)

    codec: SessionCodec = _cached(app, "web_session_codec", build)
    return codec


# ---- dependencies ---------------------------------------------------------------------------


def get_db(request: Request) -> Iterator[Session]:
    with worklist_store(request.app).session() as db:
        yield db


DbDep = Annotated[Session, Depends(get_db)]


@dataclass(frozen=True)
class Visitor:
    """The signed-in user of this request and their session (for the CSRF token)."""

    user: User
    session: WebSession


def read_session(request: Request) -> WebSession | None:
    return session_codec(request.app).loads(request.cookies.get(COOKIE_NAME))


def _local_path(request: Request) -> str:
    path = request.url.path
    return path + ("?" + request.url.query if request.url.query else "")


def signed_in(request: Request, db: DbDep) -> Visitor:
    session = read_session(request)
    if session is None or session.user_id is None:
        raise SignInRequired(_local_path(request))
    user = db.get(User, session.user_id)
    if user is None or user.disabled or password_mark(user) != session.password_mark:
        raise SignInRequired(_local_path(request))
    request.state.web_session = session
    return Visitor(user, session)


VisitorDep = Annotated[Visitor, Depends(signed_in)]


def needs(action: Action) -> Callable[[Visitor], Visitor]:
    """A dependency: the signed-in visitor, or the 403 page when their role may not ``action``."""

    def check(visitor: VisitorDep) -> Visitor:
        if not allowed(visitor.user.role, action):
            raise PageError(403, "Your role does not allow this page.")
        return visitor

    return check


async def csrf_protected(request: Request) -> None:
    """Refuse (403) a POST whose form field or header does not carry the session's CSRF token."""
    presented = request.headers.get(CSRF_HEADER)
    if presented is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        presented = value if isinstance(value, str) else None
    if not csrf_matches(read_session(request), presented):
        raise PageError(403, "The form has expired or did not come from this site. Reload the page and try again.")


CsrfDep = Depends(csrf_protected)


# ---- answers --------------------------------------------------------------------------------


def keep_session(request: Request, response: Response, session: WebSession | None = None) -> Response:
    """Re-sign the session on every answer (the idle timeout slides while the user works)."""
    session = session or getattr(request.state, "web_session", None) or read_session(request)
    if session is None:
        session = WebSession(csrf=new_csrf())
    codec = session_codec(request.app)
    response.set_cookie(value=codec.dumps(session), **codec.cookie_options())
    request.state.web_session = session
    return response


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    session = getattr(request.state, "web_session", None) or read_session(request) or WebSession(csrf=new_csrf())
    request.state.web_session = session
    visitor = context.pop("visitor", None)
    user = visitor.user if visitor is not None else None
    html = TEMPLATES.get_template(template).render(
        request=request,
        user=user,
        csrf_token=session.csrf,
        csrf_field=CSRF_FIELD,
        can=(lambda action: user is not None and allowed(user.role, action)),
        Action=Action,
        flash=request.query_params.get("flash"),
        **context,
    )
    response = HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)
    keep_session(request, response, session)
    return response


def redirect(request: Request, url: str, *, flash: str | None = None) -> RedirectResponse:
    """303 after a POST (the browser then GETs, so a reload does not repeat the action)."""
    if flash:
        url += ("&" if "?" in url else "?") + "flash=" + quote(flash)
    response = RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})
    keep_session(request, response)
    return response


def sign_in_redirect(next_path: str) -> RedirectResponse:
    target = "/app/login"
    if next_path.startswith("/app") and not next_path.startswith("/app/login"):
        target += "?next=" + quote(next_path, safe="")
    return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})


def safe_next(value: str | None) -> str:
    """Only a path of this application (``/app...``, not ``//host``) may follow a sign-in."""
    if value and value.startswith("/app") and not value.startswith("//") and "\\" not in value:
        return value
    return "/app/"
