"""Shared fixtures for the reference tests: the test copies of CMS files and an isolated data folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reference import icd10
from reference.store import load_reference

DATA = Path(__file__).resolve().parents[1] / "data" / "reference"


@pytest.fixture
def cms_dir() -> Path:
    return DATA


@pytest.fixture
def reference_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty override folder: reads fall back to the shipped data, writes land here."""
    folder = tmp_path / "reference-data"
    folder.mkdir()
    monkeypatch.setenv("CLAIMRISK_REFERENCE_DIR", str(folder))
    load_reference.cache_clear()
    icd10.load_table.cache_clear()
    yield folder
    load_reference.cache_clear()
    icd10.load_table.cache_clear()
