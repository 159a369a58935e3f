"""Diagnosis rules: a claim names billable ICD-10-CM codes, and a professional line points at them."""

from __future__ import annotations

import functools

import numpy as np

from features.rules import _arrays as A
from features.rules.evidence import Groups, Lazy
from features.rules.facts import RuleFacts
from features.rules.spec import Fired, rule

_NOT_BILLABLE = "not billable (a category; use a more specific code)"
_NOT_VALID = "not a valid ICD-10-CM code"


@rule(
    "DIAGNOSIS_MISSING", "claim", "16", ("MA63",), "Lack of medical necessity",
    "The claim has no diagnosis code.",
    "Enter the ICD-10-CM diagnosis codes that support the drug, the principal one first.",
)
def diagnosis_missing(f: RuleFacts) -> list[Fired]:
    """A claim with lines and no diagnosis code."""
    claims = A.rows_where((f.diagnosis_count == 0) & f.claims_with_lines)
    return [(claims, None, {"diagnosis_count": 0})] if claims.size else []


@rule(
    "DIAGNOSIS_INVALID", "claim", "16", ("M76",), "Lack of medical necessity",
    "Diagnosis code(s) {codes} at position(s) {positions} are not valid billable ICD-10-CM codes.",
    "Use complete, billable ICD-10-CM codes (the most specific code in the category).",
    params={"reasons": (_NOT_BILLABLE, _NOT_VALID)},
)
def diagnosis_invalid(f: RuleFacts) -> list[Fired]:
    """A claim with a diagnosis that is not a valid, billable (leaf) ICD-10-CM code; one row per
    claim listing every such code, its position and why."""
    bad = A.rows_where(f.diagnosis_status != 0)
    if not bad.size:
        return []
    dx = f.frame.diagnoses
    bad = bad[np.argsort(dx["claim_index"][bad], kind="stable")]
    bad_claims = dx["claim_index"][bad]
    claims = np.unique(bad_claims)
    reasons = np.where(f.diagnosis_status[bad] == 1, _NOT_BILLABLE, _NOT_VALID).astype(object)
    groups = Groups(bad_claims, {"codes": dx["code"][bad], "positions": dx["position"][bad], "reasons": reasons})
    keys = ("codes", "positions", "reasons")
    return [(claims, None, {key: Lazy(claims, functools.partial(groups.values, key)) for key in keys})]


@rule(
    "DIAGNOSIS_POINTER_INVALID", "line", "16", ("M76",), "Lack of medical necessity",
    "The line's diagnosis pointers ({pointer_count} given, lowest {pointer_min}, highest {pointer_max}) must "
    "each be between 1 and {diagnosis_count}, the number of diagnosis codes on the claim.",
    "Point the line at the diagnoses it treats (1 to the number of diagnosis codes on the claim).",
)
def diagnosis_pointer_invalid(f: RuleFacts) -> list[Fired]:
    """A pointer outside 1..number of diagnoses, or a professional line with none. 837I SV2 has no
    diagnosis-pointer element, so an institutional line without pointers is normal; a pointer it
    does carry must still point at a diagnosis on the claim."""
    L = f.frame.lines
    count, low, high = L["pointer_count"], L["pointer_min"], L["pointer_max"]
    n_dx = f.diagnosis_count[f.claim_index]
    no_pointer = count == 0
    out_of_range = ~no_pointer & ((low < 1) | (high > n_dx))
    rows = A.rows_where((no_pointer & f.professional_line) | out_of_range)
    if not rows.size:
        return []
    evidence = {"pointer_count": count[rows], "pointer_min": low[rows], "pointer_max": high[rows], "diagnosis_count": n_dx[rows]}
    return [(f.claim_index[rows], f.line_number[rows], evidence)]
