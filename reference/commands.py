"""``claimrisk import-reference``: add (or replace) a quarter of CMS data in the compact store.

A user drops in next quarter's crosswalk, payment-limit and MUE files exactly as CMS publishes them.
Skipped dirty rows are reported on stderr with their line numbers and make the exit code 1, so a
pipeline notices without failing; a file that cannot be read at all is an ``InputError`` (exit 2)
and leaves the stored data untouched. An MUE table carries its effective date only in the CMS file
name, which downloads often lose, so the user states it (``--effective``).
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from claims.errors import InputError
from reference import compact
from reference.cms import CmsTable, read_crosswalk, read_payment_limit
from reference.importer import report, save_tables
from reference.mue import MueTable, Setting, read_mue, save_mue


def _read_mue(mue: Path | None, effective: date | None, setting: Setting | None) -> list[MueTable]:
    if mue is None:
        if effective is not None or setting is not None:
            raise InputError("--effective and --mue-setting go with --mue FILE")
        return []
    if effective is None:
        raise InputError("--mue needs --effective YYYY-MM-DD: the MUE file does not say its date")
    return [read_mue(Path(mue), effective=effective, setting=setting)]


def import_reference(
    *,
    crosswalk: Path | None,
    payment_limit: Path | None,
    mue: Path | None = None,
    mue_effective: date | None = None,
    mue_setting: Setting | None = None,
) -> int:
    if crosswalk is None and payment_limit is None and mue is None:
        raise InputError("nothing to import: give --crosswalk FILE, --payment-limit FILE and/or --mue FILE")
    tables: list[CmsTable] = []
    # parse everything before writing anything: one bad file must not leave half an import behind
    if crosswalk is not None:
        tables.append(read_crosswalk(Path(crosswalk)))
    if payment_limit is not None:
        tables.append(read_payment_limit(Path(payment_limit)))
    mue_tables = _read_mue(mue, mue_effective, mue_setting)
    parsed: list[CmsTable | MueTable] = [*tables, *mue_tables]
    for table in parsed:
        report(table)
    try:
        if tables:
            save_tables(tables)
        save_mue(mue_tables)
    except OSError as exc:
        raise InputError(f"cannot write reference data to {compact.target_dir()}: {exc}") from exc

    from reference.store import load_reference  # the cached copy is now stale

    load_reference.cache_clear()
    sys.stderr.write(f"reference data now: {load_reference().version} (in {compact.target_dir()})\n")
    return 1 if any(t.skipped for t in parsed) else 0
