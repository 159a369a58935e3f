"""Training's half of the leakage guard: the featurizer's input holds claim columns only.

``features.leakage`` proves the featurizer reads no remittance field; this module proves the
training set handed to it carries none (a careless join would add ``paid`` or ``outcome`` to the
claim tables), and runs the featurizer's own check on a sample of every training run, so no
model is ever fitted on a leaking pipeline.
"""

from __future__ import annotations

from typing import Any

from claims.columnar import ClaimFrame
from features.leakage import CLAIM_SCHEMAS, LeakageError, check_no_remittance_leakage
from training.frames import slice_claims

SAMPLE_CLAIMS = 500


def assert_claim_columns_only(frame: ClaimFrame) -> None:
    """Raise LeakageError when a table of the frame has a column the claim schema does not."""
    for table, allowed in CLAIM_SCHEMAS.items():
        extra = set(getattr(frame, table)) - allowed
        if extra:
            raise LeakageError(
                f"the training set's {table} table carries non-claim column(s) {sorted(extra)}"
            )


def assert_no_leakage(featurizer: Any, frame: ClaimFrame) -> None:
    """Both checks, the featurizer's on at most SAMPLE_CLAIMS claims (it runs on every training)."""
    assert_claim_columns_only(frame)
    check_no_remittance_leakage(featurizer, slice_claims(frame, 0, min(SAMPLE_CLAIMS, frame.n_claims)))
