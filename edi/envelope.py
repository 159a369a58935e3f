"""Envelope bookkeeping shared by the 837 and 835 readers.

Both readers must say the same thing when a file is cut short or a transaction is never closed,
so that a biller sees one vocabulary of X12 structure errors whatever the transaction set.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from claims.errors import RecordError


class EnvelopeState:
    """Tracks ISA/ST nesting and the claim being read; subclasses set ``claim_segment``."""

    claim_segment = "CLM"

    def __init__(self, source: str) -> None:
        self.source = source
        self.in_transaction = False
        self.open_interchange = False
        self.tx_position = 0
        self.claim: dict[str, Any] | None = None
        self.claim_position = 0

    def unclosed(self, pos: int, tag: str) -> RecordError:
        return RecordError(
            self.source, f"segment {pos} ({tag})",
            f"transaction started at segment {self.tx_position} has no SE",
        )

    def end_of_file(self, last_pos: int) -> Iterator[RecordError]:
        """What a truncated file leaves open: the claim being read, a transaction, an interchange."""
        if self.claim is not None:
            claim_id = self.claim["claim_id"] or None
            self.claim = None
            yield RecordError(
                self.source, f"segment {self.claim_position} ({self.claim_segment})",
                f"file ends at segment {last_pos} before the claim's transaction is closed (no SE): "
                "the claim may be incomplete",
                claim_id,
            )
        elif self.in_transaction:
            yield RecordError(self.source, f"segment {last_pos}", "file ends inside a transaction (no SE)")
        elif self.open_interchange:
            yield RecordError(self.source, f"segment {last_pos}", "file ends without IEA: it may be truncated")
