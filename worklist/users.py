"""Users, roles, passwords and personal API tokens: the services behind ``claimrisk users ...``.

Passwords are hashed with argon2id (argon2-cffi's defaults, re-hashed when those change) and never
logged or returned. A personal token is ``crk_<key id>_<secret>``: the key id finds the row, only
the sha256 of the secret is stored, and the comparison is constant-time (``hmac.compare_digest``)
so response timing tells an attacker nothing. A secret of 32 random bytes needs no slow hash: it
cannot be guessed, unlike a password. Stored claims always need a user: these functions are what
the API's ``/v1/queue`` dependency and the CLI authenticate with.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from worklist.audit import AuditAction, record
from worklist.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound
from worklist.models import ApiToken, AppSetting, User
from worklist.roles import Action, parse_role, require

TOKEN_PREFIX = "crk"
MIN_PASSWORD_LENGTH = 12
MAX_NAME_LENGTH = 80
_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so a missing name costs the same time as a
    wrong password (no user enumeration by timing). Made on first use, not at import: an argon2
    hash costs 0.1 s, which every command that merely imports this module (an import of claims
    into the queue) would otherwise pay."""
    return _HASHER.hash("not a password of anyone")


def prepare_sign_in() -> None:
    """Make the dummy hash now: a server calls this at start-up, so its first sign-in with an
    unknown name costs what every later one does."""
    _dummy_hash()


@dataclass(frozen=True)
class UserInfo:
    name: str
    role: str
    disabled: bool
    created_at: str


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


def _check_name(name: str) -> None:
    if not name or len(name) > MAX_NAME_LENGTH or not name.isprintable() or name.strip() != name:
        raise InvalidInput(f"a user name is 1..{MAX_NAME_LENGTH} printable characters without outer spaces")


def _require_admin(actor: User | None) -> None:
    """User management needs an admin, or ``None``: the local operator running the CLI, who holds
    the database file or URL anyway (how the first admin is created)."""
    if actor is not None:
        require(actor, Action.USERS_MANAGE)


def get_user(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound(f"no user named {name!r}")
    return user


def add_user(session: Session, actor: User | None, name: str, role: str, password: str | None) -> User:
    """Create a user (``password`` None: token-only, e.g. a service account). Only an admin may;
    ``actor`` None is the local operator (``claimrisk users``, which already holds the database)."""
    _require_admin(actor)
    _check_name(name)
    parsed = parse_role(role)
    if password is not None:
        _check_password(password)
    user = User(name=name, role=parsed.value, password_hash=_HASHER.hash(password) if password else None)
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"a user named {name!r} exists already") from None
    record(session, actor, AuditAction.USER_ADDED, detail={"user": name, "role": parsed.value})
    session.commit()
    return user


def list_users(session: Session, actor: User | None) -> list[UserInfo]:
    _require_admin(actor)
    users = session.scalars(select(User).order_by(User.name))
    return [UserInfo(u.name, u.role, u.disabled, u.created_at.isoformat()) for u in users]


def disable_user(session: Session, actor: User | None, name: str) -> None:
    """Disable a user: sign-in and every token stop working; the history keeps the name."""
    _require_admin(actor)
    user = get_user(session, name)
    user.disabled = True
    record(session, actor, AuditAction.USER_DISABLED, detail={"user": name})
    session.commit()


def set_password(session: Session, actor: User | None, name: str, password: str) -> None:
    """An admin (or the local operator) sets anyone's password; a user may set their own."""
    if actor is None or actor.name != name:
        _require_admin(actor)
    _check_password(password)
    user = get_user(session, name)
    user.password_hash = _HASHER.hash(password)
    record(session, actor, AuditAction.PASSWORD_SET, detail={"user": name})
    session.commit()


def set_role(session: Session, actor: User | None, name: str, role: str) -> None:
    _require_admin(actor)
    user = get_user(session, name)
    user.role = parse_role(role).value
    record(session, actor, AuditAction.ROLE_SET, detail={"user": name, "role": user.role})
    session.commit()


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def issue_token(session: Session, actor: User | None, name: str) -> str:
    """A new personal token for ``name`` (shown once, stored hashed). Admins issue tokens for anyone;
    a user for themselves; ``actor`` None is the local CLI acting as the machine's operator."""
    if actor is not None and actor.name != name:
        _require_admin(actor)
    user = get_user(session, name)
    if user.disabled:
        raise InvalidInput(f"user {name!r} is disabled")
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, key_id=key_id, secret_sha256=_sha256(secret)))
    record(session, actor, AuditAction.TOKEN_ISSUED, detail={"user": name})
    session.commit()
    return f"{TOKEN_PREFIX}_{key_id}_{secret}"


def authenticate_password(session: Session, name: str, password: str) -> User:
    """The user, when the name and password match an enabled user; ``AuthenticationFailed`` else.
    Both outcomes are audited (a failure without the typed name: it may be a mistyped password)."""
    user = session.scalar(select(User).where(User.name == name))
    stored = user.password_hash if user is not None and user.password_hash else _dummy_hash()
    try:
        ok = _HASHER.verify(stored, password) and user is not None and user.password_hash is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None or user.disabled:
        record(session, user, AuditAction.SIGN_IN_FAILED)
        session.commit()
        raise AuthenticationFailed()
    if _HASHER.check_needs_rehash(stored):
        user.password_hash = _HASHER.hash(password)
    record(session, user, AuditAction.SIGN_IN)
    session.commit()
    return user


def authenticate_token(session: Session, token: str) -> User:
    """The enabled user a personal token belongs to; ``AuthenticationFailed`` otherwise. Not
    audited per call (every API request carries the token); issuing it is."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        raise AuthenticationFailed()
    row = session.scalar(select(ApiToken).where(ApiToken.key_id == parts[1]))
    expected = row.secret_sha256 if row is not None else _sha256("no such token")
    matches = hmac.compare_digest(expected.encode(), _sha256(parts[2]).encode())
    if row is None or not matches or row.revoked:
        raise AuthenticationFailed()
    user = session.get(User, row.user_id)
    if user is None or user.disabled:
        raise AuthenticationFailed()
    return user


SESSION_SECRET_KEY = "session_secret"


def session_secret(session: Session) -> str:
    """The secret that signs web sessions when ``CLAIMRISK_SESSION_SECRET`` is unset: generated
    once and kept in the store, so every worker process signs and checks with the same one."""
    found = session.get(AppSetting, SESSION_SECRET_KEY)
    if found is not None:
        return found.value
    session.add(AppSetting(key=SESSION_SECRET_KEY, value=secrets.token_urlsafe(48)))
    try:
        session.commit()
    except IntegrityError:  # another worker stored one first: use theirs
        session.rollback()
    stored = session.get(AppSetting, SESSION_SECRET_KEY)
    assert stored is not None
    return stored.value
