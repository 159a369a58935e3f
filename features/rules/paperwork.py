"""Paperwork a payer requires on NOC lines: an invoice, supporting records, a prior authorization.

Whether each is required is payer policy (``invoice_required``/``invoice_min_charge``,
``documentation_required``, ``prior_auth_required``); an attachment counts at its claim's level or
on the very line, and only when it was actually sent (PWK02 other than AA).
"""

from __future__ import annotations

import numpy as np

from features.rules.evidence import Lazy
from features.rules.facts import RuleFacts
from features.rules.spec import Fired, rule


@rule(
    "INVOICE_MISSING", "line", "16", ("M23",), "Missing invoice",
    "This payer requires an invoice for unclassified code {procedure_code}; no attachment of type "
    "{invoice_report_types} was sent.",
    "Send the invoice (PWK with report type {invoice_report_types}, a transmission other than AA and a "
    "control number) at the claim or this line.",
)
def invoice_missing(f: RuleFacts) -> list[Fired]:
    """A NOC line at or above the payer's invoice threshold with no invoice sent for it."""
    noc, policy = f.noc_rows, f.policy
    charge = f.frame.lines["charge"]
    min_charge = f.policies.column("invoice_min_charge")
    required = f.policies.column("invoice_required")[policy[noc]] & ~(charge[noc] < min_charge[policy[noc]])
    candidates = noc[required]
    rows = candidates[~f.covered(f.attachment_is_invoice, candidates)]
    if not rows.size:
        return []
    sorted_types = [sorted(t) for t in f.policies.column("invoice_report_types").tolist()]
    evidence = {
        "procedure_code": f.code[rows],
        "charge": charge[rows],
        "invoice_report_types": Lazy(policy[rows], sorted_types.__getitem__),
        "invoice_min_charge": min_charge[policy[rows]],
    }
    return [(f.claim_index[rows], f.line_number[rows], evidence)]


@rule(
    "DOCUMENTATION_MISSING", "line", "252", ("N706",), "Incomplete documentation",
    "This payer requires supporting records for unclassified code {procedure_code}; none were sent.",
    "Send the supporting records (PWK with a transmission other than AA, e.g. FX/EL/BM) and keep the "
    "control number.",
)
def documentation_missing(f: RuleFacts) -> list[Fired]:
    """A NOC line whose payer requires records, with no attachment sent for it."""
    noc = f.noc_rows
    candidates = noc[f.policies.column("documentation_required")[f.policy[noc]]]
    rows = candidates[~f.covered(f.attachment_sent, candidates)]
    if not rows.size:
        return []
    a_ci = f.frame.attachments["claim_index"]
    n_attachments = np.bincount(a_ci, minlength=f.n_claims)[f.claim_index[rows]]
    evidence = {"procedure_code": f.code[rows], "attachments_not_sent": n_attachments}
    return [(f.claim_index[rows], f.line_number[rows], evidence)]


@rule(
    "PRIOR_AUTH_MISSING", "line", "197", ("M62",), "Payer-specific policy",
    "This payer requires prior authorization for unclassified code {procedure_code}; none is on the claim or line.",
    "Obtain the prior authorization and report its number (REF*G1) on the claim or the line.",
)
def prior_auth_missing(f: RuleFacts) -> list[Fired]:
    """A NOC line whose payer requires prior authorization, with none on the claim or the line."""
    noc = f.noc_rows
    rows = noc[f.policies.column("prior_auth_required")[f.policy[noc]] & ~f.prior_authorization[noc]]
    return [(f.claim_index[rows], f.line_number[rows], {"procedure_code": f.code[rows]})] if rows.size else []
