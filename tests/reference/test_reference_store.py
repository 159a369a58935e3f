"""load_reference() on the shipped data: quarter choice by date, lookups at 1 and many rows, versions."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from reference.store import ReferenceData, load_reference


@pytest.fixture(scope="module")
def ref() -> ReferenceData:
    return load_reference()


def _dates(*days: str) -> np.ndarray:
    return np.array(days, dtype="datetime64[D]")


def test_quarters_and_versions(ref: ReferenceData) -> None:
    assert ref.quarters == [f"{y}Q{q}" for y in (2024, 2025) for q in (1, 2, 3, 4)] + ["2026Q1"]
    assert ref.versions == {
        "crosswalk": "2024Q1..2026Q1",
        "payment_limit": "2026Q1",
        "icd10cm": "2026-04",
        "mue": "2026-04-01",
    }
    assert ref.version.startswith("xw2024Q1-2026Q1.pl2026Q1.icd2026-04.mue2026-04-01.")
    assert len(ref.version.rsplit(".", 1)[1]) == 8
    assert load_reference() is ref  # cached


def test_crosswalk_frame(ref: ReferenceData) -> None:
    cw = ref.crosswalk
    assert list(cw.columns[:12]) == [
        "quarter",
        "effective_start",
        "effective_end",
        "hcpcs",
        "ndc11",
        "drug_name",
        "hcpcs_dosage",
        "pkg_size",
        "pkg_qty",
        "bill_units",
        "bill_units_pkg",
        "labeler",
    ]
    counts = cw.groupby("quarter").size()
    assert counts["2026Q1"] == 7124 and counts["2024Q1"] == 5989  # published rows minus the skipped ones
    assert cw["ndc11"].str.fullmatch(r"\d{11}").all()
    assert not cw.duplicated(["quarter", "ndc11", "hcpcs"]).any()
    jan26 = cw[cw["quarter"] == "2026Q1"]
    assert (jan26["effective_start"] == pd.Timestamp("2026-01-01")).all()
    assert (jan26["effective_end"] == pd.Timestamp("2026-03-31")).all()


@pytest.mark.parametrize(
    ("day", "quarter"),
    [
        ("2020-06-15", "2024Q1"),  # before the first -> first
        ("2023-12-31", "2024Q1"),
        ("2024-01-01", "2024Q1"),  # first day of a quarter
        ("2024-03-31", "2024Q1"),  # last day
        ("2024-04-01", "2024Q2"),
        ("2024-06-30", "2024Q2"),
        ("2025-07-01", "2025Q3"),
        ("2025-12-31", "2025Q4"),
        ("2026-01-01", "2026Q1"),
        ("2026-03-31", "2026Q1"),
        ("2026-04-01", "2026Q1"),  # after the last -> last
        ("2031-01-01", "2026Q1"),
    ],
)
def test_quarter_index(ref: ReferenceData, day: str, quarter: str) -> None:
    index = ref.quarter_index(_dates(day))
    assert index.dtype == np.int64
    assert ref.quarters[int(index[0])] == quarter


def test_quarter_index_vectorized_and_nat(ref: ReferenceData) -> None:
    index = ref.quarter_index(_dates("2024-02-29", "NaT", "2025-05-05"))
    assert index.tolist() == [0, 8, 5]
    assert ref.quarter_index(np.array([], dtype="datetime64[D]")).shape == (0,)


def test_codes_for_ndc(ref: ReferenceData) -> None:
    q = ref.quarter_index(_dates("2026-02-01", "2026-02-01", "2026-02-01", "2026-02-01", "2026-02-01"))
    ndc = np.array(["00143985625", "00052060202", "99999999999", None, "888867413689"], dtype=object)
    out = ref.codes_for_ndc(q, ndc)
    assert out.dtype == object
    assert out.tolist() == [("J0696",), ("90586", "J9030"), (), (), ()]


def test_codes_for_ndc_depends_on_quarter(ref: ReferenceData) -> None:
    cw = ref.crosswalk
    in_2026 = set(cw.loc[cw["quarter"] == "2026Q1", "ndc11"])
    in_2024 = set(cw.loc[cw["quarter"] == "2024Q1", "ndc11"])
    new_ndc = sorted(in_2026 - in_2024)[0]
    q = ref.quarter_index(_dates("2024-02-01", "2026-02-01"))
    out = ref.codes_for_ndc(q, np.array([new_ndc, new_ndc], dtype=object))
    assert out[0] == ()
    expected = tuple(sorted(cw.loc[(cw["quarter"] == "2026Q1") & (cw["ndc11"] == new_ndc), "hcpcs"]))
    assert out[1] == expected and len(expected) >= 1


def test_bill_units(ref: ReferenceData) -> None:
    q = ref.quarter_index(_dates(*["2026-03-01"] * 5))
    ndc = np.array(["00143985625", "50242006001", "50242006001", None, "00052060202"], dtype=object)
    hcpcs = np.array(["J0696", "J9035", "J0696", "J9035", "J9030"], dtype=object)
    out = ref.bill_units(q, ndc, hcpcs)
    assert out.dtype == np.float64
    assert out[0] == 8.0 and out[1] == 10.0 and out[4] == 50.0
    assert math.isnan(out[2]) and math.isnan(out[3])


def test_lookups_match_the_frame_at_scale(ref: ReferenceData) -> None:
    """Random rows from every quarter, looked up in one call, agree with the crosswalk rows."""
    rng = np.random.default_rng(3)
    cw = ref.crosswalk
    sample = cw.iloc[rng.integers(0, len(cw), 20_000)]
    q = ref.quarter_index(sample["effective_start"].to_numpy().astype("datetime64[D]") + 10)
    assert (np.asarray(ref.quarters, dtype=object)[q] == sample["quarter"].to_numpy(dtype=object)).all()
    units = ref.bill_units(q, sample["ndc11"].to_numpy(dtype=object), sample["hcpcs"].to_numpy(dtype=object))
    np.testing.assert_array_equal(units, sample["bill_units"].to_numpy())
    codes = ref.codes_for_ndc(q, sample["ndc11"].to_numpy(dtype=object))
    assert all(h in c for h, c in zip(sample["hcpcs"], codes, strict=True))


def test_payment_limit(ref: ReferenceData) -> None:
    out = ref.payment_limit(np.array(["J9035", "J3490", None, "j0696 ", "90371"], dtype=object))
    assert out[0] == pytest.approx(73.632)
    assert out[3] == pytest.approx(0.462)
    assert out[4] == pytest.approx(137.828)
    assert math.isnan(out[1]) and math.isnan(out[2])  # NOC code and missing


def test_payment_limits_frame_and_drug_hcpcs(ref: ReferenceData) -> None:
    pl = ref.payment_limits
    assert {"hcpcs", "description", "dosage", "payment_limit"} <= set(pl.columns)
    assert len(pl) == 876 and set(pl["quarter"]) == {"2026Q1"}
    assert {"J0696", "J9035", "90371"} <= ref.drug_hcpcs
    assert set(pl["hcpcs"]) <= ref.drug_hcpcs
    assert set(ref.crosswalk["hcpcs"]) <= ref.drug_hcpcs
    assert not {"J3490", "J3590", "J9999", "C9399"} & ref.drug_hcpcs


def test_mismatched_lengths_raise(ref: ReferenceData) -> None:
    with pytest.raises(ValueError, match="rows"):
        ref.codes_for_ndc(np.array([0, 1]), np.array(["00143985625"], dtype=object))


def test_empty_inputs(ref: ReferenceData) -> None:
    empty = np.array([], dtype=object)
    assert ref.codes_for_ndc(np.array([], dtype=np.int64), empty).shape == (0,)
    assert ref.bill_units(np.array([], dtype=np.int64), empty, empty).shape == (0,)
    assert ref.payment_limit(empty).shape == (0,)


def test_small_and_large_batches_agree(ref: ReferenceData) -> None:
    """One-claim calls take a dict path, batches a factorize path: same answers, incl. dirty input."""
    rng = np.random.default_rng(11)
    cw = ref.crosswalk
    pool_ndc = np.r_[cw["ndc11"].to_numpy(dtype=object)[:400], ["99999999999", None, "", "0014398562"]]
    pool_hcpcs = np.r_[cw["hcpcs"].to_numpy(dtype=object)[:400], ["j0696", " J9035 ", None, "J3490"]]
    n = 500
    ndc = pool_ndc[rng.integers(0, len(pool_ndc), n)]
    hcpcs = pool_hcpcs[rng.integers(0, len(pool_hcpcs), n)]
    q = rng.integers(0, len(ref.quarters), n)
    big_codes, big_units = ref.codes_and_bill_units(q, ndc, hcpcs)
    big_limits = ref.payment_limit(hcpcs)
    for i in range(0, n, 25):  # 25-row slices take the small path
        part = slice(i, i + 25)
        assert ref.codes_for_ndc(q[part], ndc[part]).tolist() == big_codes[part].tolist()
        np.testing.assert_array_equal(ref.bill_units(q[part], ndc[part], hcpcs[part]), big_units[part])
        np.testing.assert_array_equal(ref.payment_limit(hcpcs[part]), big_limits[part])
    assert np.isfinite(big_units).sum() > 0 and np.isnan(big_units).sum() > 0


def test_quarter_idx_out_of_range(ref: ReferenceData) -> None:
    with pytest.raises(ValueError, match="out of range"):
        ref.codes_for_ndc(np.array([-1]), np.array(["00143985625"], dtype=object))
    with pytest.raises(ValueError, match="out of range"):
        ref.bill_units(
            np.array([len(ref.quarters)]), np.array(["00143985625"], dtype=object), np.array(["J0696"])
        )
