"""Charges: every line charge positive, and the claim total equal to the line sum within a cent."""

from __future__ import annotations

import numpy as np

from features.rules import _arrays as A
from features.rules.facts import RuleFacts
from features.rules.spec import Fired, rule

CHARGE_TOLERANCE = 0.01  # dollars: a total within a cent of the line sum is balanced
EPS = 1e-6  # absorbs binary float noise at the boundary (0.01 is not exact in binary)


@rule(
    "CHARGE_INVALID", "line", "16", ("M79",), "Incomplete claim",
    "The line charge is {charge}; it must be a positive amount.",
    "Enter a positive charge on every line and make the total charge equal the sum of the line charges.",
    claim_message="The total charge ({total_charge}) does not equal the sum of the line charges "
    "({line_charge_sum}); difference {difference}.",
    params={"total_tolerance": CHARGE_TOLERANCE, "eps": EPS},
)
def charge_invalid(f: RuleFacts) -> list[Fired]:
    """A line charge missing or not above zero (on the line), and a total that is missing or differs
    from the line sum by more than a cent (at claim level)."""
    charge = f.frame.lines["charge"]
    fired: list[Fired] = []
    rows = A.rows_where(~(charge > 0))
    if rows.size:
        fired.append((f.claim_index[rows], f.line_number[rows], {"charge": charge[rows]}))
    line_sum = np.bincount(f.claim_index, weights=np.where(np.isnan(charge), 0.0, charge), minlength=f.n_claims)
    total = f.per_claim(f.frame.lines["total_charge"], np.nan)
    difference = total - line_sum
    claims = A.rows_where(f.claims_with_lines & ~(np.abs(difference) <= CHARGE_TOLERANCE + EPS))
    if claims.size:
        evidence = {
            "total_charge": total[claims],
            "line_charge_sum": np.round(line_sum[claims], 2),
            "difference": np.round(difference[claims], 2),
        }
        fired.append((claims, None, evidence))
    return fired
