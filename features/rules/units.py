"""Billing-unit rules: HCPCS units must be positive, one for NOC codes where the payer says so, agree
with the NDC quantity through the crosswalk's billing units per package item, and stay within the
CMS Medically Unlikely Edit of the code (per line or per date of service, by its indicator)."""

from __future__ import annotations

import numpy as np

from features.rules import _arrays as A
from features.rules.evidence import Lazy
from features.rules.facts import RuleFacts
from features.rules.spec import Fired, rule

UNITS_TOLERANCE_SHARE = 0.10  # UNITS_MISMATCH: max(1 unit, 10 % of expected)
UNITS_TOLERANCE_MIN = 1.0
EPS = 1e-6  # absorbs binary float noise at the tolerance boundaries


@rule(
    "UNITS_INVALID", "line", "16", ("M53",), "Incorrect units",
    "Billed units are {units}; they must be greater than zero.",
    "Enter the number of HCPCS billing units given (SV104/SV205), greater than zero.",
)
def units_invalid(f: RuleFacts) -> list[Fired]:
    """Line units missing or not above zero."""
    units = f.frame.lines["units"]
    rows = A.rows_where(~(units > 0))
    return [(f.claim_index[rows], f.line_number[rows], {"units": units[rows]})] if rows.size else []


@rule(
    "NOC_UNITS_NOT_ONE", "line", "16", ("M53",), "Incorrect units",
    "This payer wants unclassified code {procedure_code} billed as 1 unit; the line bills {units}.",
    "Bill the unclassified drug code with 1 unit and put the dose given in the description (SV101-7).",
    params={"eps": EPS},
)
def noc_units_not_one(f: RuleFacts) -> list[Fired]:
    """A NOC line billing other than one unit where the payer's policy asks for one (``noc_units_one``)."""
    units = f.frame.lines["units"]
    wants_one = f.policies.column("noc_units_one")[f.policy]
    rows = A.rows_where(f.is_noc & wants_one & ~(np.abs(units - 1.0) <= EPS))
    if not rows.size:
        return []
    return [(f.claim_index[rows], f.line_number[rows], {"procedure_code": f.code[rows], "units": units[rows]})]


@rule(
    "UNITS_MISMATCH", "line", "16", ("N430",), "Incorrect units",
    "Billed {units} units of {procedure_code}, but NDC quantity {drug_quantity} UN × {bill_units} billing "
    "units per item (crosswalk {quarter}) gives {expected_units}.",
    "Recompute the HCPCS units from the dose given and the code's dosage descriptor, or correct the NDC quantity.",
    params={"tolerance_share": UNITS_TOLERANCE_SHARE, "tolerance_min_units": UNITS_TOLERANCE_MIN, "eps": EPS,
            "drug_unit": "UN"},
)
def units_mismatch(f: RuleFacts) -> list[Fired]:
    """A specific drug code whose NDC the crosswalk lists under this very code, counted in whole items
    (UN): billed units must be the NDC quantity × BILLUNITS, within max(1 unit, 10 %)."""
    L = f.frame.lines
    units, quantity, xw = L["units"], L["drug_quantity"], f.crosswalk_rows
    un = A.rows_where(
        f.is_specific_drug[xw] & (f.drug_unit[xw] == "UN") & (quantity[xw] > 0) & np.isfinite(units[xw])
    )
    if not un.size:
        return []
    rows = xw[un]
    quarter = f.crosswalk_quarter[un]
    bill_units = f.lookups.bill_units(quarter, f.ndc11[rows], f.code[rows])
    expected = quantity[rows] * bill_units
    tolerance = np.maximum(UNITS_TOLERANCE_MIN, UNITS_TOLERANCE_SHARE * expected)
    sel = A.rows_where(np.isfinite(expected) & (np.abs(units[rows] - expected) > tolerance + EPS))
    if not sel.size:
        return []
    rows = rows[sel]
    evidence = {
        "procedure_code": f.code[rows],
        "ndc": f.ndc11[rows],
        "drug_quantity": quantity[rows],
        "drug_unit": "UN",
        "bill_units": bill_units[sel],
        "expected_units": np.round(expected[sel], 4),
        "units": units[rows],
        "tolerance": np.round(tolerance[sel], 4),
        "quarter": Lazy(quarter[sel], f.reference.quarters.__getitem__),
    }
    return [(f.claim_index[rows], f.line_number[rows], evidence)]


# What the biller can do about an MUE excess depends on the adjudication indicator (indexed by it).
MUE_PER = ("", "line", "date of service", "date of service")
MUE_RECOURSE = (
    "",
    ", or report medically necessary units beyond it on another line with the modifier that explains "
    "them (e.g. 76, 91, an anatomic modifier) and keep the documentation for appeal",
    "; this date-of-service limit is CMS policy (indicator 2) and is not appealable: correct the units",
    ", or document the medical necessity of the extra units in the records and appeal "
    "(a clinical edit, indicator 3)",
)


@rule(
    "UNITS_EXCEED_MUE", "line", "151", ("N362",), "Incorrect units",
    "{units} units of {procedure_code} on {service_date} (lines {lines}) exceed the CMS Medically Unlikely "
    "Edit of {mue} per {per} ({setting} table effective {mue_effective}, indicator {indicator}).",
    "Bill no more than {mue} units of {procedure_code} per {per}{recourse}.",
    params={"eps": EPS, "per": MUE_PER, "recourse": MUE_RECOURSE, "noc_codes_have_no_mue": True},
)
def units_exceed_mue(f: RuleFacts) -> list[Fired]:
    """Indicator 1: a line's units above the code's MUE. Indicators 2 and 3: the units of all the
    claim's lines of the code on one service date above it, reported once, on the first of them.
    The facts (:class:`~features.rules.facts.MueFacts`) hold only lines the edit applies to."""
    m = f.mue
    if not m.rows.size:
        return []
    over_line = A.rows_where((m.indicator == 1) & (m.units > m.limit + EPS))
    first = m.group_first
    over_day = first[m.group_units > m.limit[first] + EPS]
    sel = np.concatenate((over_line, over_day))
    if not sel.size:
        return []
    rows = m.rows[sel]
    lines: list[list[int]] = [[n] for n in f.line_number[m.rows[over_line]].tolist()]
    if over_day.size:
        lines += _group_lines(f, over_day)
    indicator = m.indicator[sel]
    evidence = {
        "procedure_code": f.code[rows],
        "service_date": f.service_date[rows],
        "units": np.concatenate((m.units[over_line], m.group_units[m.group[over_day]])),
        "mue": m.limit[sel],
        "indicator": indicator,
        "per": Lazy(indicator, MUE_PER.__getitem__),
        "lines": lines,
        "setting": m.setting[sel],
        "mue_effective": f.reference.mue_effective(m.setting[sel], f.code[rows], f.service_date[rows]),
        "recourse": Lazy(indicator, MUE_RECOURSE.__getitem__),
    }
    return [(f.claim_index[rows], f.line_number[rows], evidence)]


def _group_lines(f: RuleFacts, firsts: np.ndarray) -> list[list[int]]:
    """The line numbers of each fired date-of-service group (given by its first row), as sent."""
    m = f.mue
    groups = m.group[firsts]
    member = A.rows_where(np.isin(m.group, groups))
    order = member[np.argsort(m.group[member], kind="stable")]
    bounds = np.searchsorted(m.group[order], groups, side="left")
    ends = np.searchsorted(m.group[order], groups, side="right")
    numbers = f.line_number[m.rows[order]].tolist()
    return [numbers[a:b] for a, b in zip(bounds.tolist(), ends.tolist(), strict=True)]
