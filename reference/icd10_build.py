"""Derive the compact ICD-10-CM table (``icd10cm.parquet``) from the ``simple_icd_10_cm`` package.

``simple_icd_10_cm`` ships the CDC release (tabular XML + code list) and answers validity and
billability exactly, but parses ~10 MB of XML on first use (~3 s). The service only needs three
facts per code, so they are extracted once here: every category/subcategory code (no dots), whether
it is billable (a leaf of the tabular list), and its chapter number. Chapters and blocks
("13", "M05-M14") are items of the classification but not diagnosis codes, so they are left out.

Run: ``.venv/bin/python -m reference.icd10_build`` (writes to ``reference/data/`` or
``$CLAIMRISK_REFERENCE_DIR``, and records the release in ``manifest.json``).
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from reference import compact


def _package_release(module: object) -> tuple[str, str, str]:
    """(release "2026-04", code-list file name, tabular file name) of the loaded package data."""
    code_list = str(getattr(module, "_all_codes_package_file_name", ""))
    tabular = str(getattr(module, "_classification_data_package_file_name", ""))
    match = re.search(r"([A-Za-z]+)-(\d{4})", code_list)
    if not match:
        raise RuntimeError(f"cannot tell the ICD-10-CM release from {code_list!r}")
    month = datetime.strptime(match.group(1)[:3], "%b").month
    return f"{match.group(2)}-{month:02d}", code_list, tabular


def build_icd10() -> Path:
    import simple_icd_10_cm as icd  # slow import: only here, never on the service path
    import simple_icd_10_cm.simple_icd_10_cm as implementation

    release, code_list, tabular = _package_release(implementation)
    codes = [c for c in icd.get_all_codes(with_dots=False) if icd.is_category_or_subcategory(c)]
    billable = np.fromiter((icd.is_leaf(c) for c in codes), dtype=bool, count=len(codes))
    chapter = np.fromiter((int(icd.get_ancestors(c)[-1]) for c in codes), dtype=np.int8, count=len(codes))
    frame = pd.DataFrame({"code": codes, "billable": billable, "chapter": chapter})
    # a block made of one category (e.g. "B20") is listed twice under the same name: keep one
    frame = frame.drop_duplicates("code").sort_values("code").reset_index(drop=True)
    path = compact.write_table(frame, compact.ICD10_FILE)
    data_dir = Path(icd.__file__).parent / "data"
    manifest = compact.read_manifest()
    manifest["icd10cm"] = {
        "release": release,
        "source": f"simple_icd_10_cm {metadata.version('simple_icd_10_cm')}: {code_list}, {tabular}",
        "sha256": {
            name: hashlib.sha256((data_dir / name).read_bytes()).hexdigest()
            for name in (code_list, tabular)
            if (data_dir / name).exists()
        },
        "codes": len(frame),
        "billable": int(frame["billable"].sum()),
    }
    compact.write_manifest(manifest)
    return path


if __name__ == "__main__":
    import sys

    sys.stdout.write(f"{build_icd10()}\n")
