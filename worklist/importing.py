"""Importing claims into the queue: score what is new or changed, store it in bulk.

A billing team re-sends the same files: a claim id already in the queue whose content equals *any*
stored revision of it is reported unchanged and stores nothing (not only the latest revision: a
re-sent original must not undo a biller's fix); different content becomes a new revision. Claims
are read as columns (``worklist.incoming``); in one process only the claims that will be stored are
scored (one model call per batch), while the command line's parallel read scores every claim of a
part in its worker, where it costs the writer nothing. Unreadable records are reported per record
(file, position, reason) by the reading layer and the rest is imported.

Rows go in as tuples of whole columns through the driver's ``executemany``
(``worklist.db.insert_rows``): no ORM objects, no parameter dict per row; the generated keys are
read back by the natural keys (claim id; claim and revision number). Into a store that is empty or
small beside the file, the queue's secondary indexes are dropped for the load and built once at its
end (``worklist.db.deferred_indexes``), all in one transaction: a failure leaves the store as it
was. Otherwise each batch is its own transaction, so a large file into a working queue neither
holds the write lock for long nor loses more than one batch to a crash.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from claims.errors import RecordError
from worklist.audit import AuditAction, record
from worklist.db import analyze, bulk_load, deferred_indexes, insert_rows, inserted_ids
from worklist.errors import Conflict
from worklist.incoming import (
    FACT_COLUMNS,
    IncomingClaims,
    incoming_from_claims,
    parallel_file,
    read_incoming,
    scored_parts,
)
from worklist.models import ClaimRevision, ClaimRule, ClaimScore, QueueClaim, User, table
from worklist.roles import Action, require
from worklist.scoring import QUEUE_SCORE_COLUMNS, ClaimScorer, ScoreBatch, ScoreRow, score_batch

__all__ = ["ImportReport", "IncomingClaims", "import_claims", "import_path", "incoming_from_claims", "read_incoming"]

BATCH_CLAIMS = 10_000  # a transaction each: about one worker part, about a second of write lock
IN_CHUNK = 500  # ids per IN (...) list: well under every back-end's parameter limit
REOPENED_STATUSES = ("sent", "dismissed")  # new content for a closed claim is new work
# Deferring the queue's indexes (dropped, rebuilt after the load) pays when the file brings at least
# this many claims and at least twice the claims already queued: a rebuild costs about a third of
# keeping the indexes up to date row by row (measured per index entry), over old and new rows alike.
DEFER_INDEXES_MIN_CLAIMS = 5_000
CLAIM_BYTES_CEILING = 4096  # a JSONL claim rarely takes more: file bytes / this = claims at least

QUEUE = table(QueueClaim)
REVISIONS = table(ClaimRevision)
SCORES = table(ClaimScore)
RULES = table(ClaimRule)


@dataclass
class ImportReport:
    read: int = 0
    new: int = 0
    revised: int = 0
    unchanged: int = 0
    errors: list[RecordError] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def rejected(self) -> int:
        return len(self.errors)

    @property
    def exit_code(self) -> int:
        """CONTRACT §5: 0 when every record was handled, 1 when some were rejected."""
        return 1 if self.errors else 0

    def counts(self) -> dict[str, int]:
        return {
            "read": self.read,
            "new": self.new,
            "revised": self.revised,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
        }


# ---- storing ----------------------------------------------------------------------------------


def _rounds(claim_ids: Sequence[str]) -> list[np.ndarray]:
    """Indices split so no claim id repeats within one part: a file naming a claim twice stores the
    second as a revision of the first (or as unchanged), in file order."""
    if len(set(claim_ids)) == len(claim_ids):  # the usual file: one round, no per-claim loop
        return [np.arange(len(claim_ids))] if claim_ids else []
    seen: dict[str, int] = {}
    occurrence = np.empty(len(claim_ids), dtype=np.int64)
    for index, claim_id in enumerate(claim_ids):
        occurrence[index] = seen.get(claim_id, 0)
        seen[claim_id] = occurrence[index] + 1
    return [np.flatnonzero(occurrence == k) for k in range(int(occurrence.max(initial=-1)) + 1)]


# One statement, compiled once, whose IN list is expanded at execution: ``in_(list)`` would build
# and coerce a bound parameter per claim id on every call (a second of an import's 100,000 claims).
_QUEUED = select(QUEUE.c.claim_id, QUEUE.c.id, QUEUE.c.revision, QUEUE.c.status).where(
    QUEUE.c.claim_id.in_(bindparam("claim_ids", expanding=True))
)
_QUEUED_SINCE = select(QUEUE.c.claim_id, QUEUE.c.id).where(QUEUE.c.id > bindparam("after"))
_REVISIONS_OF = select(REVISIONS.c.claim_pk, REVISIONS.c.revision, REVISIONS.c.id).where(
    REVISIONS.c.claim_pk.in_(bindparam("claim_pks", expanding=True))
)
_REVISIONS_SINCE = select(REVISIONS.c.claim_pk, REVISIONS.c.revision, REVISIONS.c.id).where(
    REVISIONS.c.id > bindparam("after")
)


def _existing(session: Session, claim_ids: list[str]) -> dict[str, tuple[int, int, str]]:
    """claim id -> (pk, revision, status) of the claims already queued."""
    found: dict[str, tuple[int, int, str]] = {}
    for start in range(0, len(claim_ids), IN_CHUNK):
        rows = session.execute(_QUEUED, {"claim_ids": claim_ids[start : start + IN_CHUNK]}).all()
        found.update((claim_id, (pk, revision, status)) for claim_id, pk, revision, status in rows)
    return found


def _last_id(session: Session, table_: Any) -> int:
    """The highest primary key of a table (0 when empty): rows inserted after this read all have
    a higher one (SQLite's rowid and PostgreSQL's sequence only grow while the maximum is below
    2**63 - 1), so they are read back with one range scan instead of IN lists."""
    return int(session.execute(select(func.coalesce(func.max(table_.c.id), 0))).scalar_one())


def _known_hashes(session: Session, pks: list[int]) -> set[tuple[int, str]]:
    known: set[tuple[int, str]] = set()
    for start in range(0, len(pks), IN_CHUNK):
        query = select(REVISIONS.c.claim_pk, REVISIONS.c.content_sha256).where(
            REVISIONS.c.claim_pk.in_(pks[start : start + IN_CHUNK])
        )
        known.update((pk, sha) for pk, sha in session.execute(query))
    return known


@dataclass
class _Load:
    """One import's state across its parts and batches.

    ``commit``: a transaction per batch, else the caller commits once. ``queued``: the claims this
    load has queued (claim id -> pk, revision, status) when the store was empty at its start and
    the load holds the write lock throughout (deferred indexes): then they are all the queue holds,
    and looking claims up stays in memory. It matters beyond the saved queries: on PostgreSQL the
    rows of the one open transaction have no statistics yet, and the planner scanned the growing
    table for each IN list (three minutes for 100,000 claims). ``memo``: the problems' JSON
    fragments already built."""

    scorer: ClaimScorer
    actor: User
    report: ImportReport = field(default_factory=ImportReport)
    commit: bool = True
    queued: dict[str, tuple[int, int, str]] | None = None
    memo: dict[Any, bytes] = field(default_factory=dict)


def import_claims(session: Session, incoming: IncomingClaims, scorer: ClaimScorer, actor: User) -> ImportReport:
    """Score and store ``incoming`` as ``actor``; one audit event with the counts."""
    require(actor, Action.CLAIMS_IMPORT)
    load = _Load(scorer, actor)
    _store_incoming(session, incoming, load)
    record(session, actor, AuditAction.IMPORT, detail=load.report.counts())
    session.commit()
    return load.report


def import_path(
    session: Session, path: Path, scorer: ClaimScorer, actor: User, *, workers: int = 1
) -> ImportReport:
    """``claimrisk queue import --input PATH``: read the file or folder, score and store it.

    ``workers`` > 1 reads and scores one large JSONL file in parts in forked processes (see
    ``worklist.incoming``) while this process stores the parts in file order; only a command-line
    process may ask for it (forking a server's request thread is not safe). A file large beside
    the queue is loaded in one transaction with the queue's indexes deferred (module docstring)."""
    require(actor, Action.CLAIMS_IMPORT)
    file = parallel_file(path, workers)
    parts: Iterable[IncomingClaims]
    if file is None:
        whole = read_incoming(path)
        parts, expected = [whole], whole.n_claims
    else:
        parts, expected = scored_parts(file, scorer, workers), file.stat().st_size // CLAIM_BYTES_CEILING
    load = _Load(scorer, actor)
    with bulk_load(session):
        queued = _queued_claims(session) if expected >= DEFER_INDEXES_MIN_CLAIMS else None
        if queued is not None and 2 * queued <= expected:  # a rebuild costs less than upkeep
            with deferred_indexes(session.connection(), QUEUE):  # the write lock from here on
                load.commit, load.queued = False, {} if queued == 0 else None
                for part in parts:
                    _store_incoming(session, part, load)
            analyze(session.connection(), (QUEUE, REVISIONS, SCORES, RULES))
        else:
            for part in parts:
                _store_incoming(session, part, load)
        record(session, actor, AuditAction.IMPORT, detail=load.report.counts())
        session.commit()
    return load.report


def _queued_claims(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(QUEUE)).scalar_one())


def _store_incoming(session: Session, incoming: IncomingClaims, load: _Load) -> None:
    """Store one read file (or part): the claims in rounds without repeated ids, in batches (each
    a transaction when ``load.commit``)."""
    load.report.read += incoming.n_claims
    load.report.errors.extend(incoming.errors)
    for part in _rounds(incoming.claim_ids):
        for start in range(0, part.shape[0], BATCH_CLAIMS):
            _import_batch(session, incoming, part[start : start + BATCH_CLAIMS].tolist(), load)
            if load.commit:
                session.commit()


def _import_batch(session: Session, incoming: IncomingClaims, batch: list[int], load: _Load) -> None:
    report = load.report
    ids = [incoming.claim_ids[i] for i in batch]
    if load.queued is None:
        existing = _existing(session, ids)
    else:
        existing = {claim_id: load.queued[claim_id] for claim_id in ids if claim_id in load.queued}
    known = _known_hashes(session, [pk for pk, _, _ in existing.values()])
    new: list[int] = []
    revised: list[int] = []
    for index, claim_id in zip(batch, ids, strict=True):
        found = existing.get(claim_id)
        if found is None:
            new.append(index)
        elif (found[0], incoming.hashes[index]) in known:
            report.unchanged += 1
        else:
            revised.append(index)
    chosen = new + revised
    if not chosen:
        return
    if incoming.scores is not None:
        scores = incoming.scores.take(chosen)
    else:
        assert incoming.frame is not None, "incoming claims carry either a frame or their scores"
        scores = score_batch(load.scorer, incoming.frame.take(np.asarray(chosen, dtype=np.int64)), load.memo)
    report.versions = scores.versions
    columns = _queue_columns(incoming, chosen, scores)
    now = dt.datetime.now(dt.UTC)
    pks = _insert_new(session, {k: v[: len(new)] for k, v in columns.items()}, now)
    old = [existing[incoming.claim_ids[i]] for i in revised]
    _update_revised(session, {k: v[len(new) :] for k, v in columns.items()}, old, now)
    pks += [pk for pk, _, _ in old]
    revisions = [1] * len(new) + [revision + 1 for _, revision, _ in old]
    _insert_history(session, incoming, chosen, pks, revisions, scores, load.actor, now)
    report.new += len(new)
    report.revised += len(revised)
    if load.queued is not None:
        statuses = ["new"] * len(new) + ["new" if status in REOPENED_STATUSES else status for _, _, status in old]
        load.queued.update(
            (incoming.claim_ids[i], row) for i, row in zip(chosen, zip(pks, revisions, statuses, strict=True), strict=True)
        )


def _records(columns: Mapping[str, Sequence[Any]], **constants: Any) -> list[dict[str, Any]]:
    """Parameter dicts (what Core's executemany binds) of equal-length columns, each with the
    ``constants`` added: one C-level transpose instead of a dict built field by field per claim."""
    names = [*columns, *constants]
    values = [*columns.values(), *(itertools.repeat(v) for v in constants.values())]
    return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=False)]


def _queue_columns(incoming: IncomingClaims, chosen: list[int], scores: ScoreBatch) -> dict[str, list[Any]]:
    """The ``queue_claims`` columns of the chosen claims (their scores in the same order)."""
    columns = {
        "claim_id": [incoming.claim_ids[i] for i in chosen],
        "content_sha256": [incoming.hashes[i] for i in chosen],
        **{name: [incoming.facts[name][i] for i in chosen] for name in FACT_COLUMNS},
    }
    columns.update((name, scores.columns[name]) for name in QUEUE_SCORE_COLUMNS)
    return columns


def _insert_new(session: Session, columns: dict[str, list[Any]], now: dt.datetime) -> list[int]:
    """Queue rows of new claims; their primary keys in column order, read back by claim id among
    the rows above the highest key before the insert (a concurrent writer's rows there are ignored;
    any claim not found there is looked up by id)."""
    claim_ids = columns["claim_id"]
    if not claim_ids:
        return []
    after = _last_id(session, QUEUE)
    insert_rows(session.connection(), QUEUE, columns, revision=1, status="new", created_at=now, updated_at=now)
    pks = inserted_ids(session.connection(), QUEUE, after, len(claim_ids))
    if pks is not None:
        return pks
    found: dict[str, int] = dict(session.execute(_QUEUED_SINCE, {"after": after}).tuples().all())
    missing = [claim_id for claim_id in claim_ids if claim_id not in found]
    found.update((claim_id, row[0]) for claim_id, row in _existing(session, missing).items())
    return [found[claim_id] for claim_id in claim_ids]


def _update_revised(
    session: Session, columns: dict[str, list[Any]], old: list[tuple[int, int, str]], now: dt.datetime
) -> None:
    """New content for queued claims: the revision moves on only if nobody else moved it since the
    lookup (a concurrent edit makes the whole batch a ``Conflict``, rolled back, never lost)."""
    if not old:
        return
    values = {f"v_{k}": v for k, v in columns.items() if k != "claim_id"}
    values["v_revision"] = [revision + 1 for _, revision, _ in old]
    values["v_status"] = ["new" if status in REOPENED_STATUSES else status for _, _, status in old]
    params = _records(
        {"b_pk": [pk for pk, _, _ in old], "b_expected": [revision for _, revision, _ in old], **values},
        v_updated_at=now,
    )
    query = (
        update(QUEUE)
        .where(QUEUE.c.id == bindparam("b_pk"), QUEUE.c.revision == bindparam("b_expected"))
        .values(**{name[2:]: bindparam(name) for name in params[0] if name.startswith("v_")})
    )
    connection = session.connection()
    if connection.dialect.supports_sane_multi_rowcount:
        changed = connection.execute(query, params).rowcount
    else:  # the driver cannot count an executemany: one statement per claim
        changed = sum(connection.execute(query, p).rowcount for p in params)
    if changed != len(params):
        session.rollback()
        raise Conflict("queued claims changed while they were being imported; import again")


def _insert_history(
    session: Session,
    incoming: IncomingClaims,
    chosen: list[int],
    pks: list[int],
    revisions: list[int],
    scores: ScoreBatch,
    actor: User,
    now: dt.datetime,
) -> None:
    """The revisions (content kept), their scores, and the claims' current rule ids."""
    revision_columns: dict[str, Sequence[Any]] = {
        "claim_pk": pks,
        "revision": revisions,
        "content": [incoming.contents[i].decode() for i in chosen],
        "content_sha256": [incoming.hashes[i] for i in chosen],
        "source": [incoming.sources[i] for i in chosen],
        "position": [incoming.positions[i] for i in chosen],
    }
    after = _last_id(session, REVISIONS)
    insert_rows(session.connection(), REVISIONS, revision_columns, changed_fields=None, created_by=actor.id, created_at=now)
    revision_ids = inserted_ids(session.connection(), REVISIONS, after, len(pks))
    if revision_ids is None:
        found = {(pk, number): rid for pk, number, rid in session.execute(_REVISIONS_SINCE, {"after": after}).all()}
        keys = list(zip(pks, revisions, strict=True))
        if any(key not in found for key in keys):  # the keys did not grow (see ``_last_id``)
            found.update(_revision_ids(session, pks))
        revision_ids = [found[key] for key in keys]
    store_scores(session, pks, revision_ids, scores, now, replace_rules=any(n > 1 for n in revisions))


def _revision_ids(session: Session, pks: list[int]) -> dict[tuple[int, int], int]:
    """(claim pk, revision number) -> revision id, for every revision of the claims ``pks``."""
    found: dict[tuple[int, int], int] = {}
    for start in range(0, len(pks), IN_CHUNK):
        rows = session.execute(_REVISIONS_OF, {"claim_pks": pks[start : start + IN_CHUNK]}).all()
        found.update(((pk, revision), revision_id) for pk, revision, revision_id in rows)
    return found


def store_scores(
    session: Session,
    pks: list[int],
    revision_ids: list[int],
    scores: ScoreBatch | Sequence[ScoreRow],
    now: dt.datetime,
    *,
    replace_rules: bool,
) -> None:
    """Score rows for revisions, and each claim's current rule ids (replaced when it had some)."""
    batch = scores if isinstance(scores, ScoreBatch) else ScoreBatch.of_rows(scores)
    connection = session.connection()
    insert_rows(connection, SCORES, {**batch.columns, "revision_id": revision_ids}, scored_at=now)
    if replace_rules:
        for start in range(0, len(pks), IN_CHUNK):
            session.execute(delete(RULES).where(RULES.c.claim_pk.in_(pks[start : start + IN_CHUNK])))
    if batch.rule_claim.shape[0]:
        claim_pks = np.asarray(pks, dtype=np.int64)[batch.rule_claim].tolist()
        insert_rows(connection, RULES, {"claim_pk": claim_pks, "rule_id": batch.rule_id.tolist()})


def content_record(content: str) -> dict[str, Any]:
    """A stored revision's content as a claim record (dict)."""
    record_: dict[str, Any] = orjson.loads(content)
    return record_
