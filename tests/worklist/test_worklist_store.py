"""The store: migrations on both back-ends, SQLite's private file, pragmas and the default URL."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text

from tests.worklist.conftest import insert_old_queue_row
from worklist.db import (
    DEFAULT_DATABASE_URL,
    current_revision,
    database_url,
    downgrade,
    make_engine,
    migrate,
    open_store,
)


def _head() -> str:
    """The newest migration (each wave adds one; the tests of a migration name theirs)."""
    from alembic.script import ScriptDirectory

    from worklist.db import MIGRATIONS_DIR

    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert head is not None and head >= "0005"
    return head


TABLES = {"users", "api_tokens", "queue_claims", "claim_revisions", "claim_scores", "claim_rules", "notes",
          "outcomes", "audit_events", "app_settings"}


def test_an_empty_database_upgrades_to_head(store_url: str) -> None:
    engine = make_engine(store_url)
    assert current_revision(engine) is None
    migrate(engine)
    assert current_revision(engine) == _head()
    assert TABLES <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_a_database_at_the_previous_revision_upgrades_and_keeps_its_rows(store_url: str) -> None:
    engine = make_engine(store_url)
    migrate(engine, "0001")
    assert current_revision(engine) == "0001"
    assert "app_settings" not in inspect(engine).get_table_names()
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO users (name, role, disabled, created_at) "
                                "VALUES ('old', 'admin', false, CURRENT_TIMESTAMP)"))
    migrate(engine)
    assert current_revision(engine) == _head()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT name FROM users")).scalars().all() == ["old"]
    engine.dispose()


def test_downgrade_to_base_and_upgrade_again(store_url: str) -> None:
    engine = make_engine(store_url)
    migrate(engine)
    downgrade(engine, "base")
    assert not TABLES & set(inspect(engine).get_table_names())
    migrate(engine)
    assert TABLES <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_the_models_match_the_migrations(store: Any) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from worklist.models import Base

    with store.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_the_sqlite_file_and_its_wal_are_private(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "worklist.db"
    opened = open_store(f"sqlite:///{path}")
    with opened.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        connection.execute(text("INSERT INTO app_settings (key, value) VALUES ('k', 'v')"))
        connection.commit()
        files = [p for p in path.parent.iterdir() if p.name.startswith("worklist.db")]
        assert {p.name for p in files} >= {"worklist.db", "worklist.db-wal", "worklist.db-shm"}
        for file in files:
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file.name
    assert stat.S_IMODE(path.parent.stat().st_mode) & 0o077 == 0
    opened.dispose()


def test_foreign_keys_are_enforced_on_sqlite(tmp_path: Path) -> None:
    from sqlalchemy.exc import IntegrityError

    opened = open_store(f"sqlite:///{tmp_path / 'w.db'}")
    with opened.engine.connect() as connection, pytest.raises(IntegrityError):
        connection.execute(text("INSERT INTO notes (claim_pk, author_id, created_at, text) "
                                "VALUES (999, 999, CURRENT_TIMESTAMP, 'x')"))
    opened.dispose()


def test_the_url_comes_from_the_environment_with_a_relative_default(monkeypatch: pytest.MonkeyPatch,
                                                                       tmp_path: Path) -> None:
    monkeypatch.delenv("CLAIMRISK_DATABASE_URL", raising=False)
    assert str(database_url()) == DEFAULT_DATABASE_URL
    monkeypatch.setenv("CLAIMRISK_DATABASE_URL", "postgresql://u@h/db")
    assert database_url().drivername == "postgresql+psycopg"
    monkeypatch.delenv("CLAIMRISK_DATABASE_URL")
    monkeypatch.chdir(tmp_path)
    open_store().dispose()
    created = tmp_path / "data" / "worklist.db"
    assert created.is_file() and stat.S_IMODE(created.stat().st_mode) == 0o600
    assert os.path.isdir(tmp_path / "data")


def test_the_recoverable_order_reads_an_index_not_a_sort(store: Any) -> None:
    """The first page by recoverable dollars (nulls last) walks migration 0003's index; before it,
    SQLite sorted the whole queue in a temporary B-tree for every first page."""
    from sqlalchemy import select

    from worklist.importing import QUEUE
    from worklist.queue import SortKey, queue_order

    query = select(QUEUE.c.id).order_by(*queue_order(SortKey.RECOVERABLE)).limit(51)
    with store.engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            assert "ix_queue_recoverable_nulls_last" in {i["name"] for i in inspect(connection).get_indexes("queue_claims")}
            return
        compiled = query.compile(connection, compile_kwargs={"literal_binds": True})
        plan = " ".join(str(row[-1]) for row in connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
    assert "ix_queue_recoverable_nulls_last" in plan and "TEMP B-TREE" not in plan


def _sqlite_plan(connection: Any, query: Any) -> str:
    compiled = query.compile(connection, compile_kwargs={"literal_binds": True})
    return " ".join(str(row[-1]) for row in connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))


@pytest.mark.parametrize("where", [{"status": "new"}, {"payer_id": "P"}, {"decision": "review"}, {"assignee": "bo"}])
def test_every_common_filter_pages_in_every_order_from_an_index(store: Any, admin: Any, where: dict[str, str]) -> None:
    """Migration 0006: a filtered first page in any sort order walks the sort's index, which
    carries the filter columns (no temporary B-tree sorting every matching claim, no table row
    read to test the filter), and the totals read a covering index."""
    from sqlalchemy import func, select

    from worklist.importing import QUEUE
    from worklist.queue import QueueFilter, SortKey, filter_conditions, queue_order

    with store.session() as session:
        conditions = filter_conditions(session, QueueFilter(**where))
        if session.connection().dialect.name != "sqlite":
            names = {i["name"] for i in inspect(session.connection()).get_indexes("queue_claims")}
            assert {"ix_queue_expected_loss", "ix_queue_risk", "ix_queue_recoverable_nulls_last"} <= names
            assert not any(name.startswith("ix_queue_status_") for name in names)
            return
        for sort in SortKey:
            plan = _sqlite_plan(session.connection(), select(QUEUE.c.id).where(*conditions).order_by(*queue_order(sort)).limit(51))
            assert "TEMP B-TREE" not in plan and "INDEX ix_queue_" in plan, (sort, plan)
            if "assignee" not in where:  # the filter is tested on the index entry: a covering scan
                assert "COVERING INDEX" in _sqlite_plan(
                    session.connection(), select(func.count()).where(*conditions).order_by(*queue_order(sort))
                ), sort
        totals = select(func.count(), func.sum(QUEUE.c.expected_loss), func.sum(QUEUE.c.recoverable))
        assert "COVERING INDEX" in _sqlite_plan(session.connection(), totals.where(*conditions))
        assert "COVERING INDEX" in _sqlite_plan(session.connection(), totals)


def test_migration_0006_folds_the_filtered_indexes_into_the_sort_indexes(store_url: str) -> None:
    """0006 on a filled 0005 store: the 20 (filter, sort) indexes go, the seven sort indexes carry
    the filter columns, the rows stay; the downgrade brings the 0005 indexes back."""
    engine = make_engine(store_url)
    migrate(engine, "0005")
    insert_old_queue_row(engine)

    def indexes() -> dict[str, list[str | None]]:
        return {i["name"]: i["column_names"] for i in inspect(engine).get_indexes("queue_claims") if i["name"]}

    assert "ix_queue_status_risk" in indexes()
    migrate(engine, "0006")
    after = indexes()
    assert not any(name.startswith(("ix_queue_status_", "ix_queue_payer_", "ix_queue_decision_")) for name in after)
    assert after["ix_queue_risk"] == ["risk", "id", "status", "payer_id", "decision", "assignee_id"]
    with engine.connect() as connection:
        assert connection.execute(text("SELECT claim_id FROM queue_claims WHERE status = 'new'")).scalars().all() == ["OLD-1"]
    downgrade(engine, "0005")
    before = indexes()
    assert before["ix_queue_risk"] == ["risk", "id"] and "ix_queue_assignee_deadline" in before
    engine.dispose()


def test_a_new_sqlite_store_has_pages_that_hold_a_claim(tmp_path: Path) -> None:
    """A claim's content (~1.2 KB) fits a 16 KiB page's local payload: no overflow page per claim."""
    from worklist.db import SQLITE_PAGE_BYTES

    store = open_store(f"sqlite:///{tmp_path / 'pages.db'}")
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA page_size").scalar() == SQLITE_PAGE_BYTES
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    store.dispose()


def test_inserted_ids_are_trusted_only_when_they_fill_the_range(store: Any) -> None:
    """Keys read off the range above the old maximum only when exactly this insert's rows lie
    there; a row another writer put above it sends the caller back to reading keys by claim id."""
    from worklist.db import insert_rows, inserted_ids
    from worklist.importing import _last_id
    from worklist.models import AuditEvent, table, utcnow

    events = table(AuditEvent)
    with store.session() as session:
        connection = session.connection()
        after = _last_id(session, events)
        insert_rows(connection, events, {"action": ["a", "b", "c"]}, at=utcnow())
        assert inserted_ids(connection, events, after, 3) == [after + 1, after + 2, after + 3]
        insert_rows(connection, events, {"action": ["d"]}, at=utcnow())  # "another writer"
        assert inserted_ids(connection, events, after, 3) is None
        session.rollback()


def test_insert_rows_binds_repeated_and_mixed_values_as_core_does(store: Any) -> None:
    """Dates repeat in an import and are bound once per distinct date; aware times equal at
    different offsets (equal values that bind differently) are each bound as Core binds them."""
    import datetime as dt

    from sqlalchemy import insert

    from worklist.db import insert_rows
    from worklist.models import AuditEvent, table

    events = table(AuditEvent)
    noon = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)
    times = [noon, noon.astimezone(dt.timezone(dt.timedelta(hours=5))), noon, noon.replace(tzinfo=None)]
    with store.session() as session:
        connection = session.connection()
        insert_rows(connection, events, {"action": ["d0", "d1", "d2", "d3"], "at": times})
        session.execute(insert(events), [{"action": f"c{k}", "at": at} for k, at in enumerate(times)])
        raw = dict(connection.exec_driver_sql("SELECT action, at FROM audit_events").tuples().all())
        session.rollback()
    assert [raw[f"d{k}"] for k in range(4)] == [raw[f"c{k}"] for k in range(4)]
