"""Denial reasons in the store (CONTRACT §7, §8): the likeliest family and its probability on the
queue rows and the scores, and every family's probability on the scores.

``claimrisk score`` and ``/v1/score`` name the reason a payer would likely give; the queue did not,
so a biller looking at "risk 0.62" with no fired rule still had nothing to go on. ``top_reason``
(a family name, at most 17 characters today, room for 24) and ``top_reason_probability`` sit on
``queue_claims`` beside the other copied score columns, and on ``claim_scores`` with ``reasons``:
a JSON array of every family's probability in contract order (``worklist.scoring.reasons_json``).
All nullable: rows scored before this revision, and scores by a model without reason heads, have
none. No index: the queue does not sort or filter by reason yet, and every index costs each import.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("queue_claims", "claim_scores"):
        op.add_column(table, sa.Column("top_reason", sa.String(24), nullable=True))
        op.add_column(table, sa.Column("top_reason_probability", sa.Float(), nullable=True))
    op.add_column("claim_scores", sa.Column("reasons", sa.Text(), nullable=True))


def downgrade() -> None:
    # plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch "move and copy" of queue_claims
    # would lose the expression indexes of migrations 0003 and 0004, which SQLite cannot reflect
    op.drop_column("claim_scores", "reasons")
    for table in ("claim_scores", "queue_claims"):
        op.drop_column(table, "top_reason_probability")
        op.drop_column(table, "top_reason")
