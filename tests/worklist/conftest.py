"""Fixtures for the worklist tests: a store on SQLite *and* on a real PostgreSQL, a real scorer.

``store`` is parametrized over both back-ends, so every store test runs twice. The PostgreSQL
cluster is a throwaway one started once per session from Debian's binaries (``initdb`` refuses to
run as root, so as root it runs as the ``postgres`` user on a folder owned by it), on a free port,
listening on 127.0.0.1 only, and stopped at the end. Missing binaries FAIL the tests with the fix
named: CI installs them, and a skipped back-end would hide exactly the bugs it is there to catch.

The scorer is the real ``serving.scorer.Scorer`` around a real trained model: the model saved at
``tests/data/models/pre-wave2.joblib`` (a ``RiskModel`` trained by ``claimrisk train``).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "models"
_databases = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A PostgreSQL cluster for this test session; yields the server URL (without a database)."""
    from benchmarks.pg_cluster import PostgresMissing, pg_cluster

    try:
        cluster = pg_cluster()
        server = cluster.__enter__()
    except PostgresMissing as exc:
        pytest.fail(f"{exc}; the worklist store tests run on PostgreSQL too")
    try:
        yield server
    finally:
        cluster.__exit__(None, None, None)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each back-end (not migrated)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'worklist.db'}"
    from benchmarks.pg_cluster import create_database

    return create_database(request.getfixturevalue("pg_server"), f"worklist_{os.getpid()}_{next(_databases)}")


@pytest.fixture
def store(store_url: str) -> Iterator[Any]:
    """A migrated store on each back-end."""
    from worklist.db import open_store

    opened = open_store(store_url)
    yield opened
    opened.dispose()


@pytest.fixture(scope="session")
def saved_model() -> Any:
    import joblib

    return joblib.load(FIXTURES / "pre-wave2.joblib")


def insert_old_queue_row(engine: Any) -> None:
    """One queue row written in raw SQL (claim id ``OLD-1``), as a store at an earlier migration
    holds it: the migration tests check that an upgrade keeps it."""
    from sqlalchemy import text

    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO queue_claims (claim_id, revision, content_sha256, status, claim_type, payer_id, payer_type, "
            "submission_date, filing_deadline, total_charge, risk, decision, expected_loss, created_at, updated_at) "
            "VALUES ('OLD-1', 1, 'x', 'new', 'professional', 'P', 'medicare', '2026-01-02', '2027-01-02', 10.0, 0.5, "
            "'review', 5.0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        ))


def make_scorer(model: Any, version: str) -> Any:
    from serving.scorer import Scorer, load_rule_context

    return Scorer(model, metadata={"model_version": version}, context=load_rule_context())


@pytest.fixture(scope="session")
def scorer(saved_model: Any) -> Any:
    """The real scorer around a real trained model."""
    return make_scorer(saved_model, "pre-wave2")


@pytest.fixture(scope="session")
def claims_file() -> Path:
    """200 synthetic contract claims (JSONL)."""
    return FIXTURES / "pre-wave2-claims.jsonl"


@pytest.fixture
def admin(store: Any) -> Any:
    from worklist.users import add_user

    with store.session() as session:
        return add_user(session, None, "ada", "admin", "correct horse battery")


@pytest.fixture
def biller(store: Any) -> Any:
    from worklist.users import add_user

    with store.session() as session:
        return add_user(session, None, "bo", "biller", "staple battery horse")


@pytest.fixture
def imported(store: Any, admin: Any, scorer: Any, claims_file: Path) -> Any:
    """The 200 claims imported by the admin; returns the import report."""
    from worklist.importing import import_path

    with store.session() as session:
        return import_path(session, claims_file, scorer, admin)


@pytest.fixture(scope="session")
def second_scorer(saved_model: Any) -> Any:
    """The same trained model under another version: what a promotion looks like to the queue."""
    return make_scorer(saved_model, "pre-wave2-b")
