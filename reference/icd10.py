"""ICD-10-CM diagnosis validity: billable leaf, valid-but-not-billable header, or invalid.

A claim whose diagnosis is a category header (``M06``) rather than a billable leaf (``M06.9``) is
denied as surely as one with an invalid code, but it is a different fix for the biller, so the two
are told apart. Codes arrive with and without the dot and in any case; both are accepted.

Data: the compact table derived from ``simple_icd_10_cm`` (see ``reference.icd10_build``), loaded
on first use in a few tens of milliseconds instead of the package's ~3 s XML parse.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reference import compact

BILLABLE, NOT_BILLABLE, INVALID = np.int8(0), np.int8(1), np.int8(2)
_SMALL_BATCH = 32


@dataclass(frozen=True, eq=False)
class Icd10Table:
    release: str  # e.g. "2026-04"
    status: dict[str, int]  # undotted upper-case code -> 0 billable / 1 not billable
    chapter: dict[str, str]  # undotted code -> chapter number as a string ("1".."22")


@functools.cache
def load_table() -> Icd10Table:
    frame = compact.read_table(compact.ICD10_FILE)
    release = str(compact.read_manifest().get("icd10cm", {}).get("release", "unknown"))
    codes = frame["code"].tolist()
    status = dict(zip(codes, np.where(frame["billable"].to_numpy(), 0, 1).tolist(), strict=True))
    chapters = dict(zip(codes, frame["chapter"].astype(str).tolist(), strict=True))
    return Icd10Table(release, status, chapters)


def _undotted(code: object) -> str | None:
    """Text like ``"m06.9 "`` -> ``"M069"``; None when the text cannot be a code (a dot anywhere but after 3 characters)."""
    if not isinstance(code, str):
        return None
    text = code.strip().upper()
    if "." in text:
        if text.count(".") != 1 or text.index(".") != 3:
            return None
        text = text.replace(".", "")
    return text


def _per_unique(codes: np.ndarray, answer: dict[str, object], missing: object, dtype: object) -> np.ndarray:
    values = np.asarray(codes, dtype=object)
    flat = values.ravel()
    if flat.size <= _SMALL_BATCH:  # one claim: a dict lookup per code beats factorize's fixed cost
        small = np.empty(flat.size, dtype=dtype)  # type: ignore[call-overload]
        small[:] = [answer.get(_undotted(c) or "", missing) for c in flat.tolist()]
        return small.reshape(values.shape)
    index, uniques = pd.factorize(flat, use_na_sentinel=True)
    lookup = np.empty(len(uniques) + 1, dtype=dtype)  # type: ignore[call-overload]
    lookup[:-1] = [answer.get(_undotted(u) or "", missing) for u in uniques]
    lookup[-1] = missing
    return lookup[index].reshape(values.shape)


def diagnosis_status(codes: np.ndarray) -> np.ndarray:
    """Per code: 0 valid billable leaf, 1 valid but not billable (a category/header), 2 invalid."""
    table = load_table()
    return _per_unique(codes, table.status, INVALID, np.int8)  # type: ignore[arg-type]


def chapter(codes: np.ndarray) -> np.ndarray:
    """Per code: its ICD-10-CM chapter number as a string ("13" = musculoskeletal), None when invalid."""
    table = load_table()
    return _per_unique(codes, table.chapter, None, object)  # type: ignore[arg-type]


def __getattr__(name: str) -> str:
    # ``reference.icd10.release`` reads the table lazily so importing this module stays free
    if name == "release":
        return load_table().release
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
