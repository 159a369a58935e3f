"""Re-scoring every open claim with the current model and reference data (``claimrisk queue rescore``).

After a promotion or a new reference quarter the queue's order is stale. Re-scoring adds a score
row per open claim's current revision (the earlier scores stay: the results page compares what each
model said) and moves the new figures onto the queue rows. A revision already scored by the same
model, rules and reference data is skipped, so running it twice costs one read. Claims are taken a
batch at a time in primary-key order (a keyset walk, no OFFSET), one model call and one transaction
per batch; a claim edited meanwhile keeps the score of its edit (the queue row update is
conditional on the revision that was scored).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.orm import Session

from worklist.audit import AuditAction, record
from worklist.content import frame_of
from worklist.importing import IN_CHUNK, QUEUE, REVISIONS, SCORES, store_scores
from worklist.models import User
from worklist.roles import Action, require
from worklist.scoring import ClaimScorer, ScoreRow, score_frame
from worklist.workflow import OPEN_STATUSES

RESCORE_BATCH = 2000


@dataclass
class RescoreReport:
    open_claims: int = 0
    rescored: int = 0
    already_scored: int = 0
    versions: dict[str, str] | None = None


def rescore_open(session: Session, actor: User | None, scorer: ClaimScorer) -> RescoreReport:
    """Re-score the current revision of every open claim (``actor`` None: a background job)."""
    if actor is not None:
        require(actor, Action.RESCORE)
    report = RescoreReport()
    last_pk = 0
    while True:
        query = (
            select(QUEUE.c.id, QUEUE.c.revision, REVISIONS.c.id, REVISIONS.c.content)
            .join(REVISIONS, and_(REVISIONS.c.claim_pk == QUEUE.c.id, REVISIONS.c.revision == QUEUE.c.revision))
            .where(QUEUE.c.status.in_(OPEN_STATUSES), QUEUE.c.id > last_pk)
            .order_by(QUEUE.c.id)
            .limit(RESCORE_BATCH)
        )
        batch = list(session.execute(query).all())
        if not batch:
            break
        last_pk = batch[-1][0]
        report.open_claims += len(batch)
        _rescore_batch(session, batch, scorer, report)
        session.commit()
    record(session, actor, AuditAction.RESCORE, detail={"rescored": report.rescored, "open": report.open_claims})
    session.commit()
    return report


def _already_scored(session: Session, revision_ids: list[int], score: ScoreRow) -> set[int]:
    found: set[int] = set()
    for start in range(0, len(revision_ids), IN_CHUNK):
        query = select(SCORES.c.revision_id).where(
            SCORES.c.revision_id.in_(revision_ids[start : start + IN_CHUNK]),
            SCORES.c.model_version == score.model_version,
            SCORES.c.rules_version == score.rules_version,
            SCORES.c.reference_data_version == score.reference_data_version,
        )
        found.update(session.scalars(query))
    return found


def _rescore_batch(session: Session, batch: list[Any], scorer: ClaimScorer, report: RescoreReport) -> None:
    scores = score_frame(scorer, frame_of([row[3].encode() for row in batch]))
    first = scores[0]
    report.versions = {
        "model_version": first.model_version,
        "rules_version": first.rules_version,
        "reference_data_version": first.reference_data_version,
    }
    done = _already_scored(session, [row[2] for row in batch], first)
    keep = [k for k, row in enumerate(batch) if row[2] not in done]
    report.already_scored += len(batch) - len(keep)
    if not keep:
        return
    now = dt.datetime.now(dt.UTC)
    params = [
        {"b_pk": batch[k][0], "b_revision": batch[k][1], **{f"v_{n}": v for n, v in scores[k].queue_values().items()}}
        for k in keep
    ]
    columns: dict[str, Any] = {name[2:]: bindparam(name) for name in params[0] if name.startswith("v_")}
    session.execute(
        update(QUEUE)
        .where(QUEUE.c.id == bindparam("b_pk"), QUEUE.c.revision == bindparam("b_revision"))
        .values(**columns),
        params,
    )
    # after the update this transaction holds the rows: claims edited meanwhile are left as they are
    current = dict(
        session.execute(select(QUEUE.c.id, QUEUE.c.revision).where(QUEUE.c.id.in_([batch[k][0] for k in keep]))).all()
    )
    still = [k for k in keep if current.get(batch[k][0]) == batch[k][1]]
    store_scores(
        session,
        [batch[k][0] for k in still],
        [batch[k][2] for k in still],
        [scores[k] for k in still],
        now,
        replace_rules=True,
    )
    report.rescored += len(still)
