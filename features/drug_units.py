"""How much drug a line bills: the NDC's unit of measure, NOC units, and mL quantities.

The contract's ``UNITS_MISMATCH`` checks billed units against the crosswalk only for quantities in
units (UN). A quantity in mL can be checked too: mL / package size x BILLUNITS is the number of
HCPCS units the NDC quantity stands for, and payers reject lines far from it. These columns give the
model that check (how many lines are off, and by how much on a log scale), with the unit of
measure itself and the NOC lines billed with units other than 1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from features.layout import DRUG_UNITS, ColumnLayout
from features.per_claim import ClaimRows, add_counts
from features.rules import _arrays as A

if TYPE_CHECKING:
    from reference.store import ReferenceData

_UNIT_INDEX = {u: k for k, u in enumerate(DRUG_UNITS)}
_ML = _UNIT_INDEX["ML"]
_UNIT_EPS = 1e-6
_LOG_RATIO_CAP = 20.0  # |log(billed / expected)| beyond this says no more (and stays finite)


def unit_local(unit: Any) -> int:
    """Position among ``DRUG_UNITS``; anything else (missing, unknown) is the "other" column."""
    return _UNIT_INDEX.get(unit.strip().upper(), len(DRUG_UNITS)) if isinstance(unit, str) else len(DRUG_UNITS)


def write_unit_columns(XT: np.ndarray, rows: ClaimRows, layout: ColumnLayout, reference: ReferenceData) -> None:
    """Drug lines by unit of measure, NOC lines not billed as 1 unit, and the mL check."""
    facts, ci, n, idx = rows.facts, rows.claim_index, rows.n, layout.index
    lines = rows.frame.lines
    ndc_rows = A.rows_where(facts.ndc_present & facts.is_drug)
    unit = A.map_unique(lines["drug_unit"], unit_local, np.int64)  # normalised: " ml" is ML
    if ndc_rows.size:
        add_counts(XT, ci[ndc_rows], unit[ndc_rows], layout.unit_cols, n)
    units = lines["units"]
    XT[idx["noc_lines_units_not_one"]] = rows.count(facts.is_noc & ~(np.abs(units - 1.0) <= _UNIT_EPS))
    _write_ml_check(XT, rows, idx, unit, reference)


def _write_ml_check(XT: np.ndarray, rows: ClaimRows, idx: dict[str, int], unit: np.ndarray, reference: ReferenceData) -> None:
    """Specific drug codes with an mL quantity, against the units the crosswalk says it is: lines
    off by more than 10 % (at least one unit), and the largest |log(billed / expected)| per claim."""
    facts, ci, n = rows.facts, rows.claim_index, rows.n
    xw = facts.crosswalk_rows  # lines the rules looked up in the crosswalk, with their quarter
    if xw is None or not xw.size:
        return
    lines = rows.frame.lines
    quantity, units = lines["drug_quantity"][xw], lines["units"]
    sel = A.rows_where(facts.is_specific_drug[xw] & (unit[xw] == _ML) & (quantity > 0.0) & np.isfinite(units[xw]))
    if not sel.size:
        return
    line = xw[sel]
    bill_units, package = reference.bill_units_and_package_size(
        facts.crosswalk_quarter[sel], facts.ndc11[line], facts.code[line]
    )
    expected = quantity[sel] / package * bill_units
    known = np.isfinite(expected) & (expected > 0)
    billed = units[line]
    off = known & (np.abs(billed - expected) > np.maximum(1.0, 0.1 * expected) + 1e-6)
    XT[idx["ml_units_mismatch_lines"]] = np.bincount(ci[line[off]], minlength=n)
    ratio = np.where(
        known & (billed > 0), np.abs(np.log(np.maximum(billed, 1e-9) / np.where(known, expected, 1.0))), 0.0
    )
    worst = np.zeros(n)
    np.maximum.at(worst, ci[line], np.minimum(ratio, _LOG_RATIO_CAP))
    XT[idx["ml_units_log_ratio_max"]] = worst
