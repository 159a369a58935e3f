"""NDC normalisation to the 11-digit 5-4-2 form that the crosswalk and the 837 LIN03 use.

FDA NDCs are 10 digits in three hyphenated shapes (4-4-2, 5-3-2, 5-4-1); billing needs 11 digits,
made by left-padding the short segment with a zero. Only the hyphens say which segment is short,
so a bare 10-digit string is ambiguous and is rejected rather than guessed (a wrong guess would
silently point at another drug). A bare 11-digit string is already in billing form.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

# labeler-product-package with the segment widths of the three FDA shapes and the 11-digit form
_HYPHENATED = re.compile(r"(\d{4,5})-(\d{3,4})-(\d{1,2})")
_BARE_11 = re.compile(r"\d{11}")
_SMALL_BATCH = 32


def normalize_ndc_one(value: object) -> str | None:
    """One NDC in any accepted form -> 11 digits, or None when it is not a usable NDC."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if _BARE_11.fullmatch(text):
        return text
    match = _HYPHENATED.fullmatch(text)
    if match is None:
        return None
    labeler, product, package = match.groups()
    widths = (len(labeler), len(product), len(package))
    if widths not in ((5, 4, 2), (4, 4, 2), (5, 3, 2), (5, 4, 1)):
        return None  # 9 or 12 digits, e.g. 4-3-2: not an FDA shape
    return labeler.zfill(5) + product.zfill(4) + package.zfill(2)


def normalize_ndc(values: np.ndarray) -> np.ndarray:
    """Vectorized :func:`normalize_ndc_one`: object array in, object array of 11-digit str/None out.

    Claim files repeat a few hundred NDCs over millions of lines, so the regex runs once per
    distinct value (``pd.factorize``) and the answers are spread back with one take.
    """
    values = np.asarray(values, dtype=object)
    if values.size <= _SMALL_BATCH:  # one claim: skip factorize's fixed ~20 us
        out = np.empty(values.shape, dtype=object)
        out.ravel()[:] = [normalize_ndc_one(v) for v in values.ravel().tolist()]
        return out
    codes, uniques = pd.factorize(values.ravel(), use_na_sentinel=True)
    answers = np.empty(len(uniques) + 1, dtype=object)  # last slot answers the NA sentinel (-1)
    answers[:-1] = [normalize_ndc_one(u) for u in uniques]
    return answers[codes].reshape(values.shape)
