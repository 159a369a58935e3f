"""The compact on-disk form of the reference data (``reference/data/``) and where it lives.

Parquet (zstd, dictionary-encoded strings) keeps nine quarters of crosswalk in a few hundred KB and
loads in milliseconds, against 13 MB of raw CSV that takes seconds to parse. ``manifest.json``
records, for every quarter, the CMS file it came from and that file's sha256, so a model trained on
one set of reference data can say exactly which.

``CLAIMRISK_REFERENCE_DIR`` names an overlay folder: files found there win, missing ones fall back
to the shipped copies, and imports write there. Tests use it so they never touch the shipped data.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

SHIPPED_DIR = Path(__file__).resolve().parent / "data"
ENV_DIR = "CLAIMRISK_REFERENCE_DIR"

CROSSWALK_FILE = "crosswalk.parquet"
PAYMENT_LIMIT_FILE = "payment_limit.parquet"
ICD10_FILE = "icd10cm.parquet"
MANIFEST_FILE = "manifest.json"

CROSSWALK_COLUMNS = [
    "quarter",
    "effective_start",
    "effective_end",
    "hcpcs",
    "ndc11",
    "drug_name",
    "hcpcs_dosage",
    "pkg_size",
    "pkg_qty",
    "bill_units",
    "bill_units_pkg",
    "labeler",
    "short_description",
]
PAYMENT_LIMIT_COLUMNS = [
    "quarter",
    "effective_start",
    "effective_end",
    "hcpcs",
    "description",
    "dosage",
    "payment_limit",
    "coinsurance_pct",
]


def target_dir() -> Path:
    """Where imports and rebuilds write: the override folder if set, else the shipped folder."""
    override = os.environ.get(ENV_DIR)
    return Path(override) if override else SHIPPED_DIR


def resolve(name: str) -> Path:
    """The file to read: the override folder's copy when it has one, else the shipped copy."""
    override = os.environ.get(ENV_DIR)
    if override and (Path(override) / name).exists():
        return Path(override) / name
    return SHIPPED_DIR / name


def read_table(name: str, columns: list[str] | None = None) -> pd.DataFrame:
    path = resolve(name)
    if not path.exists():
        raise FileNotFoundError(f"reference data file {name} is missing (looked in {path.parent})")
    return pq.read_table(path, columns=columns).to_pandas()


def write_table(frame: pd.DataFrame, name: str, directory: Path | None = None) -> Path:
    """Write atomically: a reader never sees a half-written file."""
    directory = directory or target_dir()
    directory.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    path = directory / name
    with tempfile.NamedTemporaryFile(dir=directory, suffix=".tmp", delete=False) as handle:
        tmp = Path(handle.name)
    try:
        pq.write_table(table, tmp, compression="zstd", compression_level=19, use_dictionary=True)
        tmp.chmod(0o644)  # NamedTemporaryFile makes 0600; package data must be world-readable
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def read_manifest() -> dict[str, Any]:
    path = resolve(MANIFEST_FILE)
    if not path.exists():
        return {"format": 1, "crosswalk": {}, "payment_limit": {}, "icd10cm": {}}
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return manifest


def write_manifest(manifest: dict[str, Any], directory: Path | None = None) -> Path:
    directory = directory or target_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / MANIFEST_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path
