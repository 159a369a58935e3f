"""``claimrisk convert`` (837 -> contract claims JSONL) and ``claimrisk remits`` (835 -> §6 JSONL).

Per-record problems go to stderr as ``str(RecordError)`` (position and reason, never claim
content) and make the exit code 1; a file that cannot be read at all raises ``InputError`` (2).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

from claims.errors import InputError, RecordError
from claims.netting import EVENT_COLUMNS, Netting, net_remittance_rows
from edi.claims837 import iter_837
from edi.remits835 import iter_835
from edi.segments import X12FormatError

EXIT_OK, EXIT_REJECTED = 0, 1


def _check_input(path: Path) -> None:
    if not path.is_file():
        raise InputError(f"input file not found: {path}")


def _report(error: RecordError) -> None:
    sys.stderr.write(f"{error}\n")


def convert(*, input_path: Path, output_path: Path) -> int:
    """837P/837I -> one contract claim per JSONL line."""
    input_path, output_path = Path(input_path), Path(output_path)
    _check_input(input_path)
    errors = 0
    try:
        with open(output_path, "wb") as out:
            for item in iter_837(input_path):
                if isinstance(item, RecordError):
                    errors += 1
                    _report(item)
                    continue
                out.write(orjson.dumps(item.model_dump(mode="json", exclude_none=False)) + b"\n")
    except X12FormatError as exc:
        raise InputError(f"{input_path.name}: {exc}") from None
    except OSError as exc:
        raise InputError(f"cannot read {input_path} or write {output_path}: {exc.strerror}") from None
    return EXIT_REJECTED if errors else EXIT_OK


def _rows(path: Path, errors: list[int] | None) -> Iterator[dict[str, Any]]:
    """Rows of an 835; errors are counted and reported only when ``errors`` is given (first pass)."""
    for item in iter_835(path):
        if isinstance(item, RecordError):
            if errors is not None:
                errors[0] += 1
                _report(item)
            continue
        yield item


def _netting(path: Path, errors: list[int]) -> Netting:
    """First pass: only the columns that identify adjudications are kept, so memory grows with a
    few small values per row, never with the rows themselves."""
    keys: dict[str, list[Any]] = {name: [] for name in EVENT_COLUMNS}
    for row in _rows(path, errors):
        for name, values in keys.items():
            values.append(row.get(name))
    return net_remittance_rows(pd.DataFrame(keys, columns=list(EVENT_COLUMNS), dtype=object))


def remits(*, input_path: Path, output_path: Path) -> int:
    """835 -> §6 rows, netted (CONTRACT §6: reversals, later adjudications, split claims).

    The file is read twice (first to net the adjudications, then to write the rows that stand);
    errors are reported in the first pass, and how many rows netting removed is reported on stderr
    (a count, never content).
    """
    input_path, output_path = Path(input_path), Path(output_path)
    _check_input(input_path)
    errors = [0]
    try:
        netting = _netting(input_path, errors)
        with open(output_path, "wb") as out:
            for row, keep in zip(_rows(input_path, None), netting.keep, strict=True):
                if keep:
                    out.write(orjson.dumps(row) + b"\n")
    except X12FormatError as exc:
        raise InputError(f"{input_path.name}: {exc}") from None
    except OSError as exc:
        raise InputError(f"cannot read {input_path} or write {output_path}: {exc.strerror}") from None
    _report_netting(netting)
    return EXIT_REJECTED if errors[0] else EXIT_OK


def _report_netting(netting: Netting) -> None:
    if netting.superseded_rows:
        sys.stderr.write(f"{netting.superseded_rows} remittance rows superseded by a later adjudication or reversal\n")
    if netting.reversed_claims:
        sys.stderr.write(f"{netting.reversed_claims} claims reversed without a correction: no rows written\n")
