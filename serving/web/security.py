"""Sessions, CSRF tokens and the sign-in slow-down of the web application.

Why a signed cookie and not a session table: ``claimrisk serve`` runs one worker process per core,
and a request may land on any of them. A cookie signed (itsdangerous, HMAC-SHA1 over a
SHA-512-derived key) with one secret shared by all workers (``CLAIMRISK_SESSION_SECRET``, or a
secret generated once and kept in the store) is checked by every worker without a lookup. It is
HttpOnly (scripts cannot read it), SameSite=Strict (another site's form cannot carry it) and
Secure when ``CLAIMRISK_COOKIE_SECURE`` is set.

The cookie holds only the user's id, a fingerprint of their password hash (changing or resetting a
password ends the user's other sessions) and the CSRF token; nothing about any claim. Idle timeout:
the signature's timestamp is checked against ``session_idle_minutes`` and the cookie is re-signed on
every page, so a session lives while it is used.

CSRF: a synchronizer token kept in the signed session and echoed by every form (``csrf_token``) or
by the page's script (``X-CSRF-Token``); a POST without the matching token answers 403. The sign-in
form has one too (an anonymous session), so another site cannot sign a biller into its account.

Slow-down: failed sign-ins are already audited (``worklist.users.authenticate_password``); counting
those rows in the database, not in a worker's memory, makes the limit hold across workers and
restarts. After ``sign_in_free_failures`` failures in the window, each attempt must wait twice as
long as the one before (up to ``MAX_WAIT_SECONDS``) after the latest failure.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from serving.web.settings import WebSettings
from worklist.audit import AuditAction
from worklist.models import AuditEvent, User
from worklist.users import session_secret

COOKIE_NAME = "claimrisk_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
MAX_WAIT_SECONDS = 300
_SALT = "claimrisk.web.session"


@dataclass(frozen=True)
class WebSession:
    """What a request's cookie says: the CSRF token always, the user when signed in."""

    csrf: str
    user_id: int | None = None
    password_mark: str | None = None

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {"c": self.csrf}
        if self.user_id is not None:
            out |= {"u": self.user_id, "p": self.password_mark}
        return out


def new_csrf() -> str:
    return secrets.token_urlsafe(24)


def password_mark(user: User) -> str:
    """A short fingerprint of the stored hash: a new password changes it, ending old sessions."""
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def resolve_secret(settings: WebSettings, db: Session) -> str:
    """``CLAIMRISK_SESSION_SECRET`` when set, else the store's shared secret (created once)."""
    if settings.session_secret is not None and settings.session_secret.get_secret_value():
        return settings.session_secret.get_secret_value()
    return session_secret(db)


class SessionCodec:
    """Signs and reads session cookies with the shared secret."""

    def __init__(self, secret: str, settings: WebSettings) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt=_SALT)
        self._max_age = settings.session_idle_minutes * 60
        self.secure = settings.cookie_secure

    def dumps(self, session: WebSession) -> str:
        return str(self._serializer.dumps(session.payload()))

    def loads(self, cookie: str | None) -> WebSession | None:
        """The session, or None when the cookie is missing, forged or idle too long."""
        if not cookie:
            return None
        try:
            data = self._serializer.loads(cookie, max_age=self._max_age)
        except (SignatureExpired, BadSignature):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return None
        user_id = data.get("u")
        mark = data.get("p")
        if not isinstance(user_id, int) or not isinstance(mark, str):
            return WebSession(csrf=data["c"])
        return WebSession(csrf=data["c"], user_id=user_id, password_mark=mark)

    def cookie_options(self) -> dict[str, Any]:
        return {
            "key": COOKIE_NAME,
            "httponly": True,
            "samesite": "strict",
            "secure": self.secure,
            "path": "/app",
            "max_age": self._max_age,
        }


def csrf_matches(session: WebSession | None, presented: str | None) -> bool:
    if session is None or not presented:
        return False
    return hmac.compare_digest(session.csrf.encode(), presented.encode())


def _aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)


def sign_in_wait(db: Session, name: str, settings: WebSettings, now: dt.datetime | None = None) -> int:
    """Seconds this name must still wait before another sign-in attempt (0: try now).

    Failures count since the user's last successful sign-in within the window. A name that is no
    user shares the count of all failures without a user, so probing unknown names is slowed the
    same way and a refusal does not tell which names exist."""
    now = now or dt.datetime.now(dt.UTC)
    since = now - dt.timedelta(minutes=settings.sign_in_window_minutes)
    user_id = db.scalar(select(User.id).where(User.name == name))
    failed = select(func.count(), func.max(AuditEvent.at)).where(
        AuditEvent.action == AuditAction.SIGN_IN_FAILED.value, AuditEvent.at >= since
    )
    if user_id is None:
        failed = failed.where(AuditEvent.user_id.is_(None))
    else:
        last_ok = db.scalar(
            select(func.max(AuditEvent.id)).where(
                AuditEvent.action == AuditAction.SIGN_IN.value, AuditEvent.user_id == user_id
            )
        )
        failed = failed.where(AuditEvent.user_id == user_id, AuditEvent.id > (last_ok or 0))
    count, latest = db.execute(failed).one()
    if count < settings.sign_in_free_failures or latest is None:
        return 0
    wait = min(2 ** (count - settings.sign_in_free_failures), MAX_WAIT_SECONDS)
    remaining = (_aware(latest) + dt.timedelta(seconds=wait) - now).total_seconds()
    return max(0, int(remaining + 0.999))
