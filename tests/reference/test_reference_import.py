"""``import-reference`` into a temporary data folder: never touches the shipped data."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from claimrisk.cli import main as cli_main
from claims.errors import InputError
from reference import compact
from reference.commands import import_reference
from reference.store import load_reference


def _shipped_digests() -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(compact.SHIPPED_DIR.iterdir())}


def _future_file(cms_dir: Path, tmp_path: Path) -> Path:
    """The Jan-2026 slice turned into a clean April-2027 file (new header name, new dates, no dirty row)."""
    raw = (cms_dir / "asp-ndc-hcpcs-crosswalk-2026q1-slice.csv").read_bytes()
    raw = raw.replace(b"_2026_CODE", b"_2027_CODE").replace(
        b"Effective January 1, 2026 through March 31, 2026", b"Effective April 1, 2027 through June 30, 2027"
    )
    lines = raw.split(b"\r\n")
    raw = b"\r\n".join(line for line in lines if b"888867413689" not in line)
    path = tmp_path / "asp-ndc-hcpcs-crosswalk-2027q2.csv"
    path.write_bytes(raw)
    return path


def test_import_replaces_a_quarter(
    reference_dir: Path, cms_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _shipped_digests()
    shipped = load_reference()
    shipped_2025q4 = shipped.crosswalk[shipped.crosswalk["quarter"] == "2025Q4"].reset_index(drop=True)

    code = import_reference(
        crosswalk=cms_dir / "asp-ndc-hcpcs-crosswalk-2026q1-slice.csv",
        payment_limit=cms_dir / "asp-payment-limit-2026q1.csv",
    )
    assert code == 1  # one non-NDC row and one N/A limit were skipped
    err = capsys.readouterr().err
    assert "crosswalk 2026Q1 (2026-01-01 .. 2026-03-31): 39 rows kept, 1 skipped" in err
    assert "line 46: NDC2 is not a 5-4-2 NDC (12 characters)" in err
    assert "payment_limit 2026Q1 (2026-01-01 .. 2026-03-31): 876 rows kept, 1 skipped" in err
    assert sorted(p.name for p in reference_dir.iterdir()) == [
        "crosswalk.parquet",
        "manifest.json",
        "payment_limit.parquet",
    ]
    assert _shipped_digests() == before

    ref = load_reference()
    counts = ref.crosswalk.groupby("quarter").size()
    assert counts["2026Q1"] == 39  # replaced, not appended
    assert len(ref.quarters) == 9
    again_2025q4 = ref.crosswalk[ref.crosswalk["quarter"] == "2025Q4"].reset_index(drop=True)
    assert again_2025q4.equals(shipped_2025q4)  # other quarters untouched
    manifest = json.loads((reference_dir / "manifest.json").read_text())
    assert manifest["crosswalk"]["2026Q1"]["source"] == "asp-ndc-hcpcs-crosswalk-2026q1-slice.csv"
    assert manifest["crosswalk"]["2026Q1"]["rows"] == 39
    assert manifest["crosswalk"]["2024Q1"]["source"] == "asp-ndc-hcpcs-crosswalk-2024q1.csv"
    assert ref.version != shipped.version  # a different source file changes the data version
    assert ref.versions == shipped.versions


def test_import_next_quarter_clean_file(reference_dir: Path, cms_dir: Path, tmp_path: Path) -> None:
    code = import_reference(crosswalk=_future_file(cms_dir, tmp_path), payment_limit=None)
    assert code == 0
    ref = load_reference()
    assert ref.quarters[-1] == "2027Q2" and len(ref.quarters) == 10
    assert ref.versions["crosswalk"] == "2024Q1..2027Q2"
    assert ref.versions["payment_limit"] == "2026Q1"  # still the shipped one
    days = np.array(["2026-12-31", "2027-04-01", "2028-01-01"], dtype="datetime64[D]")
    assert [ref.quarters[i] for i in ref.quarter_index(days)] == ["2026Q1", "2027Q2", "2027Q2"]
    q = ref.quarter_index(np.array(["2027-05-01"], dtype="datetime64[D]"))
    assert (
        ref.bill_units(q, np.array(["00143985625"], dtype=object), np.array(["J0696"], dtype=object))[0]
        == 8.0
    )


def test_reimport_is_idempotent(reference_dir: Path, cms_dir: Path, tmp_path: Path) -> None:
    path = _future_file(cms_dir, tmp_path)
    import_reference(crosswalk=path, payment_limit=None)
    first = (reference_dir / "crosswalk.parquet").read_bytes()
    import_reference(crosswalk=path, payment_limit=None)
    assert (reference_dir / "crosswalk.parquet").read_bytes() == first


def test_unreadable_file_changes_nothing(reference_dir: Path, cms_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"not,a,cms,file\r\n")
    with pytest.raises(InputError):
        import_reference(crosswalk=cms_dir / "asp-ndc-hcpcs-crosswalk-2026q1-slice.csv", payment_limit=bad)
    assert list(reference_dir.iterdir()) == []  # the good crosswalk was not written either


def test_nothing_to_import(reference_dir: Path) -> None:
    with pytest.raises(InputError, match="nothing to import"):
        import_reference(crosswalk=None, payment_limit=None)


def test_cli_exit_codes(
    reference_dir: Path, cms_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["import-reference", "--crosswalk", str(tmp_path / "missing.csv")]) == 2
    err = capsys.readouterr().err
    assert "cannot read file" in err and "Traceback" not in err
    assert (
        cli_main(["import-reference", "--payment-limit", str(cms_dir / "asp-payment-limit-2026q1.csv")]) == 1
    )
    assert cli_main(["import-reference", "--crosswalk", str(_future_file(cms_dir, tmp_path))]) == 0
