"""The split is by time: every train submission is on or before every holdout submission."""

from __future__ import annotations

import numpy as np
import pytest

from claims.errors import InputError
from training.split import time_split


def test_slices_are_contiguous_and_ordered_in_time() -> None:
    rng = np.random.default_rng(1)
    dates = np.sort(np.datetime64("2025-01-01") + rng.integers(0, 400, 1000).astype("timedelta64[D]"))
    split = time_split(dates, holdout_fraction=0.2, validation_fraction=0.15)
    assert len(split.holdout) == 200 and len(split.validation) == 120 and len(split.fit) == 680
    assert dates[split.train].max() <= dates[split.holdout].min()
    assert dates[split.fit].max() <= dates[split.validation].min()
    assert np.array_equal(np.concatenate([split.fit, split.validation, split.holdout]), np.arange(1000))


def test_unsorted_dates_and_tiny_inputs_are_refused() -> None:
    with pytest.raises(InputError):
        time_split(np.array(["2025-02-01", "2025-01-01"], dtype="datetime64[D]"), holdout_fraction=0.5)
    with pytest.raises(InputError):
        time_split(np.array(["2025-01-01"] * 3, dtype="datetime64[D]"), holdout_fraction=0.2)
    with pytest.raises(InputError):
        time_split(np.array(["2025-01-01"] * 100, dtype="datetime64[D]"), holdout_fraction=1.5)


def test_trained_split_holds_the_latest_claims(trained) -> None:  # type: ignore[no-untyped-def]
    dates = trained.data.submission_date
    split = trained.split
    assert dates[split.train].max() <= dates[split.holdout].min()
    assert trained.model.metadata["split"]["holdout"]["from"] >= trained.model.metadata["split"]["fit"]["to"]
