"""Array helpers shared by the engine and the featurizer.

String work (regexes, set membership, reference look-ups) runs once per *distinct* value: claim
files repeat a few hundred codes over millions of lines. ``pd.factorize`` is the fast way to find
them on big arrays, but costs ~20 µs per call, which the single-claim path cannot afford 30 times;
below a small size a dict does the same job in a few µs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

SMALL = 64


def factorize(values: np.ndarray) -> tuple[np.ndarray, list[Any]]:
    """(codes, uniques) with ``None`` kept as a regular unique value (no NA sentinel)."""
    n = values.shape[0]
    if n <= SMALL:  # a list comprehension then one conversion: cheaper than fromiter's generator
        seen: dict[Any, int] = {}
        codes = np.array([seen.setdefault(v, len(seen)) for v in values.tolist()], dtype=np.int64)
        return codes, list(seen)
    if values.dtype != object:
        codes_pd, uniques = pd.factorize(values, use_na_sentinel=False)
        return codes_pd.astype(np.int64, copy=False), list(uniques)
    # Strings: pandas' own missing-value code (-1), then None put where it first appeared, as
    # ``use_na_sentinel=False`` orders it. That option costs a null scan and a copy of the whole
    # column per call on object arrays (a quarter of featurizing 20,000 claims); the hash table
    # already tells missing from present.
    codes_pd, uniques = pd.factorize(values)
    codes = codes_pd.astype(np.int64, copy=False)
    found = list(uniques)
    missing = rows_where(codes < 0)
    if missing.shape[0]:
        slot = int(codes[: missing[0]].max(initial=-1)) + 1  # distinct values seen before the first None
        codes = codes + (codes >= slot)
        codes[missing] = slot
        found.insert(slot, None)
    return codes, found


def rows_where(mask: np.ndarray) -> np.ndarray:
    """Indices of the true entries of a 1-D mask: ``np.flatnonzero`` without its ravel and
    dispatch layers (~1 µs a call, and the single-claim path makes dozens of them)."""
    return mask.nonzero()[0]


def map_unique(values: np.ndarray, fn: Callable[[Any], Any], dtype: Any) -> np.ndarray:
    """``fn`` applied to each distinct value, spread back over the rows (``fn`` must be pure)."""
    n = values.shape[0]
    if n <= SMALL or _mostly_distinct(values):  # calling fn per row beats factorizing
        if dtype is object:  # filled by slice, so a string result is never split into characters
            out = np.empty(n, dtype=object)
            out[:] = [fn(v) for v in values.tolist()]
            return out
        return np.array([fn(v) for v in values.tolist()], dtype=dtype)
    codes, uniques = factorize(values)
    table = np.empty(len(uniques), dtype=dtype)
    if dtype is object:
        table[:] = [fn(u) for u in uniques]
    else:
        table[:] = np.fromiter((fn(u) for u in uniques), dtype=dtype, count=len(uniques))
    return table[codes]


_DISTINCT_SAMPLE = 1024


def _mostly_distinct(values: np.ndarray) -> bool:
    """Are most of the first values distinct (prior-authorization numbers, control numbers)? Then
    hashing every row to call ``fn`` on nearly as many uniques costs more than calling it per row.
    A sample: the answer only decides the speed, never the result."""
    sample = values[:_DISTINCT_SAMPLE].tolist()
    try:
        return 2 * len(set(sample)) > len(sample)
    except TypeError:  # unhashable values: the factorizing path says so in its own words
        return False


def factorize_pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, list[tuple[Any, Any]]]:
    """Codes for distinct (a, b) pairs, without building Python tuples per row."""
    codes_a, uniq_a = factorize(a)
    codes_b, uniq_b = factorize(b)
    combined = codes_a * max(len(uniq_b), 1) + codes_b
    codes, uniq = factorize(combined)
    width = max(len(uniq_b), 1)
    pairs = [(uniq_a[int(u) // width], uniq_b[int(u) % width]) for u in uniq]
    return codes, pairs


def is_blank(values: np.ndarray) -> np.ndarray:
    """True where a string column is None or only whitespace."""
    return map_unique(values, lambda v: v is None or not str(v).strip(), np.bool_)


def first_rows(claim_index: np.ndarray, n: int) -> np.ndarray | None:
    """Start row of each claim when rows are grouped by claim 0..n-1 in order with no claim
    missing (what every reader builds); None otherwise, and callers fall back to scatters."""
    m = claim_index.shape[0]
    if m == 0 or n == 0:
        return None
    if n == 1:
        return None if np.count_nonzero(claim_index) else _ZERO
    starts = rows_where(claim_index[1:] != claim_index[:-1]) + 1
    if starts.shape[0] != n - 1 or claim_index[0] != 0:
        return None
    starts = np.concatenate((_ZERO, starts))
    if not np.array_equal(claim_index[starts], np.arange(n)):
        return None
    return starts


_ZERO = np.zeros(1, dtype=np.int64)
_ZERO.flags.writeable = False  # shared by every one-claim frame


def any_true(mask: np.ndarray) -> bool:
    """``mask.any()`` for a boolean mask, without the Python-level reduction wrapper (~0.7 µs)."""
    return bool(np.count_nonzero(mask))


def group_any(claim_index: np.ndarray, mask: np.ndarray, n_claims: int) -> np.ndarray:
    return np.bincount(claim_index[mask], minlength=n_claims) > 0


def group_count(claim_index: np.ndarray, mask: np.ndarray, n_claims: int) -> np.ndarray:
    return np.bincount(claim_index[mask], minlength=n_claims)
