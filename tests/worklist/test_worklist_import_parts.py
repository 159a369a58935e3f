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
