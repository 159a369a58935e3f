"""The payers' side: which lines each payer denies, and the exact probability that it does.

Every reason a payer may deny is an independent *hazard* with a known probability: a defect the
provider made (scaled by that payer's strictness for it), the payer's medical-necessity review
(payer, drug class, charge size and an unobserved per-line term), distrust of the provider's
history, and denials no claim field explains. A claim is denied when any hazard fires, so its true
denial probability is ``1 − Π(1 − p)`` over its hazards, and drawing each hazard once realises an
outcome with exactly that probability. The first firing hazard in ``world.CAUSES`` order names
the line's denial and so its CARC/RARC.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthetic import catalog as cat
from synthetic.generate import ClaimBatch
from synthetic.mue import adjudication_stream
from synthetic.world import CAUSE_INDEX, CAUSES, World

LINE_NOISE_SD = 0.7
CHARGE_EFFECT = 0.25  # per log-unit of the line charge relative to $500
ADMIN_LINE_SHIFT = -1.2  # administration lines are rarely reviewed on their own


@dataclass
class Adjudication:
    p_deny: np.ndarray  # per claim, the probability used
    denied: np.ndarray  # per claim, realised
    line_cause: np.ndarray  # per line, index into CAUSES of the denial, -1 when not denied
    hazard_claim: np.ndarray  # per hazard: claim index
    hazard_line: np.ndarray  # per hazard: line index, -1 for claim-level
    hazard_cause: np.ndarray  # per hazard: cause index
    hazard_p: np.ndarray
    hazard_fired: np.ndarray


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


_HERMITE_NODES, _HERMITE_WEIGHTS = np.polynomial.hermite.hermgauss(24)


def _expected_sigmoid(logit: np.ndarray, sd: float) -> np.ndarray:
    """E[sigmoid(logit + Z)] for Z ~ N(0, sd²), by Gauss-Hermite quadrature.

    A line's review outcome varies with things nobody outside the payer sees. Drawing Z and then
    the denial gives a line exactly this marginal probability, so the hazard is drawn from it
    directly: the realised labels are the same in distribution, and ``p_deny`` stays the best any
    model that sees the claim could know, instead of an oracle that also knows each line's Z.
    """
    z = np.sqrt(2.0) * sd * _HERMITE_NODES
    return np.asarray(_sigmoid(logit[:, None] + z[None, :]) @ _HERMITE_WEIGHTS / np.sqrt(np.pi))


def _own_stream_hazards(
    world: World, batch: ClaimBatch, hazard_l: np.ndarray, drawn: tuple[np.ndarray, ...]
) -> tuple[np.ndarray, ...]:
    """``drawn`` (claim, line, cause, probability, fired per hazard) with the hazards of the causes
    added later (``catalog.OWN_STREAM_CAUSES``) appended, each drawn from its own stream so that
    the draws of every other hazard stay the ones a seed always had."""
    rng = adjudication_stream(world.seed, batch.start)
    parts = [list(drawn)]
    for name in sorted(cat.OWN_STREAM_CAUSES):
        u = rng.random(batch.line_claim.size)  # one per line: a line's draw does not depend on the others
        rows = np.flatnonzero(batch.line_defects[name])
        p = hazard_l[rows, CAUSE_INDEX[name]]
        fired = u[rows] < p
        keep = p > 0
        parts.append([batch.line_claim[rows][keep], rows[keep], np.full(int(keep.sum()), CAUSE_INDEX[name]),
                      p[keep], fired[keep]])
    return tuple(np.concatenate(columns) for columns in zip(*parts, strict=True))


def adjudicate(world: World, batch: ClaimBatch, rng: np.random.Generator) -> Adjudication:
    pay = world.payers
    n, n_lines = batch.n, batch.line_claim.size
    payer_l = batch.payer[batch.line_claim]
    after_l = batch.after_change[batch.line_claim]
    hazard_l = np.where(after_l[:, None], pay.hazard_after[payer_l], pay.hazard[payer_l])
    hazard_c = np.where(batch.after_change[:, None], pay.hazard_after[batch.payer], pay.hazard[batch.payer])

    claims, lines, causes, probs = [], [], [], []
    all_lines = np.arange(n_lines)
    for name, mask in batch.line_defects.items():
        if name in cat.OWN_STREAM_CAUSES:
            continue  # drawn after the others, from a stream of its own
        rows = all_lines[mask]
        claims.append(batch.line_claim[rows])
        lines.append(rows)
        causes.append(np.full(rows.size, CAUSE_INDEX[name]))
        probs.append(hazard_l[rows, CAUSE_INDEX[name]])
    for name, mask in batch.claim_defects.items():
        rows = np.flatnonzero(mask)
        claims.append(rows)
        lines.append(np.full(rows.size, -1))
        causes.append(np.full(rows.size, CAUSE_INDEX[name]))
        probs.append(hazard_c[rows, CAUSE_INDEX[name]])

    # medical-necessity review of every line: effects no rule sees
    base = np.where(after_l, pay.base_logit_after[payer_l], pay.base_logit[payer_l])
    klass = batch.claim_class[batch.line_claim]
    charge_term = CHARGE_EFFECT * np.log(batch.charge_cents / 50_000.0)
    logit = base + world.class_effect[klass] + charge_term + np.where(batch.is_admin, ADMIN_LINE_SHIFT, 0.0)
    claims.append(batch.line_claim)
    lines.append(all_lines)
    causes.append(np.full(n_lines, CAUSE_INDEX["medical_necessity"]))
    probs.append(_expected_sigmoid(logit, LINE_NOISE_SD))
    # records requested from providers the payer distrusts (drug lines)
    drug_rows = all_lines[~batch.is_admin]
    claims.append(batch.line_claim[drug_rows])
    lines.append(drug_rows)
    causes.append(np.full(drug_rows.size, CAUSE_INDEX["provider_history"]))
    probs.append(_sigmoid(world.providers.history_logit[batch.provider[batch.line_claim[drug_rows]]]))
    # eligibility / benefit denials of the whole claim
    claims.append(np.arange(n))
    lines.append(np.full(n, -1))
    causes.append(np.full(n, CAUSE_INDEX["payer_noise"]))
    probs.append(pay.noise_rate[batch.payer])

    h_claim = np.concatenate(claims)
    h_line = np.concatenate(lines)
    h_cause = np.concatenate(causes)
    h_p = np.concatenate(probs)
    keep = h_p > 0
    h_claim, h_line, h_cause, h_p = h_claim[keep], h_line[keep], h_cause[keep], h_p[keep]
    fired = rng.random(h_p.size) < h_p
    drawn = _own_stream_hazards(world, batch, hazard_l, (h_claim, h_line, h_cause, h_p, fired))
    h_claim, h_line, h_cause, h_p, fired = drawn

    log_survive = np.bincount(h_claim, weights=np.log1p(-h_p), minlength=n)
    p_deny = -np.expm1(log_survive)

    # the denial cause of each line: a fired claim-level hazard wins, else the line's first fired one
    big = len(CAUSES)
    claim_cause = np.full(n, big)
    at_claim = fired & (h_line < 0)
    np.minimum.at(claim_cause, h_claim[at_claim], h_cause[at_claim])
    line_cause = np.full(n_lines, big)
    at_line = fired & (h_line >= 0)
    np.minimum.at(line_cause, h_line[at_line], h_cause[at_line])
    line_cause = np.where(claim_cause[batch.line_claim] < big, claim_cause[batch.line_claim], line_cause)
    line_cause = np.where(line_cause == big, -1, line_cause)
    denied = np.bincount(batch.line_claim, weights=line_cause >= 0, minlength=n) > 0
    return Adjudication(
        p_deny=p_deny, denied=denied, line_cause=line_cause, hazard_claim=h_claim, hazard_line=h_line,
        hazard_cause=h_cause, hazard_p=h_p, hazard_fired=fired,
    )
