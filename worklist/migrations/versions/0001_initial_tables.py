"""Initial worklist tables: users and tokens, the queue, revisions, scores, rules, notes,
outcomes and the audit trail (``worklist.models`` explains each).

Revision ID: 0001
Revises:
Create Date: 2026-12-05 21:06:44.319599

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create every table of the first schema."""
    _users_and_audit()
    _queue()
    _claim_history()
    _outcomes_and_scores()


def _users_and_audit() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("secret_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("key_id", name=op.f("uq_api_tokens_key_id")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("claim_id", sa.String(length=38), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_audit_events_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_claim_id"), ["claim_id"], unique=False)


def _queue() -> None:
    op.create_table(
        "queue_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.String(length=38), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("dismiss_reason", sa.String(length=200), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("claim_type", sa.String(length=16), nullable=False),
        sa.Column("payer_id", sa.String(length=80), nullable=False),
        sa.Column("payer_type", sa.String(length=16), nullable=False),
        sa.Column("submission_date", sa.Date(), nullable=False),
        sa.Column("filing_deadline", sa.Date(), nullable=False),
        sa.Column("total_charge", sa.Float(), nullable=False),
        sa.Column("risk", sa.Float(), nullable=False),
        sa.Column("decision", sa.String(length=8), nullable=False),
        sa.Column("expected_loss", sa.Float(), nullable=False),
        sa.Column("risk_if_all_fixed", sa.Float(), nullable=True),
        sa.Column("recoverable", sa.Float(), nullable=True),
        sa.Column("best_fix", sa.String(length=40), nullable=True),
        sa.Column("best_fix_line", sa.Integer(), nullable=True),
        sa.Column("risk_if_best_fixed", sa.Float(), nullable=True),
        sa.Column("model_version", sa.String(length=80), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["users.id"], name=op.f("fk_queue_claims_assignee_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_claims")),
        sa.UniqueConstraint("claim_id", name=op.f("uq_queue_claims_claim_id")),
    )
    with op.batch_alter_table("queue_claims", schema=None) as batch_op:
        batch_op.create_index("ix_queue_assignee_loss", ["assignee_id", "expected_loss", "id"], unique=False)
        batch_op.create_index("ix_queue_created", ["created_at", "id"], unique=False)
        batch_op.create_index("ix_queue_deadline", ["filing_deadline", "id"], unique=False)
        batch_op.create_index("ix_queue_decision_loss", ["decision", "expected_loss", "id"], unique=False)
        batch_op.create_index("ix_queue_expected_loss", ["expected_loss", "id"], unique=False)
        batch_op.create_index("ix_queue_payer_loss", ["payer_id", "expected_loss", "id"], unique=False)
        batch_op.create_index("ix_queue_recoverable", ["recoverable", "id"], unique=False)
        batch_op.create_index("ix_queue_risk", ["risk", "id"], unique=False)
        batch_op.create_index("ix_queue_status_loss", ["status", "expected_loss", "id"], unique=False)
        batch_op.create_index("ix_queue_submission", ["submission_date", "id"], unique=False)


def _claim_history() -> None:
    op.create_table(
        "claim_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_pk", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("changed_fields", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=True),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["claim_pk"], ["queue_claims.id"], name=op.f("fk_claim_revisions_claim_pk_queue_claims")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_claim_revisions_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_revisions")),
        sa.UniqueConstraint("claim_pk", "revision", name="uq_claim_revisions_claim_revision"),
    )
    with op.batch_alter_table("claim_revisions", schema=None) as batch_op:
        batch_op.create_index("ix_claim_revisions_claim_sha", ["claim_pk", "content_sha256"], unique=False)

    op.create_table(
        "claim_rules",
        sa.Column("claim_pk", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_pk"], ["queue_claims.id"], name=op.f("fk_claim_rules_claim_pk_queue_claims")
        ),
        sa.PrimaryKeyConstraint("claim_pk", "rule_id", name=op.f("pk_claim_rules")),
    )
    with op.batch_alter_table("claim_rules", schema=None) as batch_op:
        batch_op.create_index("ix_claim_rules_rule", ["rule_id", "claim_pk"], unique=False)

    op.create_table(
        "notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_pk", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_notes_author_id_users")),
        sa.ForeignKeyConstraint(
            ["claim_pk"], ["queue_claims.id"], name=op.f("fk_notes_claim_pk_queue_claims")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notes")),
    )
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notes_claim_pk"), ["claim_pk"], unique=False)


def _outcomes_and_scores() -> None:
    op.create_table(
        "outcomes",
        sa.Column("claim_pk", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("denied_amount", sa.Float(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["claim_pk"], ["queue_claims.id"], name=op.f("fk_outcomes_claim_pk_queue_claims")
        ),
        sa.ForeignKeyConstraint(["imported_by"], ["users.id"], name=op.f("fk_outcomes_imported_by_users")),
        sa.PrimaryKeyConstraint("claim_pk", name=op.f("pk_outcomes")),
    )
    op.create_table(
        "claim_scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column("model_version", sa.String(length=80), nullable=False),
        sa.Column("rules_version", sa.String(length=120), nullable=False),
        sa.Column("reference_data_version", sa.String(length=200), nullable=False),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("risk", sa.Float(), nullable=False),
        sa.Column("decision", sa.String(length=8), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("expected_loss", sa.Float(), nullable=False),
        sa.Column("risk_if_all_fixed", sa.Float(), nullable=True),
        sa.Column("recoverable", sa.Float(), nullable=True),
        sa.Column("best_fix", sa.String(length=40), nullable=True),
        sa.Column("best_fix_line", sa.Integer(), nullable=True),
        sa.Column("risk_if_best_fixed", sa.Float(), nullable=True),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["revision_id"], ["claim_revisions.id"], name=op.f("fk_claim_scores_revision_id_claim_revisions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_scores")),
        sa.UniqueConstraint(
            "revision_id",
            "model_version",
            "rules_version",
            "reference_data_version",
            name="uq_claim_scores_revision_versions",
        ),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("claim_scores")
    op.drop_table("outcomes")
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notes_claim_pk"))

    op.drop_table("notes")
    with op.batch_alter_table("claim_rules", schema=None) as batch_op:
        batch_op.drop_index("ix_claim_rules_rule")

    op.drop_table("claim_rules")
    with op.batch_alter_table("claim_revisions", schema=None) as batch_op:
        batch_op.drop_index("ix_claim_revisions_claim_sha")

    op.drop_table("claim_revisions")
    with op.batch_alter_table("queue_claims", schema=None) as batch_op:
        batch_op.drop_index("ix_queue_submission")
        batch_op.drop_index("ix_queue_status_loss")
        batch_op.drop_index("ix_queue_risk")
        batch_op.drop_index("ix_queue_recoverable")
        batch_op.drop_index("ix_queue_payer_loss")
        batch_op.drop_index("ix_queue_expected_loss")
        batch_op.drop_index("ix_queue_decision_loss")
        batch_op.drop_index("ix_queue_deadline")
        batch_op.drop_index("ix_queue_created")
        batch_op.drop_index("ix_queue_assignee_loss")

    op.drop_table("queue_claims")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_claim_id"))
        batch_op.drop_index(batch_op.f("ix_audit_events_at"))

    op.drop_table("audit_events")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))

    op.drop_table("api_tokens")
    op.drop_table("users")
