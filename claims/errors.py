"""Per-record problems found while reading input files.

A bad record never stops a run: readers yield a ``RecordError`` in its place and carry on, and
commands count them to choose the exit code (CONTRACT §5: 0 all handled, 1 some rejected).
The reason must never quote claim content (PHI); it names the field, segment or position instead.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RecordError:
    source: str  # the file name
    position: str  # "line 12", "segment 345 (CLM)", "transaction 2 (ST*837*0002)"
    reason: str
    claim_id: str | None = None

    def __str__(self) -> str:
        where = f"{self.source}: {self.position}"
        who = f" claim {self.claim_id}" if self.claim_id else ""
        return f"{where}:{who} {self.reason}"


class InputError(Exception):
    """The command cannot run at all (missing file, unknown format): exit code 2."""
