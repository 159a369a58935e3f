"""Users, roles, passwords and tokens (both back-ends)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from worklist.errors import AuthenticationFailed, Conflict, Forbidden, InvalidInput
from worklist.models import ApiToken, AuditEvent, User
from worklist.roles import Action, Role, allowed
from worklist.users import (
    add_user,
    authenticate_password,
    authenticate_token,
    disable_user,
    issue_token,
    list_users,
    session_secret,
    set_password,
    set_role,
)


def test_role_permissions_are_ordered() -> None:
    assert allowed("biller", Action.CLAIM_EDIT) and not allowed("biller", Action.OUTCOMES_IMPORT)
    assert allowed("analyst", Action.OUTCOMES_IMPORT) and not allowed("analyst", Action.USERS_MANAGE)
    assert all(allowed(Role.ADMIN, action) for action in Action)
    assert not allowed("root", Action.QUEUE_READ) and not allowed("admin", "no.such.action")


def test_passwords_are_argon2_hashed_and_checked(store: Any, admin: Any) -> None:
    with store.session() as session:
        stored = session.scalar(select(User.password_hash).where(User.name == "ada"))
        assert stored is not None and stored.startswith("$argon2id$") and "battery" not in stored
        assert authenticate_password(session, "ada", "correct horse battery").name == "ada"
        with pytest.raises(AuthenticationFailed):
            authenticate_password(session, "ada", "wrong password here")
        with pytest.raises(AuthenticationFailed):
            authenticate_password(session, "nobody", "correct horse battery")
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert actions[-3:] == ["sign_in", "sign_in_failed", "sign_in_failed"]


def test_user_management_needs_an_admin(store: Any, admin: Any, biller: Any) -> None:
    with store.session() as session:
        with pytest.raises(Forbidden):
            add_user(session, biller, "eve", "admin", "long enough password")
        with pytest.raises(Conflict):
            add_user(session, admin, "bo", "biller", "long enough password")
        with pytest.raises(InvalidInput):
            add_user(session, admin, "cy", "superuser", "long enough password")
        with pytest.raises(InvalidInput):
            add_user(session, admin, "cy", "biller", "short")
        add_user(session, admin, "cy", "analyst", "long enough password")
        assert [(u.name, u.role) for u in list_users(session, admin)] == [
            ("ada", "admin"), ("bo", "biller"), ("cy", "analyst")]
        set_role(session, admin, "cy", "biller")
        with pytest.raises(Forbidden):
            list_users(session, biller)
        set_password(session, biller, "bo", "a brand new password")  # one's own password
        with pytest.raises(Forbidden):
            set_password(session, biller, "cy", "a brand new password")
        assert authenticate_password(session, "bo", "a brand new password").name == "bo"


def test_tokens_are_stored_hashed_and_stop_with_the_user(store: Any, admin: Any, biller: Any) -> None:
    with store.session() as session:
        token = issue_token(session, admin, "bo")
        assert token.startswith("crk_")
        secret = token.split("_", 2)[2]
        stored = session.scalars(select(ApiToken.secret_sha256)).all()
        assert stored and secret not in stored[0]
        assert authenticate_token(session, token).name == "bo"
        with pytest.raises(AuthenticationFailed):
            authenticate_token(session, token[:-2] + "xx")
        with pytest.raises(AuthenticationFailed):
            authenticate_token(session, "garbage")
        disable_user(session, admin, "bo")
        with pytest.raises(AuthenticationFailed):
            authenticate_token(session, token)
        with pytest.raises(AuthenticationFailed):
            authenticate_password(session, "bo", "staple battery horse")


def test_the_session_secret_is_generated_once(store: Any) -> None:
    with store.session() as session:
        first = session_secret(session)
    with store.session() as session:
        assert session_secret(session) == first and len(first) > 40
