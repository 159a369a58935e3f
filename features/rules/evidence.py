"""Evidence of fired rows, kept as columns until a result is rendered.

A rule hands over its evidence as columns over the rows it fired on; only the rows a caller
renders become Python dicts, so explaining costs in proportion to the problems found.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np


class EvidenceBlock:
    """Evidence of one rule's fired rows as columns: a list, array or :class:`Lazy` per key, or a scalar.

    Columns are turned into JSON-ready Python lists on first use, in one vectorized pass per column,
    so rendering many results costs a list index per value rather than a NumPy scalar conversion.
    """

    __slots__ = ("keys", "columns", "_lists", "_row_keys")

    def __init__(self, keys: tuple[str, ...], columns: tuple[Any, ...]) -> None:
        self.keys = keys
        self.columns = columns
        self._lists: list[tuple[str, Any, bool]] | None = None
        self._row_keys: list[tuple[Any, ...]] | None = None

    def _materialized(self) -> list[tuple[str, Any, bool]]:
        lists = self._lists
        if lists is None:
            lists = self._lists = [(k, *_materialize(c)) for k, c in zip(self.keys, self.columns, strict=True)]
        return lists

    def row(self, r: int) -> dict[str, Any]:
        return {k: (c[r] if per_row else c) for k, c, per_row in self._materialized()}

    def row_key(self, r: int) -> tuple[Any, ...]:
        """The row's evidence values, hashable (lists as tuples): equal keys give equal evidence, since
        each column of a block holds one type (an int never meets a float or a bool in one column).
        Built for all rows at once on first use: a zip over the columns instead of a loop per row."""
        keys = self._row_keys
        if keys is None:
            materialized = self._materialized()
            per_row = [c for _, c, is_per_row in materialized if is_per_row]
            if not per_row:
                return tuple(_hashable_value(c) for _, c, _ in materialized)
            n = len(per_row[0])
            columns = [
                _hashable_column(c) if is_per_row else [_hashable_value(c)] * n for _, c, is_per_row in materialized
            ]
            keys = self._row_keys = list(zip(*columns, strict=True))
        return keys[r]


def _hashable_value(value: Any) -> Any:
    if type(value) is list:
        return tuple(value)
    if type(value) is float and value == 0.0:  # 0.0 == -0.0, but JSON spells them differently
        return (_ZERO_MARK, math.copysign(1.0, value))
    return value


_ZERO_MARK = object()


def _hashable_column(values: list[Any]) -> list[Any]:
    if any(type(v) is list or (type(v) is float and v == 0.0) for v in values):
        return [_hashable_value(v) for v in values]
    return values


def _materialize(column: Any) -> tuple[Any, bool]:
    """(values, per_row): a column as a JSON-ready list (NaN/NaT -> None), or a scalar shared by all rows."""
    if isinstance(column, np.ndarray):
        kind = column.dtype.kind
        if kind == "f":
            return [None if v != v else v for v in column.tolist()], True
        if kind == "M":
            text = np.datetime_as_string(column.astype("datetime64[D]"), unit="D").tolist()
            return [None if t == "NaT" else t for t in text], True
        return column.tolist(), True
    if isinstance(column, list):
        return column, True
    if isinstance(column, Lazy):
        values = column.values.tolist() if isinstance(column.values, np.ndarray) else column.values
        return [column.fn(v) for v in values], True
    return column, False


@dataclass(frozen=True)
class Lazy:
    """A per-row evidence value computed only when the result is rendered."""

    values: Any  # array or list indexed by the fired row
    fn: Any  # value -> JSON-ready value


class Groups:
    """Rows grouped by a sorted claim index; ``values(key, claim)`` lists one claim's values on demand."""

    def __init__(self, sorted_claims: np.ndarray, columns: dict[str, np.ndarray]) -> None:
        self.claims = sorted_claims
        self.columns = columns

    def values(self, key: str, claim: int) -> list[Any]:
        lo, hi = np.searchsorted(self.claims, [claim, claim + 1])
        return self.columns[key][lo:hi].tolist()
