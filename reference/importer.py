"""Adding a parsed CMS quarter to the compact data, and rebuilding the shipped data from raw files.

A quarter is the unit of change: importing a file replaces every row of its quarter and nothing
else, so re-importing a corrected file is safe and the other quarters stay byte-for-byte the same.

Rebuild the shipped data (after a new CMS release, or to check provenance)::

    .venv/bin/python -m reference.importer /path/to/cms        # every *crosswalk*.csv, *payment-limit*.csv, mue/*.csv
    .venv/bin/python -m reference.importer /path/to/cms --icd10  # also re-derive icd10cm.parquet

It writes to ``reference/data/`` (or ``$CLAIMRISK_REFERENCE_DIR``) and keeps only the quarters found
in the folder.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from claims.errors import InputError
from reference import compact
from reference.cms import LOADER_VERSION, CmsTable, read_crosswalk, read_payment_limit
from reference.mue import MueTable, effective_from_name, read_mue, save_mue

_MAX_LISTED = 10  # individual skipped rows printed per reason; the rest are counted


def _with_quarter(table: CmsTable, columns: list[str]) -> pd.DataFrame:
    rows = table.rows.copy()
    rows.insert(0, "quarter", table.quarter)
    rows.insert(1, "effective_start", pd.Timestamp(str(table.effective_start)))
    rows.insert(2, "effective_end", pd.Timestamp(str(table.effective_end)))
    rows["effective_start"] = rows["effective_start"].astype("datetime64[ms]")
    rows["effective_end"] = rows["effective_end"].astype("datetime64[ms]")
    return rows[columns]


def _merge(existing: pd.DataFrame | None, new: pd.DataFrame, quarter: str, keys: list[str]) -> pd.DataFrame:
    if existing is not None and len(existing):
        existing = existing[existing["quarter"] != quarter]
        merged = pd.concat([existing, new], ignore_index=True)
    else:
        merged = new
    return merged.sort_values(["quarter", *keys], kind="stable").reset_index(drop=True)


def _entry(table: CmsTable) -> dict[str, Any]:
    return {
        "source": table.source,
        "sha256": table.sha256,
        "effective_start": str(table.effective_start),
        "effective_end": str(table.effective_end),
        "rows": len(table.rows),
        "skipped": len(table.skipped),
    }


def _existing(name: str, columns: list[str]) -> pd.DataFrame | None:
    if not compact.resolve(name).exists():
        return None
    return compact.read_table(name)[columns]


def save_tables(tables: list[CmsTable], *, fresh: bool = False) -> None:
    """Merge parsed quarters into the compact files (one write per file) and record them.

    ``fresh`` drops every existing quarter of the kinds being written (a rebuild), so the result
    holds exactly the given files.
    """
    manifest = compact.read_manifest()
    for kind, name, columns, keys in (
        ("crosswalk", compact.CROSSWALK_FILE, compact.CROSSWALK_COLUMNS, ["hcpcs", "ndc11"]),
        ("payment_limit", compact.PAYMENT_LIMIT_FILE, compact.PAYMENT_LIMIT_COLUMNS, ["hcpcs"]),
    ):
        mine = [t for t in tables if t.kind == kind]
        if not mine:
            continue
        frame = None if fresh else _existing(name, columns)
        if fresh:
            manifest[kind] = {}
        for table in mine:
            frame = _merge(frame, _with_quarter(table, columns), table.quarter, keys)
            manifest.setdefault(kind, {})[table.quarter] = _entry(table)
        assert frame is not None
        compact.write_table(frame, name)
    manifest["loader"] = LOADER_VERSION
    compact.write_manifest(manifest)


def report(table: CmsTable | MueTable, stream: TextIO | None = None) -> None:
    """Tell the user what was kept and skipped: counts per reason and the first few rows of each."""
    out = stream or sys.stderr
    if isinstance(table, MueTable):
        lines = [table.summary()]
    else:
        lines = [
            f"{table.source}: {table.kind} {table.quarter} ({table.effective_start} .. {table.effective_end}): "
            f"{len(table.rows)} rows kept, {len(table.skipped)} skipped"
        ]
    by_reason: Counter[str] = Counter()
    for error in table.skipped:
        general = error.reason.split(" (")[0]
        by_reason[general] += 1
        if by_reason[general] <= _MAX_LISTED:
            lines.append(f"  skipped {error}")
    lines += [
        f"  ... {count - _MAX_LISTED} more skipped: {reason}"
        for reason, count in by_reason.items()
        if count > _MAX_LISTED
    ]
    lines += [f"  note: {note}" for note in table.notes]
    out.write("\n".join(lines) + "\n")


def _read_mue_folder(raw_dir: Path) -> list[MueTable]:
    """The MUE tables in ``raw_dir/mue/``, dated by their CMS file names (``..._Eff_04-01-2026...``)."""
    tables = []
    for path in sorted((Path(raw_dir) / "mue").glob("*.csv")):
        effective = effective_from_name(path)
        if effective is None:
            raise InputError(f"{path.name}: no '_Eff_MM-DD-YYYY' in the name, so no effective date")
        tables.append(read_mue(path, effective=effective))
        report(tables[-1])
    return tables


def rebuild(raw_dir: Path, *, icd10: bool = False) -> int:
    """Recreate the compact crosswalk, payment-limit and MUE data from a folder of raw CMS files
    (the MUE tables in its ``mue/`` subfolder)."""
    files = sorted(Path(raw_dir).glob("*.csv"))
    if not files:
        raise InputError(f"{raw_dir}: no CSV files")
    tables: list[CmsTable] = []
    for path in files:
        lowered = path.name.lower()
        if "crosswalk" in lowered:
            tables.append(read_crosswalk(path))
        elif "payment" in lowered and "limit" in lowered:
            tables.append(read_payment_limit(path))
        else:
            sys.stderr.write(f"{path.name}: not a crosswalk or payment-limit file by name, ignored\n")
            continue
        report(tables[-1])
    mue_tables = _read_mue_folder(raw_dir)
    save_tables(tables, fresh=True)
    save_mue(mue_tables, fresh=True)
    if icd10:
        from reference.icd10_build import build_icd10

        build_icd10()
    return 1 if any(t.skipped for t in tables) or any(t.skipped for t in mue_tables) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="rebuild reference/data from raw CMS files")
    parser.add_argument("raw_dir", type=Path, help="folder with the CMS crosswalk and payment-limit CSVs")
    parser.add_argument("--icd10", action="store_true", help="also re-derive the ICD-10-CM table")
    args = parser.parse_args(argv)
    try:
        rebuild(args.raw_dir, icd10=args.icd10)
    except InputError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    return 0  # skipped dirty rows are expected in the published files


if __name__ == "__main__":
    raise SystemExit(main())
