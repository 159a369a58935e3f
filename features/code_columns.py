"""Which procedure codes a claim bills: per-claim line counts by code family, NOC code,
administration code and drug code.

The family of a code (J, Q, C, A drug codes, other HCPCS, drug administration, other CPT) tells
the model what kind of service a line is even for codes it never saw; the NOC, administration and
drug code columns name the codes frequent enough in the history to learn from one by one (the rest
count in each block's "other" column). Codes are looked at once per distinct code, never per line.
"""

from __future__ import annotations

import numpy as np

from features.layout import FAMILIES, ColumnLayout
from features.per_claim import ClaimRows, add_counts
from features.rules import _arrays as A
from features.rules.catalog import is_admin_code

_FAMILY_INDEX = {f: k for k, f in enumerate(FAMILIES)}


def code_family(code: str) -> str:
    """The code's family among ``FAMILIES`` (codes arrive stripped and upper-cased)."""
    if is_admin_code(code):
        return "admin"
    if len(code) == 5 and code.isdigit():
        return "cpt_other"
    head = code[:1]
    if head in ("J", "Q", "C", "A"):
        return head
    return "other_hcpcs"


def write_code_counts(XT: np.ndarray, rows: ClaimRows, layout: ColumnLayout) -> np.ndarray:
    """Line counts by NOC code, family, administration code; the line totals. Returns the NOC
    rows (the drug unit columns count among them too)."""
    facts, ci, n, idx = rows.facts, rows.claim_index, rows.n, layout.index
    uniques = facts.code_uniques
    other_noc = len(layout.noc_local)
    noc_local = np.array([layout.noc_local.get(c, other_noc) for c in uniques], dtype=np.int64)
    family_local = np.array([_FAMILY_INDEX[code_family(c)] for c in uniques], dtype=np.int64)
    code_idx = facts.code_index
    noc_rows = A.rows_where(facts.is_noc)
    add_counts(XT, ci[noc_rows], noc_local[code_idx[noc_rows]], layout.noc_cols, n)
    add_counts(XT, ci, family_local[code_idx], layout.family_cols, n)
    XT[idx["n_lines"]] = np.bincount(ci, minlength=n)
    XT[idx["n_drug_lines"]] = rows.count(facts.is_drug)
    XT[idx["n_noc_lines"]] = np.bincount(ci[noc_rows], minlength=n)
    XT[idx["n_ndc_lines"]] = rows.count(facts.ndc_present)
    admin_rows = A.rows_where(facts.is_admin)
    if admin_rows.size:
        admin_local, admin_other = layout.admin_local, len(layout.admin_local)
        local = A.map_unique(facts.code[admin_rows], lambda c: admin_local.get(c, admin_other), np.int64)
        add_counts(XT, ci[admin_rows], local, layout.admin_cols, n)
    return noc_rows


def write_drug_code_counts(XT: np.ndarray, claims: np.ndarray, code_key: np.ndarray, layout: ColumnLayout, n: int) -> None:
    """Drug lines per claim by drug key (``features.drug_context.drug_keys``: a NOC line counts
    under the code CMS lists its NDC under)."""
    if claims.shape[0]:
        drug_local, drug_other = layout.drug_local, len(layout.drug_local)
        local = A.map_unique(code_key, lambda c: drug_local.get(c, drug_other), np.int64)
        add_counts(XT, claims, local, layout.drug_cols, n)
