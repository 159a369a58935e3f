from __future__ import annotations

import numpy as np
import pytest

from reference import icd10


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("M06.9", 0),  # rheumatoid arthritis, unspecified: billable
        ("M069", 0),
        ("m06.9", 0),
        (" M069 ", 0),
        ("E11.9", 0),
        ("S72.001A", 0),  # 7th-character extension
        ("C50.911", 0),
        ("M06", 1),  # category header, not billable
        ("m06", 1),
        ("E11", 1),
        ("M06.0", 1),  # subcategory with children
        ("S72.001", 1),  # needs its 7th character
        ("M06.99", 2),  # does not exist
        ("M0.69", 2),  # dot in the wrong place
        ("M06..9", 2),
        ("XYZ", 2),
        ("13", 2),  # a chapter is not a diagnosis
        ("M05-M14", 2),  # nor a block
        ("", 2),
    ],
)
def test_diagnosis_status(code: str, status: int) -> None:
    assert icd10.diagnosis_status(np.array([code], dtype=object)).tolist() == [status]


def test_diagnosis_status_vectorized_with_missing() -> None:
    codes = np.array(["M069", None, "M06", "BAD", "M06.9", np.nan], dtype=object)
    out = icd10.diagnosis_status(codes)
    assert out.dtype == np.int8
    assert out.tolist() == [0, 2, 1, 2, 0, 2]


def test_chapter() -> None:
    codes = np.array(["M06.9", "A00", "C50.911", "Z79.899", "BAD", None, "U07.1"], dtype=object)
    assert icd10.chapter(codes).tolist() == ["13", "1", "2", "21", None, None, "22"]


def test_release_and_table_size() -> None:
    assert icd10.release == "2026-04"
    table = icd10.load_table()
    # April 2026 release: 74,719 billable codes among 98,186 categories/subcategories
    assert sum(1 for s in table.status.values() if s == 0) == 74_719
    assert len(table.status) == 98_186


def test_shape_preserved_and_empty() -> None:
    assert icd10.diagnosis_status(np.array([], dtype=object)).shape == (0,)
    assert icd10.diagnosis_status(np.array([["M069", "M06"]], dtype=object)).tolist() == [[0, 1]]


def test_small_and_large_batches_agree() -> None:
    base = np.array(
        ["M06.9", "m069", "M06", "E11.9", None, "BAD", " Z79.899 ", "S72.001A", "M0.69"], dtype=object
    )
    big = np.tile(base, 40)  # 360 values: the factorize path
    assert icd10.diagnosis_status(big).tolist() == icd10.diagnosis_status(base).tolist() * 40
    assert icd10.chapter(big).tolist() == icd10.chapter(base).tolist() * 40
    assert icd10.diagnosis_status(base).tolist() == [0, 0, 1, 0, 2, 2, 0, 0, 2]
