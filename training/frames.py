"""Cheap contiguous slices of a ClaimFrame whose claims are in claim_index order, and featurizing in them.

The training data are sorted by submission date and every split is a contiguous range, so a slice
is three ``searchsorted`` calls instead of ``ClaimFrame.take``'s sort over every line.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from claims.columnar import ClaimFrame, Columns
from training.progress import bar

# Claims featurized per chunk outside the fit slice: bounds the memory of a 1M-claim run.
FEATURIZE_CHUNK = 250_000


def _slice_columns(columns: Columns, start: int, stop: int) -> Columns:
    index = columns["claim_index"]
    lo, hi = np.searchsorted(index, [start, stop])
    out = {name: values[lo:hi] for name, values in columns.items()}
    out["claim_index"] = index[lo:hi] - start
    return out


def _sorted(columns: Columns) -> bool:
    index = columns["claim_index"]
    return bool(index.shape[0] < 2 or np.all(index[1:] >= index[:-1]))


def slice_claims(frame: ClaimFrame, start: int, stop: int) -> ClaimFrame:
    """Claims ``start..stop-1`` renumbered from 0 (falls back to ``take`` if rows are not in order)."""
    stop = min(stop, frame.n_claims)
    if not (_sorted(frame.lines) and _sorted(frame.diagnoses) and _sorted(frame.attachments)):
        return frame.take(np.arange(start, stop))
    return ClaimFrame(
        lines=_slice_columns(frame.lines, start, stop),
        diagnoses=_slice_columns(frame.diagnoses, start, stop),
        attachments=_slice_columns(frame.attachments, start, stop),
        n_claims=stop - start,
        claim_ids=frame.claim_ids[start:stop],
    )


def featurize(featurizer: Any, frame: ClaimFrame) -> np.ndarray:
    """Features of every claim of ``frame`` (a fitted featurizer), in chunks: bounded memory, a bar."""
    n = frame.n_claims
    parts = []
    with bar(total=n, desc="featurizing", unit="claim") as progress:
        for start in range(0, n, FEATURIZE_CHUNK):
            chunk = slice_claims(frame, start, start + FEATURIZE_CHUNK)
            parts.append(np.asarray(featurizer.transform(chunk), dtype=np.float32))
            progress.update(chunk.n_claims)
    return (
        np.concatenate(parts)
        if parts
        else np.empty((0, len(featurizer.get_feature_names_out())), dtype=np.float32)
    )
