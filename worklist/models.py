"""The worklist's tables as SQLAlchemy 2 typed models; Alembic migrations create them.

Design choices, and why:

* ``queue_claims`` holds one row per claim id with the *latest* revision's score copied onto it
  (risk, expected loss, best fix, recoverable, filing deadline). The queue page sorts and filters
  100,000 claims in milliseconds only when those values sit in indexed columns of one table; the
  full history stays in ``claim_revisions`` and ``claim_scores``.
* ``claim_revisions`` keeps every version of a claim's content as canonical JSON with its sha256:
  an edit never overwrites (the original stays), and a re-import of identical content is found by
  its hash and stored once.
* ``claim_scores`` is keyed by revision + model, rules and reference-data versions, so re-scoring
  after a promotion adds rows instead of replacing the earlier answers.
* ``claim_rules`` lists the distinct rule ids fired on each claim's current score: filtering the
  queue by rule id is an index lookup, not a JSON scan.
* ``audit_events`` is append-only (no service updates or deletes it; on PostgreSQL a trigger
  refuses it) and never holds claim content: who, what, when, which claim id, and counts.
* Money and risks are floats (the scorer's values, dollars and probabilities); content is text
  JSON so SQLite and PostgreSQL store the very same bytes.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiToken(Base):
    """A personal token: ``key_id`` finds the row, the secret's sha256 is compared in constant time."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


# The queue's common filters (``worklist.queue.filter_conditions``), carried by every sort index.
FILTER_COLUMNS = ("status", "payer_id", "decision", "assignee_id")


class QueueClaim(Base):
    __tablename__ = "queue_claims"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[str] = mapped_column(String(38), unique=True)
    revision: Mapped[int] = mapped_column(Integer)
    content_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="new")
    dismiss_reason: Mapped[str | None] = mapped_column(String(200))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claim_type: Mapped[str] = mapped_column(String(16))
    payer_id: Mapped[str] = mapped_column(String(80))
    payer_type: Mapped[str] = mapped_column(String(16))
    submission_date: Mapped[dt.date] = mapped_column(Date)
    filing_deadline: Mapped[dt.date] = mapped_column(Date)
    total_charge: Mapped[float] = mapped_column(Float)
    risk: Mapped[float] = mapped_column(Float)
    decision: Mapped[str] = mapped_column(String(8))
    expected_loss: Mapped[float] = mapped_column(Float)
    risk_if_all_fixed: Mapped[float | None] = mapped_column(Float)
    recoverable: Mapped[float | None] = mapped_column(Float)
    best_fix: Mapped[str | None] = mapped_column(String(40))
    best_fix_line: Mapped[int | None] = mapped_column(Integer)
    risk_if_best_fixed: Mapped[float | None] = mapped_column(Float)
    model_version: Mapped[str | None] = mapped_column(String(80))
    # CONTRACT §7: the likeliest denial reason family and its probability (null: no reason heads)
    top_reason: Mapped[str | None] = mapped_column(String(24))
    top_reason_probability: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        # One index per sort order (keyset pagination walks it), each ending with the filter
        # columns (``FILTER_COLUMNS``) so a filtered page tests the filter on the index entry and
        # never sorts (migration 0006 has the trade-off measured). The expected-loss one carries
        # ``recoverable`` before them so the totals of any filter (count, summed expected loss and
        # recoverable) read the index alone, never the 100,000 table rows (migration 0004).
        Index("ix_queue_expected_loss", "expected_loss", "id", "recoverable", *FILTER_COLUMNS),
        Index("ix_queue_risk", "risk", "id", *FILTER_COLUMNS),
        Index("ix_queue_recoverable", "recoverable", "id", *FILTER_COLUMNS),
        Index("ix_queue_created", "created_at", "id", *FILTER_COLUMNS),
        Index("ix_queue_deadline", "filing_deadline", "id", *FILTER_COLUMNS),
        Index("ix_queue_submission", "submission_date", "id", *FILTER_COLUMNS),
    )


# The recoverable-dollars order as ``worklist.queue`` asks for it (nulls last, highest first):
# an expression index, so it is declared on the table here (migrations 0003 and 0006 create it).
Index(
    "ix_queue_recoverable_nulls_last",
    QueueClaim.recoverable.is_(None),
    QueueClaim.recoverable.desc(),
    QueueClaim.id.desc(),
    *(getattr(QueueClaim, column) for column in FILTER_COLUMNS),
)


class ClaimRevision(Base):
    __tablename__ = "claim_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_pk: Mapped[int] = mapped_column(ForeignKey("queue_claims.id"))
    revision: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)
    content_sha256: Mapped[str] = mapped_column(String(64))
    changed_fields: Mapped[str | None] = mapped_column(Text)  # JSON list of field paths; null on import
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    source: Mapped[str | None] = mapped_column(String(255))  # file name (or "request") of an import
    position: Mapped[int | None] = mapped_column(Integer)  # record number in that file

    __table_args__ = (
        UniqueConstraint("claim_pk", "revision", name="uq_claim_revisions_claim_revision"),
        Index("ix_claim_revisions_claim_sha", "claim_pk", "content_sha256"),
    )


class ClaimScore(Base):
    __tablename__ = "claim_scores"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("claim_revisions.id"))
    model_version: Mapped[str] = mapped_column(String(80))
    rules_version: Mapped[str] = mapped_column(String(120))
    reference_data_version: Mapped[str] = mapped_column(String(200))
    scored_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    risk: Mapped[float] = mapped_column(Float)
    decision: Mapped[str] = mapped_column(String(8))
    threshold: Mapped[float] = mapped_column(Float)
    expected_loss: Mapped[float] = mapped_column(Float)
    risk_if_all_fixed: Mapped[float | None] = mapped_column(Float)
    recoverable: Mapped[float | None] = mapped_column(Float)
    best_fix: Mapped[str | None] = mapped_column(String(40))
    best_fix_line: Mapped[int | None] = mapped_column(Integer)
    risk_if_best_fixed: Mapped[float | None] = mapped_column(Float)
    top_reason: Mapped[str | None] = mapped_column(String(24))
    top_reason_probability: Mapped[float | None] = mapped_column(Float)
    # JSON array of every family's probability in CONTRACT §7 order (``worklist.scoring.reasons_json``)
    reasons: Mapped[str | None] = mapped_column(Text)
    rules: Mapped[str] = mapped_column(Text)  # JSON: the fired problems, each with risk_if_fixed

    __table_args__ = (
        UniqueConstraint(
            "revision_id", "model_version", "rules_version", "reference_data_version",
            name="uq_claim_scores_revision_versions",
        ),
    )


class ClaimRule(Base):
    __tablename__ = "claim_rules"

    claim_pk: Mapped[int] = mapped_column(ForeignKey("queue_claims.id"), primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(40), primary_key=True)

    __table_args__ = (Index("ix_claim_rules_rule", "rule_id", "claim_pk"),)


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_pk: Mapped[int] = mapped_column(ForeignKey("queue_claims.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    text: Mapped[str] = mapped_column(Text)


class Outcome(Base):
    """The payer's netted answer for a queue claim (one per claim; a later import replaces it)."""

    __tablename__ = "outcomes"

    claim_pk: Mapped[int] = mapped_column(ForeignKey("queue_claims.id"), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer)  # the claim's revision when the answer came in
    status: Mapped[str] = mapped_column(String(16))  # denied | paid | excluded
    denied_amount: Mapped[float] = mapped_column(Float)
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    imported_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(32))
    claim_id: Mapped[str | None] = mapped_column(String(38), index=True)
    detail: Mapped[str | None] = mapped_column(Text)  # JSON of counts and statuses, never content


class AppSetting(Base):
    """Process-wide values every worker must share (the session-signing secret when unset)."""

    __tablename__ = "app_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


def table(model: type[Base]) -> Table:
    """The Core table of a model, typed as one (bulk paths use Core, not ORM objects)."""
    found = model.__table__
    if not isinstance(found, Table):
        raise TypeError(f"{model.__name__} is not mapped to a plain table")
    return found
