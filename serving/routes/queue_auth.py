"""Who is calling ``/v1/queue``: a personal token or a web session, and may their role do this.

Stored claims are PHI and always answer to a *user* (CONTRACT §8): ``CLAIMRISK_API_KEYS`` keys and
admin keys are not accepted here, because a key names no person and the audit trail must. One
dependency, ``caller(action)``, does all of it: it finds the user from ``Authorization: Bearer
crk_...`` (``worklist.users.authenticate_token``) or, failing that, from the web application's
signed session cookie (``serving.web.context.read_session``, the same check its pages make), and
then asks ``worklist.roles.allowed`` whether that user's role may perform ``action``: 401 without
a valid credential, 403 when the role may not. A session-authenticated request that changes
something must also echo the session's CSRF token in ``X-CSRF-Token``: a cookie rides along on
requests another site makes, a bearer token does not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from serving.errors import ServingError
from serving.web.context import read_session, worklist_store
from serving.web.security import CSRF_HEADER, csrf_matches, password_mark
from worklist.errors import AuthenticationFailed, Conflict, Forbidden, InvalidInput, NotFound, WorklistError
from worklist.models import User
from worklist.roles import Action, allowed
from worklist.users import authenticate_token

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class QueueError(ServingError):
    """A worklist service's refusal as an HTTP answer (the message names ids and fields only)."""

    def __init__(self, status_code: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code


_ANSWERS: dict[type[WorklistError], tuple[int, str]] = {
    AuthenticationFailed: (401, "unauthorized"),
    Forbidden: (403, "forbidden"),
    NotFound: (404, "not_found"),
    Conflict: (409, "conflict"),
    InvalidInput: (422, "invalid_input"),
}


@contextmanager
def service_errors() -> Iterator[None]:
    """Map ``worklist.errors`` one-to-one onto 401/403/404/409/422 answers."""
    try:
        yield
    except WorklistError as exc:
        status, code = _ANSWERS.get(type(exc), (400, "bad_request"))
        raise QueueError(status, code, str(exc)) from None


def unauthorized() -> QueueError:
    return QueueError(401, "unauthorized", "a personal token (Authorization: Bearer crk_...) or a session is required")


@dataclass(frozen=True)
class Caller:
    """The authenticated user of this request and the database session the route works in."""

    user: User
    db: Session


def _session_user(request: Request, db: Session) -> User | None:
    """The signed-in web user, checked as the pages check it (the cookie's password mark too)."""
    session = read_session(request)
    if session is None or session.user_id is None:
        return None
    user = db.get(User, session.user_id)
    if user is None or user.disabled or password_mark(user) != session.password_mark:
        return None
    if request.method not in SAFE_METHODS and not csrf_matches(session, request.headers.get(CSRF_HEADER)):
        raise QueueError(403, "forbidden", "a session request that changes data needs the X-CSRF-Token header")
    return user


def authenticate(request: Request, db: Session) -> User:
    """The user of a bearer token, else of the session cookie; 401 when neither is valid."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token:
        try:
            return authenticate_token(db, token.strip())
        except AuthenticationFailed:
            raise unauthorized() from None
    user = _session_user(request, db)
    if user is None:
        raise unauthorized()
    return user


def caller(action: Action) -> Callable[[Request], Iterator[Caller]]:
    """The one dependency of every ``/v1/queue`` route: authenticate, then check ``action``."""

    def dependency(request: Request) -> Iterator[Caller]:
        with worklist_store(request.app).session() as db:
            user = authenticate(request, db)
            if user.disabled or not allowed(user.role, action):
                raise QueueError(403, "forbidden", f"the role {user.role!r} may not perform {action.value!r}")
            request.state.user_role = user.role  # the access log may name the role, never the user's claims
            yield Caller(user, db)

    return dependency


def scorer_of(request: Request) -> Any:
    """The served champion (503 when no model is loaded), the one ``/v1/score`` uses."""
    return request.app.state.store.require_model()
