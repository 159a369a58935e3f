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


@pytest.mark.parametrize("seed", range(4))
def test_factorize_orders_none_where_it_first_appears(seed: int) -> None:
    """Strings are factorized with pandas' missing code and None slotted back in: the same codes
    and uniques, in the same order, as ``pd.factorize(..., use_na_sentinel=False)`` (None for NaN)
    and as the small-array dict path."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    pool = np.array(["J3490", "J9999", None, " ", "", "C9399"], dtype=object)
    for n in (65, 200, 1000):
        column = pool[rng.integers(0, pool.shape[0], n)]
        if seed == 1:
            column[rng.random(n) < 0.6] = None
        if seed == 2:
            column[:] = None
        codes, uniques = A.factorize(column)
        expected_codes, expected = pd.factorize(column, use_na_sentinel=False)
        assert codes.tolist() == expected_codes.tolist()
        assert uniques == [None if isinstance(u, float) and u != u else u for u in expected]
        head = column[:40]  # the dict path: first-appearance order too
        small_codes, small_uniques = A.factorize(head)
        assert small_codes.tolist() == pd.factorize(head, use_na_sentinel=False)[0].tolist()
        assert [small_uniques[c] for c in small_codes] == head.tolist()
