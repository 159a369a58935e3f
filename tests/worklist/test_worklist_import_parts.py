"""The bulk import path: stored scores equal the API's answers to the bit, and reading and scoring a
file in parts in forked workers stores exactly the rows one process stores."""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select

import worklist.incoming as incoming_module
from claims import parallel
from inputs import load_claims
from worklist.importing import import_path
from worklist.models import ClaimRevision, ClaimRule, ClaimScore, QueueClaim
from worklist.scoring import ScoreBatch, score_batch, score_frame

_databases = itertools.count(1)
VOLATILE = {"id", "claim_pk", "revision_id", "created_at", "updated_at", "scored_at", "created_by"}


def _answer_values(answer: dict[str, Any], charge: float) -> dict[str, Any]:
    """What a stored score must hold for one API answer (the derivation spelled out per claim)."""
    risk, all_fixed = answer["risk"], answer["risk_if_all_fixed"]
    lower = [r for r in answer["rules"] if r["risk_if_fixed"] < risk]
    best = min(lower, key=lambda r: r["risk_if_fixed"]) if lower else None  # min keeps the first of ties
    return {
        "risk": risk,
        "decision": answer["decision"],
        "threshold": answer["threshold"],
        "expected_loss": answer["expected_loss"],
        "risk_if_all_fixed": all_fixed,
        "recoverable": (risk - all_fixed) * charge,
        "best_fix": best["id"] if best else None,
        "best_fix_line": best["line_number"] if best else None,
        "risk_if_best_fixed": best["risk_if_fixed"] if best else None,
        "rules": orjson.dumps(answer["rules"]).decode(),
        "model_version": answer["model_version"],
        "rules_version": answer["rules_version"],
        "reference_data_version": answer["reference_data_version"],
    }


def test_score_columns_are_the_answers_to_the_bit(scorer: Any, claims_file: Path) -> None:
    from claims.charges import total_charges

    frame = load_claims(claims_file).frame
    answers = scorer.score(frame)
    batch = score_batch(scorer, frame)
    charges = total_charges(frame).tolist()
    assert sum(1 for a in answers if a["rules"]) > 50  # the file exercises the problems JSON
    for k, answer in enumerate(answers):
        expected = _answer_values(answer, charges[k])
        assert {name: batch.columns[name][k] for name in expected} == expected, answer["claim_id"]
    rows = score_frame(scorer, frame)
    assert [r.rule_ids for r in rows] == [list(dict.fromkeys(r["id"] for r in a["rules"])) for a in answers]
    again = ScoreBatch.of_rows(rows)
    assert again.columns == batch.columns
    assert again.rule_id.tolist() == batch.rule_id.tolist()
    picked = batch.take([5, 0, 7])
    assert [r.rules_json for r in picked.rows()] == [batch.columns["rules"][k] for k in (5, 0, 7)]
    assert [r.rule_ids for r in picked.rows()] == [rows[k].rule_ids for k in (5, 0, 7)]


def _stored(session: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every stored row without keys and times, keyed by claim id and revision, sorted."""
    claim_of = dict(session.execute(select(QueueClaim.id, QueueClaim.claim_id)).all())
    revision_of = {
        rid: (claim_of[pk], number)
        for rid, pk, number in session.execute(select(ClaimRevision.id, ClaimRevision.claim_pk, ClaimRevision.revision))
    }

    def rows(model: Any, key: Any) -> list[tuple[Any, ...]]:
        columns = [c for c in model.__table__.columns if c.name not in VOLATILE]
        found = session.execute(select(model.__table__)).mappings().all()
        return sorted((key(row), *(row[c.name] for c in columns)) for row in found)

    return {
        "queue": rows(QueueClaim, lambda r: r["claim_id"]),
        "revisions": rows(ClaimRevision, lambda r: (claim_of[r["claim_pk"]], r["revision"])),
        "scores": rows(ClaimScore, lambda r: revision_of[r["revision_id"]]),
        "rules": rows(ClaimRule, lambda r: claim_of[r["claim_pk"]]),
    }


def _file_with_a_repeat(claims_file: Path, path: Path) -> Path:
    """The 200 claims, then claim 3 again with other content and claim 9 again unchanged: the
    repeats land in a later part than the originals."""
    lines = claims_file.read_bytes().splitlines()
    changed = {**orjson.loads(lines[3]), "prior_authorization": "PA-AGAIN"}
    path.write_bytes(b"\n".join([*lines, orjson.dumps(changed), lines[9], b"{not json"]) + b"\n")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def two_urls(request: pytest.FixtureRequest, tmp_path: Path) -> list[str]:
    """Two empty databases of one back-end: the one-process import and the parallel one."""
    if request.param == "sqlite":
        return [f"sqlite:///{tmp_path / f'worklist{k}.db'}" for k in (1, 2)]
    from benchmarks.pg_cluster import create_database

    server = request.getfixturevalue("pg_server")
    return [create_database(server, f"parts_{os.getpid()}_{next(_databases)}") for _ in (1, 2)]


def test_parts_in_workers_store_what_one_process_stores(
    two_urls: list[str], scorer: Any, claims_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from worklist.db import open_store
    from worklist.users import add_user

    source = _file_with_a_repeat(claims_file, tmp_path / "claims.jsonl")
    monkeypatch.setattr(parallel, "MIN_FILE_BYTES", 0)
    monkeypatch.setattr(incoming_module, "PART_BYTES", 40_000)  # parts of about thirty claims
    parts: list[int] = []
    scored_parts = incoming_module.scored_parts

    def counted(*args: Any) -> Any:
        for part in scored_parts(*args):
            parts.append(part.n_claims)
            yield part

    monkeypatch.setattr("worklist.importing.scored_parts", counted)
    results = []
    for url, workers in zip(two_urls, (1, 2), strict=True):
        store = open_store(url)
        try:
            with store.session() as session:
                admin = add_user(session, None, "ada", "admin", None)
                report = import_path(session, source, scorer, admin, workers=workers)
                assert report.counts() == {"read": 202, "new": 200, "revised": 1, "unchanged": 1, "rejected": 1}
                assert [e.position for e in report.errors] == ["line 203"]
                results.append(_stored(session))
        finally:
            store.dispose()
    assert len(parts) > 5 and sum(parts) == 202  # the second import really went through the workers
    assert results[1] == results[0]
    assert len(results[0]["scores"]) == 201 and results[0]["rules"]


def _index_names(connection: Any) -> set[str]:
    """The queue's index names as the database lists them (SQLAlchemy cannot reflect SQLite's
    expression indexes, so the catalogs are asked directly)."""
    if connection.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'queue_claims'"
    else:
        query = "SELECT indexname FROM pg_indexes WHERE tablename = 'queue_claims'"
    return {str(name) for (name,) in connection.exec_driver_sql(query)}


def test_deferred_indexes_store_what_batches_store_and_rebuild_every_index(
    two_urls: list[str], scorer: Any, claims_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A load with the queue's indexes dropped and rebuilt (one transaction) stores the very rows
    the batch-by-batch load stores, repeats across parts included, and ends with every index."""
    from sqlalchemy import event

    import worklist.importing as importing
    from worklist.db import open_store
    from worklist.users import add_user

    source = _file_with_a_repeat(claims_file, tmp_path / "claims.jsonl")
    monkeypatch.setattr(parallel, "MIN_FILE_BYTES", 0)
    monkeypatch.setattr(incoming_module, "PART_BYTES", 40_000)
    results, dropped = [], []
    for url, least in zip(two_urls, (10**9, 1), strict=True):  # never defer; defer from one claim
        monkeypatch.setattr(importing, "DEFER_INDEXES_MIN_CLAIMS", least)
        store = open_store(url)
        statements: list[str] = []

        def seen(*args: Any, statements: list[str] = statements) -> None:
            statements.append(str(args[2]).strip())

        event.listen(store.engine, "before_cursor_execute", seen)
        try:
            with store.session() as session:
                admin = add_user(session, None, "ada", "admin", None)
                report = import_path(session, source, scorer, admin, workers=2)
                assert report.counts() == {"read": 202, "new": 200, "revised": 1, "unchanged": 1, "rejected": 1}
                results.append(_stored(session))
                assert _index_names(session.connection()) >= {str(i.name) for i in QueueClaim.__table__.indexes}
        finally:
            store.dispose()
        dropped.append(sum(s.startswith("DROP INDEX") for s in statements))
    assert dropped == [0, len(QueueClaim.__table__.indexes)]
    assert results[1] == results[0]


def test_a_failed_deferred_load_leaves_the_store_as_it_was(
    store: Any, admin: Any, scorer: Any, claims_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second part fails (a worker died, the disk filled): nothing of the first part stays and
    the dropped indexes are back, because drops, rows and rebuild are one transaction."""
    import worklist.importing as importing

    monkeypatch.setattr(importing, "DEFER_INDEXES_MIN_CLAIMS", 1)
    monkeypatch.setattr(parallel, "MIN_FILE_BYTES", 0)
    monkeypatch.setattr(incoming_module, "PART_BYTES", 40_000)
    real_parts = incoming_module.scored_parts

    def failing(*args: Any) -> Any:
        parts = real_parts(*args)
        yield next(parts)
        parts.close()
        raise OSError("the disk is full")

    monkeypatch.setattr("worklist.importing.scored_parts", failing)
    with store.session() as session, pytest.raises(OSError, match="disk is full"):
        import_path(session, claims_file, scorer, admin, workers=2)
    with store.session() as session:
        assert session.execute(select(QueueClaim.id)).first() is None
        assert _index_names(session.connection()) >= {str(i.name) for i in QueueClaim.__table__.indexes}


def test_driver_level_rows_are_stored_as_core_stores_them(store: Any) -> None:
    """``insert_rows`` binds through each column type's processor: a row written by it reads back,
    raw and typed, exactly as the same row written by Core's ``insert()``."""
    import datetime as dt

    from sqlalchemy import insert

    from worklist.db import insert_rows

    now = dt.datetime(2026, 12, 6, 1, 2, 3, 456789, tzinfo=dt.UTC)
    values: dict[str, Any] = {
        "revision": 1, "content_sha256": "ab" * 32, "status": "new", "claim_type": "professional",
        "payer_id": "P1", "payer_type": "commercial", "submission_date": dt.date(2026, 1, 2),
        "filing_deadline": dt.date(2026, 12, 31), "total_charge": 12.5, "risk": 0.25, "decision": "pass",
        "expected_loss": 3.125, "risk_if_all_fixed": None, "recoverable": None, "best_fix": None,
        "best_fix_line": None, "risk_if_best_fixed": None, "model_version": "m", "created_at": now, "updated_at": now,
    }
    table = QueueClaim.__table__
    with store.session() as session:
        session.execute(insert(table), [{**values, "claim_id": "CORE"}])
        constants = {k: values[k] for k in ("created_at", "updated_at", "status")}
        columns = {k: [v] for k, v in values.items() if k not in constants}
        assert insert_rows(session.connection(), table, {**columns, "claim_id": ["DRIVER"]}, **constants) == 1
        session.commit()
        names = ", ".join(values)
        raw = {
            row[0]: tuple(row[1:])
            for row in session.connection().exec_driver_sql(f"SELECT claim_id, {names} FROM queue_claims")
        }
        typed = {row.claim_id: tuple(getattr(row, k) for k in values) for row in session.execute(select(table))}
    assert raw["DRIVER"] == raw["CORE"]
    assert typed["DRIVER"] == typed["CORE"]


def test_what_if_answers_as_scoring_the_edited_content(store: Any, imported: Any, scorer: Any, claims_file: Path) -> None:
    """The what-if frames the edited claim as ``/v1/score`` does (no JSON reader per call); its
    answer is the very answer the stored-content reader would give for the edited content."""
    from worklist.content import apply_edits, canonical, frame_of
    from worklist.users import get_user
    from worklist.workflow import what_if

    edits = {"lines.0.units": 2, "prior_authorization": None}
    with store.session() as session:
        actor = get_user(session, "ada")
        for line in claims_file.read_bytes().splitlines()[:40]:
            record = orjson.loads(line)
            expected = scorer.score(frame_of([canonical(apply_edits(record, edits))]))[0]
            assert what_if(session, actor, record["claim_id"], edits, scorer) == expected
