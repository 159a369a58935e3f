"""Envelope bookkeeping shared by the 837 and 835 readers.

Both readers must say the same thing when a file is cut short or a transaction is never closed,
so that a biller sees one vocabulary of X12 structure errors whatever the transaction set.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from claims.errors import RecordError
from edi.segments import Segment, element


class EnvelopeState:
    """Tracks ISA/ST nesting and the claim being read; subclasses set ``claim_segment``."""

    claim_segment = "CLM"

    def __init__(self, source: str) -> None:
        self.source = source
        self.in_transaction = False
        self.open_interchange = False
        self.tx_position = 0
        self.tx_count = 0
        self.tx_control = ""
        self.claim: dict[str, Any] | None = None
        self.claim_position = 0

    def start_transaction(self, pos: int, seg: Segment) -> Iterator[RecordError]:
        """ST: a transaction still open is reported unclosed, and this one starts counting."""
        if self.in_transaction:
            yield self.unclosed(pos, "ST")
        self.in_transaction = True
        self.tx_position = pos
        self.tx_count = 1
        self.tx_control = element(seg, 2)

    def end_transaction(self, pos: int, seg: Segment) -> Iterator[RecordError]:
        """SE: its segment count (SE01) and control number (SE02) must match what was read."""
        if not self.in_transaction:
            yield RecordError(self.source, f"segment {pos} (SE)", "SE without a matching ST")
            return
        self.in_transaction = False
        self.tx_count = pos - self.tx_position + 1  # positions count every segment
        count = element(seg, 1).strip()
        if count != str(self.tx_count):
            yield RecordError(
                self.source, f"segment {pos} (SE)",
                f"SE01 says {count or 'nothing'} segments but the transaction started at segment "
                f"{self.tx_position} has {self.tx_count}",
            )
        if element(seg, 2) != self.tx_control:
            yield RecordError(self.source, f"segment {pos} (SE)", "SE02 does not match ST02")

    def end_group(self, pos: int, tag: str) -> Iterator[RecordError]:
        """GS, GE or IEA: no transaction may still be open; IEA closes the interchange."""
        if self.in_transaction:
            yield self.unclosed(pos, tag)
            self.in_transaction = False
        if tag == "IEA":
            self.open_interchange = False

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
