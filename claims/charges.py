"""What a claim is charged: the one meaning of ``total_charge`` used by scoring, training and reports.

CONTRACT §2 makes ``total_charge`` optional; when a claim does not carry it, its charge is the sum of
its line charges. Expected loss (§4), the training data's dollars and the worklist's recoverable
dollars all read this one function, so a claim is never worth $0 in one place and its lines' sum in
another.
"""

from __future__ import annotations

import numpy as np

from claims.columnar import ClaimFrame


def total_charges(frame: ClaimFrame) -> np.ndarray:
    """Total charge per claim (float64): the claim's ``total_charge``, else the sum of its line charges.

    Charges are finite (the claim model rejects anything else), so a missing line charge only needs
    NaN -> 0; a claim with no lines and no total is charged 0.
    """
    n = frame.n_claims
    index = frame.lines["claim_index"]
    charge = frame.lines["charge"]
    line_sum = np.bincount(index, weights=np.where(np.isnan(charge), 0.0, charge), minlength=n)
    total = np.full(n, np.nan)
    if index.shape[0]:
        total[index] = frame.lines["total_charge"]  # repeated on every line: any line's value will do
    return np.where(np.isnan(total), line_sum, total)
