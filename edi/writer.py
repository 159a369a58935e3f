"""837P/837I and 835 writers: contract claims and §6 rows out as X12 5010 that pyx12 accepts.

The synthetic payer writes its history through these, and ``iter_837``/``iter_835`` must read
back the very same records, so every mapping here is the exact inverse of the readers:

* claims go into one transaction per run of consecutive claims with the same claim type and
  submission date (BHT04 is per transaction), at most ``claims_per_transaction`` each; sort by
  submission date for compact files;
* diagnosis codes are written as given (send them without dots, as X12 does); attachments with a
  line number go under that line, so the reader returns claim-level attachments first, then the
  lines' in line order; an 837I's CLM05 is ``place_of_service:A:frequency_code`` and the reader
  rebuilds ``type_of_bill`` from it, so keep ``type_of_bill == place_of_service + frequency_code``;
* 835 rows are grouped into one CLP per run of rows with the same claim id, status, payer claim
  id and sequence; claim-level adjustments are taken from the first row of the claim (the reader
  repeats them on every row), a row's remarks become ``LQ*HE`` on its line (``MOA`` for a claim
  without lines), ``sequence`` is not written (the reader numbers CLPs from 1 in file order) and
  ``outcome`` is recomputed by the reader (produce it with ``edi.remits835.classify_outcome``).

Names, addresses and member ids that the contract does not carry are fixed placeholders: they
are required by the TR3 but no claim content. Free text loses the four delimiter characters.
Writing is string building in bulk (about 1M claims in well under a minute).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TextIO

from claims.model import Claim, Line

ELEMENT, COMPONENT, REPETITION, TERMINATOR = "*", ":", "^", "~"
SEGMENT_END = TERMINATOR + "\n"
VERSION_837P = "005010X222A1"
VERSION_837I = "005010X223A2"
VERSION_835 = "005010X221A1"
SUBMITTER_ID = "CLAIMRISK"
RECEIVER_ID = "RECEIVER"

_SBR09_PROFESSIONAL = {"medicare": "MB", "medicaid": "MC", "commercial": "CI", "other": "ZZ"}
_SBR09_INSTITUTIONAL = {"medicare": "MA", "medicaid": "MC", "commercial": "CI", "other": "ZZ"}
_CLEAN = str.maketrans({ELEMENT: " ", COMPONENT: " ", REPETITION: " ", TERMINATOR: " "})


def _text(value: str | None) -> str:
    """Free text without delimiter characters (they would split the element)."""
    if value is None:
        return ""
    return value.translate(_CLEAN)


def _num(value: float | None) -> str:
    """X12 decimal (type R): two decimals when exact, else the shortest exact form, never an exponent."""
    if value is None:
        return ""
    fixed = f"{value:.2f}"
    if float(fixed) == value:
        return fixed
    shortest = repr(value)
    if "e" in shortest or "E" in shortest:
        return f"{value:.12f}".rstrip("0").rstrip(".")
    return shortest


def _money(value: float) -> str:
    return f"{round(value, 2):.2f}"


def _d8(value: dt.date | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace("-", "")
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"


def _isa(control: int, sender: str, receiver: str, now: dt.datetime) -> str:
    return (
        f"ISA*00*{'':10}*00*{'':10}*ZZ*{sender:<15}*ZZ*{receiver:<15}*{now:%y%m%d}*{now:%H%M}"
        f"*{REPETITION}*00501*{control:09d}*0*T*{COMPONENT}"
    )


class _Envelope:
    """ISA/GS/GE/IEA around transactions; a new GS whenever the version (837P vs 837I) changes."""

    def __init__(
        self, out: TextIO, functional_id: str, sender: str, receiver: str, now: dt.datetime | None = None
    ) -> None:
        self.out = out
        self.functional_id = functional_id
        self.sender = sender
        self.receiver = receiver
        self.now = now or dt.datetime.now()
        self.group_version: str | None = None
        self.group_count = 0
        self.groups = 0
        self.transactions = 0
        out.write(_isa(1, sender, receiver, self.now) + SEGMENT_END)

    def transaction(self, version: str, body: list[str], st_extra: str = "") -> None:
        """Write ST + body + SE, opening a GS for ``version`` first when needed."""
        if version != self.group_version:
            self._close_group()
            self.groups += 1
            self.group_version = version
            self.out.write(
                f"GS*{self.functional_id}*{self.sender}*{self.receiver}*{self.now:%Y%m%d}*{self.now:%H%M}"
                f"*{self.groups}*X*{version}{SEGMENT_END}"
            )
        self.transactions += 1
        self.group_count += 1
        control = f"{self.transactions:04d}"
        self.out.write(f"ST*{self.functional_id_code()}*{control}{st_extra}{SEGMENT_END}")
        self.out.write(SEGMENT_END.join(body))
        self.out.write(f"{SEGMENT_END}SE*{len(body) + 2}*{control}{SEGMENT_END}")

    def functional_id_code(self) -> str:
        return "837" if self.functional_id == "HC" else "835"

    def _close_group(self) -> None:
        if self.group_version is not None:
            self.out.write(f"GE*{self.group_count}*{self.groups}{SEGMENT_END}")
            self.group_count = 0
            self.group_version = None

    def close(self) -> None:
        self._close_group()
        self.out.write(f"IEA*{self.groups}*{1:09d}{SEGMENT_END}")


# ---- 837 ---------------------------------------------------------------------------------------


def _sv_composite(line: Line) -> str:
    parts = ["HC", _text(line.procedure_code)]
    modifiers = line.modifiers
    description = line.description
    if modifiers or description:
        mods = [_text(m) for m in modifiers[:4]]
        parts.extend(mods)
        if description:
            parts.extend([""] * (4 - len(mods)))
            parts.append(_text(description))
    return COMPONENT.join(parts)


def _line_segments(claim: Claim, line: Line, institutional: bool, attachments: list[str]) -> list[str]:
    seg = [f"LX*{line.line_number}"]
    if institutional:
        revenue = _text(line.revenue_code)
        if line.procedure_code == line.revenue_code and not line.modifiers and not line.description:
            composite = ""
        else:
            composite = _sv_composite(line)
        seg.append(f"SV2*{revenue}*{composite}*{_num(line.charge)}*{line.unit_basis}*{_num(line.units)}")
    else:
        pointers = COMPONENT.join(str(p) for p in line.diagnosis_pointers)
        seg.append(f"SV1*{_sv_composite(line)}*{_num(line.charge)}*{line.unit_basis}*{_num(line.units)}***{pointers}")
    seg.extend(attachments)
    if line.service_date is not None:
        seg.append(f"DTP*472*D8*{_d8(line.service_date)}")
    if line.prior_authorization is not None:
        seg.append(f"REF*G1*{_text(line.prior_authorization)}")
    if line.line_control_number is not None:
        seg.append(f"REF*6R*{_text(line.line_control_number)}")
    if line.note is not None:
        seg.append(f"NTE*{'TPO' if institutional else 'ADD'}*{_text(line.note)}")
    drug = line.drug
    if drug is not None:
        seg.append(f"LIN**N4*{_text(drug.ndc)}")
        seg.append(f"CTP****{_num(drug.quantity)}*{_text(drug.unit)}")
        if drug.prescription_number is not None:
            seg.append(f"REF*XZ*{_text(drug.prescription_number)}")
        if drug.link_sequence is not None:
            seg.append(f"REF*VY*{_text(drug.link_sequence)}")
    return seg


def _pwk(attachment: Any) -> str:
    if attachment.control_number is None:
        return f"PWK*{_text(attachment.report_type)}*{_text(attachment.transmission)}"
    return f"PWK*{_text(attachment.report_type)}*{_text(attachment.transmission)}***AC*{_text(attachment.control_number)}"


def _claim_segments(claim: Claim, institutional: bool) -> list[str]:
    """2300 and below for one claim."""
    if institutional:
        facility = claim.place_of_service or (claim.type_of_bill[:-1] if claim.type_of_bill else "")
        seg = [
            f"CLM*{_text(claim.claim_id)}*{_num(claim.total_charge)}***{_text(facility)}:A:"
            f"{claim.frequency_code}**A*Y*Y"
        ]
        dates = [line.service_date for line in claim.lines]
        if all(d is not None for d in dates):
            first, last = min(dates), max(dates)  # type: ignore[type-var]
            seg.append(f"DTP*434*RD8*{_d8(first)}-{_d8(last)}")
    else:
        seg = [
            f"CLM*{_text(claim.claim_id)}*{_num(claim.total_charge)}***{_text(claim.place_of_service)}:B:"
            f"{claim.frequency_code}*Y*A*Y*Y"
        ]
    line_numbers = {line.line_number for line in claim.lines}
    by_line: dict[int, list[str]] = {}
    for attachment in claim.attachments:
        if attachment.line_number is not None and attachment.line_number in line_numbers:
            by_line.setdefault(attachment.line_number, []).append(_pwk(attachment))
        else:
            seg.append(_pwk(attachment))
    if claim.prior_authorization is not None:
        seg.append(f"REF*G1*{_text(claim.prior_authorization)}")
    if claim.payer_claim_number is not None:  # 2300 REF*F8 follows REF*G1 in the TR3's order
        seg.append(f"REF*F8*{_text(claim.payer_claim_number)}")
    if claim.note is not None:
        seg.append(f"NTE*ADD*{_text(claim.note)}")
    if institutional:
        seg.append("CL1*1*1*01")
    codes = claim.diagnosis_codes
    if codes:
        qualified = [f"ABK:{_text(codes[0])}"] + [f"ABF:{_text(c)}" for c in codes[1:]]
        if institutional:
            seg.append(f"HI*{qualified[0]}")
            rest = qualified[1:]
        else:
            rest = qualified
        for start in range(0, len(rest), 12):
            seg.append("HI*" + ELEMENT.join(rest[start : start + 12]))
    for line in claim.lines:
        seg.extend(_line_segments(claim, line, institutional, by_line.get(line.line_number, [])))
    return seg


_837_HEADER = [
    f"NM1*41*2*CLAIMRISK SUBMITTER*****46*{SUBMITTER_ID}",
    "PER*IC*BILLING OFFICE*TE*5555550100",
    f"NM1*40*2*RECEIVER*****46*{RECEIVER_ID}",
]


def _write_837_transaction(env: _Envelope, claims: list[Claim], number: int) -> None:
    institutional = claims[0].claim_type == "institutional"
    body = [f"BHT*0019*00*B{number:08d}*{_d8(claims[0].submission_date)}*1200*CH", *_837_HEADER]
    sbr09 = _SBR09_INSTITUTIONAL if institutional else _SBR09_PROFESSIONAL
    hl = 0
    billing_hl = 0
    billing_npi: object = object()
    for claim in claims:
        if claim.billing_provider_npi != billing_npi:
            billing_npi = claim.billing_provider_npi
            hl += 1
            billing_hl = hl
            npi = f"*****XX*{claim.billing_provider_npi}" if claim.billing_provider_npi else ""
            body += [
                f"HL*{hl}**20*1",
                f"NM1*85*2*BILLING PROVIDER{npi}",
                "N3*1 MAIN ST",
                "N4*SPRINGFIELD*IL*627010001",
                "REF*EI*000000000",
            ]
        hl += 1
        payer = claim.payer
        body += [
            f"HL*{hl}*{billing_hl}*22*0",
            f"SBR*P*18*******{sbr09[payer.type]}",
            "NM1*IL*1*SUBSCRIBER*UNKNOWN****MI*UNKNOWN",
            f"NM1*PR*2*{_text(payer.name)}*****PI*{_text(payer.id)}",
        ]
        body += _claim_segments(claim, institutional)
    version = VERSION_837I if institutional else VERSION_837P
    env.transaction(version, body, st_extra=f"*{version}")


def write_837(
    claims: Iterable[Claim],
    path: Path | str,
    *,
    claims_per_transaction: int = 5000,
    now: dt.datetime | None = None,
) -> None:
    """Write claims as one interchange: 837P transactions for professional, 837I for institutional.

    ``now`` stamps ISA09/ISA10 and GS04/GS05; pass a fixed time for byte-reproducible files.
    """
    if claims_per_transaction < 1:
        raise ValueError("claims_per_transaction must be at least 1")
    with open(path, "w", encoding="utf-8", newline="") as out:
        env = _Envelope(out, "HC", SUBMITTER_ID, RECEIVER_ID, now)
        batch: list[Claim] = []
        key: tuple[str, dt.date] | None = None
        number = 0
        for claim in claims:
            claim_key = (claim.claim_type, claim.submission_date)
            if batch and (claim_key != key or len(batch) >= claims_per_transaction):
                number += 1
                _write_837_transaction(env, batch, number)
                batch = []
            key = claim_key
            batch.append(claim)
        if batch:
            number += 1
            _write_837_transaction(env, batch, number)
        env.close()


# ---- 835 ---------------------------------------------------------------------------------------


def _cas(adjustments: list[Mapping[str, Any]]) -> list[str]:
    """CAS segments: consecutive adjustments of one group share a CAS, up to 6 triplets each."""
    segments: list[str] = []
    group: str | None = None
    triplets: list[str] = []
    for adj in adjustments:
        if adj["group"] != group or len(triplets) == 6:
            if triplets:
                segments.append(f"CAS*{group}*" + "*".join(triplets))
            group = adj["group"]
            triplets = []
        triplets.append(f"{_text(adj['reason'])}*{_num(float(adj['amount']))}*")
    if triplets:
        segments.append(f"CAS*{group}*" + "*".join(triplets))
    return [s.rstrip("*") for s in segments]


def _is_lineless(rows: list[Mapping[str, Any]]) -> bool:
    row = rows[0]
    return (
        len(rows) == 1
        and row.get("procedure_code") is None
        and row.get("line_control_number") is None
        and row.get("units_paid") is None
        and not any(a["level"] == "line" for a in row.get("adjustments") or [])
    )


def _clp_segments(rows: list[Mapping[str, Any]]) -> tuple[list[str], float]:
    first = rows[0]
    claim_adjustments = [a for a in first.get("adjustments") or [] if a["level"] == "claim"]
    lineless = _is_lineless(rows)
    patient = sum(float(a["amount"]) for a in claim_adjustments if a["group"] == "PR")
    if lineless:
        charge_text, paid_text = _num(first.get("charge")), _num(first.get("paid"))
        paid_total = float(first.get("paid") or 0.0)
    else:
        charge_total = sum(float(r.get("charge") or 0.0) for r in rows)
        paid_total = sum(float(r.get("paid") or 0.0) for r in rows)
        patient += sum(
            float(a["amount"]) for r in rows for a in r.get("adjustments") or []
            if a["level"] == "line" and a["group"] == "PR"
        )
        charge_text, paid_text = _money(charge_total), _money(paid_total)
    payer_claim_id = first.get("payer_claim_id")
    clp = (
        f"CLP*{_text(first['claim_id'])}*{first['claim_status']}*{charge_text}*{paid_text}*{_money(patient)}*ZZ"
        + (f"*{_text(payer_claim_id)}" if payer_claim_id is not None else "")
    )
    seg = [clp, *_cas(claim_adjustments), "NM1*QC*1*PATIENT*UNKNOWN"]
    if lineless:
        remarks = [_text(r) for r in first.get("remarks") or []][:5]
        if remarks:
            seg.append("MOA***" + "*".join(remarks))
        if first.get("service_date") is not None:
            seg.append(f"DTM*232*{_d8(first['service_date'])}")
        return seg, paid_total
    for row in rows:
        composite = ":".join(["HC", _text(row.get("procedure_code"))] + [_text(m) for m in row.get("modifiers") or []])
        seg.append(f"SVC*{composite}*{_num(row.get('charge'))}*{_num(row.get('paid'))}**{_num(row.get('units_paid'))}".rstrip("*"))
        if row.get("service_date") is not None:
            seg.append(f"DTM*472*{_d8(row['service_date'])}")
        seg.extend(_cas([a for a in row.get("adjustments") or [] if a["level"] == "line"]))
        if row.get("line_control_number") is not None:
            seg.append(f"REF*6R*{_text(row['line_control_number'])}")
        seg.extend(f"LQ*HE*{_text(code)}" for code in row.get("remarks") or [])
    return seg, paid_total


def _write_835_transaction(env: _Envelope, claims: list[list[Mapping[str, Any]]], number: int) -> None:
    first = claims[0][0]
    payer = _text(first.get("payer_id")) or "UNKNOWN PAYER"
    paid_date = _d8(first.get("paid_date")) or _d8(dt.date.today())
    body: list[str] = []
    total = 0.0
    for rows in claims:
        segments, paid = _clp_segments(rows)
        body.extend(segments)
        total += paid
    if round(total, 2) > 0:
        bpr = f"BPR*I*{_money(total)}*C*CHK************{paid_date}"
    else:
        bpr = f"BPR*H*0*C*NON************{paid_date}"
    header = [
        bpr,
        f"TRN*1*T{number:09d}*1000000000",
        f"DTM*405*{paid_date}",
        f"N1*PR*{payer}*XV*{payer}",
        "N3*PO BOX 1000",
        "N4*SPRINGFIELD*IL*627010000",
        "PER*BL*PROVIDER SERVICES*TE*8005550199",
        "N1*PE*PAYEE*XX*1234567893",
        "LX*1",
    ]
    env.transaction(VERSION_835, header + body)


def write_835(
    rows: Iterable[Mapping[str, Any]],
    path: Path | str,
    *,
    claims_per_transaction: int = 5000,
    now: dt.datetime | None = None,
) -> None:
    """Write §6 rows (grouped by claim, in order) as one 835 interchange.

    A new transaction starts when the payer or paid date changes (BPR16 and N1*PR are per
    transaction) or after ``claims_per_transaction`` claims.
    """
    with open(path, "w", encoding="utf-8", newline="") as out:
        env = _Envelope(out, "HP", "PAYER", SUBMITTER_ID, now)
        claims: list[list[Mapping[str, Any]]] = []
        current: list[Mapping[str, Any]] = []
        claim_key: tuple[Any, ...] | None = None
        tx_key: tuple[Any, ...] | None = None
        number = 0
        for row in rows:
            key = (row["claim_id"], row["claim_status"], row.get("payer_claim_id"), row.get("sequence"))
            row_tx = (row.get("payer_id"), _d8(row.get("paid_date")))
            if current and (key != claim_key or row_tx != tx_key):
                claims.append(current)
                current = []
                if row_tx != tx_key or len(claims) >= claims_per_transaction:
                    number += 1
                    _write_835_transaction(env, claims, number)
                    claims = []
            claim_key, tx_key = key, row_tx
            current.append(row)
        if current:
            claims.append(current)
        if claims:
            number += 1
            _write_835_transaction(env, claims, number)
        env.close()
