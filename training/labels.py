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

from claims.netting import EVENT_COLUMNS, net_remittance_rows

CLAIM_DENIED_STATUS = "4"
# The only remittance columns labelling needs; the rest (adjustment and remark lists) is dropped
# first, because copying millions of Python lists is where the time and memory would go.
LABEL_COLUMNS = (*EVENT_COLUMNS, "line_control_number", "procedure_code", "service_date", "charge", "outcome")


def label_columns(rows: pd.DataFrame) -> pd.DataFrame:
    """The columns of ``rows`` that labelling reads (missing optional ones are simply absent)."""
    return rows[[name for name in LABEL_COLUMNS if name in rows.columns]]


@dataclass(frozen=True)
class NettedRemits:
    """The surviving adjudication of every claim, and what netting removed."""

    rows: pd.DataFrame  # rows of the adjudications that stand, source order
    reversed_claims: int  # claims whose last event is a reversal: left out
    superseded_rows: int  # rows netting removed on claims that keep an adjudication


def _column(rows: pd.DataFrame, name: str) -> pd.Series:
    if name in rows.columns:
        return rows[name]
    return pd.Series([None] * len(rows), index=rows.index, dtype=object)


def _as_text(values: pd.Series) -> np.ndarray:
    """Object array of strings with None for missing, whatever dtype the reader produced."""
    out: np.ndarray = values.to_numpy(dtype=object, na_value=None)  # type: ignore[call-overload]
    return out if out.flags.writeable else out.copy()


def _normalized(values: pd.Series, how: str) -> np.ndarray:
    """Codes like CLP02 or outcomes, stripped (``how='strip'``) or lower-cased, "" for missing;
    computed on the distinct values only (a history has millions of rows and a dozen codes)."""
    codes, uniques = pd.factorize(_as_text(values), use_na_sentinel=True)
    clean = np.array(
        [(str(u).strip() if how == "strip" else str(u).strip().lower()) for u in uniques] + [""], dtype=object
    )
    return clean[codes]  # the NA sentinel -1 picks the trailing ""


def _as_dates(values: pd.Series) -> np.ndarray:
    return pd.to_datetime(values, errors="coerce").to_numpy(dtype="datetime64[D]")


def claim_codes(claim_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(integer code per row, distinct claim ids as an object array): the netting works on ints."""
    codes, uniques = pd.factorize(claim_ids)
    return codes.astype(np.int64), np.asarray(uniques, dtype=object)


def net_adjudications_frame(rows: pd.DataFrame) -> NettedRemits:
    """The adjudications that stand (CONTRACT §6, ``claims.netting``): each payer claim's latest,
    every part of a split claim, corrections after reversals; claims reversed last are left out."""
    rows = label_columns(rows).reset_index(drop=True)
    netting = net_remittance_rows(rows)
    return NettedRemits(
        rows=rows.loc[netting.keep].reset_index(drop=True),
        reversed_claims=netting.reversed_claims,
        superseded_rows=netting.superseded_rows,
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
    outcome = _normalized(_column(kept, "outcome"), "lower")
    status = _normalized(_column(kept, "claim_status"), "strip")
    codes, ids = claim_codes(_as_text(kept["claim_id"]) if len(kept) else np.empty(0, dtype=object))
    m = ids.size

    def any_of(mask: np.ndarray) -> np.ndarray:
        return np.bincount(codes[mask], minlength=m) > 0

    excluded = any_of(outcome == "excluded")
    claim_denied = any_of(status == CLAIM_DENIED_STATUS)
    denied = any_of(outcome == "denied") | claim_denied
    status_out = np.where(excluded, "excluded", np.where(denied, "denied", "paid")).astype(object)
    table = pd.DataFrame(
        {"status": status_out, "claim_denied": claim_denied},
        index=pd.Index(ids, dtype=object, name="claim_id"),
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
