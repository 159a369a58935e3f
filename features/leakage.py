"""Proof that no remittance field reaches a feature.

The label comes from the 835; a feature that saw any part of it (paid amount, adjustment codes,
the outcome, even the paid date) would score brilliantly in training and be useless at
submission time. Two independent checks, used by the tests and available to training:

* static: run the featurizer on a frame whose column tables record every read, and require that
  it only read claim columns (``claims.columnar`` schemas) and none named like a remittance field;
* dynamic: attach random remittance-like columns to the frame and require a bit-identical matrix.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

import numpy as np

from claims.columnar import ATTACHMENT_COLUMNS, DIAGNOSIS_COLUMNS, LINE_COLUMNS, ClaimFrame
from claims.remittance import RemitRow

CLAIM_SCHEMAS: dict[str, frozenset[str]] = {
    "lines": frozenset(LINE_COLUMNS),
    "diagnoses": frozenset(DIAGNOSIS_COLUMNS),
    "attachments": frozenset(ATTACHMENT_COLUMNS),
}
REMITTANCE_ONLY_FIELDS: frozenset[str] = frozenset(RemitRow.model_fields) - frozenset(LINE_COLUMNS)
"""835 fields that the claim does not also carry (paid, adjustments, outcome, ...)."""


class LeakageError(AssertionError):
    """A feature depends on something that is not known before the claim is submitted."""


class _RecordingColumns(dict[str, np.ndarray]):
    """A column table that remembers which columns were read."""

    def __init__(self, columns: dict[str, np.ndarray]) -> None:
        super().__init__(columns)
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> np.ndarray:
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)


def columns_read(featurizer: Any, frame: ClaimFrame) -> dict[str, set[str]]:
    """Which columns of each table ``featurizer.transform`` reads on ``frame``."""
    tables = {name: _RecordingColumns(getattr(frame, name)) for name in CLAIM_SCHEMAS}
    recording = dataclasses.replace(
        frame, lines=tables["lines"], diagnoses=tables["diagnoses"], attachments=tables["attachments"]
    )
    featurizer.transform(recording)
    return {name: set(table.read) for name, table in tables.items()}


def with_remittance_columns(frame: ClaimFrame, names: Iterable[str], seed: int) -> ClaimFrame:
    """``frame`` plus one random numeric column per name on every table (what a careless join adds)."""
    rng = np.random.default_rng(seed)

    def add(columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        n = next(iter(columns.values())).shape[0] if columns else 0
        return {**columns, **{name: rng.normal(size=n) * 1000 for name in names}}

    return dataclasses.replace(
        frame, lines=add(frame.lines), diagnoses=add(frame.diagnoses), attachments=add(frame.attachments)
    )


def check_no_remittance_leakage(
    featurizer: Any, frame: ClaimFrame, *, remittance_fields: Iterable[str] = REMITTANCE_ONLY_FIELDS
) -> None:
    """Raise :class:`LeakageError` when a fitted featurizer reads or depends on remittance data."""
    remittance_fields = frozenset(remittance_fields)
    probe = with_remittance_columns(frame, sorted(remittance_fields), seed=1)
    for table, read in columns_read(featurizer, probe).items():
        leaked = read & remittance_fields
        if leaked:
            raise LeakageError(f"features read remittance field(s) {sorted(leaked)} from {table}")
        unknown = read - CLAIM_SCHEMAS[table]
        if unknown:
            raise LeakageError(f"features read column(s) {sorted(unknown)} from {table} that a claim does not have")
    baseline = featurizer.transform(with_remittance_columns(frame, sorted(remittance_fields), seed=2))
    changed = featurizer.transform(with_remittance_columns(frame, sorted(remittance_fields), seed=3))
    if not np.array_equal(np.asarray(baseline), np.asarray(changed), equal_nan=True):
        columns = np.flatnonzero(~np.all(np.isclose(np.asarray(baseline), np.asarray(changed), equal_nan=True), axis=0))
        names = [str(n) for n in np.asarray(featurizer.get_feature_names_out())[columns][:10]]
        raise LeakageError(f"features changed when only remittance data changed: {names}")
