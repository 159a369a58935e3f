"""The training set: claims joined to their netted remittances, labelled, in submission order.

Only claim-side columns ever reach the featurizer: the remittance is used for the label and the
denied dollars and nothing else (a feature derived from any remittance field would leak the
answer; ``tests/training/test_training_leakage.py`` guards this).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from claims.charges import total_charges
from claims.columnar import ClaimFrame
from training.labels import label_claims, match_lines


@dataclass(frozen=True)
class TrainingData:
    """Labelled claims in submission order (earliest first), with claim-level arrays aligned to them."""

    frame: ClaimFrame
    y: np.ndarray  # int8, 1 = denied (any line)
    denied_dollars: np.ndarray  # float64, charge the payer refused to pay (0 when paid)
    total_charge: np.ndarray  # float64, claims.charges.total_charges (a missing total is the line sum)
    payer_id: np.ndarray  # object
    submission_date: np.ndarray  # datetime64[D]
    summary: dict[str, Any] = field(default_factory=dict)
    # datetime64[D], when the standing adjudication was paid (CONTRACT §6 paid_date; NaT unknown):
    # when the outcome became known, for features built only from outcomes known before a submission
    paid_date: np.ndarray | None = None

    @property
    def claim_ids(self) -> np.ndarray:
        return self.frame.claim_ids

    def __len__(self) -> int:
        return self.frame.n_claims


def claim_level(frame: ClaimFrame) -> pd.DataFrame:
    """One row per claim (claim_index order): the claim fields repeated on its lines, taken once."""
    index = frame.lines["claim_index"]
    first = np.full(frame.n_claims, -1, dtype=np.int64)
    # the first line of each claim; reversed assignment keeps the earliest row for repeated indices
    order = np.arange(index.shape[0])[::-1]
    first[index[order]] = order
    take = np.where(first >= 0, first, 0)
    has_line = first >= 0
    payer = frame.lines["payer_id"][take] if frame.n_lines else np.empty(frame.n_claims, dtype=object)
    submitted = (
        frame.lines["submission_date"][take]
        if frame.n_lines
        else np.empty(frame.n_claims, dtype="datetime64[D]")
    )
    return pd.DataFrame(
        {
            "claim_id": pd.Series(frame.claim_ids, dtype=object),
            "payer_id": payer,
            "submission_date": np.where(has_line, submitted, np.datetime64("NaT")).astype("datetime64[D]"),
        }
    )


def hash_inputs(paths: list[Path]) -> str:
    """sha256 over the input files (folders: their files in name order), so a run names its data."""
    digest = hashlib.sha256()
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            digest.update(file.name.encode())
            with file.open("rb") as handle:
                while chunk := handle.read(1 << 22):
                    digest.update(chunk)
    return digest.hexdigest()


def build_training_data(claims: ClaimFrame, remits: pd.DataFrame) -> TrainingData:
    """Join claims to remittances on claim id, label them, and put them in submission order."""
    per_claim = claim_level(claims)
    n_read = claims.n_claims
    # A claim id sent twice (a corrected resubmission under the same id): the latest submission wins.
    per_claim["position"] = np.arange(n_read)
    latest = per_claim.sort_values(["submission_date", "position"], kind="stable").drop_duplicates(
        "claim_id", keep="last"
    )
    duplicates = n_read - len(latest)

    labels = label_claims(remits)
    latest_ids = pd.Index(latest["claim_id"].to_numpy(dtype=object), dtype=object)
    where = labels.table.index.get_indexer(latest_ids)
    answered = where >= 0
    status = np.full(len(latest), "unanswered", dtype=object)
    status[answered] = labels.table["status"].to_numpy(dtype=object)[where[answered]]
    remit_ids = pd.Index(_unique_remit_ids(remits), dtype=object)
    unmatched_remit_claims = int(np.count_nonzero(latest_ids.get_indexer(remit_ids) < 0))

    keep = (status == "denied") | (status == "paid")
    kept = latest.loc[keep]  # still in (submission date, source order)
    positions = kept["position"].to_numpy()
    frame = claims.take(positions)
    y = (status[keep] == "denied").astype(np.int8)
    # One meaning of a missing total_charge everywhere (serving, training, reports): the line sum.
    total_charge = total_charges(frame)
    denied_dollars, line_summary = _denied_dollars(frame, labels, y, total_charge)

    dates = kept["submission_date"].to_numpy().astype("datetime64[D]")
    summary: dict[str, Any] = {
        "claims_read": n_read,
        "duplicate_claim_ids": duplicates,
        "remit_rows": len(remits),
        "remit_rows_superseded": labels.superseded_rows,
        "claims_joined": int(keep.sum()),
        "claims_denied": int(y.sum()),
        "claims_paid": int(len(y) - y.sum()),
        "denial_rate": float(y.mean()) if len(y) else float("nan"),
        "claims_excluded": int((status == "excluded").sum()),
        "claims_reversed": labels.reversed_claims,
        "claims_unanswered": int((status == "unanswered").sum()),
        "remit_claims_unmatched": unmatched_remit_claims,
        "submission_date_min": str(dates.min()) if len(dates) else None,
        "submission_date_max": str(dates.max()) if len(dates) else None,
        "denied_dollars": float(denied_dollars.sum()),
        **line_summary,
    }
    return TrainingData(
        frame=frame,
        y=y,
        denied_dollars=denied_dollars,
        total_charge=total_charge,
        payer_id=kept["payer_id"].to_numpy(),
        submission_date=dates.astype("datetime64[D]"),
        summary=summary,
        paid_date=_paid_dates(labels.rows, frame.claim_ids),
    )


def _paid_dates(rows: pd.DataFrame, claim_ids: np.ndarray) -> np.ndarray:
    """Per claim, the latest paid_date of the adjudication rows that stand (NaT when none has one)."""
    if len(rows) == 0 or "paid_date" not in rows.columns:
        return np.full(claim_ids.shape[0], np.datetime64("NaT"), dtype="datetime64[D]")
    dates = pd.to_datetime(rows["paid_date"], errors="coerce").to_numpy(dtype="datetime64[D]")
    latest = pd.Series(dates).groupby(rows["claim_id"].to_numpy(dtype=object)).max()
    return latest.reindex(pd.Index(claim_ids, dtype=object)).to_numpy(dtype="datetime64[D]")


def _unique_remit_ids(remits: pd.DataFrame) -> np.ndarray:
    if len(remits) == 0:
        return np.empty(0, dtype=object)
    return pd.unique(remits["claim_id"].to_numpy(dtype=object))


def _denied_dollars(
    frame: ClaimFrame, labels: Any, y: np.ndarray, total_charge: np.ndarray
) -> tuple[np.ndarray, dict[str, int]]:
    """Dollars denied per claim: the charge of its denied lines (the whole claim when CLP02 = 4 or a
    claim-level row is denied), from the claim's own line charges where the remit line matches.

    Only denied claims have denied dollars, so only their lines are matched (a fifth of the work).
    """
    denied_claims = np.flatnonzero(y == 1)
    rows = labels.rows
    where = (
        pd.Index(frame.claim_ids[denied_claims], dtype=object).get_indexer(
            pd.Index(rows["claim_id"].to_numpy(dtype=object), dtype=object)
        )
        if len(rows)
        else np.empty(0, dtype=np.int64)
    )
    in_set = where >= 0
    rows = rows.loc[in_set].reset_index(drop=True)
    row_claim = denied_claims[where[in_set]]
    line_rows = (
        np.flatnonzero((y == 1)[frame.lines["claim_index"]]) if frame.n_lines else np.empty(0, np.int64)
    )
    lines = pd.DataFrame(
        {
            name: frame.lines[name][line_rows]
            for name in ("claim_id", "line_control_number", "procedure_code", "service_date")
        }
    )
    match = match_lines(lines, rows)
    match_row = np.where(match.claim_line_row >= 0, line_rows[np.maximum(match.claim_line_row, 0)], -1)
    outcome = (
        rows["outcome"].astype(object).fillna("").astype(str).str.lower().to_numpy()
        if len(rows)
        else np.empty(0)
    )
    denied_row = outcome == "denied"
    line_charge = (
        np.where(match_row >= 0, frame.lines["charge"][np.maximum(match_row, 0)], np.nan)
        if len(rows)
        else np.empty(0)
    )
    remit_charge = (
        pd.to_numeric(rows["charge"], errors="coerce").to_numpy(dtype=np.float64)
        if "charge" in rows.columns
        else np.full(len(rows), np.nan)
    )
    charge = np.nan_to_num(np.where(np.isnan(line_charge), remit_charge, line_charge), nan=0.0)
    per_claim = np.bincount(row_claim[denied_row], weights=charge[denied_row], minlength=frame.n_claims)
    lcn = (
        rows["line_control_number"]
        if "line_control_number" in rows.columns
        else pd.Series([None] * len(rows))
    )
    code = rows["procedure_code"] if "procedure_code" in rows.columns else pd.Series([None] * len(rows))
    claim_level_row = (pd.isna(lcn) & pd.isna(code)).to_numpy()
    whole = np.zeros(frame.n_claims, dtype=bool)
    whole[row_claim[denied_row & claim_level_row]] = True
    at = labels.table.index.get_indexer(pd.Index(frame.claim_ids, dtype=object))
    whole |= np.where(at >= 0, labels.table["claim_denied"].to_numpy(dtype=bool)[np.maximum(at, 0)], False)
    total = total_charge  # claims.charges.total_charges: never NaN
    dollars = np.where(
        whole | (per_claim <= 0), total, np.where(total > 0, np.minimum(per_claim, total), per_claim)
    )
    dollars = np.where(y == 1, dollars, 0.0)
    summary = {  # counted over the lines of denied claims, the only ones matched
        "denied_remit_lines_matched_by_control_number": match.by_control_number,
        "denied_remit_lines_matched_by_code_and_date": match.by_code_and_date,
        "denied_remit_lines_matched_by_code": match.by_code,
        "denied_remit_lines_unmatched": match.unmatched,
        "denied_remit_claim_level_rows": match.claim_level_rows,
    }
    return dollars.astype(np.float64), summary
