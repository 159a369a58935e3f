"""Roles and what each may do: the one table every route, page and command consults.

Permissions live in one place so that the REST routes, the web pages and the CLI cannot drift
apart: a route asks ``allowed(role, action)`` (or a service calls ``require``), never compares role
names itself. Roles are ordered: a biller works the queue; an analyst also imports remittances,
re-scores and reads results and model pages; an admin also manages users, reads the audit trail
and reloads models.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from worklist.errors import Forbidden, InvalidInput


class Role(StrEnum):
    BILLER = "biller"
    ANALYST = "analyst"
    ADMIN = "admin"


ROLE_RANK: dict[Role, int] = {Role.BILLER: 1, Role.ANALYST: 2, Role.ADMIN: 3}


class Action(StrEnum):
    QUEUE_READ = "queue.read"
    CLAIM_VIEW = "claim.view"
    CLAIM_EDIT = "claim.edit"
    CLAIM_STATUS = "claim.status"
    CLAIM_ASSIGN = "claim.assign"
    CLAIM_NOTE = "claim.note"
    WHAT_IF = "claim.what_if"
    CLAIMS_IMPORT = "claims.import"
    QUEUE_EXPORT = "queue.export"
    OUTCOMES_IMPORT = "outcomes.import"
    RESULTS_READ = "results.read"
    RESCORE = "queue.rescore"
    MODEL_READ = "model.read"
    MODEL_RELOAD = "model.reload"
    USERS_MANAGE = "users.manage"
    AUDIT_READ = "audit.read"


# The least role that may perform each action (higher roles inherit it).
MINIMUM_ROLE: dict[Action, Role] = {
    Action.QUEUE_READ: Role.BILLER,
    Action.CLAIM_VIEW: Role.BILLER,
    Action.CLAIM_EDIT: Role.BILLER,
    Action.CLAIM_STATUS: Role.BILLER,
    Action.CLAIM_ASSIGN: Role.BILLER,
    Action.CLAIM_NOTE: Role.BILLER,
    Action.WHAT_IF: Role.BILLER,
    Action.CLAIMS_IMPORT: Role.BILLER,
    Action.QUEUE_EXPORT: Role.BILLER,
    Action.OUTCOMES_IMPORT: Role.ANALYST,
    Action.RESULTS_READ: Role.ANALYST,
    Action.RESCORE: Role.ANALYST,
    Action.MODEL_READ: Role.ANALYST,
    Action.MODEL_RELOAD: Role.ADMIN,
    Action.USERS_MANAGE: Role.ADMIN,
    Action.AUDIT_READ: Role.ADMIN,
}


def allowed(role: str, action: Action | str) -> bool:
    """May a user of ``role`` perform ``action``? Unknown roles and actions are never allowed."""
    try:
        need = MINIMUM_ROLE[Action(action)]
        return ROLE_RANK[Role(role)] >= ROLE_RANK[need]
    except ValueError:
        return False


class Actor(Protocol):
    """What permission checks read of a user (the ORM ``User`` has these)."""

    name: str
    role: str
    disabled: bool


def require(actor: Actor, action: Action) -> None:
    """Raise ``Forbidden`` unless the (enabled) actor's role allows ``action``."""
    if actor.disabled:
        raise Forbidden(f"user {actor.name!r} is disabled")
    if not allowed(actor.role, action):
        raise Forbidden(f"the role {actor.role!r} may not perform {action.value!r}")


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidInput(f"unknown role {value!r}; expected one of {', '.join(r.value for r in Role)}") from None
