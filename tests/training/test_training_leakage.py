"""Training never hands a remittance column to the featurizer, and the guard notices when it does."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from features.leakage import LeakageError, check_no_remittance_leakage
from features.transformer import ClaimFeaturizer
from training.frames import slice_claims
from training.leakage import assert_claim_columns_only, assert_no_leakage


def test_training_set_holds_claim_columns_only(training_data, trained) -> None:  # type: ignore[no-untyped-def]
    assert_claim_columns_only(training_data.frame)
    assert_no_leakage(trained.model.featurizer, training_data.frame)


@pytest.mark.parametrize("field", ["paid", "outcome", "adjustments", "claim_status", "paid_date"])
def test_a_remittance_column_in_the_training_set_fails(training_data, field: str) -> None:  # type: ignore[no-untyped-def]
    frame = training_data.frame
    leaky = dataclasses.replace(frame, lines={**frame.lines, field: np.zeros(frame.n_lines)})
    with pytest.raises(LeakageError, match=field):
        assert_claim_columns_only(leaky)


class _PaidFeaturizer(ClaimFeaturizer):
    """A featurizer with one feature derived from a remittance field (what the guard must catch)."""

    def transform(self, X):  # type: ignore[no-untyped-def,override]
        matrix = super().transform(X)
        paid = X.lines.get("paid")
        if paid is not None:
            matrix[:, 0] = np.bincount(X.lines["claim_index"], weights=paid, minlength=X.n_claims)
        return matrix


def test_a_feature_derived_from_a_remittance_field_fails(training_data) -> None:  # type: ignore[no-untyped-def]
    frame = slice_claims(training_data.frame, 0, 300)
    honest = ClaimFeaturizer().fit(frame, training_data.y[:300])
    check_no_remittance_leakage(honest, frame)
    leaky = _PaidFeaturizer().fit(frame, training_data.y[:300])
    with pytest.raises(LeakageError, match="paid"):
        check_no_remittance_leakage(leaky, frame)
    with pytest.raises(LeakageError):
        assert_no_leakage(leaky, frame)
