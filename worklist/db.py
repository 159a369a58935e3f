"""Opening the worklist store: the engine from ``CLAIMRISK_DATABASE_URL``, migrations, sessions.

Claims are PHI, so the embedded SQLite file is created by this process with mode 0600 before
SQLite touches it (SQLite gives its ``-wal`` and ``-shm`` files the database file's mode), inside a
folder created 0700. Every SQLite connection turns on WAL (readers never wait for the importer) and
foreign keys (off by default in SQLite), and waits for a busy writer instead of failing at once.
The Python driver opens a transaction only before the first write, so a service's reads are not a
stale snapshot and its conditional UPDATE (optimistic locking) waits for a concurrent writer and
then sees its commit. PostgreSQL runs the same code (``postgresql+psycopg``).

Migrations are Alembic's, shipped inside the package and run through its public API, so
``open_store`` brings any database, empty or at an earlier revision, to the current schema.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.engine.url import URL
from sqlalchemy.orm import Session, sessionmaker

DATABASE_URL_ENV = "CLAIMRISK_DATABASE_URL"
DEFAULT_DATABASE_URL = "sqlite:///data/worklist.db"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_SECONDS = 30.0
SQLITE_PAGE_BYTES = 16384


def database_url(url: str | None = None) -> URL:
    """The URL to use: ``url``, else ``$CLAIMRISK_DATABASE_URL``, else the embedded default.

    A plain ``postgresql://`` URL gets the psycopg 3 driver (the one this package depends on)."""
    text = url or os.environ.get(DATABASE_URL_ENV, "").strip() or DEFAULT_DATABASE_URL
    parsed = make_url(text)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _create_private_file(path: Path) -> None:
    """Create the SQLite file 0600 (and its folder 0700) unless it exists."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    os.close(fd)
    os.chmod(path, 0o600)  # whatever the umask said


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # A new file's page size (an existing file keeps its own): a claim's content (~1.2 KB of JSON)
    # overflows the local payload limit of a default 4 KiB page (~1 KB) onto an overflow page of
    # its own; with 16 KiB pages it stays on the table's page. Measured on a 100,000-claim import:
    # the store 319 -> 299 MB, the process 9.9 -> 8.9 s. Must come before WAL creates the file.
    cursor.execute(f"PRAGMA page_size={SQLITE_PAGE_BYTES}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL: a crash loses no committed page
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_SECONDS * 1000)}")
    cursor.close()


BULK_CACHE_KIB = 65536  # page cache during a bulk load: the queue's eleven indexes stay in memory


@contextmanager
def bulk_load(session: Session) -> Iterator[None]:
    """Settings for writing many rows through ``session`` (an import), put back afterwards.

    On SQLite the page cache is raised from the default 2 MiB to 64 MiB for that connection: each
    queue row updates eleven indexes at scattered places, and with the default cache those pages
    are evicted and read back over and over (measured: the queue insert alone 25 % faster, the
    import's writer 15 % less CPU). Durability is unchanged (``synchronous=NORMAL`` in WAL, set on
    every connection). The setting stays with the pooled connection if another one is checked out
    for the restore (a server); it bounds, not reserves, memory. Other back-ends: nothing."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    previous = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
    try:
        yield
    finally:
        session.connection().exec_driver_sql(f"PRAGMA cache_size={int(previous or -2000)}")


@contextmanager
def deferred_indexes(connection: Connection, table: Table) -> Iterator[None]:
    """Drop ``table``'s secondary indexes for the block and build them again at its end, all in the
    caller's open transaction: for a bulk load into an empty (or nearly empty) table.

    Each ``queue_claims`` row updates some thirty B-trees at scattered places; building an index
    once over the loaded rows is a sort and a sequential write. Measured on 100,000 claims in
    SQLite: the queue insert took 6.8 s of CPU with the indexes, 0.8 s without them plus 2.0 s to
    build all of them afterwards. The DDL is transactional on SQLite and PostgreSQL, so the caller
    must not commit inside the block: readers keep the previous snapshot (indexes included) until
    the one commit, and a failure rolls the drops back with the rows. On PostgreSQL the dropped
    indexes hold the table's exclusive lock until then, which is why callers defer only when the
    table is empty or nearly so (nobody is working those claims yet). The indexes are the models'
    (``Table.indexes``), which the migrations are tested to match; unique constraints and the
    primary key stay (imports look claims up by them)."""
    _begin_sqlite_transaction(connection)
    indexes = sorted(table.indexes, key=lambda index: str(index.name))
    for index in indexes:
        index.drop(connection)
    yield
    for index in indexes:
        index.create(connection)


def analyze(connection: Connection, tables: Sequence[Table]) -> None:
    """Fresh planner statistics for ``tables`` after a bulk load, on PostgreSQL: rows loaded in one
    transaction have none until autovacuum comes by, and meanwhile the planner guessed: a first
    queue page took 22-41 ms at 100,000 claims, 6-16 ms with statistics (measured, every sort and
    filter). SQLite plans these queries well without statistics: nothing."""
    if connection.dialect.name != "postgresql":
        return
    quote = connection.dialect.identifier_preparer.quote
    connection.exec_driver_sql(f"ANALYZE {', '.join(quote(t.name) for t in tables)}")


def _begin_sqlite_transaction(connection: Connection) -> None:
    """Open the transaction now on SQLite: Python's driver begins one only before INSERT, UPDATE
    or DELETE, so DDL issued first would commit on its own and survive a rollback (measured: a
    failed load left the queue without its indexes). IMMEDIATE takes the write lock at once, as
    the load's first insert would. PostgreSQL's driver always has a transaction open."""
    if connection.dialect.name != "sqlite":
        return
    dbapi_connection = connection.connection.dbapi_connection
    if not getattr(dbapi_connection, "in_transaction", True):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def insert_rows(connection: Connection, table: Table, columns: Mapping[str, Sequence[Any]], **constants: Any) -> int:
    """Insert equal-length ``columns`` (plus ``constants``, the same value on every row) into
    ``table`` as one driver-level ``executemany`` of tuples; returns the rows inserted.

    The bulk tables of an import only: Core's ``insert()`` with parameter dicts builds and
    processes a dict per row in Python (measured: about 4 s of the parent's 13 s CPU for 100,000
    claims), where the driver binds tuples in C. Values still go through each column type's bind
    processor for this dialect (SQLite stores dates and times as text in SQLAlchemy's own format),
    a column at a time, so the stored bytes are the ones the ORM would write. No RETURNING: callers
    read generated keys back by their natural keys."""
    if len({len(column) for column in columns.values()}) > 1:
        raise ValueError(f"columns of unequal length for {table.name}")
    dialect = connection.dialect
    names = [*columns, *constants]
    processors = {name: table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names}
    values: list[Any] = []
    for name, column in columns.items():
        process = processors[name]
        values.append(column if process is None else _bound(column, process))
    for name, constant in constants.items():
        process = processors[name]
        values.append(itertools.repeat(constant if process is None else process(constant)))
    rows = list(zip(*values, strict=False)) if columns else []
    if not rows:
        return 0
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    quote = dialect.identifier_preparer.quote
    statement = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) VALUES ({', '.join([mark] * len(names))})"
    )
    connection.exec_driver_sql(statement, rows)
    return len(rows)


def _bound(column: Sequence[Any], process: Callable[[Any], Any]) -> list[Any]:
    """``column`` through a bind processor. A column of dates (a few hundred distinct among
    100,000 claims) calls it once per distinct date and costs a dict look-up per row (measured:
    formatting dates one by one was 0.26 s of the writer's time in a 100,000-claim import). Only
    plain dates: equal values of other types can bind differently (``1`` and ``True``; aware
    times at different offsets), so anything else is processed value by value."""
    try:
        distinct = set(column)
    except TypeError:  # unhashable values
        return list(map(process, column))
    if not all(type(value) is dt.date or value is None for value in distinct):
        return list(map(process, column))
    bound = {value: process(value) for value in distinct}
    return list(map(bound.__getitem__, column))


def inserted_ids(connection: Connection, table: Table, after: int, count: int) -> list[int] | None:
    """The primary keys of the ``count`` rows just inserted into ``table`` in one statement, in
    insertion order, when they are exactly ``after + 1 .. after + count`` (``after``: the highest
    key before the insert); None when any other row lies above ``after`` (a concurrent writer, a
    gap in a sequence), and the caller then reads its keys back by natural key.

    Keys only grow (SQLite gives max + 1, PostgreSQL's sequence hands out increasing values in
    statement order), so ``count`` rows above ``after`` filling that range exactly are this
    insert's, in its order: one aggregate instead of reading 100,000 (key, natural key) pairs back
    into a dict (0.3 s of a 100,000-claim import)."""
    key = table.c.id
    query = select(func.count(), func.min(key), func.max(key)).where(key > after)
    found, low, high = connection.execute(query).one()
    if found == count and low == after + 1 and high == after + count:
        return list(range(after + 1, after + count + 1))
    return None


def make_engine(url: str | URL | None = None) -> Engine:
    """An engine for the store; the SQLite file is created private on first use."""
    parsed = url if isinstance(url, URL) else database_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            _create_private_file(Path(database))
        engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_SECONDS})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(parsed, pool_pre_ping=True)


def alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


# Alembic runs env.py through a module-global ``context``: two threads migrating at once (the
# first web request and the rescore job opening their stores together) break each other.
_MIGRATING = threading.Lock()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database to ``revision`` (the latest by default)."""
    from alembic import command

    with _MIGRATING:
        command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@dataclass(frozen=True)
class Store:
    """An open store: the engine and a session factory (sessions do not expire on commit, so a
    service can return the rows it just wrote)."""

    engine: Engine
    sessions: sessionmaker[Session]

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.sessions() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def open_store(url: str | URL | None = None, *, upgrade: bool = True) -> Store:
    """Open (and by default migrate) the store at ``url`` / ``$CLAIMRISK_DATABASE_URL``."""
    engine = make_engine(url)
    if upgrade:
        migrate(engine)
    return Store(engine, sessionmaker(engine, expire_on_commit=False))
