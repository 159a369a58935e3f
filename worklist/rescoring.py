"""Re-scoring every open claim with the current model and reference data (``claimrisk queue rescore``).

After a promotion or a new reference quarter the queue's order is stale. Re-scoring adds a score
row per open claim's current revision (the earlier scores stay: the results page compares what each
model said) and moves the new figures onto the queue rows. A revision already scored by the same
model, rules and reference data is skipped before it is scored, so running it twice costs one read.
Claims are taken a batch at a time in primary-key order (a keyset walk, no OFFSET), one model call
and one transaction per batch; a claim edited meanwhile keeps the score of its edit (the queue row
update is conditional on the revision that was scored).

The serving process runs it as a background job whenever it loads a model or reference data the
queue was not scored with (``serving.rescore_job``). Several worker processes load the same model
at about the same time, so the job first takes a **lease**: one row of ``app_settings`` naming the
versions being scored, the holder and until when, taken with a conditional UPDATE (compare and
swap on the row's previous value), which exactly one of the racing workers wins on SQLite and on
PostgreSQL alike. A finished job leaves the lease marked done for its versions, so a restart or
another worker's reload of the same model does not read the queue again; a holder that died is
replaced once its lease expires.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import and_, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from worklist.audit import AuditAction, record
from worklist.content import frame_of
from worklist.importing import IN_CHUNK, QUEUE, REVISIONS, SCORES, store_scores
from worklist.models import AppSetting, User, table
from worklist.roles import Action, require
from worklist.scoring import QUEUE_SCORE_COLUMNS, ClaimScorer, score_batch, scorer_versions
from worklist.workflow import OPEN_STATUSES

RESCORE_BATCH = 2000
LEASE_KEY = "rescore.lease"
LEASE_SECONDS = 1800  # far longer than re-scoring a large queue takes; a dead holder's lease lapses
SETTINGS = table(AppSetting)


@dataclass
class RescoreReport:
    open_claims: int = 0
    rescored: int = 0
    already_scored: int = 0
    versions: dict[str, str] | None = None


def rescore_open(
    session: Session, actor: User | None, scorer: ClaimScorer, *, go_on: Callable[[Session], bool] | None = None
) -> RescoreReport:
    """Re-score the current revision of every open claim (``actor`` None: a background job, which
    passes ``go_on``, asked before each batch: False stops the walk, e.g. a lease taken over)."""
    if actor is not None:
        require(actor, Action.RESCORE)
    report = RescoreReport(versions=scorer_versions(scorer))
    last_pk = 0
    while go_on is None or go_on(session):
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


def _already_scored(session: Session, revision_ids: list[int], versions: dict[str, str]) -> set[int]:
    found: set[int] = set()
    for start in range(0, len(revision_ids), IN_CHUNK):
        query = select(SCORES.c.revision_id).where(
            SCORES.c.revision_id.in_(revision_ids[start : start + IN_CHUNK]),
            SCORES.c.model_version == versions["model_version"],
            SCORES.c.rules_version == versions["rules_version"],
            SCORES.c.reference_data_version == versions["reference_data_version"],
        )
        found.update(session.scalars(query))
    return found


def _rescore_batch(session: Session, rows: list[Any], scorer: ClaimScorer, report: RescoreReport) -> None:
    assert report.versions is not None
    done = _already_scored(session, [row[2] for row in rows], report.versions)
    batch = [row for row in rows if row[2] not in done]
    report.already_scored += len(rows) - len(batch)
    if not batch:
        return
    scores = score_batch(scorer, frame_of([row[3].encode() for row in batch]))
    now = dt.datetime.now(dt.UTC)
    params = [
        {"b_pk": row[0], "b_revision": row[1], **{f"v_{n}": v for n, v in zip(QUEUE_SCORE_COLUMNS, values, strict=True)}}
        for row, values in zip(batch, zip(*(scores.columns[n] for n in QUEUE_SCORE_COLUMNS), strict=True), strict=True)
    ]
    columns: dict[str, Any] = {name[2:]: bindparam(name) for name in params[0] if name.startswith("v_")}
    session.execute(
        update(QUEUE)
        .where(QUEUE.c.id == bindparam("b_pk"), QUEUE.c.revision == bindparam("b_revision"))
        .values(**columns),
        params,
    )
    # after the update this transaction holds the rows: claims edited meanwhile are left as they are
    current = dict(session.execute(select(QUEUE.c.id, QUEUE.c.revision).where(QUEUE.c.id.in_([r[0] for r in batch]))).all())
    still = [k for k, row in enumerate(batch) if current.get(row[0]) == row[1]]
    store_scores(
        session,
        [batch[k][0] for k in still],
        [batch[k][2] for k in still],
        scores.take(still),
        now,
        replace_rules=True,
    )
    report.rescored += len(still)


# ---- the background job's lease ---------------------------------------------------------------


def _lease(versions: dict[str, str], owner: str, until: dt.datetime, *, done: bool) -> str:
    return orjson.dumps({"versions": versions, "owner": owner, "until": until.isoformat(), "done": done}).decode()


def take_rescore_lease(session: Session, versions: dict[str, str], owner: str, *, now: dt.datetime | None = None) -> bool:
    """True when ``owner`` now holds the lease to re-score the queue for ``versions``: nobody has
    done so and no live holder is at it. Exactly one of several racing callers gets True. A holder
    for other (older) versions loses the lease and stops at its next batch (``holds_lease``)."""
    now = now or dt.datetime.now(dt.UTC)
    current = session.scalar(select(SETTINGS.c.value).where(SETTINGS.c.key == LEASE_KEY))
    if current is None:
        try:
            session.execute(insert(SETTINGS).values(key=LEASE_KEY, value="{}"))
            session.commit()
        except IntegrityError:  # another worker created it first: compete on its value instead
            session.rollback()
        current = session.scalar(select(SETTINGS.c.value).where(SETTINGS.c.key == LEASE_KEY))
    held = orjson.loads(current or "{}")
    if held.get("versions") == versions and (held.get("done") or dt.datetime.fromisoformat(held["until"]) > now):
        session.rollback()
        return False  # done already, or being done by a live holder
    taken = _lease(versions, owner, now + dt.timedelta(seconds=LEASE_SECONDS), done=False)
    swap = update(SETTINGS).where(SETTINGS.c.key == LEASE_KEY, SETTINGS.c.value == current).values(value=taken)
    changed = session.connection().execute(swap).rowcount
    session.commit()
    return bool(changed == 1)


def holds_lease(session: Session, owner: str) -> bool:
    """Whether ``owner`` still holds the lease (a newer model's job may have taken it over)."""
    held = orjson.loads(session.scalar(select(SETTINGS.c.value).where(SETTINGS.c.key == LEASE_KEY)) or "{}")
    return bool(held.get("owner") == owner)


def finish_rescore_lease(session: Session, versions: dict[str, str], owner: str) -> None:
    """Mark the queue re-scored for ``versions`` (only if ``owner`` still holds the lease)."""
    current = session.scalar(select(SETTINGS.c.value).where(SETTINGS.c.key == LEASE_KEY))
    held = orjson.loads(current or "{}")
    if held.get("owner") == owner and held.get("versions") == versions:
        finished = _lease(versions, owner, dt.datetime.now(dt.UTC), done=True)
        session.execute(
            update(SETTINGS).where(SETTINGS.c.key == LEASE_KEY, SETTINGS.c.value == current).values(value=finished)
        )
    session.commit()
