"""Domain errors of the worklist services: what went wrong, in terms a route or a command can map.

The services know no HTTP; the REST layer maps these one-to-one (404, 409, 403, 422) and the CLI
prints them and exits 1 or 2. Messages never carry claim content (claims are PHI): an id, a field
path, a count or a status at most.
"""

from __future__ import annotations


class WorklistError(Exception):
    """Base class: every error a worklist service raises on purpose."""


class NotFound(WorklistError):
    """The claim, user or token named does not exist (404)."""


class Conflict(WorklistError):
    """The caller worked on a stale revision, or the name is taken (409): reload and retry."""


class Forbidden(WorklistError):
    """The user's role does not allow the action, or the user is disabled (403)."""


class InvalidInput(WorklistError):
    """The request is well-formed but not acceptable: an edit that breaks the claim, a status
    transition the workflow does not allow, a dismissal without a reason (422)."""


class AuthenticationFailed(WorklistError):
    """Wrong name, password or token (401). One message for every cause, so a caller cannot
    tell a missing user from a wrong password."""

    def __init__(self) -> None:
        super().__init__("authentication failed")
