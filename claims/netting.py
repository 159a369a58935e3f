"""Netting of remittance rows (CONTRACT §6): which adjudications of each claim still stand.

Payers reverse and re-adjudicate claims, replace an adjudication with a later one, and split one
claim into several CLPs (same CLP01, different CLP07). A history that keeps every row would count
a reversed denial as a denial; one that keeps only the latest CLP per claim id silently drops
every part of a split claim but the last. The rule lives here, once, on whole columns, because
JSONL remits and 835 remits both produce §6 rows and both ``claimrisk remits`` and training's
labels must agree on it:

* an adjudication (event) is one CLP: rows sharing ``sequence`` (the 835 reader numbers CLPs), or,
  for rows without one, a run of consecutive rows with the same claim, status, payer claim id
  (CLP07) and paid date;
* events are ordered by ``paid_date``, then file order; an event without a paid date takes the
  date of the claim's event before it in the file (so a wholly undated history is in file order);
* per claim, the latest event of each payer claim stands, unless it is a reversal (CLP02 = 22):
  a reversal cancels the earlier adjudications of the payer claim it names, a later adjudication
  of a payer claim replaces the earlier ones, and parts with different CLP07s all stand (a null
  CLP07 is a payer claim of its own);
* a reversal is corrected by the claim's next adjudication, whatever its CLP07; a claim whose
  last event is a reversal has no valid adjudication and keeps no rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

REVERSAL_STATUS = "22"
# The columns that identify one adjudication among consecutive remittance rows.
EVENT_COLUMNS = ("claim_id", "claim_status", "payer_claim_id", "paid_date", "sequence")
_UNDATED = np.iinfo(np.int64).min


@dataclass(frozen=True)
class Netting:
    """Per row whether it stands, and what netting removed (counts only: rows are PHI)."""

    keep: np.ndarray  # bool per input row
    reversed_claims: int  # claims whose last event is a reversal: no valid adjudication left
    superseded_rows: int  # rows removed on claims that keep an adjudication (replaced or reversed)


def _text(rows: pd.DataFrame, name: str) -> np.ndarray:
    """Object column with None for missing ("" stays a value), whatever dtype the reader gave."""
    if name not in rows.columns:
        return np.full(len(rows), None, dtype=object)
    values: np.ndarray = rows[name].to_numpy(dtype=object)
    out = values.copy()
    out[pd.isna(values)] = None
    return out


def _days(rows: pd.DataFrame) -> np.ndarray:
    """Paid dates as int64 days, ``_UNDATED`` where missing or unreadable."""
    if "paid_date" not in rows.columns:
        return np.full(len(rows), _UNDATED, dtype=np.int64)
    dates = pd.to_datetime(rows["paid_date"], errors="coerce").to_numpy(dtype="datetime64[D]")
    return np.where(np.isnat(dates), _UNDATED, dates.astype(np.int64))


def _codes(values: np.ndarray) -> np.ndarray:
    """Integer codes of object values, None coded like any other value (its own payer claim)."""
    codes, _ = pd.factorize(values, use_na_sentinel=False)
    return codes.astype(np.int64)


def _event_starts(keys: list[np.ndarray], n: int) -> np.ndarray:
    """Per row, whether it opens a new adjudication (a key differs from the row before)."""
    changed = np.zeros(n, dtype=bool)
    changed[0] = True
    for key in keys:
        changed[1:] |= key[1:] != key[:-1]
    return changed


def _filled_dates(claim: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Each event's date, an undated one taking the date of its claim's previous event in file order
    (events are already in file order); undated before any date stays first."""
    as_float = pd.Series(np.where(days == _UNDATED, np.nan, days.astype(np.float64)))
    filled = as_float.groupby(claim, sort=False).ffill().to_numpy()
    return np.where(np.isnan(filled), _UNDATED, filled).astype(np.int64)


def net_remittance_rows(rows: pd.DataFrame) -> Netting:
    """The netting of the module docstring over §6 rows in file order (``EVENT_COLUMNS`` are read;
    missing optional ones count as null)."""
    n = len(rows)
    if n == 0:
        return Netting(np.zeros(0, dtype=bool), 0, 0)
    claim = _codes(_text(rows, "claim_id"))
    status_codes, statuses = pd.factorize(_text(rows, "claim_status"), use_na_sentinel=False)
    stripped = np.array([s.strip() if isinstance(s, str) else None for s in statuses], dtype=object)
    status = _codes(stripped)[status_codes]  # per distinct CLP02 only: a dozen values, not millions
    reversal = (stripped == REVERSAL_STATUS)[status_codes]
    payer_claim = _codes(_text(rows, "payer_claim_id"))
    days = _days(rows)
    keys = [claim, status, payer_claim, days, _codes(_text(rows, "sequence"))]
    opens = _event_starts(keys, n)
    event = np.cumsum(opens) - 1
    starts = np.flatnonzero(opens)
    e_claim, e_payer_claim = claim[starts], payer_claim[starts]
    e_reversal = reversal[starts]
    e_date = _filled_dates(e_claim, days[starts])
    # the claim's last event: a reversal there has no correction after it
    by_time = np.lexsort((starts, e_date, e_claim))
    last_of_claim = by_time[np.r_[e_claim[by_time][1:] != e_claim[by_time][:-1], True]]
    dropped = np.zeros(int(claim.max()) + 1, dtype=bool)
    dropped[e_claim[last_of_claim]] = e_reversal[last_of_claim]
    # the latest event of each (claim, payer claim) stands unless it is a reversal
    by_payer_claim = np.lexsort((starts, e_date, e_payer_claim, e_claim))
    group = np.c_[e_claim, e_payer_claim][by_payer_claim]
    is_last = np.r_[np.any(group[1:] != group[:-1], axis=1), True]
    stands = np.zeros(starts.size, dtype=bool)
    stands[by_payer_claim[is_last]] = True
    stands &= ~e_reversal & ~dropped[e_claim]
    keep = stands[event]
    return Netting(
        keep=keep,
        reversed_claims=int(np.count_nonzero(dropped)),
        superseded_rows=int(np.count_nonzero(~keep & ~dropped[claim])),
    )
