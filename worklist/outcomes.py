"""Closing the loop: the payer's answers onto queue claims, and what working the queue achieved.

Remittance rows (CONTRACT §6, JSONL or 835) are netted and labelled exactly as training labels
them (``training.labels.label_claims``: reversals cancelled, corrections kept, split claims one
claim, denied when any line is denied), so "observed denial rate" here means what the model was
trained to predict. Each answered queue claim keeps one outcome (a later import replaces it).

The results compare claims a biller *worked* (its content was edited: a fix was made) with claims
sent as imported: predicted denial rate (mean risk of the current score), observed rate, denied
dollars, and the expected loss avoided by fixes (first score's expected loss minus the current
one's, on worked claims). The calibration table bins the current risk of answered claims: a
well-calibrated model's mean risk matches the observed rate in every bin.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import and_, case, delete, func, insert, select
from sqlalchemy.orm import Session

from inputs import load_remits
from training.labels import label_claims
from training.metrics import dollars_curve
from worklist.audit import AuditAction, record
from worklist.importing import IN_CHUNK, QUEUE, REVISIONS, RULES, SCORES
from worklist.models import Outcome, User, table
from worklist.roles import Action, require

OUTCOMES = table(Outcome)
CALIBRATION_BINS = 10
CURVE_POINTS = 21  # the dollars-caught curve at 0%, 5%, ... 100% of the answered claims reviewed


@dataclass(frozen=True)
class OutcomeReport:
    rows: int
    answered_claims: int
    matched: int
    unmatched: int
    reversed_claims: int
    superseded_rows: int
    errors: int


def attach_outcomes(session: Session, actor: User, rows: pd.DataFrame, *, errors: int = 0) -> OutcomeReport:
    """Net and label §6 rows and store each answered queue claim's outcome."""
    require(actor, Action.OUTCOMES_IMPORT)
    labels = label_claims(rows)
    table_ = labels.table
    kept = labels.rows
    denied_rows = kept["outcome"].astype(str).str.lower().eq("denied") if len(kept) else pd.Series([], dtype=bool)
    charge = pd.to_numeric(kept["charge"], errors="coerce").fillna(0.0) if len(kept) else pd.Series([], dtype=float)
    denied_dollars = charge[denied_rows].groupby(kept["claim_id"][denied_rows]).sum()
    claim_ids = [str(c) for c in table_.index.tolist()]
    queued: dict[str, tuple[int, int]] = {}
    for start in range(0, len(claim_ids), IN_CHUNK):
        query = select(QUEUE.c.claim_id, QUEUE.c.id, QUEUE.c.revision).where(
            QUEUE.c.claim_id.in_(claim_ids[start : start + IN_CHUNK])
        )
        queued.update({cid: (pk, rev) for cid, pk, rev in session.execute(query)})
    now = dt.datetime.now(dt.UTC)
    status = table_["status"].tolist()
    dollars = denied_dollars.reindex(table_.index, fill_value=0.0).tolist()
    values = [
        {"claim_pk": queued[cid][0], "revision": queued[cid][1], "status": st, "denied_amount": float(amount),
         "imported_at": now, "imported_by": actor.id}
        for cid, st, amount in zip(claim_ids, status, dollars, strict=True)
        if cid in queued
    ]
    pks = [v["claim_pk"] for v in values]
    for start in range(0, len(pks), IN_CHUNK):
        session.execute(delete(OUTCOMES).where(OUTCOMES.c.claim_pk.in_(pks[start : start + IN_CHUNK])))
    if values:
        session.execute(insert(OUTCOMES), values)
    report = OutcomeReport(
        rows=len(rows),
        answered_claims=len(claim_ids),
        matched=len(values),
        unmatched=len(claim_ids) - len(values),
        reversed_claims=labels.reversed_claims,
        superseded_rows=labels.superseded_rows,
        errors=errors,
    )
    record(session, actor, AuditAction.OUTCOME_IMPORT, detail=report.__dict__)
    session.commit()
    return report


def attach_outcomes_path(session: Session, actor: User, path: Path) -> tuple[OutcomeReport, list[Any]]:
    """``claimrisk queue outcomes --input PATH``: 835 or §6 JSONL, file or folder. Returns the
    report and the unreadable records (``RecordError``: file, position, reason)."""
    require(actor, Action.OUTCOMES_IMPORT)
    read = load_remits(Path(path))
    return attach_outcomes(session, actor, read.rows, errors=len(read.errors)), list(read.errors)


@dataclass(frozen=True)
class GroupResult:
    claims: int
    predicted_denial_rate: float | None
    observed_denial_rate: float | None
    denied_dollars: float
    expected_loss_avoided: float


@dataclass(frozen=True)
class CalibrationBin:
    lower: float
    upper: float
    claims: int
    mean_risk: float | None
    observed_rate: float | None


@dataclass(frozen=True)
class Results:
    worked: GroupResult
    not_worked: GroupResult
    calibration: list[CalibrationBin]


def _answered(session: Session) -> pd.DataFrame:
    """Answered, final (not excluded) claims: current risk, outcome, denied dollars, whether worked,
    and the expected loss of their first revision's first score."""
    first_score = (
        select(REVISIONS.c.claim_pk, func.min(SCORES.c.id).label("score_id"))
        .join(SCORES, SCORES.c.revision_id == REVISIONS.c.id)
        .where(REVISIONS.c.revision == 1)
        .group_by(REVISIONS.c.claim_pk)
        .subquery()
    )
    query = (
        select(
            QUEUE.c.risk, QUEUE.c.expected_loss, QUEUE.c.revision, OUTCOMES.c.status, OUTCOMES.c.denied_amount,
            SCORES.c.expected_loss.label("first_expected_loss"),
        )
        .join(OUTCOMES, OUTCOMES.c.claim_pk == QUEUE.c.id)
        .outerjoin(first_score, first_score.c.claim_pk == QUEUE.c.id)
        .outerjoin(SCORES, and_(SCORES.c.id == first_score.c.score_id))
        .where(OUTCOMES.c.status != "excluded")
    )
    frame = pd.DataFrame(
        session.execute(query).all(),
        columns=["risk", "expected_loss", "revision", "status", "denied_amount", "first_expected_loss"],
    )
    frame["worked"] = frame["revision"] > 1
    frame["denied"] = frame["status"] == "denied"
    return frame


def _group(frame: pd.DataFrame) -> GroupResult:
    n = len(frame)
    avoided = (frame["first_expected_loss"].fillna(frame["expected_loss"]) - frame["expected_loss"]).sum()
    return GroupResult(
        claims=n,
        predicted_denial_rate=float(frame["risk"].mean()) if n else None,
        observed_denial_rate=float(frame["denied"].mean()) if n else None,
        denied_dollars=float(frame["denied_amount"].sum()),
        expected_loss_avoided=float(avoided) if n else 0.0,
    )


def calibration(frame: pd.DataFrame, bins: int = CALIBRATION_BINS) -> list[CalibrationBin]:
    """Equal-width risk bins: claims, mean predicted risk, observed denial rate."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, frame["risk"].to_numpy(dtype=float), side="right") - 1, 0, bins - 1)
    counts = np.bincount(which, minlength=bins)
    risk_sum = np.bincount(which, weights=frame["risk"].to_numpy(dtype=float), minlength=bins)
    denied_sum = np.bincount(which, weights=frame["denied"].to_numpy(dtype=float), minlength=bins)
    return [
        CalibrationBin(
            lower=float(edges[k]),
            upper=float(edges[k + 1]),
            claims=int(counts[k]),
            mean_risk=float(risk_sum[k] / counts[k]) if counts[k] else None,
            observed_rate=float(denied_sum[k] / counts[k]) if counts[k] else None,
        )
        for k in range(bins)
    ]


def results(session: Session, actor: User) -> Results:
    """Worked vs not-worked claims with outcomes, and the live model's calibration on them."""
    require(actor, Action.RESULTS_READ)
    frame = _answered(session)
    return Results(
        worked=_group(frame[frame["worked"]]),
        not_worked=_group(frame[~frame["worked"]]),
        calibration=calibration(frame),
    )


@dataclass(frozen=True)
class PayerOutcome:
    """One payer's answered claims: what the model predicted against what the payer did."""

    payer_id: str
    claims: int
    predicted_denial_rate: float
    observed_denial_rate: float
    denied_dollars: float


def _denied() -> Any:
    return case((OUTCOMES.c.status == "denied", 1), else_=0)


def payer_outcomes(session: Session, actor: User) -> list[PayerOutcome]:
    """Per payer, over queue claims with a final outcome: claims, mean predicted risk (current
    score), observed denial rate and denied dollars; most answered payers first. One grouped query."""
    require(actor, Action.RESULTS_READ)
    query = (
        select(
            QUEUE.c.payer_id,
            func.count(),
            func.avg(QUEUE.c.risk),
            func.sum(_denied()),
            func.coalesce(func.sum(OUTCOMES.c.denied_amount), 0.0),
        )
        .join(OUTCOMES, OUTCOMES.c.claim_pk == QUEUE.c.id)
        .where(OUTCOMES.c.status != "excluded")
        .group_by(QUEUE.c.payer_id)
        .order_by(func.count().desc(), QUEUE.c.payer_id)
    )
    return [
        PayerOutcome(str(payer), int(n), float(risk), int(denied) / int(n), float(dollars))
        for payer, n, risk, denied, dollars in session.execute(query)
    ]


@dataclass(frozen=True)
class RuleLift:
    """A rule's lift at one payer: denial rate of answered claims it fired on (flagged) against the
    payer's other answered claims. ``lift`` is None when there is nothing to divide by."""

    payer_id: str
    rule_id: str
    flagged_claims: int
    flagged_denial_rate: float
    unflagged_claims: int
    unflagged_denial_rate: float | None
    lift: float | None


def rule_lift(session: Session, actor: User) -> list[RuleLift]:
    """Per payer and rule, from the remittance outcomes: how much more often the payer denies a
    claim the rule fired on. Rules are those of each claim's current score (``claim_rules``), the
    claim as it stands when answered; two grouped queries (per payer, per payer and rule)."""
    require(actor, Action.RESULTS_READ)
    answered = OUTCOMES.c.status != "excluded"
    per_payer = {
        payer: (int(n), int(denied))
        for payer, n, denied in session.execute(
            select(QUEUE.c.payer_id, func.count(), func.sum(_denied()))
            .join(OUTCOMES, OUTCOMES.c.claim_pk == QUEUE.c.id)
            .where(answered)
            .group_by(QUEUE.c.payer_id)
        )
    }
    flagged = session.execute(
        select(QUEUE.c.payer_id, RULES.c.rule_id, func.count(), func.sum(_denied()))
        .join(RULES, RULES.c.claim_pk == QUEUE.c.id)
        .join(OUTCOMES, OUTCOMES.c.claim_pk == QUEUE.c.id)
        .where(answered)
        .group_by(QUEUE.c.payer_id, RULES.c.rule_id)
        .order_by(QUEUE.c.payer_id, RULES.c.rule_id)
    )
    out = []
    for payer, rule, n, denied in flagged:
        total, total_denied = per_payer[payer]
        rate = int(denied) / int(n)
        rest = total - int(n)
        rest_rate = (total_denied - int(denied)) / rest if rest else None
        lift = rate / rest_rate if rest_rate else None
        out.append(RuleLift(str(payer), str(rule), int(n), rate, rest, rest_rate, lift))
    return out


@dataclass(frozen=True)
class CurvePoint:
    reviewed_share: float
    caught_share: float


def dollars_caught(session: Session, actor: User, points: int = CURVE_POINTS) -> list[CurvePoint]:
    """Share of denied dollars caught against share of answered claims reviewed, ranked by expected
    loss (the queue's order), at ``points`` evenly spaced depths; empty without denied dollars."""
    require(actor, Action.RESULTS_READ)
    frame = _answered(session)
    if not len(frame) or float(frame["denied_amount"].sum()) <= 0:
        return []
    depth, caught = dollars_curve(frame["expected_loss"].to_numpy(float), frame["denied_amount"].to_numpy(float))
    grid = np.linspace(0.0, 1.0, points)
    return [CurvePoint(float(x), float(y)) for x, y in zip(grid, np.interp(grid, depth, caught), strict=True)]
