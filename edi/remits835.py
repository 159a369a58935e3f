"""835 remittances (005010X221A1) as CONTRACT §6 rows, with the outcome label training learns from.

One row per 2110 service line, or one row for a claim paid without lines. Each row carries the
claim-level CAS (``level: "claim"``) as well as its own line-level CAS, and its remarks are the
line's ``LQ*HE`` codes followed by the claim's MOA/MIA codes: a row must be labelled without
looking at its siblings, because training and the join with 837 lines work row by row.

The outcome rules (CONTRACT §6, domain.md §2.2) live in :func:`classify_outcome`; reversals,
replacements and split claims are netted by ``claims.netting``, separately, because the reader
streams and netting needs every adjudication of a claim (which may sit in different files).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from claims.errors import RecordError
from claims.model import MAX_MONEY
from edi.envelope import EnvelopeState
from edi.segments import BadSegment as _BadSegment
from edi.segments import Segment, SegmentReader, split_composite
from edi.segments import element as _element
from edi.segments import iso_date as _date
from edi.segments import number as _number

# CARCs that are contractual or patient-share style adjustments, never a denial of payment:
# fee schedule (45, legacy 42), sequestration (253), prior payer (23), processed in excess of
# charges (94), multiple-procedure rules (59), contractual (A2), capitation (24), incentive (144),
# negotiated discount (131), managed-care withholding (104).
CONTRACTUAL_REASONS = frozenset({"45", "42", "253", "23", "94", "59", "A2", "24", "144", "131", "104"})
PATIENT_GROUP = "PR"
PENDING_REASON = "133"  # OA-133: disposition pending further review
EXCLUDED_STATUSES = frozenset({"22", "23", "25"})  # reversal, not our claim, predetermination
REVERSAL_STATUS = "22"
DENIED_STATUS = "4"
EPSILON = 0.005  # half a cent: money is compared after two-decimal rounding by payers

KNOWN_835_SEGMENTS = frozenset(
    "ISA IEA GS GE ST SE BPR TRN CUR REF DTM N1 N2 N3 N4 PER RDM LX TS3 TS2 CLP CAS NM1 MIA MOA AMT "
    "QTY SVC LQ PLB TA1".split()
)


def classify_outcome(
    *,
    claim_status: str,
    charge: float | None,
    paid: float | None,
    adjustments: Sequence[Mapping[str, Any]],
    claim_charge: float | None = None,
    claim_paid: float | None = None,
) -> str:
    """The §6 outcome of one row: ``denied``, ``reduced``, ``paid`` or ``excluded``.

    ``adjustments`` are the row's claim- and line-level CAS; ``claim_charge``/``claim_paid``
    (CLP03/CLP04) decide whether claim-level CAS deny the whole claim, defaulting to the row's
    own figures (a claim without lines). Denied: nothing paid, some non-contractual reason, and the
    non-patient adjustments cover what the patient does not owe. Patient share (group PR) and
    contractual reasons alone never deny: a $0 line that went to the deductible is paid.
    """
    if claim_status in EXCLUDED_STATUSES:
        return "excluded"
    # [claim, line] totals of denial (non-patient, non-contractual), contractual and patient share
    denial = [0.0, 0.0]
    contractual = [0.0, 0.0]
    patient = [0.0, 0.0]
    for adj in adjustments:
        reason = adj["reason"]
        if reason == PENDING_REASON:
            return "excluded"
        level = 0 if adj["level"] == "claim" else 1
        if adj["group"] == PATIENT_GROUP:
            patient[level] += float(adj["amount"])
        elif reason in CONTRACTUAL_REASONS:
            contractual[level] += float(adj["amount"])
        else:
            denial[level] += float(adj["amount"])
    if claim_status == DENIED_STATUS:
        return "denied"
    totals = (
        (claim_charge if claim_charge is not None else (charge or 0.0),
         claim_paid if claim_paid is not None else (paid or 0.0)),
        (charge or 0.0, paid or 0.0),
    )
    for level in (0, 1):  # a claim-level denial of the whole claim denies every line
        level_charge, level_paid = totals[level]
        if (
            denial[level] > EPSILON
            and abs(level_paid) <= EPSILON
            and denial[level] + contractual[level] >= level_charge - patient[level] - EPSILON
        ):
            return "denied"
    if denial[0] > EPSILON or denial[1] > EPSILON:
        return "reduced"
    return "paid"


def _valid_date(value: str) -> str | None:
    """An ISO date for the paid-date extension, or None: a bad BPR16 must not cost the claims."""
    iso = _date(value)
    try:
        dt.date.fromisoformat(iso)
    except ValueError:
        return None
    return iso


def _adjustments(seg: Segment, level: str) -> list[dict[str, Any]]:
    """All (up to 6) reason/amount triplets of one CAS."""
    group = _element(seg, 1)
    found = []
    for start in range(2, min(len(seg), 20), 3):
        reason = seg[start]
        if not reason:
            continue
        amount = _number(seg, start + 1, "adjustment amount")
        if amount is None:
            raise _BadSegment(f"CAS{start + 1:02d} (adjustment amount) is missing")
        found.append({"level": level, "group": group, "reason": reason, "amount": amount})
    return found


def _finite(value: float | None) -> bool:
    return value is None or (math.isfinite(value) and abs(value) <= MAX_MONEY)


def _row_problem(row: dict[str, Any]) -> str | None:
    """The first way a row breaks ``claims.remittance.RemitRow``, or None.

    Checked by hand because the reader already fixes every type (strings, floats, ISO dates as
    text); ``RemitRow.model_validate`` per row would cost a third of the read time. The tests
    validate every row the reader produces against the model.
    """
    if not 1 <= len(row["claim_id"]) <= 38:
        return "claim_id: CLP01 must have 1 to 38 characters"
    if not 1 <= len(row["claim_status"]) <= 2:
        return "claim_status: CLP02 must have 1 or 2 characters"
    if not (_finite(row["charge"]) and _finite(row["paid"]) and _finite(row["units_paid"])):
        return "charge, paid or units_paid is not a finite amount"
    for adj in row["adjustments"]:
        if len(adj["group"]) != 2 or not 1 <= len(adj["reason"]) <= 5 or not _finite(adj["amount"]):
            return "adjustments: CAS group must have 2 characters, reason 1 to 5, amount finite"
    if row["service_date"] is not None and _valid_date(row["service_date"]) != row["service_date"]:
        return "service_date: not a valid date"
    return None


class _Reader835(EnvelopeState):
    """State of one pass over an 835 file; ``run`` yields remittance rows and errors in file order."""

    claim_segment = "CLP"

    def __init__(self, source: str, component: str) -> None:
        super().__init__(source)
        self.component = component
        self.paid_date: str | None = None
        self.payer_id: str | None = None
        self.sequence = 0

    def _open_claim(self, pos: int, seg: Segment) -> None:
        self.sequence += 1
        self.claim_position = pos
        self.claim_error: tuple[int, str, str] | None = None
        self.claim = {
            "claim_id": _element(seg, 1),
            "payer_claim_id": _element(seg, 7) or None,
            "claim_status": _element(seg, 2),
        }
        self.claim_adjustments: list[dict[str, Any]] = []
        self.claim_remarks: list[str] = []
        self.claim_date: str | None = None
        self.lines: list[dict[str, Any]] = []
        self.line: dict[str, Any] | None = None
        try:
            self.claim_charge = _number(seg, 3, "claim charge")
            self.claim_paid = _number(seg, 4, "claim payment")
        except _BadSegment as exc:
            self.claim_error = (pos, "CLP", str(exc))

    def _claim_segment(self, seg: Segment, tag: str) -> None:
        line = self.line
        if tag == "SVC":
            parts = split_composite(_element(seg, 1), self.component)
            line = {
                "line_control_number": None,
                "procedure_code": parts[1] if len(parts) > 1 and parts[1] else None,
                "modifiers": [m for m in parts[2:6] if m],
                "charge": _number(seg, 2, "line charge"),
                "paid": _number(seg, 3, "line payment"),
                "units_paid": _number(seg, 5, "units paid"),
                "service_date": None,
                "_adjustments": [],
                "_remarks": [],
            }
            self.line = line
            self.lines.append(line)
        elif tag == "CAS":
            if line is None:
                self.claim_adjustments.extend(_adjustments(seg, "claim"))
            else:
                line["_adjustments"].extend(_adjustments(seg, "line"))
        elif tag == "LQ":
            if line is not None and _element(seg, 1) == "HE" and _element(seg, 2):
                line["_remarks"].append(seg[2])
        elif tag == "DTM":
            qualifier = _element(seg, 1)
            if line is None:
                if qualifier == "232" and self.claim_date is None:
                    self.claim_date = _date(_element(seg, 2))
            elif qualifier == "472" or (qualifier == "150" and line["service_date"] is None):
                line["service_date"] = _date(_element(seg, 2))
        elif tag == "REF":
            if line is not None and _element(seg, 1) == "6R":
                line["line_control_number"] = _element(seg, 2) or None
        elif tag == "MOA":
            if line is None:
                self.claim_remarks.extend(code for code in seg[3:8] if code)
        elif tag == "MIA":
            if line is None:
                codes = [_element(seg, 5)] + seg[20:24]
                self.claim_remarks.extend(code for code in codes if code)

    def _finish_claim(self) -> Iterator[dict[str, Any] | RecordError]:
        claim = self.claim
        if claim is None:
            return
        self.claim = None
        claim_id = claim["claim_id"] or None
        if self.claim_error is not None:
            pos, tag, reason = self.claim_error
            yield RecordError(self.source, f"segment {pos} ({tag})", reason, claim_id)
            return
        common = {
            "payer_id": self.payer_id,
            "paid_date": self.paid_date,
            "sequence": self.sequence,
        }
        status = claim["claim_status"]
        claim_charge = self.claim_charge
        claim_paid = self.claim_paid
        rows: list[dict[str, Any]] = []
        if not self.lines:
            adjustments = list(self.claim_adjustments)
            rows.append({
                **claim,
                "line_control_number": None,
                "procedure_code": None,
                "modifiers": [],
                "charge": claim_charge,
                "paid": claim_paid,
                "units_paid": None,
                "service_date": self.claim_date,
                "adjustments": adjustments,
                "remarks": list(self.claim_remarks),
                "outcome": classify_outcome(
                    claim_status=status, charge=claim_charge, paid=claim_paid, adjustments=adjustments
                ),
                **common,
            })
        else:
            for line in self.lines:
                adjustments = self.claim_adjustments + line.pop("_adjustments")
                remarks = line.pop("_remarks") + self.claim_remarks
                rows.append({
                    **claim,
                    **line,
                    "adjustments": adjustments,
                    "remarks": remarks,
                    "outcome": classify_outcome(
                        claim_status=status, charge=line["charge"], paid=line["paid"],
                        adjustments=adjustments, claim_charge=claim_charge, claim_paid=claim_paid,
                    ),
                    **common,
                })
        for row in rows:
            problem = _row_problem(row)
            if problem is not None:
                yield RecordError(self.source, f"segment {self.claim_position} (CLP)",
                                  f"invalid remittance row: {problem}", claim_id)
                return
        yield from rows

    def run(self, segments: Iterator[tuple[int, Segment]]) -> Iterator[dict[str, Any] | RecordError]:
        source = self.source
        last_pos = 0
        for pos, seg in segments:
            last_pos = pos
            tag = seg[0]
            if self.claim is not None:
                if tag in _CLAIM_SEGMENTS:
                    if self.claim_error is None:
                        try:
                            self._claim_segment(seg, tag)
                        except _BadSegment as exc:
                            self.claim_error = (pos, tag, str(exc))
                    continue
                if tag not in KNOWN_835_SEGMENTS:
                    if self.claim_error is None:
                        self.claim_error = (pos, tag[:8], "unknown segment inside the claim")
                    continue
                yield from self._finish_claim()
            if tag == "CLP":
                if not self.in_transaction:
                    yield RecordError(source, f"segment {pos} (CLP)", "claim outside a transaction (no ST)",
                                      _element(seg, 1) or None)
                    continue
                self._open_claim(pos, seg)
            elif tag == "BPR":
                self.paid_date = _valid_date(_element(seg, 16)) or self.paid_date
            elif tag == "DTM":
                if _element(seg, 1) == "405" and self.paid_date is None:
                    self.paid_date = _valid_date(_element(seg, 2))
            elif tag == "N1":
                if _element(seg, 1) == "PR":
                    self.payer_id = _element(seg, 4) or _element(seg, 2) or None
            elif tag == "ST":
                yield from self.start_transaction(pos, seg)
                self.paid_date = None
                self.payer_id = None
            elif tag == "SE":
                yield from self.end_transaction(pos, seg)
            elif tag in ("GS", "GE", "IEA"):
                yield from self.end_group(pos, tag)
            elif tag == "ISA":
                self.open_interchange = True
            elif tag not in KNOWN_835_SEGMENTS:
                yield RecordError(source, f"segment {pos} ({tag[:8]})", "unknown segment")
        yield from self.end_of_file(last_pos)


# Segments that belong to a claim (2100/2110); anything else known ends it (LX, PLB, SE, CLP ...).
_CLAIM_SEGMENTS = frozenset({"CAS", "NM1", "MIA", "MOA", "REF", "DTM", "PER", "AMT", "QTY", "SVC", "LQ"})


def iter_835(path: Path | str) -> Iterator[dict[str, Any] | RecordError]:
    """§6 rows of an 835 in file order (JSON-ready dicts), a ``RecordError`` per unreadable claim.

    Rows are not netted: ``claims.netting.net_remittance_rows`` says which adjudications stand. Raises ``edi.segments.X12FormatError`` when the file is not X12 at all.
    """
    path = Path(path)
    with SegmentReader(path) as reader:
        yield from _Reader835(path.name, reader.delimiters.component).run(iter(reader))
