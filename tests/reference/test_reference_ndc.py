from __future__ import annotations

import numpy as np
import pytest

from reference.ndc import normalize_ndc, normalize_ndc_one


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234-5678-90", "01234567890"),  # 4-4-2: pad the labeler
        ("12345-678-90", "12345067890"),  # 5-3-2: pad the product
        ("12345-6789-0", "12345678900"),  # 5-4-1: pad the package
        ("12345-6789-01", "12345678901"),  # 5-4-2: already 11 digits
        ("00143-9856-25", "00143985625"),
        ("00143985625", "00143985625"),  # bare 11 digits stay
        ("  50242-0060-01\t", "50242006001"),  # surrounding whitespace is ignored
        (" 50242006001 ", "50242006001"),
        ("0143985625", None),  # bare 10 digits: ambiguous, rejected
        ("1234-567-89", None),  # 4-3-2: 9 digits
        ("12345-6789-012", None),  # 5-4-3: 12 digits
        ("123456-789-01", None),  # labeler too long
        ("12345-67890-1", None),  # product too long
        ("1234567890123", None),
        ("888867413689", None),  # the 12-digit code in the Jan-2026 crosswalk
        ("00618474000084", None),  # 14-digit GTIN-like code
        ("12345-67A9-01", None),  # letters
        ("ABCDE678901", None),
        ("12345 6789 01", None),  # spaces inside
        ("12345--6789-01", None),
        ("", None),
        ("   ", None),
    ],
)
def test_normalize_ndc_one(text: str, expected: str | None) -> None:
    assert normalize_ndc_one(text) == expected


@pytest.mark.parametrize("value", [None, 12345678901, 1.5, b"12345678901"])
def test_normalize_ndc_one_non_text(value: object) -> None:
    assert normalize_ndc_one(value) is None


def test_normalize_ndc_vectorized_matches_scalar() -> None:
    values = np.array(
        ["1234-5678-90", None, "12345-678-90", "bad", "1234-5678-90", "0143985625", np.nan, "12345678901"],
        dtype=object,
    )
    out = normalize_ndc(values)
    assert out.dtype == object
    assert out.tolist() == [
        "01234567890",
        None,
        "12345067890",
        None,
        "01234567890",
        None,
        None,
        "12345678901",
    ]


def test_normalize_ndc_empty_and_shape() -> None:
    assert normalize_ndc(np.array([], dtype=object)).shape == (0,)
    grid = np.array([["12345-6789-0", "x"], [None, "00143985625"]], dtype=object)
    assert normalize_ndc(grid).tolist() == [["12345678900", None], [None, "00143985625"]]


def test_normalize_ndc_large_array_repeats() -> None:
    base = np.array(["1234-5678-90", "12345-6789-0", "junk", None], dtype=object)
    out = normalize_ndc(np.tile(base, 50_000))
    assert out[:4].tolist() == ["01234567890", "12345678900", None, None]
    assert (out[4::4] == "01234567890").all()
    assert out.size == 200_000
