"""Reference look-ups the rules make, per distinct value of the frame.

Every question here ("is this NDC valid?", "what is this ICD-10-CM code's status?", "which HCPCS
codes list this NDC in this quarter?") is answered once per distinct value of the frame and spread
back over the rows with a take. Nothing is remembered between frames: memoising each of these for
the one-claim API path was measured (2026-12, /tmp bench of ``evaluate`` on 300 single claims) at
0.6–4 % each, under the 10 % a special path must win, so they were removed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from features.rules import _arrays as A
from features.rules.terms import is_admin_code
from reference.icd10 import diagnosis_status
from reference.ndc import normalize_ndc

if TYPE_CHECKING:
    from reference.store import ReferenceData


class Lookups:
    """The reference questions of one frame, asked of one ``ReferenceData``."""

    def __init__(self, reference: ReferenceData) -> None:
        self.reference = reference

    def code_kinds(self, codes: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Per distinct normalised code: (listed as a drug code by CMS, an administration code)."""
        drug_hcpcs = self.reference.drug_hcpcs
        kinds = [(c in drug_hcpcs, is_admin_code(c)) for c in codes]
        table = np.array(kinds, dtype=bool).reshape(len(codes), 2)
        return table[:, 0], table[:, 1]

    def ndc11(self, ndc: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(present, 11-digit NDC or None, normalised) per row, from one pass over the distinct values."""
        codes, uniques = A.factorize(ndc)
        table = normalize_ndc(_objects(uniques))
        valid = np.array([v is not None for v in table.tolist()], dtype=bool)
        present = np.array([u is not None and bool(str(u).strip()) for u in uniques], dtype=bool)
        return present[codes], table[codes], valid[codes]

    def diagnosis_status(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[Any]]:
        """(ICD-10-CM status, index into the distinct codes, the distinct codes) per diagnosis row."""
        index, uniques = A.factorize(codes)
        table = diagnosis_status(_objects(uniques)).astype(np.int8, copy=False)
        return table[index], index, uniques

    def quarter_index(self, dates: np.ndarray) -> np.ndarray:
        return self.reference.quarter_index(dates)

    def codes_for_ndc(self, quarter_idx: np.ndarray, ndc11: np.ndarray) -> np.ndarray:
        return self.reference.codes_for_ndc(quarter_idx, ndc11)

    def bill_units(self, quarter_idx: np.ndarray, ndc11: np.ndarray, hcpcs: np.ndarray) -> np.ndarray:
        return self.reference.bill_units(quarter_idx, ndc11, hcpcs)

    def bill_units_and_package_size(
        self, quarter_idx: np.ndarray, ndc11: np.ndarray, hcpcs: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        return self.reference.bill_units_and_package_size(quarter_idx, ndc11, hcpcs)


def lookups_for(reference: ReferenceData) -> Lookups:
    return Lookups(reference)


def _objects(values: list[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out
