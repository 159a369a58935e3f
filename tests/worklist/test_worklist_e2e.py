"""End to end on both back-ends: import an 837, work claims as two users (one edit conflicts), export
the ready claims as an 837 that pyx12 accepts, import the 835 outcomes, read the results; and the
audit trail that all of it leaves (append-only, no claim content)."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from worklist.audit import list_events
from worklist.errors import Conflict, Forbidden
from worklist.export import export_claims, export_queue
from worklist.importing import import_path
from worklist.models import AuditEvent, Outcome
from worklist.outcomes import attach_outcomes_path, results
from worklist.queue import QueueFilter, list_queue
from worklist.users import add_user
from worklist.workflow import edit_claim, get_claim, set_status


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from synthetic.commands import synth

    out = tmp_path_factory.mktemp("history")
    assert synth(n_claims=300, seed=21, out=out, x12=True) == 0
    return out


def _pyx12_errors(path: Path) -> list[str]:
    import pyx12.params
    import pyx12.x12n_document

    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    html = io.StringIO()
    ok = pyx12.x12n_document.x12n_document(pyx12.params.params(), str(path), None, html)
    return [] if ok else (re.findall(r'class="error">(?:&nbsp;)*(.*?)</span>', html.getvalue()) or ["not valid"])


def _work(session: Any, ada: Any, bo: Any, scorer: Any) -> list[str]:
    """Both users open the same claims; bo's stale edit conflicts; ada moves five to ready."""
    rows = [r for r in list_queue(session, ada, limit=100).rows if r.claim_type == "professional"][:5]
    ready = []
    for row in rows:
        view = get_claim(session, ada, row.claim_id)
        if not view.content.get("diagnosis_codes"):
            continue
        stale = get_claim(session, bo, row.claim_id)
        edit_claim(session, ada, row.claim_id, {"note": "invoice attached"}, view.revision, scorer)
        with pytest.raises(Conflict):
            edit_claim(session, bo, row.claim_id, {"note": "other text"}, stale.revision, scorer)
        for status in ("in_review", "ready"):
            set_status(session, ada, row.claim_id, status, view.revision + 1)
        ready.append(row.claim_id)
    return ready


def test_import_work_export_outcomes_results(store: Any, admin: Any, scorer: Any, history: Path,
                                             tmp_path: Path) -> None:
    with store.session() as session:
        bo = add_user(session, admin, "bo", "biller", "staple battery horse")
        report = import_path(session, history / "claims.837", scorer, admin)
        assert report.new == 300 and report.exit_code == 0
        ready = _work(session, admin, bo, scorer)
        assert ready
        assert export_claims(session, bo, tmp_path / "ready.837") == len(ready)
        assert _pyx12_errors(tmp_path / "ready.837") == []
        assert export_claims(session, bo, tmp_path / "ready.jsonl") == len(ready)
        exported = [orjson.loads(line) for line in (tmp_path / "ready.jsonl").read_bytes().splitlines()]
        assert {c["claim_id"] for c in exported} == set(ready)
        assert all(c["note"] == "invoice attached" for c in exported)
        assert export_queue(session, bo, tmp_path / "queue.parquet") == 300
        assert len(pd.read_parquet(tmp_path / "queue.parquet")) == 300
        assert export_queue(session, bo, tmp_path / "q.csv", QueueFilter(status="ready")) == len(ready)
        with pytest.raises(Forbidden):
            attach_outcomes_path(session, bo, history / "remits.835")
        outcome, errors = attach_outcomes_path(session, admin, history / "remits.835")
        assert errors == [] and outcome.matched == outcome.answered_claims > 250
        assert session.scalar(select(Outcome.status).limit(1)) in {"denied", "paid", "excluded"}
        found = results(session, admin)
        assert found.worked.claims + found.not_worked.claims > 250
        assert found.worked.claims <= len(ready)
        assert 0 < found.not_worked.observed_denial_rate < 1  # type: ignore[operator]
        assert found.not_worked.denied_dollars > 0
        assert sum(b.claims for b in found.calibration) == found.worked.claims + found.not_worked.claims
        _check_audit(session, admin, ready)


def _check_audit(session: Any, admin: Any, ready: list[str]) -> None:
    events = list_events(session, admin, limit=10_000)
    actions = {e.action for e in events}
    assert {"import", "view", "edit", "status", "export", "outcome_import", "user_added"} <= actions
    per_claim = [e for e in events if e.action == "export" and e.claim_id is not None]
    assert {e.claim_id for e in per_claim} == set(ready)
    details = session.scalars(select(AuditEvent.detail)).all()
    assert not any(d and "invoice attached" in d for d in details)  # no claim content


def test_the_audit_trail_is_append_only(store: Any, admin: Any) -> None:
    with store.engine.connect() as connection:
        with pytest.raises(DBAPIError):
            connection.execute(text("UPDATE audit_events SET action = 'x'"))
        connection.rollback()
        with pytest.raises(DBAPIError):
            connection.execute(text("DELETE FROM audit_events"))
        connection.rollback()
    import worklist.audit as audit

    assert not [name for name in dir(audit) if name.startswith(("update", "delete", "remove"))]
