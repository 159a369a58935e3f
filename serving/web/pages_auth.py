"""Sign-in, sign-out and password change.

Sign-in rotates the CSRF token (a token seen before sign-in is worthless after it), answers one
message for every failure (no hint whether the name exists), and refuses with 429 while the
database-counted slow-down says this name must wait (``security.sign_in_wait``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from serving.web.context import (
    CsrfDep,
    DbDep,
    VisitorDep,
    keep_session,
    read_session,
    redirect,
    render,
    safe_next,
    session_codec,
    web_settings,
)
from serving.web.forms import PasswordChangeForm, SignInForm
from serving.web.security import COOKIE_NAME, WebSession, new_csrf, password_mark, sign_in_wait
from worklist.errors import AuthenticationFailed, InvalidInput
from worklist.users import authenticate_password, set_password

router = APIRouter()


@router.get("/login", name="web_login")
def login_page(request: Request, db: DbDep, next: str | None = None) -> Response:
    session = read_session(request)
    if session is not None and session.user_id is not None:
        return redirect(request, safe_next(next))
    return render(request, "login.html", next_path=safe_next(next), error=None, username="")


@router.post("/login", dependencies=[CsrfDep])
def sign_in(request: Request, db: DbDep, form: Annotated[SignInForm, Form()]) -> Response:
    next_path = safe_next(form.next)
    wait = sign_in_wait(db, form.username, web_settings(request.app))
    if wait > 0:
        message = f"Too many failed sign-ins. Wait {wait} seconds, then try again."
        response: Response = render(request, "login.html", 429, next_path=next_path, error=message, username=form.username)
        response.headers["Retry-After"] = str(wait)
        return response
    try:
        user = authenticate_password(db, form.username, form.password)
    except AuthenticationFailed:
        message = "The user name or password is not right."
        return render(request, "login.html", 401, next_path=next_path, error=message, username=form.username)
    session = WebSession(csrf=new_csrf(), user_id=user.id, password_mark=password_mark(user))
    response = redirect(request, next_path)
    return keep_session(request, response, session)


@router.post("/logout", dependencies=[CsrfDep])
def sign_out(request: Request) -> Response:
    response = redirect(request, "/app/login", flash="You are signed out.")
    options = session_codec(request.app).cookie_options()
    response.delete_cookie(COOKIE_NAME, path=options["path"], secure=options["secure"], httponly=True, samesite="strict")
    return response


@router.get("/account/password", name="web_password")
def password_page(request: Request, visitor: VisitorDep) -> Response:
    return render(request, "password.html", visitor=visitor, error=None)


@router.post("/account/password", dependencies=[CsrfDep])
def change_password(
    request: Request, db: DbDep, visitor: VisitorDep, form: Annotated[PasswordChangeForm, Form()]
) -> Response:
    """Every user may change their own password, after proving they know the current one."""
    error = None
    if form.new != form.repeat:
        error = "The two new passwords differ."
    else:
        try:
            authenticate_password(db, visitor.user.name, form.current)
            set_password(db, visitor.user, visitor.user.name, form.new)
        except AuthenticationFailed:
            error = "The current password is not right."
        except InvalidInput as exc:
            error = str(exc)
    if error is not None:
        return render(request, "password.html", 422, visitor=visitor, error=error)
    user = db.get(type(visitor.user), visitor.user.id)
    assert user is not None
    session = WebSession(csrf=new_csrf(), user_id=user.id, password_mark=password_mark(user))
    return keep_session(request, redirect(request, "/app/", flash="Your password is changed."), session)
