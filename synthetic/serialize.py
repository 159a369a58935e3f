"""Turning batch columns into CONTRACT records: claims (§2), remittance rows (§6) and truth.

This is the one place that builds Python objects per record, because JSON needs them; everything
is read from whole columns converted once with ``tolist()`` and zipped, which is what makes a
million claims a matter of seconds rather than minutes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from synthetic import catalog as cat
from synthetic.adjudicate import Adjudication
from synthetic.generate import ClaimBatch
from synthetic.remits import (
    STATUS_NAMES,
    STATUS_PENDING,
    STATUS_REVERSED,
    STATUS_UNANSWERED,
    BatchRemits,
    LineMoney,
    adjudications_per_claim,
)
from synthetic.world import CAUSES, World

Record = dict[str, Any]


def _days(values: np.ndarray) -> list[str]:
    return [str(day) for day in values.astype("datetime64[D]").tolist()]


def _money(cents: np.ndarray) -> list[float]:
    return (np.asarray(cents, dtype=np.float64) / 100.0).round(2).tolist()


def _lcn(batch: ClaimBatch) -> list[str]:
    index = (batch.start + batch.line_claim).tolist()
    return [f"{i:09d}L{n}" for i, n in zip(index, batch.line_number.tolist(), strict=True)]


def claim_records(world: World, batch: ClaimBatch) -> list[Record]:
    """The batch's claims as CONTRACT §2 dicts (the shape ``claims.model.Claim`` validates)."""
    pay, prov = world.payers, world.providers
    service = _days(batch.service_day)
    service_l = [service[c] for c in batch.line_claim.tolist()]
    lcn = _lcn(batch)
    drugs: list[Record | None] = [
        {"ndc": ndc, "quantity": q, "unit": unit, "prescription_number": None, "link_sequence": None} if has else None
        for has, ndc, q, unit in zip(
            batch.has_drug.tolist(), batch.ndc.tolist(), batch.quantity.tolist(), batch.drug_unit.tolist(), strict=True
        )
    ]
    lines = [
        {
            "line_number": number, "procedure_code": code, "modifiers": ["JZ"] if jz else [],
            "description": desc, "charge": charge, "units": units, "unit_basis": "UN", "service_date": day,
            "diagnosis_pointers": ptr, "revenue_code": rev, "prior_authorization": lpa, "note": note,
            "line_control_number": control, "drug": drug,
        }
        for number, code, jz, desc, charge, units, day, ptr, rev, lpa, note, control, drug in zip(
            batch.line_number.tolist(), batch.procedure_code.tolist(), batch.modifier_jz.tolist(),
            batch.description.tolist(), _money(batch.charge_cents), batch.units.tolist(), service_l,
            batch.pointers, batch.revenue_code.tolist(), batch.line_prior_auth.tolist(), batch.note.tolist(),
            lcn, drugs, strict=True,
        )
    ]
    attachments: list[list[Record]] = [[] for _ in range(batch.n)]
    for row in np.flatnonzero(batch.attachment > 0).tolist():
        claim = int(batch.line_claim[row])
        sent = batch.attachment[row] == 1
        attachments[claim].append({
            "report_type": batch.attachment_type[row] if sent else "OZ",
            "transmission": "FX" if sent else "AA",
            "control_number": f"INV{batch.start + claim:09d}{int(batch.line_number[row])}" if sent else None,
            "line_number": int(batch.line_number[row]),
        })
    payer_cells = [
        {"id": pid, "name": name, "type": ptype}
        for pid, name, ptype in zip(pay.ids.tolist(), pay.names.tolist(), pay.types.tolist(), strict=True)
    ]
    first = batch.line_first.tolist()
    counts = batch.n_lines.tolist()
    return [
        {
            "claim_id": cid, "claim_type": "institutional" if inst else "professional", "frequency_code": "1",
            "payer": payer_cells[payer], "billing_provider_npi": npi, "place_of_service": pos,
            "type_of_bill": "131" if inst else None, "total_charge": total, "diagnosis_codes": dx,
            "prior_authorization": pa, "attachments": att, "note": None, "submission_date": sub,
            "lines": lines[f: f + k],
        }
        for cid, inst, payer, npi, pos, total, dx, pa, att, sub, f, k in zip(
            batch.claim_ids.tolist(), batch.institutional.tolist(), batch.payer.tolist(),
            prov.npi[batch.provider].tolist(), batch.place_of_service.tolist(), _money(batch.total_cents),
            batch.diagnoses, batch.prior_auth.tolist(), attachments, _days(batch.submission_day), first, counts,
            strict=True,
        )
    ]


def _adjustments(
    money: LineMoney, batch: ClaimBatch, remits: BatchRemits, rows: np.ndarray, sign: int
) -> list[list[Record]]:
    """CAS adjustments of the given lines, built column by column (only non-zero amounts)."""
    out: list[list[Record]] = [[] for _ in range(rows.size)]
    denied = money.denied[rows]
    at = np.flatnonzero(denied)
    charge = _money(sign * batch.charge_cents[rows[at]])
    for k, g, r, a in zip(
        at.tolist(), remits.deny_group[rows[at]].tolist(), remits.deny_reason[rows[at]].tolist(), charge, strict=True
    ):
        out[k].append({"level": "line", "group": g, "reason": r, "amount": a})
    for group, reason, values in (
        ("CO", cat.CONTRACTUAL_REASON, money.contractual), (*cat.REDUCTION_SIGNATURE[:2], money.reduction),
        ("PR", "1", money.deductible),
        ("PR", "2", money.coinsurance), ("PR", "3", money.copay),
    ):
        column = values[rows]
        at = np.flatnonzero((column != 0) & ~denied)
        for k, a in zip(at.tolist(), _money(sign * column[at]), strict=True):
            out[k].append({"level": "line", "group": group, "reason": reason, "amount": a})
    return out


def _reversed_adjustments(
    batch: ClaimBatch, remits: BatchRemits
) -> tuple[dict[int, list[Record]], dict[int, list[Record]]]:
    """CAS adjustments of the first adjudication of reversed claims, by line, and their negation
    (the CLP02 22 reversal): built only for those lines, a few percent of the batch."""
    reversed_lines = np.flatnonzero(remits.status[batch.line_claim] == STATUS_REVERSED)
    initial_adj: dict[int, list[Record]] = {}
    initial_neg: dict[int, list[Record]] = {}
    if reversed_lines.size:
        ini = remits.initial
        pos_adj = _adjustments(ini, batch, remits, reversed_lines, 1)
        neg_adj = _adjustments(ini, batch, remits, reversed_lines, -1)
        for k, row in enumerate(reversed_lines.tolist()):
            initial_adj[row], initial_neg[row] = pos_adj[k], neg_adj[k]
    return initial_adj, initial_neg


def _final_remarks(remits: BatchRemits, outcome: list[str]) -> list[list[str]]:
    """RARCs of each line's final adjudication: its cause's on a denied line, the reduction's on a
    reduced one, none on a paid one."""
    reduction = cat.REDUCTION_SIGNATURE[2]
    return [
        list(r) if o == "denied" else (list(reduction) if o == "reduced" else [])
        for r, o in zip(remits.deny_remarks, outcome, strict=True)
    ]


def remit_records(world: World, batch: ClaimBatch, remits: BatchRemits, sequence_offset: int) -> list[Record]:
    """The batch's remittance rows (CONTRACT §6), claim by claim, adjudications in order.

    ``sequence`` numbers the adjudications (835 CLPs) through the whole file, from
    ``sequence_offset + 1`` in this batch, exactly as the 835 reader numbers them.
    """
    lcn = _lcn(batch)
    claim_ids = batch.claim_ids.tolist()
    payer_ids = world.payers.ids[batch.payer].tolist()
    line_claim = batch.line_claim.tolist()
    codes = batch.procedure_code.tolist()
    modifiers = [["JZ"] if jz else [] for jz in batch.modifier_jz.tolist()]
    service = _days(batch.service_day)
    paid_day = _days(remits.paid_day)
    reversal_day = _days(remits.reversal_day)
    status = remits.status.tolist()
    charge = _money(batch.charge_cents)
    neg_charge = _money(-batch.charge_cents)

    final = remits.final
    final_adj = _adjustments(final, batch, remits, np.arange(batch.line_claim.size), 1)
    final_paid = _money(final.paid)
    final_units = final.units_paid.tolist()
    final_outcome = np.where(final.denied, "denied", np.where(final.reduced, "reduced", "paid")).tolist()
    remarks = _final_remarks(remits, final_outcome)
    initial_adj, initial_neg = _reversed_adjustments(batch, remits)
    ini_paid = _money(remits.initial.paid)
    ini_neg_paid = _money(-remits.initial.paid)
    ini_units = remits.initial.units_paid.tolist()
    ini_outcome = np.where(remits.initial.reduced, "reduced", "paid").tolist()
    clp02 = remits.claim_status.tolist()
    per_claim = adjudications_per_claim(remits.status)
    first_seq = (sequence_offset + np.cumsum(per_claim) - per_claim + 1).tolist()

    pending_group, pending_reason, _ = cat.PENDING_SIGNATURE
    rows: list[Record] = []
    start = batch.start
    for i in range(len(line_claim)):
        c = line_claim[i]
        st = status[c]
        if st == STATUS_UNANSWERED:
            continue
        seq = first_seq[c]
        base = {
            "claim_id": claim_ids[c], "line_control_number": lcn[i], "procedure_code": codes[i],
            "modifiers": modifiers[i], "service_date": service[c], "payer_id": payer_ids[c],
        }
        if st == STATUS_PENDING:
            rows.append({
                **base, "payer_claim_id": f"{payer_ids[c]}{start + c:09d}A", "claim_status": "1",
                "charge": charge[i], "paid": 0.0, "units_paid": 0.0,
                "adjustments": [{"level": "line", "group": pending_group, "reason": pending_reason, "amount": charge[i]}],
                "remarks": [], "outcome": "excluded", "paid_date": paid_day[c], "sequence": seq,
            })
            continue
        final_seq = seq
        if st == STATUS_REVERSED:
            icn = f"{payer_ids[c]}{start + c:09d}A"
            rows.append({
                **base, "payer_claim_id": icn, "claim_status": "1", "charge": charge[i], "paid": ini_paid[i],
                "units_paid": ini_units[i], "adjustments": initial_adj[i], "remarks": [],
                "outcome": ini_outcome[i], "paid_date": paid_day[c], "sequence": seq,
            })
            rows.append({
                **base, "payer_claim_id": icn, "claim_status": "22", "charge": neg_charge[i],
                "paid": ini_neg_paid[i], "units_paid": -ini_units[i], "adjustments": initial_neg[i], "remarks": [],
                "outcome": "excluded", "paid_date": reversal_day[c], "sequence": seq + 1,
            })
            final_seq = seq + 2
        rows.append({
            **base, "payer_claim_id": f"{payer_ids[c]}{start + c:09d}{'B' if final_seq > seq else 'A'}",
            "claim_status": clp02[c], "charge": charge[i], "paid": final_paid[i], "units_paid": final_units[i],
            "adjustments": final_adj[i],
            "remarks": remarks[i],
            "outcome": final_outcome[i], "paid_date": reversal_day[c] if final_seq > seq else paid_day[c],
            "sequence": final_seq,
        })
    rows.sort(key=_sequence)  # stable: lines stay in order within each adjudication
    return rows


def _sequence(row: Record) -> int:
    return int(row["sequence"])


def truth_records(batch: ClaimBatch, adj: Adjudication, remits: BatchRemits) -> list[Record]:
    """Ground truth per claim: the probability used, what happened, and why."""
    defects: list[list[Record]] = [[] for _ in range(batch.n)]
    for name, mask in batch.claim_defects.items():
        for c in np.flatnonzero(mask).tolist():
            defects[c].append({"id": name, "line_number": None})
    for name, mask in batch.line_defects.items():
        for row in np.flatnonzero(mask).tolist():
            defects[int(batch.line_claim[row])].append({"id": name, "line_number": int(batch.line_number[row])})
    causes: list[list[str]] = [[] for _ in range(batch.n)]
    denied_rows = np.flatnonzero(adj.line_cause >= 0)
    for row, cause in zip(denied_rows.tolist(), adj.line_cause[denied_rows].tolist(), strict=True):
        claim = int(batch.line_claim[row])
        name = CAUSES[cause]
        if name not in causes[claim]:
            causes[claim].append(name)
    return [
        {"claim_id": cid, "p_deny": p, "denied": d, "status": STATUS_NAMES[s], "causes": sorted(cs, key=CAUSES.index),
         "defects": df}
        for cid, p, d, s, cs, df in zip(
            batch.claim_ids.tolist(), adj.p_deny.tolist(), adj.denied.tolist(), remits.status.tolist(), causes,
            defects, strict=True,
        )
    ]
