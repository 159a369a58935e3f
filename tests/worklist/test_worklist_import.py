"""Importing claims: scored with every version, revisions, unchanged re-imports, bad records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select

from inputs import load_claims
from worklist.importing import import_path
from worklist.models import AuditEvent, ClaimRevision, ClaimRule, ClaimScore, QueueClaim

TABLES = (QueueClaim, ClaimRevision, ClaimScore, ClaimRule)


def _counts(session: Any) -> dict[str, int]:
    return {t.__tablename__: session.scalar(select(func.count()).select_from(t)) for t in TABLES}


def test_each_claim_is_stored_with_the_scorer_answer(store: Any, admin: Any, imported: Any, scorer: Any,
                                                     claims_file: Path) -> None:
    assert imported.counts() == {"read": 200, "new": 200, "revised": 0, "unchanged": 0, "rejected": 0}
    answers = {a["claim_id"]: a for a in scorer.score(load_claims(claims_file).frame)}
    with store.session() as session:
        rows = session.scalars(select(QueueClaim)).all()
        assert len(rows) == 200
        for row in rows:
            answer = answers[row.claim_id]
            assert row.risk == pytest.approx(answer["risk"], abs=1e-12)
            assert row.expected_loss == pytest.approx(answer["expected_loss"], abs=1e-9)
            assert row.decision == answer["decision"]
            assert row.risk_if_all_fixed == pytest.approx(answer["risk_if_all_fixed"], abs=1e-12)
            charge = row.expected_loss / row.risk if row.risk else row.total_charge
            assert row.recoverable == pytest.approx((row.risk - row.risk_if_all_fixed) * row.total_charge, rel=1e-9)
            assert charge == pytest.approx(row.total_charge, rel=1e-6)
            fixes = [r for r in answer["rules"] if r["risk_if_fixed"] < answer["risk"]]
            if fixes:
                best = min(fixes, key=lambda r: r["risk_if_fixed"])
                assert (row.best_fix, row.risk_if_best_fixed) == (best["id"], best["risk_if_fixed"])
            else:
                assert row.best_fix is None
        score = session.scalars(select(ClaimScore)).first()
        assert score is not None and score.model_version == "pre-wave2"
        assert score.rules_version and score.reference_data_version
        assert all("risk_if_fixed" in r for r in orjson.loads(score.rules))
        flagged = session.scalar(select(func.count(func.distinct(ClaimRule.claim_pk))))
        assert flagged == sum(1 for a in answers.values() if a["rules"])


def test_an_identical_reimport_stores_nothing_new(store: Any, admin: Any, imported: Any, scorer: Any,
                                                  claims_file: Path) -> None:
    with store.session() as session:
        before = _counts(session)
        again = import_path(session, claims_file, scorer, admin)
        assert again.counts() == {"read": 200, "new": 0, "revised": 0, "unchanged": 200, "rejected": 0}
        assert _counts(session) == before


def test_changed_content_becomes_a_revision_and_the_original_stays(store: Any, admin: Any, imported: Any,
                                                                   scorer: Any, claims_file: Path,
                                                                   tmp_path: Path) -> None:
    records = [orjson.loads(line) for line in claims_file.read_bytes().splitlines()]
    records[0]["prior_authorization"] = "PA-NEW-1"
    records[1]["lines"][0]["units"] = records[1]["lines"][0].get("units", 1) + 1
    changed = tmp_path / "changed.jsonl"
    changed.write_bytes(b"\n".join(orjson.dumps(r) for r in records[:5]) + b"\n")
    with store.session() as session:
        report = import_path(session, changed, scorer, admin)
        assert (report.new, report.revised, report.unchanged) == (0, 2, 3)
        claim = session.scalar(select(QueueClaim).where(QueueClaim.claim_id == records[0]["claim_id"]))
        assert claim is not None and claim.revision == 2
        contents = session.scalars(select(ClaimRevision.content).where(ClaimRevision.claim_pk == claim.id)
                                   .order_by(ClaimRevision.revision)).all()
        assert [orjson.loads(c).get("prior_authorization") == "PA-NEW-1" for c in contents] == [False, True]
        # re-sending the original file does not undo the change: it matches revision 1
        assert import_path(session, claims_file, scorer, admin).unchanged == 200


def test_bad_records_are_reported_and_the_rest_imported(store: Any, admin: Any, scorer: Any, claims_file: Path,
                                                        tmp_path: Path) -> None:
    lines = claims_file.read_bytes().splitlines()[:4]
    bad = tmp_path / "mixed.jsonl"
    bad.write_bytes(b"\n".join([lines[0], b'{"claim_id": "X1", "secret": "PHI-VALUE"}', lines[1], b"{not json",
                                lines[0]]) + b"\n")
    with store.session() as session:
        report = import_path(session, bad, scorer, admin)
        assert (report.read, report.new, report.unchanged, report.rejected, report.exit_code) == (3, 2, 1, 2, 1)
        assert sorted(e.position for e in report.errors) == ["line 2", "line 4"]
        assert all(e.source == "mixed.jsonl" for e in report.errors)
        assert all("PHI-VALUE" not in str(e) for e in report.errors)
        details = session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "import")).all()
        assert orjson.loads(details[-1]) == report.counts()


def test_a_file_naming_a_claim_twice_stores_a_revision(store: Any, admin: Any, scorer: Any, claims_file: Path,
                                                       tmp_path: Path) -> None:
    record = orjson.loads(claims_file.read_bytes().splitlines()[0])
    edited = {**record, "note": "second send"}
    path = tmp_path / "twice.jsonl"
    path.write_bytes(orjson.dumps(record) + b"\n" + orjson.dumps(edited) + b"\n")
    with store.session() as session:
        report = import_path(session, path, scorer, admin)
        assert (report.new, report.revised) == (1, 1)
        assert session.scalar(select(QueueClaim.revision)) == 2


def test_x12_837_imports_like_jsonl(store: Any, admin: Any, scorer: Any, claims_file: Path, tmp_path: Path) -> None:
    from claims.model import Claim
    from edi.writer import write_837

    claims = [Claim.model_validate_json(line) for line in claims_file.read_bytes().splitlines()[:30]]
    claims = [c for c in claims if c.diagnosis_codes]
    write_837(sorted(claims, key=lambda c: (c.claim_type, c.submission_date)), tmp_path / "c.837")
    with store.session() as session:
        report = import_path(session, tmp_path / "c.837", scorer, admin)
        assert (report.read, report.new, report.rejected) == (len(claims), len(claims), 0)
        source = session.scalars(select(ClaimRevision.source)).all()
        assert set(source) == {"c.837"}
