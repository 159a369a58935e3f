"""Indexes for every (filter, sort) pair of the queue page, and index-only totals.

At 100,000 claims the queue page took 150 ms and ``status=new`` sorted by risk 1.85 s: a filter
had an index only with the expected-loss order behind it, so any other order sorted every matching
claim in a temporary B-tree, and the totals at the top of the page (count, summed expected loss
and recoverable dollars) read each matching table row. Now each common filter (status, payer,
decision, assignee) has an index per sort order, led by the filtered column with the sort column
and the primary key behind it, so a keyset page reads about 51 index entries whatever the order;
and the expected-loss indexes (unfiltered and per filter) end with ``recoverable``, so the totals
are one aggregate over a covering index (no table rows). The recoverable order has the nulls-last
expression of ``worklist.queue.queue_order``, as migration 0003's unfiltered index does.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "queue_claims"
# column -> index-name stem (the same pairs as ``worklist.models.FILTERED_INDEX_COLUMNS``, copied:
# a migration must not change when the models do)
FILTERS = {"status": "status", "payer_id": "payer", "decision": "decision", "assignee_id": "assignee"}


def _recreate(name: str, columns: list[str]) -> None:
    op.drop_index(name, table_name=TABLE)
    op.create_index(name, TABLE, columns)


def upgrade() -> None:
    _recreate("ix_queue_expected_loss", ["expected_loss", "id", "recoverable"])
    for column, stem in FILTERS.items():
        _recreate(f"ix_queue_{stem}_loss", [column, "expected_loss", "id", "recoverable"])
        op.create_index(f"ix_queue_{stem}_risk", TABLE, [column, "risk", "id"])
        op.create_index(f"ix_queue_{stem}_created", TABLE, [column, "created_at", "id"])
        op.create_index(f"ix_queue_{stem}_deadline", TABLE, [column, "filing_deadline", "id"])
        op.create_index(
            f"ix_queue_{stem}_recoverable",
            TABLE,
            [sa.text(column), sa.text("(recoverable IS NULL)"), sa.text("recoverable DESC"), sa.text("id DESC")],
        )


def downgrade() -> None:
    for column, stem in FILTERS.items():
        for suffix in ("risk", "created", "deadline", "recoverable"):
            op.drop_index(f"ix_queue_{stem}_{suffix}", table_name=TABLE)
        _recreate(f"ix_queue_{stem}_loss", [column, "expected_loss", "id"])
    _recreate("ix_queue_expected_loss", ["expected_loss", "id"])
