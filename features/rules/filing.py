"""Timely filing: a payer refuses a claim submitted too long after its earliest service date."""

from __future__ import annotations

import numpy as np

from features.rules import _arrays as A
from features.rules.facts import RuleFacts
from features.rules.spec import Fired, rule

_NO_DAY = np.iinfo(np.int64).max  # no service date yet while taking a claim's earliest one


@rule(
    "TIMELY_FILING", "claim", "29", (), "Payer-specific policy",
    "Submitted {days_since_service} days after the earliest service date {earliest_service_date}; "
    "this payer's filing limit is {filing_limit_days} days.",
    "Check whether an exception applies (retro eligibility, corrected claim of a timely original) and attach proof.",
)
def timely_filing(f: RuleFacts) -> list[Fired]:
    """Submission date − earliest service date (a line without one: the submission date) above the
    payer's ``filing_limit_days``."""
    service = f.service_date
    days_of = service.astype("datetime64[D]", copy=False).astype(np.int64)
    valid = ~np.isnat(service)
    first = f.claim_first_row
    if first is not None:  # every claim has lines, grouped: one reduction per claim's run of rows
        earliest = np.minimum.reduceat(np.where(valid, days_of, _NO_DAY), first)
    else:
        earliest = np.full(f.n_claims, _NO_DAY, dtype=np.int64)
        np.minimum.at(earliest, f.claim_index[valid], days_of[valid])
    submission = f.per_claim(f.frame.lines["submission_date"], np.datetime64("NaT", "D"))
    has_dates = (earliest != _NO_DAY) & ~np.isnat(submission)
    days = np.where(has_dates, submission.astype(np.int64) - np.where(has_dates, earliest, 0), 0)
    limit = f.policies.column("filing_limit_days")[f.claim_policy]
    claims = A.rows_where(has_dates & (days > limit))
    if not claims.size:
        return []
    evidence = {
        "earliest_service_date": earliest[claims].astype("datetime64[D]"),
        "submission_date": submission[claims],
        "days_since_service": days[claims],
        "filing_limit_days": limit[claims],
    }
    return [(claims, None, evidence)]
