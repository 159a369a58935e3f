"""From line rows to one value per claim: the reductions every feature column is built with.

Claim fields (payer, total charge, ...) are repeated on each of the claim's lines in the columnar
form. Every reader writes a claim's lines together and in claim order, and then a claim's value is
a take at its first line and a maximum is one ``reduceat``; a frame whose lines are in any other
order (a test shuffles them) falls back to scatters, with the same results.

The matrix is written feature-major (``XT[column, claim]``): see ``ClaimFeaturizer._build``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from claims.columnar import ClaimFrame
from features.rules import _arrays as A

AMOUNT_CAP = 1e9  # dollars and units beyond this are data errors; capped before the float32 cast


@dataclass(frozen=True)
class ClaimRows:
    """A frame's line rows with what the column writers share: the engine's per-line facts, each
    line's claim, each claim's first line (None when lines are not grouped by claim)."""

    frame: ClaimFrame
    facts: Any  # features.rules.engine.LineFacts
    claim_index: np.ndarray
    first: np.ndarray | None
    n: int

    @classmethod
    def of(cls, frame: ClaimFrame, facts: Any) -> ClaimRows:
        ci = frame.lines["claim_index"]
        first = facts.claim_first_row if facts.claim_first_row is not None else A.first_rows(ci, frame.n_claims)
        return cls(frame=frame, facts=facts, claim_index=ci, first=first, n=frame.n_claims)

    def claim_value(self, column: str, fill: Any = None) -> np.ndarray:
        """A claim field repeated on its lines -> one value per claim (``fill`` for a claim without lines)."""
        values = self.frame.lines[column]
        return values[self.first] if self.first is not None else per_claim(values, self.claim_index, self.n, fill)

    def count(self, mask: np.ndarray) -> np.ndarray:
        """Per claim: how many of its lines ``mask`` selects."""
        return np.bincount(self.claim_index[mask], minlength=self.n)

    def total(self, values: np.ndarray) -> np.ndarray:
        """Per claim: the sum of ``values`` over its lines."""
        return np.bincount(self.claim_index, weights=values, minlength=self.n)

    def largest(self, values: np.ndarray, floor: float) -> np.ndarray:
        """Per claim: the largest of ``values`` over its lines, never below ``floor`` (a claim
        without lines gets ``floor``)."""
        if self.first is not None:
            return np.maximum(np.maximum.reduceat(values, self.first), floor)
        out = np.full(self.n, floor)
        np.maximum.at(out, self.claim_index, values)
        return out

    def smallest(self, values: np.ndarray, ceiling: float) -> np.ndarray:
        """Per claim: the smallest of ``values`` over its lines, never above ``ceiling``."""
        if self.first is not None:
            return np.minimum(np.minimum.reduceat(values, self.first), ceiling)
        out = np.full(self.n, ceiling)
        np.minimum.at(out, self.claim_index, values)
        return out


def per_claim(values: np.ndarray, claim_index: np.ndarray, n_claims: int, fill: Any) -> np.ndarray:
    """One value per claim from a claim field repeated on its lines (``fill`` for claims without lines)."""
    out = np.full(n_claims, fill, dtype=values.dtype)
    out[claim_index] = values
    return out


def capped(values: np.ndarray) -> np.ndarray:
    """NaN -> 0, then limited to [-AMOUNT_CAP, AMOUNT_CAP], so the float32 matrix holds no inf."""
    return np.minimum(np.maximum(np.where(np.isnan(values), 0.0, values), -AMOUNT_CAP), AMOUNT_CAP)


def one_hot(XT: np.ndarray, cols: dict[Any, int], values: np.ndarray, other: int | None = None) -> None:
    """XT[column of each claim's value, claim] = 1; values not in ``cols`` go to ``other``
    (by default the column of ``None``, where missing values go too)."""
    other = cols[None] if other is None else other
    picked = A.map_unique(values, lambda v: cols.get(v, other), np.int64)
    XT[picked, np.arange(values.shape[0])] = 1.0


def add_counts(XT: np.ndarray, claims: np.ndarray, local: np.ndarray, cols: np.ndarray, n: int) -> None:
    """XT[cols[local], claim] = how many rows have that (claim, local) pair, as one bincount over
    the pairs (the block of XT must still be zero)."""
    width = cols.shape[0]
    XT[cols] = np.bincount(local * n + claims, minlength=width * n).reshape(width, n)
