"""CMS Medically Unlikely Edits (NCCI MUE): reading the published tables, storing them, looking them up.

An MUE is the most units of a HCPCS code a provider would report for one patient on one date of
service; units past it are denied (CARC 151 + N362). CMS publishes one table per setting each
quarter (practitioner services for 837P, outpatient hospital services for 837I) as a CSV whose
first header cell holds a line break inside quotes ("HCPCS/\\nCPT Code") and whose effective date
is only in the file name (``MCR_MUE_PractitionerServices_Eff_04-01-2026.csv``), so the importer is
told the date rather than guessing it. The adjudication indicator is published as text
("3 Date of Service Edit: Clinical") and stored as its number: 1 checks one line's units, 2 and 3
the units of all the claim's lines of the code on one date (2 is policy, not appealable; 3 is
clinical, appealable with documentation).

Dirty rows (missing code, a value that is not a whole number, an unknown indicator) are reported as
``RecordError`` with their line numbers and skipped, like the ASP loaders in ``reference.cms``; a
file that is not an MUE table at all is an ``InputError``. MUE values change by quarter, so every
table is kept under its (setting, effective date) and a claim is checked against the table in force
on its service date.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal, cast

import numpy as np
import pandas as pd

from claims.errors import InputError, RecordError
from reference import compact
from reference.cms import _decode, _norm_header

Setting = Literal["practitioner", "outpatient"]
SETTINGS: tuple[Setting, ...] = ("practitioner", "outpatient")

MUE_FILE = "mue.parquet"
MUE_COLUMNS = ["setting", "effective", "hcpcs", "mue_value", "indicator", "rationale"]

# The value column names the setting; CMS also publishes a DME supplier table, which drug claims
# never meet, so it is refused rather than stored under a wrong setting.
_VALUE_COLUMNS: dict[str, Setting] = {
    "PRACTITIONER SERVICES MUE VALUES": "practitioner",
    "OUTPATIENT HOSPITAL SERVICES MUE VALUES": "outpatient",
}
_CODE_COLUMN = re.compile(r"(HCPCS\s*/?\s*)?(CPT\s*)?CODE")
_HCPCS = r"[A-Z0-9]\d{3}[A-Z0-9]"
_INDICATOR = r"\s*([123])(?:\s.*)?"
_EFFECTIVE_IN_NAME = re.compile(r"Eff_(\d{2})-(\d{2})-(\d{4})", re.IGNORECASE)
# the full CMS file opens with the AMA CPT notice before the header: look this far for the header
_MAX_PREAMBLE_ROWS = 20


@dataclass(frozen=True)
class MueTable:
    """One parsed MUE file: its setting and effective date, the clean rows, what was skipped and why.

    ``rows`` columns: ``hcpcs`` (str), ``mue_value`` (int32 units), ``indicator`` (int8 1/2/3),
    ``rationale`` (CMS's short reason text, e.g. "Prescribing Information").
    """

    source: str  # file name
    sha256: str
    setting: Setting
    effective: np.datetime64  # datetime64[D]
    rows: pd.DataFrame
    skipped: list[RecordError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # kept-but-noteworthy facts, e.g. codes with 0 units
    kind: str = "mue"

    @property
    def key(self) -> str:
        """The table's name in the manifest: one table per setting and effective date."""
        return f"{self.effective}/{self.setting}"

    def summary(self) -> str:
        return (
            f"{self.source}: mue {self.setting} effective {self.effective}: "
            f"{len(self.rows)} rows kept, {len(self.skipped)} skipped"
        )


def effective_from_name(path: Path) -> date | None:
    """The effective date CMS writes into the file name (``..._Eff_04-01-2026...``), if there is one.

    Only the rebuild of the shipped data relies on it (its files keep the CMS names); a user's import
    names the date explicitly, since renamed downloads are common.
    """
    match = _EFFECTIVE_IN_NAME.search(Path(path).name)
    if match is None:
        return None
    month, day, year = (int(part) for part in match.groups())
    return date(year, month, day)


def _find_header(path: Path, reader: Iterator[list[str]]) -> list[str]:
    """The MUE header row, found by content: the full CMS file opens with the AMA CPT notice."""
    for index, row in enumerate(reader):
        cells = [_norm_header(cell) for cell in row]
        if "MUE ADJUDICATION INDICATOR" in cells:
            return cells
        if index >= _MAX_PREAMBLE_ROWS:
            break
    raise InputError(
        f"{path.name}: no MUE header (HCPCS/CPT Code, ... MUE Values, MUE Adjudication Indicator) "
        f"in the first {_MAX_PREAMBLE_ROWS} rows: is it a CMS MUE table?"
    )


def _columns(path: Path, header: list[str], setting: Setting | None) -> tuple[dict[str, int], Setting]:
    """Column positions by name, and the setting (from the argument, checked against the header)."""
    code = next((i for i, name in enumerate(header) if _CODE_COLUMN.fullmatch(name)), None)
    value = next((i for i, name in enumerate(header) if name.endswith("MUE VALUES")), None)
    if code is None or value is None:
        raise InputError(f"{path.name}: the MUE header lacks the HCPCS/CPT Code or the MUE Values column")
    sniffed = _VALUE_COLUMNS.get(header[value])
    if sniffed is None and header[value] != "MUE VALUES":
        raise InputError(f"{path.name}: '{header[value].title()}' is not a practitioner or outpatient table")
    if setting is not None and sniffed is not None and setting != sniffed:
        raise InputError(f"{path.name}: the header says a {sniffed} table, not {setting}")
    chosen = setting or sniffed
    if chosen is None:
        raise InputError(f"{path.name}: the header does not say the setting; give it (--mue-setting)")
    columns = {"hcpcs": code, "mue_value": value, "indicator": header.index("MUE ADJUDICATION INDICATOR")}
    if "MUE RATIONALE" in header:
        columns["rationale"] = header.index("MUE RATIONALE")
    return columns, chosen


def _read_rows(path: Path, text: str, setting: Setting | None) -> tuple[pd.DataFrame, list[int], Setting]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = _find_header(path, reader)
        columns, chosen = _columns(path, header, setting)
        width = max(columns.values()) + 1  # trailing empty columns are dropped
        rows: list[list[str]] = []
        lines: list[int] = []
        for row in reader:
            cells = row[:width] + [""] * (width - len(row))
            if any(cell.strip() for cell in cells):
                rows.append(cells)
                lines.append(reader.line_num)
    except csv.Error as exc:
        raise InputError(f"{path.name}: line {reader.line_num}: not readable as CSV ({exc})") from exc
    if not rows:
        raise InputError(f"{path.name}: no data rows after the MUE header")
    frame = pd.DataFrame({name: [row[i] for row in rows] for name, i in columns.items()}, dtype="str")
    if "rationale" not in frame:
        frame["rationale"] = ""
    return frame, lines, chosen


def _validate(frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Clean columns and one reason per row (None when the row is kept); vectorized over the table."""
    reasons = np.full(len(frame), None, dtype=object)
    hcpcs = frame["hcpcs"].str.strip().str.upper()
    value_text = frame["mue_value"].str.strip().str.replace(",", "", regex=False)
    indicator = frame["indicator"].str.extract(f"^{_INDICATOR}$", expand=False)
    good_value = value_text.str.fullmatch(r"\d{1,9}")
    bad_indicator = indicator.isna().to_numpy()
    for mask, reason in (
        (bad_indicator, "MUE Adjudication Indicator is not 1, 2 or 3"),
        (~good_value.to_numpy(dtype=bool), "MUE value is not a whole number of units"),
        (~hcpcs.str.fullmatch(_HCPCS).to_numpy(dtype=bool), "HCPCS code is not 5 characters like J1234"),
        ((hcpcs == "").to_numpy(), "HCPCS code is missing"),
    ):
        reasons[mask] = reason  # later checks win: the most basic problem is the one reported
    clean = pd.DataFrame(
        {
            "hcpcs": hcpcs,
            "mue_value": pd.to_numeric(value_text.where(good_value), errors="coerce"),
            "indicator": pd.to_numeric(indicator, errors="coerce"),
            "rationale": frame["rationale"].str.strip().str.replace(r"\s+", " ", regex=True),
        }
    )
    duplicate = clean["hcpcs"].duplicated().to_numpy() & (reasons == None)  # noqa: E711
    reasons[duplicate] = "repeats an earlier row's HCPCS code"
    return clean, reasons


def read_mue(path: Path, *, effective: date, setting: Setting | None = None) -> MueTable:
    """Parse a CMS MUE CSV as published; ``setting`` None takes it from the value column's name."""
    path = Path(path)
    if setting is not None and setting not in SETTINGS:
        raise InputError(f"MUE setting must be one of {', '.join(SETTINGS)}, not {setting!r}")
    text, digest = _decode(path)
    frame, lines, chosen = _read_rows(path, text, setting)
    clean, reasons = _validate(frame)
    keep = reasons == None  # noqa: E711
    skipped = [
        RecordError(source=path.name, position=f"line {lines[i]}", reason=str(reasons[i]))
        for i in np.flatnonzero(~keep)
    ]
    rows = clean[keep].reset_index(drop=True)
    if rows.empty:
        raise InputError(f"{path.name}: no usable MUE rows ({len(skipped)} skipped)")
    rows = rows.astype({"mue_value": np.int32, "indicator": np.int8, "hcpcs": "str", "rationale": "str"})
    never = int((rows["mue_value"] == 0).sum())
    notes = [f"{never} codes have an MUE of 0 units (never payable in this setting; kept)"] if never else []
    return MueTable(path.name, digest, chosen, np.datetime64(effective, "D"), rows, skipped, notes)


def _compact_rows(table: MueTable) -> pd.DataFrame:
    rows = table.rows.copy()
    rows.insert(0, "setting", table.setting)
    rows.insert(1, "effective", pd.Timestamp(str(table.effective)))
    rows["effective"] = rows["effective"].astype("datetime64[ms]")
    return rows[MUE_COLUMNS]


def save_mue(tables: list[MueTable], *, fresh: bool = False) -> None:
    """Add parsed tables to the compact MUE file (replacing a stored table of the same setting and
    date, keeping the others) and record their sources in the manifest.

    ``fresh`` drops every stored table first (a rebuild keeps exactly the given files).
    """
    if not tables:
        return
    manifest = compact.read_manifest()
    stored = manifest.setdefault("mue", {})
    frames: list[pd.DataFrame] = []
    if not fresh and compact.resolve(MUE_FILE).exists():
        existing = compact.read_table(MUE_FILE)[MUE_COLUMNS]
        replaced = {(t.setting, pd.Timestamp(str(t.effective))) for t in tables}
        pairs = zip(existing["setting"].tolist(), existing["effective"].tolist(), strict=True)
        frames.append(existing[[pair not in replaced for pair in pairs]])
    elif fresh:
        stored.clear()
    for table in tables:
        frames.append(_compact_rows(table))
        stored[table.key] = {
            "source": table.source,
            "sha256": table.sha256,
            "setting": table.setting,
            "effective": str(table.effective),
            "rows": len(table.rows),
            "skipped": len(table.skipped),
        }
    merged = pd.concat([f for f in frames if len(f)], ignore_index=True)
    merged = merged.sort_values(["setting", "effective", "hcpcs"], kind="stable").reset_index(drop=True)
    compact.write_table(merged.astype({"setting": "str", "hcpcs": "str", "rationale": "str"}), MUE_FILE)
    compact.write_manifest(manifest)


def read_stored() -> pd.DataFrame | None:
    """Every stored MUE table; None when none was ever imported (an old overlay folder, a test store)."""
    if not compact.resolve(MUE_FILE).exists():
        return None
    return compact.read_table(MUE_FILE, MUE_COLUMNS)


# One integer per (setting, date): setting x this + days since 1970. Sorting the keys orders tables
# by setting, then date, so a setting's tables are contiguous. (10**7 days reach the year 29349.)
_DAYS_PER_SETTING = 10**7


@dataclass(frozen=True, eq=False)
class MueIndex:
    """Dense MUE look-up: one row of ``values``/``indicators`` per stored table, one column per code.

    The table in force on a date is one ``searchsorted`` of (setting, date) keys, clipped to the
    setting's own tables; the answer is then one fancy index. The last row and the last column are
    always empty, for "no table" (-1) and unknown codes. Callers map codes and settings to ids
    (``codes``, ``settings``) with their own fast hashing.
    """

    codes: dict[str, int]  # HCPCS -> column; column len(codes) is always empty (unknown codes)
    settings: dict[str, int]  # "practitioner" -> 0, "outpatient" -> 1
    table_keys: np.ndarray  # int64 per table, sorted: setting x _DAYS_PER_SETTING + effective day
    table_effective: np.ndarray  # datetime64[D] per table
    first_table: np.ndarray  # int64 per setting id, then -1 for id -1: its earliest table (-1 when none)
    last_table: np.ndarray  # likewise its latest table
    values: np.ndarray  # float64 (n_tables + 1, n_codes + 1), NaN when the code has no MUE in that table
    indicators: np.ndarray  # int8 (n_tables + 1, n_codes + 1), 0 when none
    version: str  # "2026-04-01", or "2026-04-01..2026-07-01" over all stored tables; "none"

    def tables_on(self, setting_id: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Per row, the table in force (its number; -1 for an unknown setting): the latest of the
        setting that started on or before the date, the earliest for earlier dates, the latest for NaT."""
        # np.maximum/np.minimum rather than np.clip: the same result at a fraction of the fixed cost,
        # which is most of a one-claim look-up
        latest = _DAYS_PER_SETTING - 1
        day = np.where(np.isnat(days), latest, np.minimum(np.maximum(days.astype(np.int64), 0), latest))
        table = np.searchsorted(self.table_keys, setting_id * _DAYS_PER_SETTING + day, side="right") - 1
        return np.minimum(np.maximum(table, self.first_table[setting_id]), self.last_table[setting_id])

    def lookup(
        self, setting_id: np.ndarray, code_id: np.ndarray, days: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per row: the MUE value (NaN none), the indicator (0 none) and the answering table (-1 none)."""
        table = self.tables_on(setting_id, days)
        return self.values[table, code_id], self.indicators[table, code_id], table


def _date_range(days: np.ndarray) -> str:
    distinct = sorted({str(day) for day in days.tolist()})
    if not distinct:
        return "none"
    return distinct[0] if len(distinct) == 1 else f"{distinct[0]}..{distinct[-1]}"


def build_index(stored: pd.DataFrame | None) -> MueIndex:
    """Index the stored tables (the compact frame, ``MUE_COLUMNS``; None: no table) for look-ups."""
    if stored is None:
        stored = pd.DataFrame({"setting": [], "effective": np.array([], "datetime64[ms]"), "hcpcs": []})
        stored = stored.assign(mue_value=np.array([], np.float64), indicator=np.array([], np.int8))
    effective = stored["effective"].to_numpy().astype("datetime64[D]")
    setting_no = pd.Categorical(stored["setting"], categories=list(SETTINGS)).codes.astype(np.int64)
    table_no, table_keys = pd.factorize(
        setting_no * _DAYS_PER_SETTING + effective.astype(np.int64), sort=True
    )
    table_keys = np.asarray(table_keys, dtype=np.int64)
    code_no, code_values = pd.factorize(stored["hcpcs"].to_numpy(dtype=object), sort=True)
    shape = (len(table_keys) + 1, len(code_values) + 1)
    values = np.full(shape, np.nan)
    indicators = np.zeros(shape, dtype=np.int8)
    values[table_no, code_no] = stored["mue_value"].to_numpy(dtype=np.float64)
    indicators[table_no, code_no] = stored["indicator"].to_numpy(dtype=np.int8)
    key_settings = table_keys // _DAYS_PER_SETTING
    key_days = (table_keys % _DAYS_PER_SETTING).astype("datetime64[D]")
    first = np.full(len(SETTINGS) + 1, -1, dtype=np.int64)
    last = first.copy()
    for number in range(len(SETTINGS)):  # a loop over the two settings, once at load
        mine = np.flatnonzero(key_settings == number)
        if mine.size:
            first[number], last[number] = mine[0], mine[-1]
    return MueIndex(
        codes={code: i for i, code in enumerate(cast(list[str], code_values.tolist()))},
        settings={name: i for i, name in enumerate(SETTINGS)},
        table_keys=table_keys,
        table_effective=key_days,
        first_table=first,
        last_table=last,
        values=values,
        indicators=indicators,
        version=_date_range(key_days),
    )
