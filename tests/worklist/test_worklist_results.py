"""The analyst's results services (per payer, rule lift, dollars caught) and the queue rows'
problem counts, each checked against the stored rows computed another way (pandas over plain
selects), on both back-ends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select

from worklist.errors import Forbidden
from worklist.importing import QUEUE, RULES, import_path
from worklist.outcomes import OUTCOMES, attach_outcomes_path, dollars_caught, payer_outcomes, rule_lift
from worklist.queue import list_queue
from worklist.workflow import current_content, get_claim


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from synthetic.commands import synth

    out = tmp_path_factory.mktemp("history")
    assert synth(n_claims=400, seed=33, out=out, x12=False) == 0
    return out


@pytest.fixture
def answered(store: Any, admin: Any, scorer: Any, history: Path) -> pd.DataFrame:
    """The history imported and its remittances attached; the answered claims as plain rows."""
    with store.session() as session:
        import_path(session, history / "claims.jsonl", scorer, admin)
        attach_outcomes_path(session, admin, history / "remits.jsonl")
        rows = session.execute(
            select(QUEUE.c.id, QUEUE.c.payer_id, QUEUE.c.risk, QUEUE.c.expected_loss, OUTCOMES.c.status,
                   OUTCOMES.c.denied_amount)
            .join(OUTCOMES, OUTCOMES.c.claim_pk == QUEUE.c.id)
            .where(OUTCOMES.c.status != "excluded")
        ).all()
        rules = pd.DataFrame(session.execute(select(RULES.c.claim_pk, RULES.c.rule_id)).all(), columns=["id", "rule_id"])
    frame = pd.DataFrame(rows, columns=["id", "payer_id", "risk", "expected_loss", "status", "denied_amount"])
    frame["denied"] = frame["status"] == "denied"
    frame.attrs["rules"] = rules
    assert len(frame) > 200 and 0 < frame["denied"].sum() < len(frame)
    return frame


def test_payer_outcomes_match_the_stored_outcomes(store: Any, admin: Any, biller: Any, answered: pd.DataFrame) -> None:
    expected = answered.groupby("payer_id").agg(
        claims=("id", "size"), risk=("risk", "mean"), denied=("denied", "mean"), dollars=("denied_amount", "sum")
    )
    with store.session() as session:
        found = payer_outcomes(session, admin)
        with pytest.raises(Forbidden):
            payer_outcomes(session, biller)
    assert [p.payer_id for p in found] == sorted(expected.index, key=lambda p: (-expected.loc[p, "claims"], p))
    for p in found:
        row = expected.loc[p.payer_id]
        assert p.claims == row["claims"]
        assert p.predicted_denial_rate == pytest.approx(row["risk"])
        assert p.observed_denial_rate == pytest.approx(row["denied"])
        assert p.denied_dollars == pytest.approx(row["dollars"])


def test_rule_lift_compares_flagged_with_the_payers_other_claims(store: Any, admin: Any, answered: pd.DataFrame) -> None:
    with store.session() as session:
        found = rule_lift(session, admin)
    flagged = answered.merge(answered.attrs["rules"], on="id")
    assert len(found) == flagged.groupby(["payer_id", "rule_id"]).ngroups > 0
    for lift in found:
        payer = answered[answered["payer_id"] == lift.payer_id]
        on = payer["id"].isin(flagged.loc[(flagged["payer_id"] == lift.payer_id) & (flagged["rule_id"] == lift.rule_id), "id"])
        assert lift.flagged_claims == on.sum() and lift.unflagged_claims == (~on).sum()
        assert lift.flagged_denial_rate == pytest.approx(payer.loc[on, "denied"].mean())
        if (~on).any():
            rest = payer.loc[~on, "denied"].mean()
            assert lift.unflagged_denial_rate == pytest.approx(rest)
            assert lift.lift == (None if rest == 0 else pytest.approx(payer.loc[on, "denied"].mean() / rest))
        else:
            assert lift.unflagged_denial_rate is None and lift.lift is None


def test_dollars_caught_runs_from_nothing_to_everything_in_expected_loss_order(
    store: Any, admin: Any, answered: pd.DataFrame
) -> None:
    with store.session() as session:
        curve = dollars_caught(session, admin)
    assert curve[0].reviewed_share == 0.0 and curve[0].caught_share == 0.0
    assert curve[-1].reviewed_share == 1.0 and curve[-1].caught_share == pytest.approx(1.0)
    caught = [p.caught_share for p in curve]
    assert caught == sorted(caught)
    ranked = answered.sort_values("expected_loss", ascending=False, kind="stable")
    tenth = int(len(ranked) * 0.5)  # the point at 50% is interpolated between neighbouring depths
    share = ranked["denied_amount"].iloc[:tenth].sum() / ranked["denied_amount"].sum()
    after = ranked["denied_amount"].iloc[: tenth + 1].sum() / ranked["denied_amount"].sum()
    assert share - 1e-9 <= curve[10].caught_share <= after + 1e-9


def test_queue_rows_carry_the_claim_pages_problem_count(store: Any, admin: Any, imported: Any) -> None:
    with store.session() as session:
        rows = list_queue(session, admin, limit=100).rows
        assert any(r.problem_count > 1 for r in rows)
        for row in rows:
            view = get_claim(session, admin, row.claim_id)
            assert row.problem_count == len(view.score["rules"]), row.claim_id
            assert current_content(session, admin, row.claim_id) == view.content
