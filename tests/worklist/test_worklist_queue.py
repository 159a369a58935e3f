"""Queue pages: every sort walked by keyset cursor, filters, search, totals."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from worklist.errors import Forbidden, InvalidInput
from worklist.models import QueueClaim
from worklist.queue import QueueFilter, SortKey, list_queue, queue_totals
from worklist.workflow import assign, set_status


def _walk(session: Any, actor: Any, where: QueueFilter, sort: SortKey, size: int = 17) -> list[Any]:
    rows, cursor = [], None
    while True:
        page = list_queue(session, actor, where, sort=sort, cursor=cursor, limit=size)
        rows += page.rows
        cursor = page.next_cursor
        if cursor is None:
            return rows


@pytest.mark.parametrize("sort", list(SortKey))
def test_keyset_pages_cover_every_claim_once_in_order(store: Any, admin: Any, imported: Any, sort: SortKey) -> None:
    with store.session() as session:
        rows = _walk(session, admin, QueueFilter(), sort)
        assert len({r.claim_id for r in rows}) == len(rows) == 200
        key = {"expected_loss": lambda r: -r.expected_loss, "risk": lambda r: -r.risk,
               "recoverable": lambda r: -r.recoverable, "age": lambda r: 0,
               "days_left": lambda r: r.filing_deadline}[sort.value]
        values = [key(r) for r in rows]
        assert values == sorted(values)


def test_filters_search_and_totals(store: Any, admin: Any, biller: Any, imported: Any) -> None:
    with store.session() as session:
        everything = _walk(session, admin, QueueFilter(), SortKey.EXPECTED_LOSS, size=500)
        payer = everything[0].payer_id
        by_payer = _walk(session, admin, QueueFilter(payer_id=payer), SortKey.EXPECTED_LOSS)
        assert by_payer and {r.payer_id for r in by_payer} == {payer}
        assert len(by_payer) == sum(r.payer_id == payer for r in everything)
        review = _walk(session, admin, QueueFilter(decision="review"), SortKey.RISK)
        assert len(review) == sum(r.decision == "review" for r in everything)
        rule = _walk(session, admin, QueueFilter(rule_id="NDC_MISSING"), SortKey.EXPECTED_LOSS)
        assert rule and len(rule) < 200
        first = everything[0]
        assign(session, admin, first.claim_id, "bo", first.revision)
        set_status(session, biller, first.claim_id, "in_review", first.revision)
        mine = list_queue(session, biller, QueueFilter(assignee="bo", status="in_review")).rows
        assert [r.claim_id for r in mine] == [first.claim_id]
        assert list_queue(session, biller, QueueFilter(assignee="nobody")).rows == []
        found = list_queue(session, biller, QueueFilter(claim_id=first.claim_id[:-1])).rows
        assert first.claim_id in {r.claim_id for r in found}
        day = first.submission_date
        dated = _walk(session, admin, QueueFilter(submitted_from=day, submitted_to=day), SortKey.AGE)
        assert len(dated) == sum(r.submission_date == day for r in everything)
        totals = queue_totals(session, admin, QueueFilter(payer_id=payer))
        assert totals.claims == len(by_payer)
        assert totals.dollars_at_risk == pytest.approx(sum(r.expected_loss for r in by_payer))
        assert totals.recoverable == pytest.approx(sum(r.recoverable or 0 for r in by_payer))
        page = list_queue(session, admin, with_totals=True, today=dt.date(2026, 1, 1))
        assert page.totals is not None and page.totals.claims == 200
        assert page.rows[0].days_left == (page.rows[0].filing_deadline - dt.date(2026, 1, 1)).days


def test_the_filing_deadline_follows_the_payer_policy(store: Any, admin: Any, imported: Any) -> None:
    from features.payer_policy import PolicySet

    policies = PolicySet.load()
    with store.session() as session:
        claim = session.scalars(select(QueueClaim).where(QueueClaim.payer_type == "commercial")).first()
        assert claim is not None
        limit = policies.policy_for(claim.payer_id, claim.payer_type).filing_limit_days
        assert claim.filing_deadline - dt.timedelta(days=limit) <= claim.submission_date


def test_bad_requests_and_permissions(store: Any, admin: Any, imported: Any) -> None:
    from types import SimpleNamespace

    with store.session() as session:
        with pytest.raises(InvalidInput):
            list_queue(session, admin, cursor="not-a-cursor")
        with pytest.raises(InvalidInput):
            list_queue(session, admin, sort="cheapest")
        with pytest.raises(InvalidInput):
            list_queue(session, admin, limit=0)
        stranger = SimpleNamespace(name="x", role="nobody", disabled=False)
        with pytest.raises(Forbidden):
            list_queue(session, stranger)
