"""The CMS readers on real (sliced, byte-identical) CMS files, and on the dirt they must survive."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from claims.errors import InputError
from reference.cms import read_crosswalk, read_payment_limit


def test_crosswalk_2026q1(cms_dir: Path) -> None:
    table = read_crosswalk(cms_dir / "asp-ndc-hcpcs-crosswalk-2026q1-slice.csv")
    assert table.kind == "crosswalk"
    assert table.quarter == "2026Q1"
    assert table.effective_start == np.datetime64("2026-01-01")
    assert table.effective_end == np.datetime64("2026-03-31")
    assert len(table.rows) == 39
    assert list(table.rows.columns) == [
        "hcpcs",
        "ndc11",
        "drug_name",
        "hcpcs_dosage",
        "pkg_size",
        "pkg_qty",
        "bill_units",
        "bill_units_pkg",
        "labeler",
        "short_description",
    ]
    ceftriaxone = table.rows[table.rows["ndc11"] == "00143985625"].iloc[0]
    assert ceftriaxone["hcpcs"] == "J0696"
    assert ceftriaxone["drug_name"] == "Ceftriaxone"
    assert ceftriaxone["hcpcs_dosage"] == "250 MG"
    assert (ceftriaxone["pkg_size"], ceftriaxone["pkg_qty"]) == (1.0, 25.0)
    assert (ceftriaxone["bill_units"], ceftriaxone["bill_units_pkg"]) == (8.0, 200.0)
    avastin = table.rows[table.rows["ndc11"] == "50242006001"].iloc[0]
    assert (avastin["hcpcs"], avastin["pkg_size"], avastin["bill_units"]) == ("J9035", 4.0, 10.0)
    assert len(table.sha256) == 64


def test_crosswalk_reports_and_skips_non_ndc(cms_dir: Path) -> None:
    table = read_crosswalk(cms_dir / "asp-ndc-hcpcs-crosswalk-2026q1-slice.csv")
    assert [str(e) for e in table.skipped] == [
        "asp-ndc-hcpcs-crosswalk-2026q1-slice.csv: line 46: NDC2 is not a 5-4-2 NDC (12 characters)"
    ]
    assert "88886741368" not in set(table.rows["ndc11"])


def test_crosswalk_keeps_ndc_under_several_hcpcs(cms_dir: Path) -> None:
    table = read_crosswalk(cms_dir / "asp-ndc-hcpcs-crosswalk-2026q1-slice.csv")
    bcg = table.rows[table.rows["ndc11"] == "00052060202"]
    assert sorted(bcg["hcpcs"]) == ["90586", "J9030"]
    assert table.notes == ["1 NDCs are listed under more than one HCPCS code (all kept)"]


def test_crosswalk_cleans_names_with_line_breaks(cms_dir: Path) -> None:
    table = read_crosswalk(cms_dir / "asp-ndc-hcpcs-crosswalk-2026q1-slice.csv")
    names = dict(zip(table.rows["ndc11"], table.rows["drug_name"], strict=True))
    assert names["00404999801"] == "Ketorolac Tromethamine"  # published as "Ketorolac Tromethamine\n"
    old = read_crosswalk(cms_dir / "asp-ndc-hcpcs-crosswalk-2024q1-slice.csv")
    labelers = dict(zip(old.rows["ndc11"], old.rows["labeler"], strict=True))
    assert labelers["70121175401"] == "AMNEAL PHARMACEUTICALS INC"  # the name repeated after a line break
    drugs = dict(zip(old.rows["ndc11"], old.rows["drug_name"], strict=True))
    assert drugs["13533063601"] == "HyperHepB"  # published with a trailing space


def test_crosswalk_2024q1_other_year_header_and_14_digit_codes(cms_dir: Path) -> None:
    table = read_crosswalk(cms_dir / "asp-ndc-hcpcs-crosswalk-2024q1-slice.csv")  # header "_2023_CODE"
    assert table.quarter == "2024Q1"
    assert (table.effective_start, table.effective_end) == (
        np.datetime64("2024-01-01"),
        np.datetime64("2024-03-31"),
    )
    assert len(table.rows) == 12  # lines 10-20 and the Q5126 record
    assert [e.position for e in table.skipped] == ["line 21", "line 22", "line 23"]
    assert all(e.reason == "NDC2 is not a 5-4-2 NDC (14 characters)" for e in table.skipped)


def test_crosswalk_2024q2_bad_billing_units(cms_dir: Path) -> None:
    table = read_crosswalk(cms_dir / "asp-ndc-hcpcs-crosswalk-2024q2-slice.csv")
    assert table.quarter == "2024Q2"
    assert table.effective_end == np.datetime64("2024-06-30")
    assert [str(e) for e in table.skipped] == [
        "asp-ndc-hcpcs-crosswalk-2024q2-slice.csv: line 16: BILLUNITS is '21.3125?', not a positive number"
    ]
    assert "64281011006" not in set(table.rows["ndc11"])
    assert len(table.rows) == 6


def test_payment_limit_2026q1(cms_dir: Path) -> None:
    table = read_payment_limit(cms_dir / "asp-payment-limit-2026q1.csv")
    assert table.kind == "payment_limit"
    assert table.quarter == "2026Q1"
    assert (table.effective_start, table.effective_end) == (
        np.datetime64("2026-01-01"),
        np.datetime64("2026-03-31"),
    )
    assert len(table.rows) == 876
    limits = dict(zip(table.rows["hcpcs"], table.rows["payment_limit"], strict=True))
    assert limits["90371"] == pytest.approx(137.828)
    assert limits["Q9999"] == pytest.approx(32.957)
    first = table.rows.iloc[0]
    assert (first["description"], first["dosage"], first["coinsurance_pct"]) == ("Hep b ig im", "1 ML", 20.0)
    assert [str(e) for e in table.skipped] == [
        "asp-payment-limit-2026q1.csv: line 53: Payment Limit is 'N/A', not a number"
    ]
    assert "A9606" not in limits
    assert not {"J3490", "J3590", "J9999", "C9399"} & set(limits)  # NOC codes have no ASP limit


def _rewrite(src: Path, dst: Path, *replacements: tuple[bytes, bytes]) -> Path:
    raw = src.read_bytes()
    for old, new in replacements:
        assert old in raw
        raw = raw.replace(old, new)
    dst.write_bytes(raw)
    return dst


def test_next_years_file_drops_in_unchanged(cms_dir: Path, tmp_path: Path) -> None:
    """A future file: new first-column name, new dates, a header one line lower."""
    path = _rewrite(
        cms_dir / "asp-ndc-hcpcs-crosswalk-2026q1-slice.csv",
        tmp_path / "april-2027.csv",
        (b"_2026_CODE", b"_2027_CODE"),
        (
            b"Effective January 1, 2026 through March 31, 2026",
            b"Effective April 1, 2027 through June 30, 2027",
        ),
        (b"\r\n_2027_CODE", b"\r\n,,\r\n_2027_CODE"),
    )
    table = read_crosswalk(path)
    assert table.quarter == "2027Q2"
    assert table.effective_end == np.datetime64("2027-06-30")
    assert len(table.rows) == 39


def test_payment_limit_file_given_as_crosswalk(cms_dir: Path) -> None:
    with pytest.raises(InputError, match="no ASP NDC-HCPCS crosswalk header row"):
        read_crosswalk(cms_dir / "asp-payment-limit-2026q1.csv")


def test_missing_effective_dates(cms_dir: Path, tmp_path: Path) -> None:
    path = _rewrite(
        cms_dir / "asp-ndc-hcpcs-crosswalk-2024q2-slice.csv",
        tmp_path / "x.csv",
        (b"Effective April 1, 2024 through June 30, 2024", b"Published quarterly"),
    )
    with pytest.raises(InputError, match="no 'Effective <date> through <date>' line"):
        read_crosswalk(path)


def test_missing_required_column(cms_dir: Path, tmp_path: Path) -> None:
    path = _rewrite(
        cms_dir / "asp-ndc-hcpcs-crosswalk-2024q2-slice.csv", tmp_path / "x.csv", (b"PKG QTY", b"QTY")
    )
    with pytest.raises(InputError, match="lacks column"):
        read_crosswalk(path)


@pytest.mark.parametrize("content", [b"", b"\x00\x01binary" * 20, b"just,some,text\r\n1,2,3\r\n"])
def test_unreadable_files(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(InputError):
        read_crosswalk(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        read_payment_limit(tmp_path / "nope.csv")
