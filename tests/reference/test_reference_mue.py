"""CMS Medically Unlikely Edits: the loader on the published files and on malformed copies, the
shipped compact copy, the look-up by setting and service date, the data version, and the import."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from claimrisk.cli import main as cli_main
from claims.errors import InputError
from reference import compact
from reference.commands import import_reference
from reference.mue import MUE_FILE, effective_from_name, read_mue, save_mue
from reference.store import ReferenceData, load_reference

PRACTITIONER = "MCR_MUE_PractitionerServices_Eff_04-01-2026_JCQ.csv"
OUTPATIENT = "MCR_MUE_OutpatientHospitalServices_Eff_04-01-2026_JCQ.csv"
APRIL = date(2026, 4, 1)
HEADER = '"HCPCS/\nCPT Code",Practitioner Services MUE Values,MUE Adjudication Indicator,MUE Rationale\n'


def _value(table_rows: pd.DataFrame, code: str) -> tuple[int, int, str]:
    row = table_rows[table_rows["hcpcs"] == code].iloc[0]
    return int(row["mue_value"]), int(row["indicator"]), str(row["rationale"])


def _lookup(ref: ReferenceData, setting: str, code: str, day: str) -> tuple[float, int]:
    values, indicators = ref.mue(
        np.array([setting], dtype=object),
        np.array([code], dtype=object),
        np.array([day], dtype="datetime64[D]"),
    )
    return float(values[0]), int(indicators[0])


def _later_copy(cms_dir: Path, tmp_path: Path) -> Path:
    """The practitioner table as if CMS raised J0132 to 24 units and made J0716 a line edit in July."""
    text = (cms_dir / PRACTITIONER).read_text(encoding="latin-1")
    text = text.replace("\nJ0132,12,", "\nJ0132,24,").replace(
        "\nJ0716,4,3 Date of Service Edit: Clinical,", "\nJ0716,4,1 Line Edit,"
    )
    path = tmp_path / "MCR_MUE_PractitionerServices_Eff_07-01-2026.csv"
    path.write_text(text, encoding="latin-1")
    return path


# ---- the loader on the published files


def test_published_tables(cms_dir: Path) -> None:
    practitioner = read_mue(cms_dir / PRACTITIONER, effective=APRIL)
    outpatient = read_mue(cms_dir / OUTPATIENT, effective=APRIL)
    assert (practitioner.setting, outpatient.setting) == ("practitioner", "outpatient")  # sniffed
    assert (len(practitioner.rows), len(outpatient.rows)) == (1540, 1538)
    assert practitioner.skipped == [] and outpatient.skipped == []
    assert str(practitioner.effective) == "2026-04-01"
    assert practitioner.sha256 == hashlib.sha256((cms_dir / PRACTITIONER).read_bytes()).hexdigest()
    assert _value(practitioner.rows, "J0132") == (12, 3, "Clinical: Data")
    assert _value(outpatient.rows, "J0132") == (300, 3, "Clinical: Data")
    assert _value(practitioner.rows, "C2644") == (500, 1, "Prescribing Information")
    assert _value(outpatient.rows, "C2644") == (0, 3, "CMS Policy")  # zero units: never payable there
    assert _value(outpatient.rows, "Q0510") == (1, 2, "CMS Policy")
    assert practitioner.rows["indicator"].value_counts().to_dict() == {3: 1386, 2: 118, 1: 36}
    assert (
        practitioner.rows["mue_value"].dtype == np.int32 and practitioner.rows["indicator"].dtype == np.int8
    )
    assert "J7601" not in set(outpatient.rows["hcpcs"])


def test_setting_argument_is_checked_against_the_header(cms_dir: Path) -> None:
    assert read_mue(cms_dir / OUTPATIENT, effective=APRIL, setting="outpatient").setting == "outpatient"
    with pytest.raises(InputError, match="header says a practitioner table, not outpatient"):
        read_mue(cms_dir / PRACTITIONER, effective=APRIL, setting="outpatient")
    with pytest.raises(InputError, match="must be one of"):
        read_mue(cms_dir / PRACTITIONER, effective=APRIL, setting="inpatient")  # type: ignore[arg-type]


def test_effective_date_from_the_cms_file_name() -> None:
    assert effective_from_name(Path(PRACTITIONER)) == APRIL
    assert effective_from_name(Path("mue-july.csv")) is None


# ---- the loader on malformed copies


def test_bad_rows_are_reported_and_skipped(tmp_path: Path) -> None:
    path = tmp_path / "mue.csv"
    body = (
        "CPT codes and descriptions only are copyright American Medical Association,,,,,\n"  # the AMA notice
        + HEADER.replace("Rationale\n", "Rationale,,,\n")  # trailing empty columns
        + "J0132,12,3 Date of Service Edit: Clinical,Clinical: Data,,,\n"  # line 4
        + "J0135,ten,3 Date of Service Edit: Clinical,Prescribing Information\n"  # line 5
        + ",4,1 Line Edit,Nature of Service\n"  # line 6
        + "J0153,4,4 Frequency Edit,Nature of Service\n"  # line 7
        + "\n"
        + "j0171 ,1,050,Data\n"  # line 9: indicator text is not 1/2/3 + words
        + 'J0178,"1,000",2 Date of Service Edit: Policy,Posología\n'  # line 10: thousands comma, latin-1
        + "J0132,99,1 Line Edit,Clinical: Data\n"  # line 11: repeated code
        + "J0180,2,1,Prescribing Information\n"  # line 12: bare indicator number
    )
    path.write_bytes(body.encode("latin-1"))
    table = read_mue(path, effective=APRIL)
    assert table.setting == "practitioner"
    assert table.rows["hcpcs"].tolist() == ["J0132", "J0178", "J0180"]
    assert table.rows["mue_value"].tolist() == [12, 1000, 2]
    assert table.rows["indicator"].tolist() == [3, 2, 1]
    assert table.rows["rationale"].tolist()[1] == "Posología"
    assert [str(e) for e in table.skipped] == [
        "mue.csv: line 5: MUE value is not a whole number of units",
        "mue.csv: line 6: HCPCS code is missing",
        "mue.csv: line 7: MUE Adjudication Indicator is not 1, 2 or 3",
        "mue.csv: line 9: MUE Adjudication Indicator is not 1, 2 or 3",
        "mue.csv: line 11: repeats an earlier row's HCPCS code",
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("HCPCS,Units,Indicator\nJ0132,12,3\n", "no MUE header"),
        (
            '"HCPCS/\nCPT Code",MUE Adjudication Indicator,MUE Rationale\nJ0132,3,Data\n',
            "lacks the HCPCS/CPT Code",
        ),
        (HEADER.replace("Practitioner", "DME Supplier"), "not a practitioner or outpatient table"),
        (HEADER.replace("Practitioner Services ", ""), "does not say the setting"),
        (HEADER, "no data rows"),
        (HEADER + ",x,9,\n", r"no usable MUE rows \(1 skipped\)"),
        ("", "file is empty"),
    ],
)
def test_unreadable_files_are_clear_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "broken.csv"
    path.write_text(content, encoding="latin-1")
    with pytest.raises(InputError, match=message):
        read_mue(path, effective=APRIL)


def test_generic_header_takes_the_setting_argument(tmp_path: Path) -> None:
    path = tmp_path / "mue.csv"
    path.write_text(HEADER.replace("Practitioner Services ", "") + "J0132,300,3,Data\n", encoding="latin-1")
    assert read_mue(path, effective=APRIL, setting="outpatient").setting == "outpatient"


# ---- the shipped compact copy and the look-up


def test_shipped_copy_is_what_the_import_writes(reference_dir: Path, cms_dir: Path) -> None:
    """Same code path: saving the two published tables afresh gives the shipped table, row for row and
    type for type (not byte for byte: Parquet files record the writer's library version)."""
    import pandas as pd

    save_mue(
        [read_mue(cms_dir / PRACTITIONER, effective=APRIL), read_mue(cms_dir / OUTPATIENT, effective=APRIL)],
        fresh=True,
    )
    pd.testing.assert_frame_equal(
        pd.read_parquet(reference_dir / MUE_FILE), pd.read_parquet(compact.SHIPPED_DIR / MUE_FILE), check_exact=True
    )
    shipped = json.loads((compact.SHIPPED_DIR / compact.MANIFEST_FILE).read_text())["mue"]
    assert json.loads((reference_dir / compact.MANIFEST_FILE).read_text())["mue"] == shipped
    assert shipped["2026-04-01/practitioner"]["rows"] == 1540
    assert (
        shipped["2026-04-01/outpatient"]["sha256"]
        == hashlib.sha256((cms_dir / OUTPATIENT).read_bytes()).hexdigest()
    )


def test_lookup_by_setting_code_and_date() -> None:
    ref = load_reference()
    assert ref.versions["mue"] == "2026-04-01"
    assert ".mue2026-04-01." in ref.version
    assert _lookup(ref, "practitioner", "J0132", "2026-05-01") == (12.0, 3)
    assert _lookup(ref, "outpatient", "J0132", "2026-05-01") == (300.0, 3)
    assert _lookup(ref, "practitioner", " j0716", "2025-01-01") == (4.0, 3)  # before the table: the earliest
    assert _lookup(ref, "outpatient", "J0716", "2026-04-01") == (4.0, 1)
    nothing = (pytest.approx(np.nan, nan_ok=True), 0)
    assert _lookup(ref, "outpatient", "J7601", "2026-05-01") == nothing  # practitioner-only code
    assert _lookup(ref, "practitioner", "J3490", "2026-05-01") == nothing  # NOC codes have no MUE
    assert _lookup(ref, "inpatient", "J0132", "2026-05-01") == nothing
    values, indicators = ref.mue(
        np.array([None], dtype=object),
        np.array([None], dtype=object),
        np.array(["NaT"], dtype="datetime64[D]"),
    )
    assert np.isnan(values[0]) and indicators[0] == 0 and indicators.dtype == np.int8


def test_batch_lookup_matches_one_row_at_a_time() -> None:
    """The factorized batch path, the small-batch path and a plain dict over the stored table agree."""
    ref = load_reference()
    stored = pd.read_parquet(compact.SHIPPED_DIR / MUE_FILE)
    table = {
        (s, c): (float(v), int(i))
        for s, c, v, i in zip(
            stored["setting"], stored["hcpcs"], stored["mue_value"], stored["indicator"], strict=True
        )
    }
    rng = np.random.default_rng(7)
    n = 500
    settings = np.array(["practitioner", "outpatient", None, "inpatient"], dtype=object)[
        rng.integers(0, 4, n)
    ]
    codes = np.array(["J0132", "J0716", "C2644", "J7601", "J3490", None, "q0510"], dtype=object)[
        rng.integers(0, 7, n)
    ]
    days = np.datetime64("2025-06-01") + rng.integers(0, 400, n).astype("timedelta64[D]")
    values, indicators = ref.mue(settings, codes, days)
    assert values.dtype == np.float64 and indicators.dtype == np.int8
    for i in range(n):
        code = codes[i].upper() if codes[i] else None
        expected_value, expected_indicator = table.get((settings[i], code), (np.nan, 0))
        one_value, one_indicator = ref.mue(settings[i : i + 1], codes[i : i + 1], days[i : i + 1])
        assert indicators[i] == one_indicator[0] == expected_indicator
        assert np.array_equal([values[i], one_value[0]], [expected_value, expected_value], equal_nan=True)
    assert 100 < (indicators > 0).sum() < 250  # the draw hits both known and unknown codes


# ---- the import command


def test_import_adds_a_table_by_date(reference_dir: Path, cms_dir: Path, tmp_path: Path) -> None:
    shipped = load_reference()
    before = {p.name: p.read_bytes() for p in compact.SHIPPED_DIR.iterdir()}
    code = import_reference(
        crosswalk=None, payment_limit=None, mue=_later_copy(cms_dir, tmp_path), mue_effective=date(2026, 7, 1)
    )
    assert code == 0
    assert {p.name: p.read_bytes() for p in compact.SHIPPED_DIR.iterdir()} == before
    ref = load_reference()
    assert ref.versions["mue"] == "2026-04-01..2026-07-01"
    assert ref.version != shipped.version and ".mue2026-04-01-2026-07-01." in ref.version
    assert _lookup(ref, "practitioner", "J0132", "2026-06-30") == (12.0, 3)
    assert _lookup(ref, "practitioner", "J0132", "2026-07-01") == (24.0, 3)
    assert _lookup(ref, "practitioner", "J0716", "2027-01-01") == (4.0, 1)
    assert _lookup(ref, "practitioner", "J0132", "2020-01-01") == (12.0, 3)  # earliest table
    assert _lookup(ref, "outpatient", "J0132", "2026-08-01") == (300.0, 3)  # its only table
    answered = ref.mue_effective(
        np.array(["practitioner", "practitioner", "outpatient", "practitioner"], dtype=object),
        np.array(["J0132", "J0132", "J0132", "J3490"], dtype=object),
        np.array(["2026-06-30", "2026-07-01", "2026-08-01", "2026-08-01"], dtype="datetime64[D]"),
    )
    assert answered.tolist() == ["2026-04-01", "2026-07-01", "2026-04-01", None]
    assert ref.quarters == shipped.quarters  # the crosswalk is untouched
    manifest = json.loads((reference_dir / compact.MANIFEST_FILE).read_text())
    assert sorted(manifest["mue"]) == [
        "2026-04-01/outpatient",
        "2026-04-01/practitioner",
        "2026-07-01/practitioner",
    ]


def test_cli_import_exit_codes(
    reference_dir: Path, cms_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    later = _later_copy(cms_dir, tmp_path)
    assert cli_main(["import-reference", "--mue", str(later), "--effective", "2026-07-01"]) == 0
    assert "mue practitioner effective 2026-07-01: 1540 rows kept, 0 skipped" in capsys.readouterr().err
    dirty = tmp_path / "dirty.csv"
    dirty.write_text(
        HEADER.replace("Practitioner", "Outpatient Hospital") + "J0132,300,3,Data\nJ0135,x,3,Data\n"
    )
    assert cli_main(["import-reference", "--mue", str(dirty), "--effective", "2026-10-01"]) == 1
    assert "dirty.csv: line 4: MUE value is not a whole number of units" in capsys.readouterr().err
    assert _lookup(load_reference(), "outpatient", "J0132", "2026-10-01") == (300.0, 3)
    assert cli_main(["import-reference", "--mue", str(later)]) == 2  # the date is not in the data
    with pytest.raises(SystemExit) as refused:  # argparse refuses a date it cannot read, with usage
        cli_main(["import-reference", "--mue", str(later), "--effective", "July 2026"])
    assert refused.value.code == 2
    assert (
        cli_main(
            [
                "import-reference",
                "--mue",
                str(later),
                "--effective",
                "2026-07-01",
                "--mue-setting",
                "outpatient",
            ]
        )
        == 2
    )
    assert "Traceback" not in capsys.readouterr().err
    stored = pd.read_parquet(reference_dir / MUE_FILE)
    assert sorted(set(zip(stored["setting"], stored["effective"].astype(str), strict=True))) == [
        ("outpatient", "2026-04-01"),
        ("outpatient", "2026-10-01"),
        ("practitioner", "2026-04-01"),
        ("practitioner", "2026-07-01"),
    ]
