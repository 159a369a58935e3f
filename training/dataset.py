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

from claims.columnar import ClaimFrame
from training.labels import label_claims, match_lines


@dataclass(frozen=True)
class TrainingData:
    """Labelled claims in submission order (earliest first), with claim-level arrays aligned to them."""

    frame: ClaimFrame
    y: np.ndarray  # int8, 1 = denied (any line)
    denied_dollars: np.ndarray  # float64, charge the payer refused to pay (0 when paid)
    total_charge: np.ndarray  # float64
    payer_id: np.ndarray  # object
    submission_date: np.ndarray  # datetime64[D]
    summary: dict[str, Any] = field(default_factory=dict)

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
    total = np.where(has_line, frame.lines["total_charge"][take] if frame.n_lines else np.nan, np.nan)
    payer = frame.lines["payer_id"][take] if frame.n_lines else np.empty(frame.n_claims, dtype=object)
    submitted = (
        frame.lines["submission_date"][take]
        if frame.n_lines
        else np.empty(frame.n_claims, dtype="datetime64[D]")
    )
    return pd.DataFrame(
        {
            "claim_id": frame.claim_ids,
            "total_charge": total.astype(np.float64),
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
    status_index = labels.table.index
    where = status_index.get_indexer(pd.Index(latest["claim_id"].to_numpy()))
    answered = where >= 0
    status = np.full(len(latest), "unanswered", dtype=object)
    status[answered] = labels.table["status"].to_numpy()[where[answered]]
    remit_ids = pd.Index(_unique_remit_ids(remits))
    unmatched_remit_claims = int((~remit_ids.isin(latest["claim_id"].to_numpy())).sum())

    keep = (status == "denied") | (status == "paid")
    kept = latest.loc[keep].sort_values(["submission_date", "position"], kind="stable")
    positions = kept["position"].to_numpy()
    frame = claims.take(positions)
    y = (labels.table["status"].reindex(kept["claim_id"].to_numpy()).to_numpy() == "denied").astype(np.int8)
    total_charge = kept["total_charge"].to_numpy(dtype=np.float64)
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
    )


def _unique_remit_ids(remits: pd.DataFrame) -> np.ndarray:
    if len(remits) == 0:
        return np.empty(0, dtype=object)
    return pd.unique(remits["claim_id"].astype(object).to_numpy())


def _denied_dollars(
    frame: ClaimFrame, labels: Any, y: np.ndarray, total_charge: np.ndarray
) -> tuple[np.ndarray, dict[str, int]]:
    """Dollars denied per claim: the charge of its denied lines (the whole claim when CLP02 = 4 or a
    claim-level row is denied), from the claim's own line charges where the remit line matches."""
    claim_ids = frame.claim_ids
    rows = labels.rows
    id_index = pd.Index(claim_ids)
    row_claim = (
        id_index.get_indexer(rows["claim_id"].astype(object).to_numpy()) if len(rows) else np.empty(0, int)
    )
    in_set = row_claim >= 0
    rows = rows.loc[in_set].reset_index(drop=True)
    row_claim = row_claim[in_set]
    lines = pd.DataFrame(
        {
            "claim_id": frame.lines["claim_id"],
            "line_control_number": frame.lines["line_control_number"],
            "procedure_code": frame.lines["procedure_code"],
            "service_date": frame.lines["service_date"],
        }
    )
    match = match_lines(lines, rows)
    outcome = (
        rows["outcome"].astype(object).fillna("").astype(str).str.lower().to_numpy()
        if len(rows)
        else np.empty(0)
    )
    denied_row = outcome == "denied"
    matched = match.claim_line_row >= 0
    line_charge = np.where(
        matched,
        frame.lines["charge"][np.where(matched, match.claim_line_row, 0)] if frame.n_lines else 0.0,
        np.nan,
    )
    remit_charge = (
        pd.to_numeric(rows["charge"], errors="coerce").to_numpy(dtype=np.float64)
        if "charge" in rows.columns
        else np.full(len(rows), np.nan)
    )
    charge = np.where(np.isnan(line_charge), remit_charge, line_charge)
    charge = np.nan_to_num(charge, nan=0.0)
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
    whole |= labels.table["claim_denied"].reindex(claim_ids).fillna(False).to_numpy(dtype=bool)
    total = np.nan_to_num(total_charge, nan=0.0)
    dollars = np.where(
        whole | (per_claim <= 0), total, np.where(total > 0, np.minimum(per_claim, total), per_claim)
    )
    dollars = np.where(y == 1, dollars, 0.0)
    summary = {
        "remit_lines_matched_by_control_number": match.by_control_number,
        "remit_lines_matched_by_code_and_date": match.by_code_and_date,
        "remit_lines_matched_by_code": match.by_code,
        "remit_lines_unmatched": match.unmatched,
        "remit_claim_level_rows": match.claim_level_rows,
    }
    return dollars.astype(np.float64), summary
