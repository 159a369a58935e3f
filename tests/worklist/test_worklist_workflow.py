"""Working claims: revisions on edit, what-if, optimistic locking (409), statuses, notes, rescore."""

from __future__ import annotations

import threading
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select

from worklist.errors import Conflict, Forbidden, InvalidInput
from worklist.models import AuditEvent, ClaimRevision, ClaimScore, QueueClaim
from worklist.queue import list_queue
from worklist.rescoring import rescore_open
from worklist.workflow import add_note, assign, edit_claim, get_claim, set_status, what_if


def _flagged_claim(store: Any, admin: Any, rule: str) -> Any:
    """A queued claim on which ``rule`` fired, with its current view."""
    with store.session() as session:
        from worklist.queue import QueueFilter

        row = list_queue(session, admin, QueueFilter(rule_id=rule), limit=1).rows[0]
        return get_claim(session, admin, row.claim_id)


def test_an_edit_is_a_new_rescored_revision_and_the_original_stays(store: Any, admin: Any, imported: Any,
                                                                   scorer: Any) -> None:
    view = _flagged_claim(store, admin, "NDC_MISSING")
    line = next(r["line_number"] for r in view.score["rules"] if r["id"] == "NDC_MISSING") - 1
    edits = {f"lines.{line}.drug.ndc": "99999-0123-01", f"lines.{line}.drug.quantity": 1,
             f"lines.{line}.drug.unit": "UN"}
    with store.session() as session:
        preview = what_if(session, admin, view.claim_id, edits, scorer)
        assert session.scalar(select(QueueClaim.revision).where(QueueClaim.claim_id == view.claim_id)) == 1
        number = edit_claim(session, admin, view.claim_id, edits, view.revision, scorer)
        assert number == 2
        after = get_claim(session, admin, view.claim_id)
        assert after.revision == 2 and after.score["risk"] == pytest.approx(preview["risk"], abs=1e-12)
        assert ("NDC_MISSING", line + 1) not in {(r["id"], r["line_number"]) for r in after.score["rules"]}
        assert after.revisions[1]["by"] == "ada"
        changed = after.revisions[1]["changed"]
        assert changed and all(path.startswith(f"lines.{line}.drug") for path in changed)
        pk = session.scalar(select(QueueClaim.id).where(QueueClaim.claim_id == view.claim_id))
        contents = session.scalars(select(ClaimRevision.content).where(ClaimRevision.claim_pk == pk)
                                   .order_by(ClaimRevision.revision)).all()
        assert orjson.loads(contents[0]) == view.content
        scores = session.scalar(select(func.count()).select_from(ClaimScore).join(ClaimRevision)
                                .where(ClaimRevision.claim_pk == pk))
        assert scores == 2
        audit = session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "edit")).all()
        assert "99999" not in audit[-1]  # field paths, never values


def test_an_edit_that_breaks_the_claim_is_refused(store: Any, admin: Any, imported: Any, scorer: Any) -> None:
    with store.session() as session:
        row = list_queue(session, admin, limit=1).rows[0]
        with pytest.raises(InvalidInput):
            edit_claim(session, admin, row.claim_id, {"lines": []}, row.revision, scorer)
        with pytest.raises(InvalidInput):
            edit_claim(session, admin, row.claim_id, {"no_such_field": 1}, row.revision, scorer)


def test_a_stale_revision_is_a_conflict_never_a_lost_update(store: Any, admin: Any, biller: Any, imported: Any,
                                                           scorer: Any) -> None:
    with store.session() as first, store.session() as second:
        row = list_queue(first, admin, limit=1).rows[0]
        seen_a = get_claim(first, admin, row.claim_id)
        seen_b = get_claim(second, biller, row.claim_id)
        edit_claim(first, admin, row.claim_id, {"note": "from ada"}, seen_a.revision, scorer)
        with pytest.raises(Conflict):
            edit_claim(second, biller, row.claim_id, {"note": "from bo"}, seen_b.revision, scorer)
        with pytest.raises(Conflict):
            set_status(second, biller, row.claim_id, "in_review", seen_b.revision)
        assert get_claim(second, biller, row.claim_id).content["note"] == "from ada"


def test_racing_threads_one_edit_wins(store: Any, admin: Any, imported: Any, scorer: Any) -> None:
    with store.session() as session:
        row = list_queue(session, admin, limit=1).rows[0]
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def worker(k: int) -> None:
        with store.session() as session:
            barrier.wait()
            try:
                edit_claim(session, admin, row.claim_id, {"note": f"writer {k}"}, row.revision, scorer)
                outcomes.append("ok")
            except Conflict:
                outcomes.append("conflict")

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict"] * 3 + ["ok"]
    with store.session() as session:
        pk = session.scalar(select(QueueClaim.id).where(QueueClaim.claim_id == row.claim_id))
        assert session.scalar(select(func.count()).select_from(ClaimRevision).where(ClaimRevision.claim_pk == pk)) == 2


def test_status_workflow_assignee_and_notes(store: Any, admin: Any, biller: Any, imported: Any) -> None:
    with store.session() as session:
        row = list_queue(session, admin, limit=1).rows[0]
        with pytest.raises(InvalidInput):
            set_status(session, biller, row.claim_id, "sent", row.revision)
        with pytest.raises(InvalidInput):
            set_status(session, biller, row.claim_id, "dismissed", row.revision)
        for status in ("in_review", "fixed", "ready", "sent"):
            set_status(session, biller, row.claim_id, status, row.revision)
        with pytest.raises(InvalidInput):
            set_status(session, biller, row.claim_id, "new", row.revision)
        other = list_queue(session, admin, limit=2).rows[1]
        set_status(session, biller, other.claim_id, "dismissed", other.revision, reason="duplicate of a paid claim")
        assign(session, admin, other.claim_id, "bo", other.revision)
        add_note(session, biller, other.claim_id, "called the payer")
        view = get_claim(session, biller, other.claim_id)
        assert (view.status, view.dismiss_reason, view.assignee) == ("dismissed", "duplicate of a paid claim", "bo")
        assert [n["text"] for n in view.notes] == ["called the payer"]
        statuses = session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "status")).all()
        assert len(statuses) == 5
        views = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "view"))
        assert views == 1


def test_rescore_keeps_earlier_scores_and_skips_done_work(store: Any, admin: Any, biller: Any, imported: Any,
                                                         second_scorer: Any) -> None:
    new_model = second_scorer
    with store.session() as session:
        with pytest.raises(Forbidden):
            rescore_open(session, biller, new_model)
        row = list_queue(session, admin, limit=1).rows[0]
        set_status(session, admin, row.claim_id, "dismissed", row.revision, reason="not ours")
        report = rescore_open(session, admin, new_model)
        assert (report.open_claims, report.rescored) == (199, 199)
        assert session.scalar(select(func.count()).select_from(ClaimScore)) == 399
        versions = set(session.scalars(select(QueueClaim.model_version).where(QueueClaim.status != "dismissed")))
        assert versions == {"pre-wave2-b"}
        again = rescore_open(session, admin, new_model)
        assert (again.rescored, again.already_scored) == (0, 199)
