"""The audit trail: who did what, when, to which claim id. Append-only, and never claim content.

This module is the only writer of ``audit_events`` and offers no update or delete: a trail that can
be edited proves nothing (on PostgreSQL and SQLite a trigger also refuses it, migration 0002).
``detail`` carries counts, statuses, formats and field *paths* only; values a biller typed, claim
fields and file contents never reach it, because the audit trail is read by people who may not
see PHI. Views count too (opening a claim, exporting): under HIPAA who *looked* matters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from worklist.models import AuditEvent, User
from worklist.roles import Action, require


class AuditAction(StrEnum):
    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    USER_ADDED = "user_added"
    USER_DISABLED = "user_disabled"
    PASSWORD_SET = "password_set"
    ROLE_SET = "role_set"
    TOKEN_ISSUED = "token_issued"
    IMPORT = "import"
    VIEW = "view"
    EXPORT = "export"
    EDIT = "edit"
    WHAT_IF = "what_if"
    STATUS = "status"
    ASSIGN = "assign"
    NOTE = "note"
    RESCORE = "rescore"
    OUTCOME_IMPORT = "outcome_import"


def record(
    session: Session,
    actor: User | None,
    action: AuditAction,
    *,
    claim_id: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Append one event in the caller's transaction (it commits with the work it describes)."""
    session.execute(
        insert(AuditEvent).values(
            at=dt.datetime.now(dt.UTC),
            user_id=actor.id if actor is not None else None,
            action=action.value,
            claim_id=claim_id,
            detail=orjson.dumps(dict(detail)).decode() if detail else None,
        )
    )


def record_many(
    session: Session, actor: User | None, action: AuditAction, claim_ids: Sequence[str]
) -> None:
    """One event per claim id (an export of the claims themselves names each claim it let out)."""
    if not claim_ids:
        return
    now = dt.datetime.now(dt.UTC)
    user_id = actor.id if actor is not None else None
    session.execute(
        insert(AuditEvent),
        [{"at": now, "user_id": user_id, "action": action.value, "claim_id": c, "detail": None} for c in claim_ids],
    )


@dataclass(frozen=True)
class AuditEntry:
    at: dt.datetime
    user: str | None
    action: str
    claim_id: str | None
    detail: dict[str, Any] | None


def list_events(
    session: Session, actor: User, *, claim_id: str | None = None, limit: int = 100
) -> list[AuditEntry]:
    """The latest events, newest first (admins only), optionally for one claim id."""
    require(actor, Action.AUDIT_READ)
    query = (
        select(AuditEvent.at, User.name, AuditEvent.action, AuditEvent.claim_id, AuditEvent.detail)
        .outerjoin(User, User.id == AuditEvent.user_id)
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
    if claim_id is not None:
        query = query.where(AuditEvent.claim_id == claim_id)
    return [
        AuditEntry(at, name, action, cid, orjson.loads(detail) if detail else None)
        for at, name, action, cid, detail in session.execute(query)
    ]
