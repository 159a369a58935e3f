"""Importing claims into the queue: score what is new or changed, store it in bulk.

A billing team re-sends the same files: a claim id already in the queue whose content equals *any*
stored revision of it is reported unchanged and stores nothing (not only the latest revision: a
re-sent original must not undo a biller's fix); different content becomes a new revision. Claims
are read as columns (``worklist.incoming``); in one process only the claims that will be stored are
scored (one model call per batch), while the command line's parallel read scores every claim of a
part in its worker, where it costs the writer nothing. Unreadable records are reported per record
(file, position, reason) by the reading layer and the rest is imported.

Rows go in through Core ``insert()`` with a list of parameter dicts, which SQLAlchemy sends as
multi-row INSERTs ("insertmanyvalues", RETURNING the keys it needs): no ORM objects, no statement
per row. The dicts are built by transposing whole columns (``_records``), not per claim. Each batch
is its own transaction, so a 100,000-claim file neither holds the write lock for long nor loses
more than one batch to a crash.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from claims.errors import RecordError
from worklist.audit import AuditAction, record
from worklist.db import bulk_load
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
    seen: dict[str, int] = {}
    occurrence = np.empty(len(claim_ids), dtype=np.int64)
    for index, claim_id in enumerate(claim_ids):
        occurrence[index] = seen.get(claim_id, 0)
        seen[claim_id] = occurrence[index] + 1
    return [np.flatnonzero(occurrence == k) for k in range(int(occurrence.max(initial=-1)) + 1)]


def _existing(session: Session, claim_ids: list[str]) -> dict[str, tuple[int, int, str]]:
    """claim id -> (pk, revision, status) of the claims already queued."""
    found: dict[str, tuple[int, int, str]] = {}
    for start in range(0, len(claim_ids), IN_CHUNK):
        chunk = claim_ids[start : start + IN_CHUNK]
        query = select(QUEUE.c.claim_id, QUEUE.c.id, QUEUE.c.revision, QUEUE.c.status).where(
            QUEUE.c.claim_id.in_(chunk)
        )
        for claim_id, pk, revision, status in session.execute(query):
            found[claim_id] = (pk, revision, status)
    return found


def _known_hashes(session: Session, pks: list[int]) -> set[tuple[int, str]]:
    known: set[tuple[int, str]] = set()
    for start in range(0, len(pks), IN_CHUNK):
        query = select(REVISIONS.c.claim_pk, REVISIONS.c.content_sha256).where(
            REVISIONS.c.claim_pk.in_(pks[start : start + IN_CHUNK])
        )
        known.update((pk, sha) for pk, sha in session.execute(query))
    return known


def import_claims(session: Session, incoming: IncomingClaims, scorer: ClaimScorer, actor: User) -> ImportReport:
    """Score and store ``incoming`` as ``actor``; one audit event with the counts."""
    require(actor, Action.CLAIMS_IMPORT)
    report = ImportReport()
    _store_incoming(session, incoming, scorer, actor, report, {})
    record(session, actor, AuditAction.IMPORT, detail=report.counts())
    session.commit()
    return report


def import_path(
    session: Session, path: Path, scorer: ClaimScorer, actor: User, *, workers: int = 1
) -> ImportReport:
    """``claimrisk queue import --input PATH``: read the file or folder, score and store it.

    ``workers`` > 1 reads and scores one large JSONL file in parts in forked processes (see
    ``worklist.incoming``) while this process stores the parts in file order; only a command-line
    process may ask for it (forking a server's request thread is not safe)."""
    require(actor, Action.CLAIMS_IMPORT)
    file = parallel_file(path, workers)
    with bulk_load(session):
        if file is None:
            return import_claims(session, read_incoming(path), scorer, actor)
        report = ImportReport()
        for part in scored_parts(file, scorer, workers):
            _store_incoming(session, part, scorer, actor, report, {})
        record(session, actor, AuditAction.IMPORT, detail=report.counts())
        session.commit()
    return report


def _store_incoming(
    session: Session,
    incoming: IncomingClaims,
    scorer: ClaimScorer,
    actor: User,
    report: ImportReport,
    memo: dict[Any, bytes],
) -> None:
    """Store one read file (or part): the claims in rounds without repeated ids, a batch per
    transaction; ``memo`` keeps the problems' JSON fragments across batches."""
    report.read += incoming.n_claims
    report.errors.extend(incoming.errors)
    for part in _rounds(incoming.claim_ids):
        for start in range(0, part.shape[0], BATCH_CLAIMS):
            _import_batch(session, incoming, part[start : start + BATCH_CLAIMS].tolist(), scorer, actor, report, memo)
            session.commit()


def _import_batch(
    session: Session,
    incoming: IncomingClaims,
    batch: list[int],
    scorer: ClaimScorer,
    actor: User,
    report: ImportReport,
    memo: dict[Any, bytes],
) -> None:
    ids = [incoming.claim_ids[i] for i in batch]
    existing = _existing(session, ids)
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
        scores = score_batch(scorer, incoming.frame.take(np.asarray(chosen, dtype=np.int64)), memo)
    report.versions = scores.versions
    columns = _queue_columns(incoming, chosen, scores)
    now = dt.datetime.now(dt.UTC)
    pks = _insert_new(session, {k: v[: len(new)] for k, v in columns.items()}, now)
    old = [existing[incoming.claim_ids[i]] for i in revised]
    _update_revised(session, {k: v[len(new) :] for k, v in columns.items()}, old, now)
    pks += [pk for pk, _, _ in old]
    revisions = [1] * len(new) + [revision + 1 for _, revision, _ in old]
    _insert_history(session, incoming, chosen, pks, revisions, scores, actor, now)
    report.new += len(new)
    report.revised += len(revised)


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
    if not columns["claim_id"]:
        return []
    rows = _records(columns, revision=1, status="new", created_at=now, updated_at=now)
    # RETURNING the natural key, not in parameter order: ordered RETURNING makes SQLite insert
    # row by row (measured 2x slower); unordered it sends a thousand rows per statement
    query = insert(QUEUE).returning(QUEUE.c.claim_id, QUEUE.c.id)
    found: dict[str, int] = dict(session.execute(query, rows).all())
    return [found[claim_id] for claim_id in columns["claim_id"]]


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
    revision_rows = _records(
        {
            "claim_pk": pks,
            "revision": revisions,
            "content": [incoming.contents[i].decode() for i in chosen],
            "content_sha256": [incoming.hashes[i] for i in chosen],
            "source": [incoming.sources[i] for i in chosen],
            "position": [incoming.positions[i] for i in chosen],
        },
        changed_fields=None,
        created_by=actor.id,
        created_at=now,
    )
    query = insert(REVISIONS).returning(REVISIONS.c.claim_pk, REVISIONS.c.id)
    found: dict[int, int] = dict(session.execute(query, revision_rows).all())  # one revision per claim here
    revision_ids = [found[pk] for pk in pks]
    store_scores(session, pks, revision_ids, scores, now, replace_rules=any(n > 1 for n in revisions))


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
    session.execute(insert(SCORES), _records({**batch.columns, "revision_id": revision_ids}, scored_at=now))
    if replace_rules:
        for start in range(0, len(pks), IN_CHUNK):
            session.execute(delete(RULES).where(RULES.c.claim_pk.in_(pks[start : start + IN_CHUNK])))
    if batch.rule_claim.shape[0]:
        claim_pks = np.asarray(pks, dtype=np.int64)[batch.rule_claim].tolist()
        session.execute(insert(RULES), _records({"claim_pk": claim_pks, "rule_id": batch.rule_id.tolist()}))


def content_record(content: str) -> dict[str, Any]:
    """A stored revision's content as a claim record (dict)."""
    record_: dict[str, Any] = orjson.loads(content)
    return record_
