"""Coding rules: how the drug is coded around the NOC line — an administration code beside it, the
JW/JZ waste modifier where the payer asks, and no OPPS-only code on a professional claim."""

from __future__ import annotations

from typing import Any

import numpy as np

from features.rules import _arrays as A
from features.rules.evidence import Groups, Lazy
from features.rules.facts import RuleFacts
from features.rules.spec import Fired, rule
from features.rules.terms import ADMIN_CODE_RANGES, OPPS_ONLY_NOC_CODE, WASTE_MODIFIERS


@rule(
    "ADMIN_CODE_MISSING", "claim", None, (), "Report administration separately",
    "The claim bills unclassified drug code(s) {noc_codes} but no drug administration code (96360–96379, 96401–96549).",
    "Add the CPT administration code for how the drug was given (e.g. 96365 IV infusion, 96372 injection).",
    severity="warning",
    params={"admin_code_ranges": ADMIN_CODE_RANGES},
)
def admin_code_missing(f: RuleFacts) -> list[Fired]:
    """A professional claim with a NOC line and no drug administration code; evidence lists the NOC codes."""
    has_noc = A.group_any(f.claim_index, f.is_noc, f.n_claims)
    has_admin = A.group_any(f.claim_index, f.is_admin, f.n_claims)
    claims = A.rows_where(f.professional & has_noc & ~has_admin)
    if not claims.size:
        return []
    noc_claims, noc_codes = f.claim_index[f.noc_rows], f.code[f.noc_rows]
    if noc_claims.size > 1 and np.any(noc_claims[1:] < noc_claims[:-1]):
        order = np.argsort(noc_claims, kind="stable")
        noc_claims, noc_codes = noc_claims[order], noc_codes[order]
    by_claim = Groups(noc_claims, {"noc_codes": noc_codes})
    return [(claims, None, {"noc_codes": Lazy(claims, lambda c: sorted(set(by_claim.values("noc_codes", c))))})]


@rule(
    "WASTE_MODIFIER_MISSING", "line", "4", (), "Payer-specific policy",
    "This payer requires modifier JW (amount discarded) or JZ (none discarded) on drug code {procedure_code}.",
    "Add JZ when no drug was discarded, or bill the discarded amount on a separate line with JW.",
    severity="warning",
    params={"modifiers": WASTE_MODIFIERS},
)
def waste_modifier_missing(f: RuleFacts) -> list[Fired]:
    """A drug line without JW or JZ where the payer's policy asks for one (``waste_modifier_required``)."""
    required = f.policies.column("waste_modifier_required")[f.policy]
    rows = A.rows_where(f.is_drug & required & ~f.has_waste_modifier)
    if not rows.size:
        return []
    evidence = {"procedure_code": f.code[rows], "modifiers": Lazy(f.frame.lines["modifiers"][rows], _split_modifiers)}
    return [(f.claim_index[rows], f.line_number[rows], evidence)]


def _split_modifiers(joined: Any) -> list[str]:
    return joined.split("|") if joined else []


@rule(
    "NOC_CODE_SETTING", "line", "16", ("M20",), "Choice of NOC code",
    "C9399 is a hospital outpatient (OPPS) code and cannot be billed on a professional claim.",
    "On a professional claim bill J3490 (drugs), J3590 (biologics) or J9999 (antineoplastics) instead of C9399.",
    params={"code": OPPS_ONLY_NOC_CODE},
)
def noc_code_setting(f: RuleFacts) -> list[Fired]:
    """C9399 (paid under the hospital outpatient PPS only) on a professional claim."""
    rows = A.rows_where((f.code == OPPS_ONLY_NOC_CODE) & f.professional_line)
    if not rows.size:
        return []
    return [(f.claim_index[rows], f.line_number[rows], {"procedure_code": f.code[rows], "claim_type": "professional"})]
