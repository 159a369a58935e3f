"""An index that serves the queue's "recoverable dollars" order as the query asks for it.

``recoverable`` may be null (a score without ``risk_if_all_fixed``), and the queue puts nulls last
on both back-ends with ``ORDER BY recoverable IS NULL, recoverable DESC, id DESC``
(``worklist.queue.queue_order``). The plain (recoverable, id) index cannot deliver that order, so
the first page sorted by recoverable sorted the whole table (20 ms at 20,000 claims, growing with
the queue). This index has the very expression and directions of that ORDER BY, so the first page
reads 51 index entries. SQLite and PostgreSQL both index expressions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_queue_recoverable_nulls_last"


def upgrade() -> None:
    op.create_index(
        NAME, "queue_claims", [sa.text("(recoverable IS NULL)"), sa.text("recoverable DESC"), sa.text("id DESC")]
    )


def downgrade() -> None:
    op.drop_index(NAME, table_name="queue_claims")
