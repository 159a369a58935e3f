"""``claimrisk import-reference``: add (or replace) a quarter of CMS data in the compact store.

A user drops in next quarter's crosswalk and payment-limit files exactly as CMS publishes them.
Skipped dirty rows are reported on stderr with their line numbers and make the exit code 1, so a
pipeline notices without failing; a file that cannot be read at all is an ``InputError`` (exit 2)
and leaves the stored data untouched.
"""

from __future__ import annotations

import sys
from pathlib import Path

from claims.errors import InputError
from reference import compact
from reference.cms import CmsTable, read_crosswalk, read_payment_limit
from reference.importer import report, save_tables


def import_reference(*, crosswalk: Path | None, payment_limit: Path | None) -> int:
    if crosswalk is None and payment_limit is None:
        raise InputError("nothing to import: give --crosswalk FILE and/or --payment-limit FILE")
    tables: list[CmsTable] = []
    # parse everything before writing anything: one bad file must not leave half an import behind
    if crosswalk is not None:
        tables.append(read_crosswalk(Path(crosswalk)))
    if payment_limit is not None:
        tables.append(read_payment_limit(Path(payment_limit)))
    for table in tables:
        report(table)
    try:
        save_tables(tables)
    except OSError as exc:
        raise InputError(f"cannot write reference data to {compact.target_dir()}: {exc}") from exc

    from reference.store import load_reference  # the cached copy is now stale

    load_reference.cache_clear()
    sys.stderr.write(f"reference data now: {load_reference().version} (in {compact.target_dir()})\n")
    return 1 if any(t.skipped for t in tables) else 0
