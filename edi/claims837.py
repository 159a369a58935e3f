"""837P (005010X222A1/A2) and 837I (005010X223A1/A2/A3) claims as contract ``Claim`` objects, streamed.

The reader walks the HL hierarchy itself (2000A billing provider, 2000B subscriber with the 2010BB
payer, optional 2000C patient) so that claims under a patient loop inherit their subscriber's payer
instead of being lost. It keeps only the claim being built in memory, so a file holding a million
claims in one ST-SE costs the same memory as one with a thousand.

A claim that cannot be read (a bad number, an unknown segment, a field the contract rejects) becomes
a ``RecordError`` naming the segment and its position; the reader then carries on with the next
claim, so one bad claim never costs the rest of the file. Reasons never quote claim content.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from claims.errors import RecordError
from claims.model import Claim
from edi.envelope import EnvelopeState
from edi.segments import BadSegment as _BadSegment
from edi.segments import Segment, SegmentReader, split_composite
from edi.segments import element as _element
from edi.segments import iso_date as _date
from edi.segments import number as _number

PAYER_TYPE_BY_SBR09: dict[str, str] = {
    "MA": "medicare",
    "MB": "medicare",
    "16": "medicare",
    "MC": "medicaid",
    "CI": "commercial",
    "BL": "commercial",
    "HM": "commercial",
    "12": "commercial",
    "13": "commercial",
    "14": "commercial",
    "15": "commercial",
}
PRINCIPAL_DIAGNOSIS = frozenset({"ABK", "BK"})
OTHER_DIAGNOSIS = frozenset({"ABF", "BF", "ABJ", "BJ", "APR", "PR", "ABN", "BN"})

# Every segment id an 837 (or its envelope) may carry; anything else is garbage, not an unread loop.
KNOWN_837_SEGMENTS = frozenset(
    "ISA IEA GS GE ST SE BHT NM1 N2 N3 N4 PER PRV REF HL SBR PAT DMG CUR CLM DTP PWK CN1 AMT K3 NTE "
    "CR1 CR2 CR3 CR4 CR5 CR6 CR7 CR8 CRC HI HCP CL1 QTY MEA OI MIA MOA SV1 SV2 SV3 SV4 SV5 SV6 SV7 "
    "TOO LX LIN CTP SVD CAS LQ FRM PS1 TA1".split()
)

# Sections of a claim: which loop the last segment opened, so that a REF or DTP is read only where
# it means what the contract says (a 2330B REF*G1 is the other payer's authorization, not ours).
_HEADER, _HEADER_OTHER, _LINE, _DRUG, _LINE_OTHER = range(5)


def _validation_reason(exc: ValidationError) -> str:
    """Field paths and messages only: pydantic's own text would quote the (PHI) input values."""
    parts = []
    for err in exc.errors(include_input=False, include_url=False)[:3]:
        loc = ".".join(str(p) for p in err["loc"])
        parts.append(f"{loc}: {err['msg']}" if loc else err["msg"])
    more = len(exc.errors()) - 3
    return "invalid claim: " + "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


class _Reader837(EnvelopeState):
    """State of one pass over an 837 file; ``run`` yields claims and errors in file order."""

    claim_segment = "CLM"

    def __init__(self, source: str, component: str) -> None:
        super().__init__(source)
        self.component = component
        self.version = ""  # GS08, replaced by ST03 when present
        self.submission_date: str | None = None
        self.saw_isa = False
        self._reset_hierarchy()

    def _reset_hierarchy(self) -> None:
        self.hl_level = ""
        self.hl_bad_position = 0
        self.billing_npi: str | None = None
        self.payer_id = ""
        self.payer_name: str | None = None
        self.payer_type = "other"

    # ---- claim assembly -------------------------------------------------------------------------

    def _open_claim(self, pos: int, seg: Segment) -> None:
        claim_id = _element(seg, 1)
        claim: dict[str, Any] = {
            "claim_id": claim_id,
            "payer": {"id": self.payer_id, "name": self.payer_name, "type": self.payer_type},
            "billing_provider_npi": self.billing_npi,
            "diagnosis_codes": [],
            "attachments": [],
            "lines": [],
        }
        self.claim = claim
        if self.submission_date is not None:
            claim["submission_date"] = self.submission_date
        self.claim_position = pos
        self.section = _HEADER
        self.line: dict[str, Any] | None = None
        self.line_attachments: list[dict[str, Any]] = []
        self.claim_dates: dict[str, str] = {}
        self.claim_error: tuple[int, str, str] | None = None
        if self.hl_level == "bad":
            self.claim_error = (pos, "CLM", f"claim is under an unreadable HL loop (segment {self.hl_bad_position})")
            return
        if self.hl_level not in ("22", "23"):
            self.claim_error = (pos, "CLM", "claim is not under a subscriber (HL 22) or patient (HL 23) loop")
            return
        try:
            total = _number(seg, 2, "total charge")
            if total is not None:
                claim["total_charge"] = total
            clm05 = split_composite(_element(seg, 5), self.component)
            facility = clm05[0]
            frequency = clm05[2] if len(clm05) > 2 else ""
            claim["place_of_service"] = facility or None
            if frequency:
                claim["frequency_code"] = frequency
            claim["_facility"] = facility
            claim["_frequency"] = frequency
        except _BadSegment as exc:
            self.claim_error = (pos, "CLM", str(exc))

    def _close_line(self) -> None:
        line = self.line
        if line is not None and self.claim is not None:
            self.claim["lines"].append(line)
            if self.line_attachments:
                self.claim["attachments"].extend(self.line_attachments)
                self.line_attachments = []
        self.line = None

    def _finish_claim(self) -> Claim | RecordError | None:
        claim = self.claim
        if claim is None:
            return None
        self._close_line()
        self.claim = None
        claim_id = claim["claim_id"] or None
        if self.claim_error is not None:
            pos, tag, reason = self.claim_error
            return RecordError(self.source, f"segment {pos} ({tag})", reason, claim_id)
        facility = claim.pop("_facility", "")
        frequency = claim.pop("_frequency", "")
        if "X223" in self.version:
            institutional = True
        elif "X222" in self.version:
            institutional = False
        else:
            institutional = any("revenue_code" in line for line in claim["lines"])
        if institutional:
            claim["claim_type"] = "institutional"
            claim["type_of_bill"] = facility + frequency if facility else None
            fallback = self.claim_dates.get("472") or self.claim_dates.get("434")
            if fallback is not None:
                for line in claim["lines"]:
                    if "service_date" not in line:
                        line["service_date"] = fallback
        try:
            return Claim.model_validate(claim)
        except ValidationError as exc:
            return RecordError(
                self.source, f"segment {self.claim_position} (CLM)", _validation_reason(exc), claim_id
            )

    # ---- segments inside a claim ----------------------------------------------------------------

    def _claim_segment(self, seg: Segment, tag: str) -> None:
        """Apply one segment to the open claim; raises _BadSegment when it cannot be read."""
        claim = self.claim
        assert claim is not None
        if tag == "LX":
            self._close_line()
            number = _element(seg, 1).strip()
            if not number.isdigit():
                raise _BadSegment("LX01 (line number) is not a whole number")
            self.line = {"line_number": int(number)}
            self.section = _LINE
        elif self.section == _HEADER:
            self._header_segment(claim, seg, tag)
        elif self.section != _HEADER_OTHER:
            assert self.line is not None
            self._line_segment(self.line, seg, tag)

    def _header_segment(self, claim: dict[str, Any], seg: Segment, tag: str) -> None:
        """Loop 2300 (the claim itself), until a 2310x provider or 2320 other-payer loop opens."""
        if tag == "HI":
            self._diagnoses(seg, claim["diagnosis_codes"])
        elif tag == "REF":
            qualifier = _element(seg, 1)
            if qualifier == "G1":
                claim["prior_authorization"] = _element(seg, 2)
            elif qualifier == "F8":  # the payer's number of the claim a 7/8 replaces
                claim["payer_claim_number"] = _element(seg, 2)
        elif tag == "PWK":
            claim["attachments"].append(self._attachment(seg, None))
        elif tag == "NTE":
            claim["note"] = _element(seg, 2)
        elif tag == "DTP":
            qualifier = _element(seg, 1)
            if qualifier in ("434", "472") and qualifier not in self.claim_dates:
                self.claim_dates[qualifier] = _date(_element(seg, 3))
        elif tag in ("NM1", "SBR", "OI", "MIA", "MOA", "CAS"):
            self.section = _HEADER_OTHER  # 2310x providers, 2320/2330x other payers

    def _line_segment(self, line: dict[str, Any], seg: Segment, tag: str) -> None:
        """Loops 2400 (the line) and 2410 (its drug), until a 2420x/2430/2440 loop opens."""
        section = self.section
        if tag in ("SV1", "SV2"):
            self._service(line, seg, tag)
        elif section == _LINE_OTHER:
            return
        elif tag == "LIN":
            self.section = _DRUG
            drug: dict[str, Any] = {}
            if _element(seg, 2) == "N4" and _element(seg, 3):
                drug["ndc"] = seg[3]
            line["drug"] = drug
        elif tag == "DTP":
            if _element(seg, 1) == "472":
                line["service_date"] = _date(_element(seg, 3))
        elif tag == "REF":
            self._line_reference(line, seg, section)
        elif tag == "CTP":
            if section == _DRUG:
                quantity = _number(seg, 4, "NDC quantity")
                if quantity is not None:
                    line["drug"]["quantity"] = quantity
                unit = split_composite(_element(seg, 5), self.component)[0]
                if unit:
                    line["drug"]["unit"] = unit
        elif tag == "PWK":
            if section == _LINE:
                self.line_attachments.append(self._attachment(seg, line["line_number"]))
        elif tag == "NTE":
            if section == _LINE:
                line["note"] = _element(seg, 2)
        elif tag in ("NM1", "SVD", "CAS", "LQ", "FRM"):
            self.section = _LINE_OTHER  # 2420x line providers, 2430 prior payer, 2440 forms

    @staticmethod
    def _line_reference(line: dict[str, Any], seg: Segment, section: int) -> None:
        qualifier = _element(seg, 1)
        if section == _DRUG:
            if qualifier == "XZ":
                line["drug"]["prescription_number"] = _element(seg, 2)
            elif qualifier == "VY":
                line["drug"]["link_sequence"] = _element(seg, 2)
        elif qualifier == "6R":
            line["line_control_number"] = _element(seg, 2)
        elif qualifier == "G1":
            line["prior_authorization"] = _element(seg, 2)

    def _service(self, line: dict[str, Any], seg: Segment, tag: str) -> None:
        """SV1 (professional) or SV2 (institutional): code, charge, unit basis, units, pointers."""
        if tag == "SV1":
            self._procedure(line, split_composite(_element(seg, 1), self.component))
            first_amount = 2
        else:
            revenue = _element(seg, 1)
            if revenue:
                line["revenue_code"] = revenue
            sv202 = _element(seg, 2)
            if sv202:
                self._procedure(line, split_composite(sv202, self.component))
            elif revenue:
                line["procedure_code"] = revenue  # room-and-board style line: no HCPCS was sent
            first_amount = 3
        charge = _number(seg, first_amount, "line charge")
        if charge is not None:
            line["charge"] = charge
        if len(seg) > first_amount + 1 and seg[first_amount + 1]:
            line["unit_basis"] = seg[first_amount + 1]
        units = _number(seg, first_amount + 2, "service units")
        if units is not None:
            line["units"] = units
        if tag == "SV1":
            pointers = _element(seg, 7)
            if pointers:
                line["diagnosis_pointers"] = self._pointers(pointers)

    def _procedure(self, line: dict[str, Any], parts: list[str]) -> None:
        if len(parts) > 1 and parts[1]:
            line["procedure_code"] = parts[1]
        modifiers = [m for m in parts[2:6] if m]
        if modifiers:
            line["modifiers"] = modifiers
        if len(parts) > 6 and parts[6]:
            line["description"] = parts[6]

    def _pointers(self, text: str) -> list[int]:
        pointers = []
        for part in split_composite(text, self.component):
            if not part:
                continue
            try:
                number = float(part)
            except ValueError:
                raise _BadSegment("SV107 (diagnosis pointer) is not a number") from None
            if number != int(number):
                raise _BadSegment("SV107 (diagnosis pointer) is not a whole number")
            pointers.append(int(number))
        return pointers

    def _diagnoses(self, seg: Segment, codes: list[str]) -> None:
        comp = self.component
        for element in seg[1:]:
            if not element:
                continue
            parts = split_composite(element, comp)
            qualifier = parts[0]
            if len(parts) < 2 or not parts[1]:
                continue
            if qualifier in PRINCIPAL_DIAGNOSIS:
                codes.insert(0, parts[1])
            elif qualifier in OTHER_DIAGNOSIS:
                codes.append(parts[1])

    @staticmethod
    def _attachment(seg: Segment, line_number: int | None) -> dict[str, Any]:
        attachment: dict[str, Any] = {
            "report_type": _element(seg, 1),
            "transmission": _element(seg, 2),
            "control_number": _element(seg, 6) or None,
        }
        if line_number is not None:
            attachment["line_number"] = line_number
        return attachment

    # ---- the walk -------------------------------------------------------------------------------

    def run(self, segments: Iterator[tuple[int, Segment]]) -> Iterator[Claim | RecordError]:
        last_pos = 0
        claim_segment = self._claim_segment
        for pos, seg in segments:
            last_pos = pos
            tag = seg[0]
            if self.claim is not None and tag not in _CLAIM_ENDERS:
                if self.claim_error is not None:
                    continue
                if tag in _INSIDE_CLAIM:
                    try:
                        claim_segment(seg, tag)
                    except _BadSegment as exc:
                        self.claim_error = (pos, tag, str(exc))
                else:
                    self.claim_error = (pos, tag[:8], "unknown segment inside the claim")
                continue
            if self.claim is not None:
                finished = self._finish_claim()
                if finished is not None:
                    yield finished
            yield from self._outside_claim(pos, seg, tag)
        yield from self.end_of_file(last_pos)

    def _outside_claim(self, pos: int, seg: Segment, tag: str) -> Iterator[RecordError]:
        """A segment between claims: a new claim, the hierarchy above claims, or the envelope."""
        if tag == "CLM":
            if not self.in_transaction:
                yield RecordError(self.source, f"segment {pos} (CLM)", "claim outside a transaction (no ST)",
                                  _element(seg, 1) or None)
                return
            self._open_claim(pos, seg)
        elif tag == "HL":
            yield from self._hierarchical_level(pos, _element(seg, 3))
        elif tag == "NM1":
            entity = _element(seg, 1)
            if entity == "85" and self.hl_level == "20":
                self.billing_npi = _element(seg, 9) or None
            elif entity == "PR" and self.hl_level == "22":
                self.payer_id = _element(seg, 9)
                self.payer_name = _element(seg, 3) or None
        elif tag == "SBR":
            if self.hl_level == "22":
                self.payer_type = PAYER_TYPE_BY_SBR09.get(_element(seg, 9), "other")
        elif tag == "ST":
            yield from self.start_transaction(pos, seg)
            if _element(seg, 3):
                self.version = seg[3]
            self._reset_hierarchy()
            self.submission_date = None
        elif tag == "BHT":
            bht04 = _element(seg, 4)
            self.submission_date = _date(bht04) if bht04 else None
        elif tag == "SE":
            yield from self.end_transaction(pos, seg)
        elif tag in ("GS", "GE", "IEA"):
            yield from self.end_group(pos, tag)
            if tag == "GS":
                self.version = _element(seg, 8)
        elif tag == "ISA":
            self.saw_isa = True
            self.open_interchange = True
        elif tag not in KNOWN_837_SEGMENTS:
            yield RecordError(self.source, f"segment {pos} ({tag[:8]})", "unknown segment")

    def _hierarchical_level(self, pos: int, level: str) -> Iterator[RecordError]:
        """HL: 20 billing provider, 22 subscriber (keeps the provider), 23 patient (needs a subscriber)."""
        if level == "20":
            self._reset_hierarchy()
            self.hl_level = "20"
        elif level == "22":
            npi = self.billing_npi
            self._reset_hierarchy()
            self.billing_npi = npi
            self.hl_level = "22"
        elif level == "23":
            if self.hl_level == "bad":
                pass  # still under the unreadable loop; reported once at its HL
            elif self.hl_level not in ("22", "23"):
                self.hl_level = "bad"
                self.hl_bad_position = pos
                yield RecordError(self.source, f"segment {pos} (HL)", "patient loop (HL 23) without a subscriber")
            else:
                self.hl_level = "23"
        else:
            self.hl_level = "bad"
            self.hl_bad_position = pos
            yield RecordError(self.source, f"segment {pos} (HL)", "unknown hierarchical level code in HL03")


_CLAIM_ENDERS = frozenset({"CLM", "HL", "SE", "ST", "GE", "GS", "IEA", "ISA"})
_INSIDE_CLAIM = KNOWN_837_SEGMENTS - _CLAIM_ENDERS


def iter_837(path: Path | str) -> Iterator[Claim | RecordError]:
    """Claims of an 837P/837I file in file order, a ``RecordError`` in place of each unreadable one.

    Raises ``edi.segments.X12FormatError`` (a ``ValueError``) when the file is not X12 at all.
    """
    path = Path(path)
    with SegmentReader(path) as reader:
        yield from _Reader837(path.name, reader.delimiters.component).run(iter(reader))
