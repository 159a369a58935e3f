"""NDC rules: a drug line names the product given by an 11-digit NDC, with its quantity and unit."""

from __future__ import annotations

import numpy as np

from features.rules import _arrays as A
from features.rules.evidence import Lazy
from features.rules.facts import RuleFacts
from features.rules.spec import Fired, rule
from features.rules.terms import VALID_NDC_UNITS


@rule(
    "NDC_MISSING", "line", "16", ("M119",), "Missing NDC",
    "Drug line {procedure_code} has no NDC.",
    "Add the 11-digit NDC of the product given (loop 2410 LIN03, qualifier N4) with its quantity and unit.",
)
def ndc_missing(f: RuleFacts) -> list[Fired]:
    """A drug line (NOC code, CMS drug code, or a drug block) without an NDC."""
    rows = A.rows_where(f.is_drug & ~f.ndc_present)
    return [(f.claim_index[rows], f.line_number[rows], {"procedure_code": f.code[rows]})] if rows.size else []


@rule(
    "NDC_INVALID", "line", "16", ("M119",), "Missing NDC",
    "NDC '{ndc}' is not a valid 11-digit NDC.",
    "Send the NDC as 11 digits (5-4-2). Pad a 10-digit 4-4-2, 5-3-2 or 5-4-1 NDC with a leading zero "
    "in the short segment; a 10-digit NDC without hyphens cannot be padded safely — read it from the package.",
)
def ndc_invalid(f: RuleFacts) -> list[Fired]:
    """An NDC that does not normalise to 11 digits (a bare 10-digit NDC is ambiguous: invalid)."""
    rows = A.rows_where(f.ndc_present & ~f.ndc_valid)
    if not rows.size:
        return []
    return [(f.claim_index[rows], f.line_number[rows], {"ndc": f.frame.lines["ndc"][rows], "procedure_code": f.code[rows]})]


@rule(
    "NDC_QUANTITY_INVALID", "line", "16", ("N815",), "Incorrect units",
    "NDC quantity is {drug_quantity}; it must be a positive number.",
    "Enter the NDC quantity actually administered (CTP04), greater than zero.",
)
def ndc_quantity_invalid(f: RuleFacts) -> list[Fired]:
    """NDC present, quantity missing (NaN) or not above zero."""
    L = f.frame.lines
    rows = A.rows_where(f.ndc_present & ~(L["drug_quantity"] > 0))
    if not rows.size:
        return []
    return [(f.claim_index[rows], f.line_number[rows], {"ndc": L["ndc"][rows], "drug_quantity": L["drug_quantity"][rows]})]


_UNIT_PROBLEMS = ("missing", "not accepted by this payer", "not one of F2, GR, ME, ML, UN")


@rule(
    "NDC_UNIT_INVALID", "line", "16", ("N816",), "Incorrect units",
    "NDC unit of measure '{drug_unit}' is {problem}.",
    "Use the NDC unit of measure that matches the package: F2 (international unit), GR (gram), "
    "ME (milligram), ML (milliliter) or UN (unit/each), as this payer accepts.",
    params={"units": VALID_NDC_UNITS, "problems": _UNIT_PROBLEMS},
)
def ndc_unit_invalid(f: RuleFacts) -> list[Fired]:
    """NDC present, unit missing, not one of the five NCPDP units, or banned by the payer's policy."""
    known = np.array([u in VALID_NDC_UNITS for u in f.unit_uniques], dtype=bool)[f.unit_index]
    banned = f.policies.membership("banned_ndc_units", f.unit_uniques)[f.policy, f.unit_index]
    rows = A.rows_where(f.ndc_present & (~known | banned))
    if not rows.size:
        return []
    problem = np.where(np.equal(f.drug_unit[rows], ""), 0, np.where(known[rows], 1, 2))
    evidence = {"drug_unit": f.frame.lines["drug_unit"][rows], "problem": Lazy(problem, _UNIT_PROBLEMS.__getitem__)}
    return [(f.claim_index[rows], f.line_number[rows], evidence)]
