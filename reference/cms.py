"""Readers for the CMS quarterly ASP files exactly as CMS publishes them (section 508 CSVs).

The files are made for people, not programs: latin-1, a title and notes before the header, the
effective dates in prose ("Effective January 1, 2026 through March 31, 2026"), hundreds of empty
trailing columns, and a first column whose name changes every year (``_2023_CODE``,
``_2026_CODE``). So the header is found by its content, columns are matched by name, and the
quarter comes from the prose dates, which lets next quarter's file be dropped in unchanged.

Dirty rows (a billing-unit value ``21.3125?``, skin-substitute product codes where an NDC should
be, a payment limit of ``N/A``) are reported as ``RecordError`` and skipped; they never stop a
load. The files are public CMS publications, not claims, so a reason may quote the bad value.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from claims.errors import InputError, RecordError
from reference.ndc import normalize_ndc

# Bump when a cleaning rule changes what is kept from the same raw file: it is part of the data
# version, so models record which cleaning their reference data went through.
LOADER_VERSION = 1

# How far into a file the header may sit; CMS uses 8-10 preamble lines.
_MAX_PREAMBLE_ROWS = 60
_EFFECTIVE = re.compile(
    r"effective\s+([A-Za-z]+\s+\d{1,2},\s*\d{4})\s+(?:through|thru|to|-)\s+([A-Za-z]+\s+\d{1,2},\s*\d{4})",
    re.IGNORECASE,
)
_HCPCS = re.compile(r"[A-Z0-9]\d{3}[A-Z0-9]")
_NDC_5_4_2 = re.compile(r"\d{5}-\d{4}-\d{2}")
_CODE_COLUMN = re.compile(r"(_?\d{4}_)?(HCPCS\s*)?CODE")


@dataclass(frozen=True)
class CmsTable:
    """One parsed CMS file: its quarter, the clean rows, and what was skipped and why."""

    kind: str  # "crosswalk" | "payment_limit"
    source: str  # file name
    sha256: str
    quarter: str  # "2026Q1"
    effective_start: np.datetime64  # datetime64[D]
    effective_end: np.datetime64
    rows: pd.DataFrame
    skipped: list[RecordError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # kept-but-noteworthy facts, e.g. NDCs under several codes


# column -> accepted header spellings (upper-cased, whitespace collapsed)
_CROSSWALK_COLUMNS: dict[str, tuple[str, ...]] = {
    "short_description": ("SHORT DESCRIPTION",),
    "labeler": ("LABELER NAME", "LABELER"),
    "ndc": ("NDC2", "NDC"),
    "drug_name": ("DRUG NAME",),
    "hcpcs_dosage": ("HCPCS DOSAGE", "HCPCS CODE DOSAGE"),
    "pkg_size": ("PKG SIZE",),
    "pkg_qty": ("PKG QTY",),
    "bill_units": ("BILLUNITS",),
    "bill_units_pkg": ("BILLUNITSPKG",),
}
_PAYMENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "description": ("SHORT DESCRIPTION",),
    "dosage": ("HCPCS CODE DOSAGE", "HCPCS DOSAGE"),
    "payment_limit": ("PAYMENT LIMIT",),
    "coinsurance_pct": ("CO-INSURANCE PERCENTAGE", "COINSURANCE PERCENTAGE"),
}


def _norm_header(cell: str) -> str:
    return " ".join(cell.replace("\ufeff", "").split()).upper()


def _clean_text(column: pd.Series) -> pd.Series:
    """Trim and collapse whitespace: CMS pads names with trailing spaces that vary by quarter.

    A few cells hold a line break inside quotes, sometimes repeating the name on the second line
    ("AMNEAL PHARMACEUTICALS INC\\nAMNEAL PHARMACEUTICALS INC"); the repeat is dropped.
    """
    multi = column.str.contains("\n", regex=False)
    if multi.any():
        column = column.copy()
        column[multi] = [_dedupe_lines(text) for text in column[multi].tolist()]
    return column.str.strip().str.replace(r"\s+", " ", regex=True)


def _dedupe_lines(text: str) -> str:
    parts: list[str] = []
    for part in (p.strip() for p in text.splitlines()):
        if part and (not parts or part != parts[-1]):
            parts.append(part)
    return " ".join(parts)


def _decode(path: Path) -> tuple[str, str]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read file ({exc.strerror or exc})") from exc
    if not raw.strip():
        raise InputError(f"{path.name}: file is empty")
    if b"\x00" in raw[:4096]:
        raise InputError(f"{path.name}: not a CSV text file (binary content; save the CMS file as CSV)")
    digest = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # what CMS publishes
    return text, digest


def _parse_date(text: str) -> np.datetime64:
    return np.datetime64(
        datetime.strptime(" ".join(text.replace(",", ", ").split()), "%B %d, %Y").date(), "D"
    )


def _quarter_of(day: np.datetime64) -> str:
    year = int(str(day)[:4])
    month = int(str(day)[5:7])
    return f"{year}Q{(month - 1) // 3 + 1}"


@dataclass
class _RawTable:
    header: list[str]
    rows: list[list[str]]
    lines: list[int]  # source line number of each row
    effective_start: np.datetime64
    effective_end: np.datetime64


def _read_raw(path: Path, text: str, is_header: Callable[[list[str]], bool], what: str) -> _RawTable:
    reader = csv.reader(io.StringIO(text, newline=""))
    effective: tuple[np.datetime64, np.datetime64] | None = None
    header: list[str] | None = None
    try:
        for index, row in enumerate(reader):
            cells = [_norm_header(c) for c in row]
            if is_header(cells):
                header = cells
                break
            if effective is None:
                match = _EFFECTIVE.search(" ".join(row))
                if match:
                    try:
                        effective = (_parse_date(match.group(1)), _parse_date(match.group(2)))
                    except ValueError as exc:
                        raise InputError(
                            f"{path.name}: line {reader.line_num}: unreadable effective dates"
                        ) from exc
            if index >= _MAX_PREAMBLE_ROWS:
                break
        if header is None:
            raise InputError(
                f"{path.name}: no {what} header row in the first {_MAX_PREAMBLE_ROWS} lines (is it a {what} file?)"
            )
        if effective is None:
            raise InputError(f"{path.name}: no 'Effective <date> through <date>' line before the header")
        width = max(i for i, name in enumerate(header) if name) + 1  # drop the empty trailing columns
        rows: list[list[str]] = []
        lines: list[int] = []
        for row in reader:
            cells = row[:width]
            if not any(c.strip() for c in cells):
                continue  # blank separator or padding line
            if len(cells) < width:
                cells = cells + [""] * (width - len(cells))
            rows.append(cells)
            lines.append(reader.line_num)
    except csv.Error as exc:
        raise InputError(f"{path.name}: line {reader.line_num}: not readable as CSV ({exc})") from exc
    if effective[1] < effective[0]:
        raise InputError(f"{path.name}: effective end date is before the start date")
    return _RawTable(header[:width], rows, lines, effective[0], effective[1])


class _HeaderTest:
    """A row is the header when it names every required column (in any accepted spelling)."""

    def __init__(self, *required: tuple[str, ...]) -> None:
        self.required = required

    def __call__(self, cells: list[str]) -> bool:
        return all(any(name in cells for name in spellings) for spellings in self.required)


def _map_columns(path: Path, header: list[str], spec: dict[str, tuple[str, ...]]) -> dict[str, int]:
    found: dict[str, int] = {}
    code = next((i for i, name in enumerate(header) if _CODE_COLUMN.fullmatch(name)), None)
    if code is None:
        raise InputError(f"{path.name}: header has no HCPCS code column (e.g. '_2026_CODE' or 'HCPCS Code')")
    found["hcpcs"] = code
    missing = []
    for column, spellings in spec.items():
        index = next((header.index(s) for s in spellings if s in header), None)
        if index is None:
            missing.append(spellings[0])
        else:
            found[column] = index
    if missing:
        raise InputError(f"{path.name}: header lacks column(s): {', '.join(missing)}")
    return found


def _frame(raw: _RawTable, columns: dict[str, int]) -> pd.DataFrame:
    data = {name: [row[i] for row in raw.rows] for name, i in columns.items()}
    frame = pd.DataFrame(data, dtype=object)
    return frame.astype("str") if len(frame) else frame


def _numeric(frame: pd.DataFrame, column: str, label: str, reasons: np.ndarray, positive: bool) -> pd.Series:
    """Parse one numeric column; record a reason on rows whose value is not a usable number."""
    text = frame[column].str.strip().str.replace(",", "", regex=False)
    values = pd.to_numeric(text.where(text != ""), errors="coerce").astype("float64")
    bad = values.isna().to_numpy() | (values.to_numpy() <= 0 if positive else values.to_numpy() < 0)
    original = frame[column].tolist()
    for i in np.flatnonzero(bad & (reasons == None)):  # noqa: E711 - elementwise test on an object array
        shown = str(original[i]).strip()
        reasons[i] = (
            f"{label} is {'empty' if not shown else repr(shown)}, not a {'positive ' if positive else ''}number"
        )
    return values


def _errors(path: Path, raw: _RawTable, reasons: np.ndarray) -> list[RecordError]:
    return [
        RecordError(source=path.name, position=f"line {raw.lines[i]}", reason=str(reasons[i]))
        for i in np.flatnonzero(reasons != None)  # noqa: E711
    ]


def read_crosswalk(path: Path) -> CmsTable:
    """Parse an ASP NDC-HCPCS crosswalk CSV; one row per (NDC, HCPCS) in its quarter."""
    path = Path(path)
    text, digest = _decode(path)
    raw = _read_raw(
        path,
        text,
        _HeaderTest(_CROSSWALK_COLUMNS["ndc"], _CROSSWALK_COLUMNS["bill_units"]),
        "ASP NDC-HCPCS crosswalk",
    )
    columns = _map_columns(path, raw.header, _CROSSWALK_COLUMNS)
    frame = _frame(raw, columns)
    n = len(frame)
    reasons = np.full(n, None, dtype=object)
    if n == 0:
        raise InputError(f"{path.name}: no data rows after the header")

    hcpcs = frame["hcpcs"].str.strip().str.upper()
    bad_hcpcs = ~hcpcs.str.fullmatch(_HCPCS.pattern).to_numpy(dtype=bool)
    reasons[bad_hcpcs] = "HCPCS code is not 5 characters like J1234"
    ndc_text = frame["ndc"].str.strip()
    ndc11 = normalize_ndc(ndc_text.to_numpy(dtype=object))
    strict = ndc_text.str.fullmatch(_NDC_5_4_2.pattern).to_numpy(dtype=bool)
    bad_ndc = ~strict & (reasons == None)  # noqa: E711
    ndc_list = ndc_text.tolist()
    for i in np.flatnonzero(bad_ndc):
        reasons[i] = f"NDC2 is not a 5-4-2 NDC ({len(str(ndc_list[i]))} characters)"
    numbers = {
        name: _numeric(frame, name, label, reasons, positive=True)
        for name, label in (
            ("pkg_size", "PKG SIZE"),
            ("pkg_qty", "PKG QTY"),
            ("bill_units", "BILLUNITS"),
            ("bill_units_pkg", "BILLUNITSPKG"),
        )
    }
    clean = pd.DataFrame(
        {
            "hcpcs": hcpcs,
            "ndc11": pd.Series(ndc11, dtype=object),
            "drug_name": _clean_text(frame["drug_name"]),
            "hcpcs_dosage": _clean_text(frame["hcpcs_dosage"]),
            **numbers,
            "labeler": _clean_text(frame["labeler"]),
            "short_description": _clean_text(frame["short_description"]),
        }
    )
    keep = reasons == None  # noqa: E711
    duplicate = clean.duplicated(["ndc11", "hcpcs"]).to_numpy() & keep
    reasons[duplicate] = "repeats an earlier row's NDC and HCPCS code"
    skipped = _errors(path, raw, reasons)
    clean = clean[reasons == None].reset_index(drop=True)  # noqa: E711
    if clean.empty:
        raise InputError(f"{path.name}: no usable crosswalk rows ({len(skipped)} skipped)")
    clean["ndc11"] = clean["ndc11"].astype("str")
    per_ndc = clean.groupby("ndc11")["hcpcs"].nunique()
    notes = []
    if (per_ndc > 1).any():
        notes.append(f"{int((per_ndc > 1).sum())} NDCs are listed under more than one HCPCS code (all kept)")
    return CmsTable(
        "crosswalk",
        path.name,
        digest,
        _quarter_of(raw.effective_start),
        raw.effective_start,
        raw.effective_end,
        clean,
        skipped,
        notes,
    )


def read_payment_limit(path: Path) -> CmsTable:
    """Parse an ASP payment-limit CSV; one row per HCPCS code with its $ limit per HCPCS unit."""
    path = Path(path)
    text, digest = _decode(path)
    raw = _read_raw(path, text, _HeaderTest(_PAYMENT_COLUMNS["payment_limit"]), "ASP payment-limit")
    columns = _map_columns(path, raw.header, _PAYMENT_COLUMNS)
    frame = _frame(raw, columns)
    n = len(frame)
    if n == 0:
        raise InputError(f"{path.name}: no data rows after the header")
    reasons = np.full(n, None, dtype=object)
    hcpcs = frame["hcpcs"].str.strip().str.upper()
    reasons[~hcpcs.str.fullmatch(_HCPCS.pattern).to_numpy(dtype=bool)] = (
        "HCPCS code is not 5 characters like J1234"
    )
    limit = _numeric(frame, "payment_limit", "Payment Limit", reasons, positive=False)
    coinsurance = pd.to_numeric(frame["coinsurance_pct"].str.strip(), errors="coerce").astype("float64")
    clean = pd.DataFrame(
        {
            "hcpcs": hcpcs,
            "description": _clean_text(frame["description"]),
            "dosage": _clean_text(frame["dosage"]),
            "payment_limit": limit,
            "coinsurance_pct": coinsurance,
        }
    )
    keep = reasons == None  # noqa: E711
    reasons[clean.duplicated(["hcpcs"]).to_numpy() & keep] = "repeats an earlier row's HCPCS code"
    skipped = _errors(path, raw, reasons)
    clean = clean[reasons == None].reset_index(drop=True)  # noqa: E711
    if clean.empty:
        raise InputError(f"{path.name}: no usable payment-limit rows ({len(skipped)} skipped)")
    return CmsTable(
        "payment_limit",
        path.name,
        digest,
        _quarter_of(raw.effective_start),
        raw.effective_start,
        raw.effective_end,
        clean,
        skipped,
        [],
    )
