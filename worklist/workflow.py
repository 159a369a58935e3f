"""Working a claim: view, edit (a new revision, re-scored), what-if, status, assignee, notes, rescore.

Concurrency is optimistic: every change names the revision the caller saw, and the change is one
conditional ``UPDATE ... WHERE id = :pk AND revision = :expected`` whose row count decides. Two
billers saving over the same revision: one wins, the other gets ``Conflict`` (409) and reloads;
nothing is silently overwritten, and no lock is held while a person thinks. Status changes also
check the status they start from, so two people moving the same claim cannot both succeed.

The workflow is one table (``TRANSITIONS``): new -> in_review -> fixed -> ready -> sent, or
dismissed with a reason from any open status; a dismissed claim can be reopened.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from claims.columnar import from_claims
from worklist.audit import AuditAction, record
from worklist.content import (
    apply_edits,
    canonical,
    changed_paths,
    claim_facts,
    frame_of,
    sha256,
    validate_record,
)
from worklist.errors import Conflict, InvalidInput, NotFound
from worklist.importing import QUEUE, REVISIONS, store_scores
from worklist.models import ClaimRevision, ClaimScore, Note, QueueClaim, User
from worklist.roles import Action, require
from worklist.scoring import ClaimScorer, family_probabilities, score_frame

OPEN_STATUSES = ("new", "in_review", "fixed", "ready")
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"in_review", "dismissed"}),
    "in_review": frozenset({"new", "fixed", "ready", "dismissed"}),
    "fixed": frozenset({"in_review", "ready", "dismissed"}),
    "ready": frozenset({"in_review", "sent", "dismissed"}),
    "sent": frozenset(),
    "dismissed": frozenset({"new"}),
}
MAX_NOTE_CHARS = 4000


@dataclass(frozen=True)
class ClaimView:
    """One queue claim as a claim page shows it: content, current score, workflow, history."""

    claim_id: str
    revision: int
    status: str
    dismiss_reason: str | None
    assignee: str | None
    content: dict[str, Any]
    score: dict[str, Any]
    revisions: list[dict[str, Any]]
    notes: list[dict[str, Any]]


def _queue_claim(session: Session, claim_id: str) -> QueueClaim:
    found = session.scalar(select(QueueClaim).where(QueueClaim.claim_id == claim_id))
    if found is None:
        raise NotFound(f"no claim {claim_id!r} in the queue")
    return found


def _revision(session: Session, claim: QueueClaim) -> ClaimRevision:
    found = session.scalar(
        select(ClaimRevision).where(ClaimRevision.claim_pk == claim.id, ClaimRevision.revision == claim.revision)
    )
    if found is None:
        raise NotFound(f"claim {claim.claim_id!r} has no revision {claim.revision}")
    return found


def _latest_score(session: Session, revision: ClaimRevision) -> dict[str, Any]:
    score = session.scalar(
        select(ClaimScore).where(ClaimScore.revision_id == revision.id).order_by(ClaimScore.id.desc()).limit(1)
    )
    if score is None:
        return {}
    return {
        "risk": score.risk,
        "decision": score.decision,
        "threshold": score.threshold,
        "expected_loss": score.expected_loss,
        "risk_if_all_fixed": score.risk_if_all_fixed,
        "recoverable": score.recoverable,
        "best_fix": score.best_fix,
        "best_fix_line": score.best_fix_line,
        "risk_if_best_fixed": score.risk_if_best_fixed,
        "top_reason": score.top_reason,
        "top_reason_probability": score.top_reason_probability,
        # every family's probability (None: no reason heads); serving turns it into the API's
        # ``reasons`` list with the fired rules (``worklist.scoring`` says why it is kept this way)
        "reason_probabilities": family_probabilities(score.reasons),
        "model_version": score.model_version,
        "rules_version": score.rules_version,
        "reference_data_version": score.reference_data_version,
        "scored_at": score.scored_at.isoformat(),
        "rules": orjson.loads(score.rules),
    }


def get_claim(session: Session, actor: User, claim_id: str) -> ClaimView:
    """A claim page's data; the view is audited (who looked at which claim, and when)."""
    require(actor, Action.CLAIM_VIEW)
    claim = _queue_claim(session, claim_id)
    current = _revision(session, claim)
    history = session.execute(
        select(ClaimRevision.revision, ClaimRevision.created_at, User.name, ClaimRevision.changed_fields)
        .outerjoin(User, User.id == ClaimRevision.created_by)
        .where(ClaimRevision.claim_pk == claim.id)
        .order_by(ClaimRevision.revision)
    )
    notes = session.execute(
        select(Note.created_at, User.name, Note.text)
        .join(User, User.id == Note.author_id)
        .where(Note.claim_pk == claim.id)
        .order_by(Note.id)
    )
    assignee = session.get(User, claim.assignee_id) if claim.assignee_id is not None else None
    view = ClaimView(
        claim_id=claim.claim_id,
        revision=claim.revision,
        status=claim.status,
        dismiss_reason=claim.dismiss_reason,
        assignee=assignee.name if assignee is not None else None,
        content=orjson.loads(current.content),
        score=_latest_score(session, current),
        revisions=[
            {"revision": n, "at": at.isoformat(), "by": by, "changed": orjson.loads(ch) if ch else None}
            for n, at, by, ch in history
        ],
        notes=[{"at": at.isoformat(), "by": by, "text": text} for at, by, text in notes],
    )
    record(session, actor, AuditAction.VIEW, claim_id=claim_id)
    session.commit()
    return view


def current_content(session: Session, actor: User, claim_id: str) -> dict[str, Any]:
    """The current revision's content, for an edit form to compute its edits against. Not audited
    as a view: the what-if or save that follows is audited, and the page showing it already was."""
    require(actor, Action.CLAIM_VIEW)
    content: dict[str, Any] = orjson.loads(_revision(session, _queue_claim(session, claim_id)).content)
    return content


def what_if(session: Session, actor: User, claim_id: str, edits: dict[str, Any], scorer: ClaimScorer) -> dict[str, Any]:
    """The score the claim would get with ``edits`` applied (CONTRACT §4 answer); nothing is saved."""
    require(actor, Action.WHAT_IF)
    claim = _queue_claim(session, claim_id)
    edited = apply_edits(orjson.loads(_revision(session, claim).content), edits)
    # framed as /v1/score frames a claim (the skew test holds both readers equal): Arrow's JSON
    # reader costs ~2.5 ms of set-up for one claim, a tenth of the what-if's 20 ms budget
    answer = scorer.score(from_claims([validate_record(edited)]))[0]
    record(session, actor, AuditAction.WHAT_IF, claim_id=claim_id, detail={"fields": sorted(edits)})
    session.commit()
    return answer


def edit_claim(
    session: Session,
    actor: User,
    claim_id: str,
    edits: dict[str, Any],
    expected_revision: int,
    scorer: ClaimScorer,
) -> int:
    """Save ``edits`` as a new revision (the original stays), re-scored; returns its number.
    ``Conflict`` when the claim is no longer at ``expected_revision``."""
    require(actor, Action.CLAIM_EDIT)
    claim = _queue_claim(session, claim_id)
    if claim.status not in OPEN_STATUSES:
        raise InvalidInput(f"a {claim.status} claim cannot be edited")
    if claim.revision != expected_revision:
        raise Conflict(f"claim {claim_id!r} is at revision {claim.revision}, not {expected_revision}")
    before = orjson.loads(_revision(session, claim).content)
    after = apply_edits(before, edits)
    changed = changed_paths(before, after)
    if not changed:
        raise InvalidInput("the edits change nothing")
    content = canonical(after)
    frame = frame_of([content])
    score = score_frame(scorer, frame)[0]
    facts = claim_facts(frame)
    now = dt.datetime.now(dt.UTC)
    values = {
        **score.queue_values(),
        "revision": expected_revision + 1,
        "content_sha256": sha256(content),
        "payer_id": facts.payer_id[0],
        "payer_type": facts.payer_type[0],
        "claim_type": facts.claim_type[0],
        "submission_date": facts.submission_date[0],
        "filing_deadline": facts.filing_deadline[0],
        "updated_at": now,
    }
    _conditional_update(session, claim, expected_revision, values)
    revision_id = session.execute(
        REVISIONS.insert().returning(REVISIONS.c.id),
        {
            "claim_pk": claim.id,
            "revision": expected_revision + 1,
            "content": content.decode(),
            "content_sha256": values["content_sha256"],
            "changed_fields": orjson.dumps(changed).decode(),
            "created_by": actor.id,
            "created_at": now,
        },
    ).scalar_one()
    store_scores(session, [claim.id], [revision_id], [score], now, replace_rules=True)
    record(session, actor, AuditAction.EDIT, claim_id=claim_id, detail={"revision": expected_revision + 1, "fields": changed})
    session.commit()
    return expected_revision + 1


def _conditional_update(
    session: Session, claim: QueueClaim, expected_revision: int, values: dict[str, Any], *, status: str | None = None
) -> None:
    """The optimistic lock: change the row only if it is still at ``expected_revision`` (and in
    ``status`` when given); otherwise roll back and raise ``Conflict``."""
    query = update(QUEUE).where(QUEUE.c.id == claim.id, QUEUE.c.revision == expected_revision)
    if status is not None:
        query = query.where(QUEUE.c.status == status)
    if session.connection().execute(query.values(**values)).rowcount != 1:
        session.rollback()
        raise Conflict(f"claim {claim.claim_id!r} was changed by someone else; reload it")
    session.expire(claim)


def set_status(
    session: Session, actor: User, claim_id: str, status: str, expected_revision: int, reason: str | None = None
) -> None:
    """Move a claim along the workflow (``TRANSITIONS``); dismissing needs a reason."""
    require(actor, Action.CLAIM_STATUS)
    claim = _queue_claim(session, claim_id)
    if status not in TRANSITIONS:
        raise InvalidInput(f"unknown status {status!r}")
    if status not in TRANSITIONS[claim.status]:
        raise InvalidInput(f"a claim cannot go from {claim.status} to {status}")
    if status == "dismissed" and not (reason and reason.strip()):
        raise InvalidInput("dismissing a claim needs a reason")
    old = claim.status
    values = {
        "status": status,
        "dismiss_reason": reason.strip()[:200] if status == "dismissed" and reason else None,
        "updated_at": dt.datetime.now(dt.UTC),
    }
    _conditional_update(session, claim, expected_revision, values, status=old)
    record(session, actor, AuditAction.STATUS, claim_id=claim_id, detail={"from": old, "to": status})
    session.commit()


def assign(session: Session, actor: User, claim_id: str, assignee: str | None, expected_revision: int) -> None:
    """Give the claim to a user (None: unassign)."""
    require(actor, Action.CLAIM_ASSIGN)
    claim = _queue_claim(session, claim_id)
    user_id = None
    if assignee is not None:
        user = session.scalar(select(User).where(User.name == assignee))
        if user is None or user.disabled:
            raise InvalidInput(f"no enabled user {assignee!r}")
        user_id = user.id
    values = {"assignee_id": user_id, "updated_at": dt.datetime.now(dt.UTC)}
    _conditional_update(session, claim, expected_revision, values)
    record(session, actor, AuditAction.ASSIGN, claim_id=claim_id, detail={"assignee": assignee})
    session.commit()


def add_note(session: Session, actor: User, claim_id: str, text: str) -> None:
    """Append a note (notes are never edited; the audit event does not copy the text)."""
    require(actor, Action.CLAIM_NOTE)
    if not text.strip() or len(text) > MAX_NOTE_CHARS:
        raise InvalidInput(f"a note is 1..{MAX_NOTE_CHARS} characters")
    claim = _queue_claim(session, claim_id)
    session.add(Note(claim_pk=claim.id, author_id=actor.id, text=text))
    record(session, actor, AuditAction.NOTE, claim_id=claim_id)
    session.commit()
