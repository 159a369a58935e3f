"""Remittance advice for a batch: how each payer answers, line by line, in balanced 835 terms.

Money is kept in integer cents so that every line balances exactly: charge − paid = Σ CAS.
Denied lines carry the CARC/RARC signature of their cause; paid lines a contractual CO-45 and the
patient's share (PR-1 deductible, PR-2 coinsurance, PR-3 copay); some lines are reduced (CO-151 +
N362), some claims pending (OA-133), reversed and corrected (CLP02 22), or never answered.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthetic import catalog as cat
from synthetic.adjudicate import Adjudication
from synthetic.generate import ClaimBatch, where_or_none
from synthetic.world import CAUSE_INDEX, CAUSES, World

PENDING_SHARE = 0.015
UNANSWERED_SHARE = 0.015
REVERSED_SHARE = 0.03
REDUCED_SHARE = 0.02
REDUCED_IF_UNITS = 0.5  # a units problem that did not deny the line is often cut back instead

STATUS_FINAL, STATUS_PENDING, STATUS_UNANSWERED, STATUS_REVERSED = 0, 1, 2, 3
STATUS_NAMES = ("final", "pending", "unanswered", "reversed")


@dataclass
class LineMoney:
    """One adjudication of every line of the batch, in cents."""

    paid: np.ndarray
    units_paid: np.ndarray
    contractual: np.ndarray  # CO-45
    reduction: np.ndarray  # CO-151 (+N362)
    deductible: np.ndarray  # PR-1
    coinsurance: np.ndarray  # PR-2
    copay: np.ndarray  # PR-3
    denied: np.ndarray  # bool
    reduced: np.ndarray  # bool


@dataclass
class BatchRemits:
    status: np.ndarray  # per claim STATUS_*
    final: LineMoney
    initial: LineMoney  # the first (later reversed) adjudication of reversed claims
    deny_group: np.ndarray  # per line, object
    deny_reason: np.ndarray
    deny_remarks: list[tuple[str, ...]]
    claim_status: np.ndarray  # per claim CLP02 of the final adjudication
    paid_day: np.ndarray  # per claim, first adjudication
    reversal_day: np.ndarray  # per claim, reversal and correction (reversed claims)


def _pay_lines(
    world: World, batch: ClaimBatch, rng: np.random.Generator, fee_scale: float, denied: np.ndarray,
    reduce_p: np.ndarray,
) -> LineMoney:
    pay = world.payers
    payer_l = batch.payer[batch.line_claim]
    charge = batch.charge_cents
    limit = world.products.unit_price[np.maximum(batch.product, 0)]
    coded = ~batch.is_admin & ~batch.is_noc
    fee = pay.fee_factor[payer_l] * fee_scale
    u = rng.random((6, charge.size))
    by_limit = np.round(limit * batch.units * fee * 100.0)
    by_share = np.round(charge * np.clip(fee * (0.35 + 0.25 * u[0]), 0.2, 0.95))
    allowed = np.where(coded, by_limit, by_share)
    allowed = np.clip(allowed, np.minimum(100, charge), charge).astype(np.int64)
    contractual = charge - allowed

    reduced = ~denied & ~batch.is_admin & (u[1] < reduce_p)
    reduction = np.where(reduced, np.floor(allowed * (0.2 + 0.4 * u[2])), 0).astype(np.int64)
    remaining = allowed - reduction

    ptype = pay.types[payer_l]
    medicare, medicaid = ptype == "medicare", ptype == "medicaid"
    commercial = ptype == "commercial"
    coins_rate = np.where(medicare, 0.2, np.where(commercial & (u[3] < 0.6), 0.1 + 0.15 * u[4], 0.0))
    coinsurance = np.floor(remaining * coins_rate).astype(np.int64)
    deductible = np.where(
        (medicare | commercial) & (u[5] < 0.05), np.minimum(np.floor(remaining * 0.5), 25_700), 0
    ).astype(np.int64)
    copay = np.where(
        medicaid & (u[3] < 0.3), np.minimum(400, remaining // 4),
        np.where(commercial & batch.is_admin & (coins_rate == 0), np.minimum(2500, remaining // 3), 0),
    ).astype(np.int64)
    patient = coinsurance + deductible + copay
    over = np.maximum(patient - (remaining - 1), 0)  # the payer always pays something on a paid line
    coinsurance = coinsurance - np.minimum(over, coinsurance)
    paid = remaining - coinsurance - deductible - copay

    zero = np.zeros_like(charge)
    units_paid = np.where(reduced, np.maximum(1.0, np.floor(batch.units * (1 - reduction / np.maximum(allowed, 1)))),
                          batch.units)
    return LineMoney(
        paid=np.where(denied, 0, paid), units_paid=np.where(denied, 0.0, units_paid),
        contractual=np.where(denied, zero, contractual), reduction=np.where(denied, zero, reduction),
        deductible=np.where(denied, zero, deductible), coinsurance=np.where(denied, zero, coinsurance),
        copay=np.where(denied, zero, copay), denied=denied, reduced=reduced & ~denied,
    )


def remit_status(seed: int, batch_index: int, n: int) -> np.ndarray:
    """Which claims are answered finally, pending, never, or reversed and corrected.

    Drawn from a stream of its own so that the number of adjudications (835 CLPs) of every batch
    is known before any batch is generated: remittance ``sequence`` numbers run through the whole
    file, as the 835 reader numbers them.
    """
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 2, batch_index])))
    u = rng.random(n)
    status = np.full(n, STATUS_FINAL)
    status[u < REVERSED_SHARE + PENDING_SHARE + UNANSWERED_SHARE] = STATUS_REVERSED
    status[u < PENDING_SHARE + UNANSWERED_SHARE] = STATUS_UNANSWERED
    status[u < PENDING_SHARE] = STATUS_PENDING
    return status


def adjudications_per_claim(status: np.ndarray) -> np.ndarray:
    """835 CLPs per claim: none unanswered, three for a payment reversed and corrected, else one."""
    return np.select([status == STATUS_UNANSWERED, status == STATUS_REVERSED], [0, 3], 1)


def build_remits(
    world: World, batch: ClaimBatch, adj: Adjudication, rng: np.random.Generator, status: np.ndarray
) -> BatchRemits:
    n = batch.n

    denied = adj.line_cause >= 0
    reduce_p = np.where(batch.units_problem, REDUCED_IF_UNITS, REDUCED_SHARE)
    final = _pay_lines(world, batch, rng, 1.0, denied, reduce_p)
    initial = _pay_lines(world, batch, rng, 1.08, np.zeros_like(denied), np.zeros(denied.size))

    # denial signatures per line
    group = np.empty(len(CAUSES), dtype=object)
    reason = np.empty(len(CAUSES), dtype=object)
    remarks_of = []
    for i, name in enumerate(CAUSES):
        g, r, rarc = cat.SIGNATURES[name]
        group[i], reason[i] = g, r
        remarks_of.append(rarc)
    cause = np.maximum(adj.line_cause, 0)
    deny_group = where_or_none(denied, group[cause])
    deny_reason = where_or_none(denied, reason[cause])
    mue = denied & (adj.line_cause == CAUSE_INDEX["UNITS_MISMATCH"]) & world.payers.is_medicare[
        batch.payer[batch.line_claim]]
    deny_reason[mue] = cat.UNITS_MUE_SIGNATURE[1]
    mue_list = mue.tolist()
    deny_remarks = [
        (cat.UNITS_MUE_SIGNATURE[2] if m else remarks_of[c]) if d else ()
        for c, d, m in zip(cause.tolist(), denied.tolist(), mue_list, strict=True)
    ]

    all_denied = np.bincount(batch.line_claim, weights=~denied, minlength=n) == 0
    says_four = all_denied & ~world.payers.is_medicare[batch.payer] & (rng.random(n) < 0.5)
    claim_status = np.where(says_four, "4", "1").astype(object)
    paid_day = batch.submission_day + rng.integers(7, 36, n).astype("timedelta64[D]")
    reversal_day = paid_day + rng.integers(30, 121, n).astype("timedelta64[D]")
    return BatchRemits(
        status=status, final=final, initial=initial, deny_group=deny_group, deny_reason=deny_reason,
        deny_remarks=deny_remarks, claim_status=claim_status, paid_day=paid_day, reversal_day=reversal_day,
    )
