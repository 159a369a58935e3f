"""The recency columns in the featurizer: part of their rule, monotone, frozen, and saved with it."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pytest

from features.recency import REASON_SUFFIX, RULE_SUFFIX, OutcomeHistory
from features.transformer import ClaimFeaturizer


@pytest.fixture(scope="module")
def fitted(kit: Any) -> tuple[ClaimFeaturizer, Any, np.ndarray]:
    """A featurizer with recency columns over an outcome history of its own claims."""
    frame = kit.frame_of(*kit.random_claims(600, seed=23))
    rng = np.random.default_rng(5)
    y = (rng.random(frame.n_claims) < 0.3).astype(np.int8)
    ft = ClaimFeaturizer(max_payers=3)
    X = ft.fit_transform(frame, y)
    rule_ids = tuple(ft.rule_ids_)
    flags = X[:, [ft.rule_columns[r][0] for r in rule_ids]] > 0
    n = frame.n_claims
    payer = np.asarray([f"P{k % 3}" for k in range(n)], dtype=object)
    submitted = np.datetime64("2025-01-01") + np.sort(rng.integers(0, 200, n)).astype("timedelta64[D]")
    paid = submitted + rng.integers(5, 40, n).astype("timedelta64[D]")
    for_rule = flags & (y == 1)[:, None] & (rng.random(flags.shape) < 0.6)
    ft.set_recency(OutcomeHistory.of(payer, paid, y, flags, rule_ids, rule_denied=for_rule))
    return ft, frame, X


def test_each_rules_recency_columns_belong_to_the_rule_and_are_monotone(fitted: Any) -> None:
    ft, _, X = fitted
    names = ft.get_feature_names_out().tolist()
    monotone = ft.monotonic_cst()
    for rule, columns in ft.rule_columns.items():
        for suffix in (RULE_SUFFIX, REASON_SUFFIX):
            k = names.index(f"rule:{rule}:{suffix}")
            assert k in columns and monotone[k] == 1
    assert len(names) == X.shape[1] + 2 + 2 * len(ft.rule_ids_)


def test_the_frozen_history_featurizes_the_same_after_pickling(fitted: Any) -> None:
    ft, frame, _ = fitted
    again = pickle.loads(pickle.dumps(ft))
    np.testing.assert_array_equal(ft.transform(frame), again.transform(frame))
    recency = ft.transform(frame)[:, -2 * len(ft.rule_ids_) :]
    flags = ft.transform(frame)[:, [ft.rule_columns[r][0] for r in ft.rule_ids_]] > 0
    assert (recency[:, : len(ft.rule_ids_)][~flags] == 0).all()  # 0 where the claim lacks the problem
