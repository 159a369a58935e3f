"""Claims and remittances from a file or a folder, whatever format each file is in.

It sits above ``claims`` and ``edi`` (it needs both readers), so ``claims`` imports no X12 code.
Commands take a path and should not care whether it holds JSONL or X12, one file or many; this
module sniffs each file by its first bytes (names lie: ``claims.txt`` may be an 837), reads it
with the right reader and stitches the results together in a stable order (files sorted by
name, records in file order), so two runs over the same folder see the same sequence.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from claims.arrow_lines import JsonlShape, line_chunks, split_chunk
from claims.columnar import from_claims
from claims.errors import InputError, RecordError
from claims.jsonl import ClaimReadResult, read_claims_jsonl
from claims.model import Claim
from claims.records import model_from_json, model_from_object
from claims.remittance import RemitRow
from claims.vector_checks import parse_iso_dates
from edi.claims837 import iter_837
from edi.remits835 import iter_835

__all__ = ["ClaimReadResult", "FileFormat", "RemitReadResult", "load_claims", "load_remits", "sniff_format"]

_SNIFF_BYTES = 4096
_X12_SEPARATORS = frozenset(b"*|^~:!+")  # element separators seen in the wild after "ST"


class FileFormat(Enum):
    JSONL = "jsonl"
    X12 = "x12"


def sniff_format(path: Path) -> FileFormat | None:
    """JSONL when the first non-blank byte opens an object; X12 when it starts an interchange
    (``ISA``) or a bare transaction set (``ST`` and a separator); otherwise unknown (None).
    An empty file counts as JSONL with no records."""
    with Path(path).open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    head = head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    if not head or head.startswith(b"{"):
        return FileFormat.JSONL
    if head.startswith(b"ISA") or (head.startswith(b"ST") and len(head) > 2 and head[2] in _X12_SEPARATORS):
        return FileFormat.X12
    return None


def input_files(path: Path) -> list[Path]:
    """The files a path names: itself, or every non-hidden file under a folder, sorted."""
    path = Path(path)
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(
            p
            for p in path.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
        if not files:
            raise InputError(f"{path}: the folder holds no input files")
        return files
    raise InputError(f"{path}: no such file or folder")


def _format_of(file: Path, what: str) -> FileFormat:
    found = sniff_format(file)
    if found is None:
        raise InputError(f"{file}: unknown format for {what} (expected JSONL or X12)")
    return found


# --------------------------------------------------------------------------------------------
# Claims
# --------------------------------------------------------------------------------------------


def load_claims(path: Path) -> ClaimReadResult:
    """Claims from a JSONL or X12 837 file, or from every file of a folder (sorted by name)."""
    results = []
    for file in input_files(path):
        if _format_of(file, "claims") is FileFormat.JSONL:
            results.append(read_claims_jsonl(file))
        else:
            results.append(_read_claims_837(file))
    return ClaimReadResult.concat(results)


def _read_claims_837(file: Path) -> ClaimReadResult:
    claims: list[Claim] = []
    positions: list[int] = []
    errors: list[RecordError] = []
    for record_number, item in enumerate(iter_837(file), start=1):
        if isinstance(item, RecordError):
            errors.append(item)
        else:
            claims.append(item)
            positions.append(record_number)
    sources = np.empty(len(claims), dtype=object)
    sources[:] = file.name
    return ClaimReadResult(from_claims(claims), errors, np.asarray(positions, dtype=np.int64), sources)


# --------------------------------------------------------------------------------------------
# Remittance rows (CONTRACT §6)
# --------------------------------------------------------------------------------------------

REMIT_COLUMNS: tuple[str, ...] = (*RemitRow.model_fields, "source_order")
_REMIT_SHAPE = JsonlShape.of(RemitRow)
_REMIT_STR = (
    "claim_id",
    "payer_claim_id",
    "claim_status",
    "line_control_number",
    "procedure_code",
    "outcome",
    "payer_id",
)
_REMIT_FLOAT = ("charge", "paid", "units_paid")
_REMIT_DATE = ("service_date", "paid_date")
_REMIT_LIST = ("modifiers", "adjustments", "remarks")
_NO_SEQUENCE = np.iinfo(np.int64).min  # internal marker; the DataFrame holds a nullable Int64 column


@dataclass(frozen=True)
class RemitReadResult:
    """``rows``: one row per remittance row in order of appearance (``source_order`` 0..n-1 across
    all files), so netting reversals against corrections is deterministic."""

    rows: pd.DataFrame
    errors: list[RecordError]


def load_remits(path: Path) -> RemitReadResult:
    """Remittance rows from a JSONL (§6 rows) or X12 835 file, or every file of a folder."""
    parts: list[dict[str, np.ndarray]] = []
    errors: list[RecordError] = []
    for file in input_files(path):
        if _format_of(file, "remittances") is FileFormat.JSONL:
            file_parts, file_errors = _read_remits_jsonl(file)
        else:
            file_parts, file_errors = _read_remits_835(file)
        parts.extend(file_parts)
        errors.extend(file_errors)
    columns = {
        name: _concat([p[name] for p in parts], name) for name in REMIT_COLUMNS if name != "source_order"
    }
    n = len(columns["claim_id"])
    columns["source_order"] = np.arange(n, dtype=np.int64)
    frame = pd.DataFrame(columns, columns=list(REMIT_COLUMNS))
    sequence = columns["sequence"]
    frame["sequence"] = pd.arrays.IntegerArray(sequence, sequence == _NO_SEQUENCE)
    return RemitReadResult(frame, errors)


def _concat(arrays: Sequence[np.ndarray], name: str) -> np.ndarray:
    if arrays:
        return np.concatenate(arrays)
    return _remit_columns_from_rows([])[name]


def _read_remits_jsonl(file: Path) -> tuple[list[dict[str, np.ndarray]], list[RecordError]]:
    parts: list[dict[str, np.ndarray]] = []
    errors: list[RecordError] = []
    for chunk in line_chunks(file):
        table, table_lines, one_by_one = split_chunk(chunk, _REMIT_SHAPE)
        pieces: list[tuple[np.ndarray, dict[str, np.ndarray]]] = []
        if table is not None:
            pieces.append((table_lines, _remit_columns_from_table(table)))
        rows: list[RemitRow] = []
        row_lines: list[int] = []
        for index in one_by_one:
            number = int(chunk.numbers[index])
            result = model_from_json(RemitRow, chunk.raw(int(index)), source=file.name, position=f"line {number}")
            if isinstance(result, RecordError):
                errors.append(result)
            else:
                rows.append(result)
                row_lines.append(int(index))
        if rows:
            pieces.append((np.asarray(row_lines, dtype=np.int64), _remit_columns_from_rows(rows)))
        if not pieces:
            continue
        order = np.argsort(np.concatenate([lines for lines, _ in pieces]), kind="stable")
        parts.append(
            {name: np.concatenate([cols[name] for _, cols in pieces])[order] for name in pieces[0][1]}
        )
    return parts, errors


def _read_remits_835(file: Path) -> tuple[list[dict[str, np.ndarray]], list[RecordError]]:
    rows: list[RemitRow] = []
    errors: list[RecordError] = []
    for record_number, item in enumerate(iter_835(file), start=1):
        if isinstance(item, RecordError):
            errors.append(item)
            continue
        result = model_from_object(RemitRow, item, source=file.name, position=f"remittance row {record_number}")
        if isinstance(result, RecordError):
            errors.append(result)
        else:
            rows.append(result)
    return [_remit_columns_from_rows(rows)], errors


def _object_column(values: Iterable[Any], n: int) -> np.ndarray:
    column = np.empty(n, dtype=object)
    column[:] = list(values)
    return column


def _remit_columns_from_rows(rows: Sequence[RemitRow]) -> dict[str, np.ndarray]:
    """Validated rows -> the column types ``_remit_columns_from_table`` gives (the per-record path)."""
    n = len(rows)
    out: dict[str, np.ndarray] = {}
    for name in _REMIT_STR:
        out[name] = _object_column((getattr(r, name) for r in rows), n)
    for name in _REMIT_FLOAT:
        out[name] = np.array(
            [np.nan if (v := getattr(r, name)) is None else v for r in rows], dtype=np.float64
        )
    for name in _REMIT_DATE:
        out[name] = np.array(
            [np.datetime64("NaT") if (v := getattr(r, name)) is None else v for r in rows],
            dtype="datetime64[D]",
        )
    out["modifiers"] = _object_column((list(r.modifiers) for r in rows), n)
    out["remarks"] = _object_column((list(r.remarks) for r in rows), n)
    out["adjustments"] = _object_column(([a.model_dump() for a in r.adjustments] for r in rows), n)
    out["sequence"] = np.array(
        [_NO_SEQUENCE if r.sequence is None else r.sequence for r in rows], dtype=np.int64
    )
    return {name: out[name] for name in RemitRow.model_fields}


def _remit_columns_from_table(table: pa.Table) -> dict[str, np.ndarray]:
    """Rows Arrow read and the vectorized checks passed -> columns; lists become Python lists
    because that is what downstream netting code and ``to_dict`` users expect (CONTRACT §6)."""
    n = table.num_rows
    out: dict[str, np.ndarray] = {}
    for name in _REMIT_STR:
        column = table.column(name).to_numpy(zero_copy_only=False)
        out[name] = column if column.dtype == object else _object_column([None] * n, n)
    for name in _REMIT_FLOAT:
        out[name] = np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=np.float64)
    for name in _REMIT_DATE:
        out[name] = parse_iso_dates(table.column(name).combine_chunks())
    for name in _REMIT_LIST:
        values = pc.fill_null(table.column(name), pa.scalar([], table.schema.field(name).type))
        out[name] = _object_column(values.to_pylist(), n)
    out["sequence"] = np.asarray(
        pc.fill_null(table.column("sequence"), _NO_SEQUENCE).to_numpy(), dtype=np.int64
    )
    return {name: out[name] for name in RemitRow.model_fields}
