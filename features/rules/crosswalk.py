"""Crosswalk rules: the CMS ASP NDC–HCPCS crosswalk in force on the service date says which HCPCS
codes an NDC may be billed under. Each check runs once per distinct (listed codes, policy, code)."""

from __future__ import annotations

import numpy as np

from features.rules import _arrays as A
from features.rules.evidence import Lazy
from features.rules.facts import RuleFacts
from features.rules.spec import Fired, rule


@rule(
    "SPECIFIC_CODE_EXISTS", "line", "189", ("N657",), "Existing HCPCS code available",
    "NDC {ndc} is listed under {specific_codes} in the CMS crosswalk for {quarter}; "
    "unclassified code {procedure_code} should not be used.",
    "Bill the specific HCPCS code {specific_codes} instead of the unclassified code, with units per its dosage descriptor.",
)
def specific_code_exists(f: RuleFacts) -> list[Fired]:
    """A NOC line whose NDC the crosswalk lists under a code that is not NOC for this payer."""
    sub = A.rows_where(f.is_noc[f.crosswalk_rows])
    if not sub.size:
        return []
    rows = f.crosswalk_rows[sub]
    listed_index, listed = A.factorize(f.crosswalk_listed[sub])
    noc_sets = f.policies.column("noc_codes").tolist()
    n_pol = len(noc_sets)
    combo_index, combos = A.factorize(listed_index * n_pol + f.policy[rows])
    specific = np.empty(len(combos), dtype=object)
    specific[:] = [tuple(c for c in listed[k // n_pol] if c not in noc_sets[k % n_pol]) for k in combos]
    has_specific = np.array([bool(t) for t in specific.tolist()], dtype=bool)
    sel = A.rows_where(has_specific[combo_index])
    if not sel.size:
        return []
    evidence = {
        "procedure_code": f.code[rows[sel]],
        "ndc": f.ndc11[rows[sel]],
        "specific_codes": Lazy(specific[combo_index[sel]], list),
        "quarter": Lazy(f.crosswalk_quarter[sub[sel]], f.reference.quarters.__getitem__),
    }
    return [(f.claim_index[rows[sel]], f.line_number[rows[sel]], evidence)]


@rule(
    "NDC_HCPCS_MISMATCH", "line", "16", ("N846",), "Missing NDC",
    "NDC {ndc} is listed under {listed_codes} in the CMS crosswalk for {quarter}, not under {procedure_code}.",
    "Check the NDC against the drug given: either the NDC or the HCPCS code is wrong.",
)
def ndc_hcpcs_mismatch(f: RuleFacts) -> list[Fired]:
    """A specific drug code whose NDC the crosswalk lists only under other codes."""
    sub = A.rows_where(f.is_specific_drug[f.crosswalk_rows])
    if not sub.size:
        return []
    rows = f.crosswalk_rows[sub]
    listed_index, listed = A.factorize(f.crosswalk_listed[sub])
    n_code = len(f.code_uniques)
    combo_index, combos = A.factorize(listed_index * n_code + f.code_index[rows])
    mismatch = np.array(
        [bool(listed[k // n_code]) and f.code_uniques[k % n_code] not in listed[k // n_code] for k in combos], dtype=bool
    )
    sel = A.rows_where(mismatch[combo_index])
    if not sel.size:
        return []
    evidence = {
        "procedure_code": f.code[rows[sel]],
        "ndc": f.ndc11[rows[sel]],
        "listed_codes": Lazy(f.crosswalk_listed[sub[sel]], list),
        "quarter": Lazy(f.crosswalk_quarter[sub[sel]], f.reference.quarters.__getitem__),
    }
    return [(f.claim_index[rows[sel]], f.line_number[rows[sel]], evidence)]
