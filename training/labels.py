"""Labels from remittance rows (CONTRACT §6): which claims the payer denied, and for how many dollars.

The 835 history is messy in ways that would silently poison a model if ignored: payers reverse and
re-adjudicate claims (CLP02 = 22 followed by a new CLP), leave claims pending (OA-133) or send
predeterminations (CLP02 = 25), and an analyst's export rarely holds a remittance for every claim.
So netting, exclusion and the join are explicit here, and every claim that is left out is counted
so the analyst can see how much of the history the model actually learned from.

Everything works on whole columns (pandas/NumPy): a history has millions of remittance rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

REVERSAL_STATUS = "22"
CLAIM_DENIED_STATUS = "4"
# Columns that identify one adjudication (one CLP loop) among consecutive remittance rows.
_EVENT_KEYS = ("claim_id", "claim_status", "payer_claim_id", "paid_date", "sequence")


@dataclass(frozen=True)
class NettedRemits:
    """The surviving adjudication of every claim, and what netting removed."""

    rows: pd.DataFrame  # rows of each claim's latest non-reversal adjudication, source order
    reversed_claims: int  # claims whose latest event is a reversal: left out
    superseded_rows: int  # rows of earlier adjudications replaced by a later one


def _column(rows: pd.DataFrame, name: str) -> pd.Series:
    if name in rows.columns:
        return rows[name]
    return pd.Series([None] * len(rows), index=rows.index, dtype=object)


def _as_text(values: pd.Series) -> np.ndarray:
    """Object array of strings with None for missing, whatever dtype the reader produced."""
    out = values.astype(object).to_numpy(copy=True)
    missing = pd.isna(values).to_numpy()
    out[missing] = None
    return out


def _as_dates(values: pd.Series) -> np.ndarray:
    return pd.to_datetime(values, errors="coerce").to_numpy(dtype="datetime64[D]")


def net_adjudications_frame(rows: pd.DataFrame) -> NettedRemits:
    """Per claim_id keep the latest non-reversal adjudication (by paid_date, then source order).

    The same rule as ``edi.remits835.net_adjudications``, on whole columns: an adjudication is a
    run of consecutive rows sharing claim id, status, payer claim id, paid date and sequence; the
    latest non-reversal one wins unless a reversal (CLP02 = 22) came strictly after it (a later
    paid date, or later in the file when either date is missing): then the payer took its answer
    back and the claim is dropped. A reversal paid on the same date as a correction is the pair a
    payer sends to re-adjudicate, so the correction stands.
    """
    n = len(rows)
    if n == 0:
        return NettedRemits(rows=rows.iloc[0:0].copy(), reversed_claims=0, superseded_rows=0)
    rows = rows.reset_index(drop=True)
    changed = np.zeros(n, dtype=bool)
    changed[0] = True
    for name in _EVENT_KEYS:
        column = _column(rows, name)
        if name == "paid_date":
            key = _as_dates(column).astype("int64")
        else:
            key = pd.Series(_as_text(column)).fillna("\x00").astype(str).to_numpy()
        changed[1:] |= key[1:] != key[:-1]
    event = np.cumsum(changed) - 1
    starts = np.flatnonzero(changed)

    claim_id = _as_text(rows["claim_id"])
    status = pd.Series(_as_text(_column(rows, "claim_status"))).fillna("").astype(str).str.strip().to_numpy()
    paid = _as_dates(_column(rows, "paid_date"))
    events = pd.DataFrame(
        {
            "claim_id": claim_id[starts],
            "dated": ~np.isnat(paid[starts]),
            "paid": paid[starts].astype("int64"),
            "order": starts,
            "reversal": status[starts] == REVERSAL_STATUS,
            "event": np.arange(len(starts)),
        }
    )
    events["paid"] = np.where(events["dated"], events["paid"], np.iinfo(np.int64).min)  # undated first
    answers = events.loc[~events["reversal"]]
    winners = (
        answers.sort_values(["claim_id", "paid", "order"], kind="stable")
        .groupby("claim_id", sort=False)
        .tail(1)
    )
    reversals = events.loc[events["reversal"], ["claim_id", "dated", "paid", "order"]]
    pairs = reversals.merge(winners, on="claim_id", suffixes=("_rev", ""))
    both_dated = pairs["dated_rev"].to_numpy() & pairs["dated"].to_numpy()
    later = np.where(
        both_dated,
        pairs["paid_rev"].to_numpy() > pairs["paid"].to_numpy(),
        pairs["order_rev"].to_numpy() > pairs["order"].to_numpy(),
    )
    taken_back = set(pairs.loc[later, "claim_id"].tolist())
    standing = winners.loc[~winners["claim_id"].isin(taken_back)]
    keep_events = np.zeros(len(starts), dtype=bool)
    keep_events[standing["event"].to_numpy()] = True
    keep_rows = keep_events[event]
    dropped_ids = set(events["claim_id"].tolist()) - set(standing["claim_id"].tolist())
    in_dropped = pd.Series(claim_id).isin(dropped_ids).to_numpy()
    return NettedRemits(
        rows=rows.loc[keep_rows].reset_index(drop=True),
        reversed_claims=len(dropped_ids),
        superseded_rows=int(np.count_nonzero(~keep_rows & ~in_dropped)),
    )


@dataclass(frozen=True)
class ClaimLabels:
    """One row per answered claim id: its outcome and denied dollars (from the remittance side)."""

    table: pd.DataFrame  # index claim_id; columns status ("denied"|"paid"|"excluded"), claim_denied (bool)
    rows: pd.DataFrame  # the netted remittance rows the labels came from
    reversed_claims: int
    superseded_rows: int


def label_claims(rows: pd.DataFrame) -> ClaimLabels:
    """Net reversals, then label each claim: excluded when any row is excluded (not final yet),
    else denied when any line is denied (or CLP02 = 4), else paid (reductions are not denials)."""
    netted = net_adjudications_frame(rows)
    kept = netted.rows
    outcome = pd.Series(_as_text(_column(kept, "outcome"))).fillna("").astype(str).str.lower().to_numpy()
    status = pd.Series(_as_text(_column(kept, "claim_status"))).fillna("").astype(str).str.strip().to_numpy()
    frame = pd.DataFrame(
        {
            "claim_id": _as_text(kept["claim_id"]) if len(kept) else np.empty(0, dtype=object),
            "excluded": outcome == "excluded",
            "denied": outcome == "denied",
            "claim_denied": status == CLAIM_DENIED_STATUS,
        }
    )
    grouped = frame.groupby("claim_id", sort=False).agg(
        excluded=("excluded", "any"), denied=("denied", "any"), claim_denied=("claim_denied", "any")
    )
    denied = grouped["denied"] | grouped["claim_denied"]
    status_out = np.where(grouped["excluded"], "excluded", np.where(denied, "denied", "paid"))
    table = pd.DataFrame(
        {"status": status_out, "claim_denied": grouped["claim_denied"].to_numpy()}, index=grouped.index
    )
    return ClaimLabels(
        table=table, rows=kept, reversed_claims=netted.reversed_claims, superseded_rows=netted.superseded_rows
    )


@dataclass(frozen=True)
class LineMatch:
    """Remittance lines matched to claim lines, and how."""

    claim_line_row: np.ndarray  # per remit row: index into the claim lines table, -1 when unmatched
    by_control_number: int
    by_code_and_date: int
    by_code: int
    unmatched: int  # remit service lines that match no claim line
    claim_level_rows: int  # remit rows with no service line (claim-level answers)


def _pair(left: pd.DataFrame, right: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Pair rows with equal keys in order of appearance (the n-th duplicate with the n-th)."""
    left = left.assign(_n=left.groupby(keys, sort=False).cumcount())
    right = right.assign(_n=right.groupby(keys, sort=False).cumcount())
    return left.merge(right, on=[*keys, "_n"], how="inner")


def match_lines(claim_lines: pd.DataFrame, remit_rows: pd.DataFrame) -> LineMatch:
    """Match 835 service lines to 837 lines: on (claim id, line control number), falling back to
    (claim id, procedure code, service date) and then (claim id, procedure code).

    ``claim_lines`` needs claim_id, line_control_number, procedure_code, service_date;
    ``remit_rows`` the same §6 columns. Each claim line is used at most once.
    """
    n = len(remit_rows)
    result = np.full(n, -1, dtype=np.int64)
    r_claim = _as_text(remit_rows["claim_id"]) if n else np.empty(0, dtype=object)
    r_lcn = _as_text(_column(remit_rows, "line_control_number"))
    r_code = _as_text(_column(remit_rows, "procedure_code"))
    r_date = _as_dates(_column(remit_rows, "service_date"))
    claim_level = pd.isna(r_lcn) & pd.isna(r_code)
    remit = pd.DataFrame(
        {"claim_id": r_claim, "lcn": r_lcn, "code": r_code, "date": r_date, "r": np.arange(n)}
    )
    lines = pd.DataFrame(
        {
            "claim_id": _as_text(claim_lines["claim_id"]),
            "lcn": _as_text(claim_lines["line_control_number"]),
            "code": _as_text(claim_lines["procedure_code"]),
            "date": _as_dates(claim_lines["service_date"]),
            "c": np.arange(len(claim_lines)),
        }
    )
    used = np.zeros(len(lines), dtype=bool)
    counts = []
    passes: list[tuple[list[str], str]] = [
        (["claim_id", "lcn"], "lcn"),
        (["claim_id", "code", "date"], "date"),
        (["claim_id", "code"], "code"),
    ]
    for keys, required in passes:
        open_remit = remit[
            (result[remit["r"].to_numpy()] < 0) & ~claim_level & remit[required].notna().to_numpy()
        ]
        open_lines = lines[~used & lines[required].notna().to_numpy()]
        if "date" in keys:
            open_remit = open_remit[open_remit["date"].notna()]
            open_lines = open_lines[open_lines["date"].notna()]
        pairs = _pair(open_lines[[*keys, "c"]], open_remit[[*keys, "r"]], keys)
        result[pairs["r"].to_numpy()] = pairs["c"].to_numpy()
        used[pairs["c"].to_numpy()] = True
        counts.append(len(pairs))
    return LineMatch(
        claim_line_row=result,
        by_control_number=counts[0],
        by_code_and_date=counts[1],
        by_code=counts[2],
        unmatched=int(np.count_nonzero((result < 0) & ~claim_level)),
        claim_level_rows=int(np.count_nonzero(claim_level)),
    )
