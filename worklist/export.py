"""Exports: the filtered queue as rows (CSV, Parquet), and the corrected claims themselves
(contract JSONL, X12 837P/837I) ready to send.

Claim exports take each claim's *latest* revision, the one the biller fixed, in status ``ready``
by default; the 837 goes through ``edi.writer.write_837`` (837P transactions for professional
claims, 837I for institutional, one interchange) with ``payer_claim_number`` as REF*F8 where a
replacement or void carries it. Every export is audited, and a claim export names each claim it
let out, because a file of claims leaving the building is exactly what an audit must answer for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pandas as pd
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from claims.model import Claim
from edi.writer import write_837
from worklist.audit import AuditAction, record, record_many
from worklist.errors import InvalidInput
from worklist.importing import QUEUE, REVISIONS
from worklist.queue import USERS, QueueFilter, SortKey, filter_conditions, queue_order
from worklist.roles import Action, require

ROW_FORMATS = ("csv", "parquet")
CLAIM_FORMATS = ("jsonl", "837")
QUEUE_COLUMNS = (
    "claim_id", "revision", "status", "payer_id", "claim_type", "submission_date", "filing_deadline",
    "total_charge", "risk", "decision", "expected_loss", "best_fix", "best_fix_line", "risk_if_best_fixed",
    "risk_if_all_fixed", "recoverable", "model_version", "top_reason", "top_reason_probability",
)


def export_format(path: Path, requested: str | None) -> str:
    """The requested format, else the one the file name says (``.csv``, ``.parquet``, ``.jsonl``,
    ``.837``)."""
    fmt = (requested or Path(path).suffix.lstrip(".")).lower()
    if fmt not in ROW_FORMATS + CLAIM_FORMATS:
        raise InvalidInput(f"unknown export format {fmt!r}; expected one of {', '.join(ROW_FORMATS + CLAIM_FORMATS)}")
    return fmt


def queue_frame(
    session: Session, where: QueueFilter | None = None, sort: SortKey = SortKey.EXPECTED_LOSS
) -> pd.DataFrame:
    """Every queue row under the filter, in queue order (one query, no pages)."""
    query = (
        select(*(QUEUE.c[name] for name in QUEUE_COLUMNS), USERS.c.name.label("assignee"))
        .outerjoin(USERS, USERS.c.id == QUEUE.c.assignee_id)
        .where(*filter_conditions(session, where or QueueFilter()))
        .order_by(*queue_order(sort))
    )
    rows = session.execute(query).all()
    return pd.DataFrame(rows, columns=[*QUEUE_COLUMNS, "assignee"])


def export_queue(
    session: Session,
    actor: Any,
    path: Path,
    where: QueueFilter | None = None,
    *,
    fmt: str | None = None,
    sort: SortKey = SortKey.EXPECTED_LOSS,
) -> int:
    """Write the filtered queue as CSV or Parquet; returns the number of rows."""
    require(actor, Action.QUEUE_EXPORT)
    fmt = export_format(path, fmt)
    if fmt not in ROW_FORMATS:
        raise InvalidInput(f"queue rows export as {' or '.join(ROW_FORMATS)}, not {fmt}")
    frame = queue_frame(session, where, sort)
    if fmt == "csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    record(session, actor, AuditAction.EXPORT, detail={"format": fmt, "rows": len(frame)})
    session.commit()
    return len(frame)


def latest_contents(session: Session, where: QueueFilter) -> list[tuple[str, dict[str, Any]]]:
    """(claim id, content of the latest revision) of every queue claim under the filter."""
    query = (
        select(QUEUE.c.claim_id, REVISIONS.c.content)
        .join(REVISIONS, and_(REVISIONS.c.claim_pk == QUEUE.c.id, REVISIONS.c.revision == QUEUE.c.revision))
        .where(*filter_conditions(session, where))
        .order_by(QUEUE.c.id)
    )
    return [(claim_id, orjson.loads(content)) for claim_id, content in session.execute(query)]


def export_claims(
    session: Session,
    actor: Any,
    path: Path,
    where: QueueFilter | None = None,
    *,
    fmt: str | None = None,
) -> int:
    """Write the latest revisions of the claims under the filter (default: status ``ready``) as
    contract JSONL or as one X12 837 interchange; returns the number of claims."""
    require(actor, Action.QUEUE_EXPORT)
    fmt = export_format(path, fmt)
    if fmt not in CLAIM_FORMATS:
        raise InvalidInput(f"claims export as {' or '.join(CLAIM_FORMATS)}, not {fmt}")
    where = where or QueueFilter(status="ready")
    found = latest_contents(session, where)
    if fmt == "jsonl":
        with open(path, "wb") as out:
            for _, content in found:
                out.write(orjson.dumps(content) + b"\n")
    else:
        claims = [Claim.model_validate(content) for _, content in found]
        claims.sort(key=lambda c: (c.claim_type, c.submission_date))  # one transaction per run
        write_837(claims, path)
    record(session, actor, AuditAction.EXPORT, detail={"format": fmt, "claims": len(found)})
    record_many(session, actor, AuditAction.EXPORT, [claim_id for claim_id, _ in found])
    session.commit()
    return len(found)
