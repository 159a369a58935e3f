"""The array helpers choose a path by size and cardinality; every path must give the same answer."""

from __future__ import annotations

import numpy as np
import pytest

from features.rules import _arrays as A


def _blank(value: object) -> bool:
    return value is None or not str(value).strip()


@pytest.mark.parametrize(
    "values",
    [
        [None, "PA1", "  ", "PA2"] * 50,  # few distinct: factorized, one call per distinct value
        [f"PA{i:08d}" if i % 5 else (None if i % 2 else " ") for i in range(500)],  # mostly distinct: per row
        ["PA1", None, ""],  # a handful of rows
    ],
)
def test_map_unique_equals_a_call_per_row(values: list[object]) -> None:
    column = np.empty(len(values), dtype=object)
    column[:] = values
    assert A.map_unique(column, _blank, np.bool_).tolist() == [_blank(v) for v in values]
    assert A.map_unique(column, lambda v: v, object).tolist() == values


def test_mostly_distinct_reads_a_sample_and_tolerates_unhashable_values() -> None:
    assert A._mostly_distinct(np.arange(3000))
    assert not A._mostly_distinct(np.arange(3000) % 7)
    lists = np.empty(100, dtype=object)
    lists[:] = [[i] for i in range(100)]
    assert not A._mostly_distinct(lists)
