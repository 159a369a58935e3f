"""The shortcuts taken for speed give exactly what the plain paths give.

Deferred sorting of fired rows, serialised results, feature-major matrix building with the
grouped-by-claim shortcuts and the memoised layouts must never change an answer.
"""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import orjson
import pytest

from claims.columnar import ClaimFrame
from features.payer_policy import PolicySet
from features.rules.catalog import RULE_IDS
from features.rules.engine import FiredRules, evaluate
from features.transformer import ClaimFeaturizer
from reference.store import load_reference


@pytest.fixture(scope="module")
def frame(kit: Any) -> ClaimFrame:
    return kit.frame_of(*kit.random_claims(800, seed=41))


@pytest.fixture(scope="module")
def featurizer(frame: ClaimFrame) -> ClaimFeaturizer:
    labels = (np.random.default_rng(5).random(frame.n_claims) < 0.3).astype(float)
    return ClaimFeaturizer(min_category_count=1).fit(frame, labels)


def test_results_json_is_orjson_of_the_results(frame: ClaimFrame) -> None:
    fired = evaluate(frame, policies=PolicySet.load(), reference=load_reference())
    memo: dict[Any, bytes] = {}
    as_json = fired.results_json(memo)
    assert len(as_json) == frame.n_claims
    assert as_json == [orjson.dumps(rules) for rules in fired.results()]
    assert 0 < len(memo) < len(fired)  # repeated results were serialised once
    again = evaluate(frame, policies=PolicySet.load(), reference=load_reference()).results_json(memo)
    assert again == as_json  # a memo shared across calls changes nothing


def test_results_json_tells_negative_zero_from_zero(kit: Any) -> None:
    line = {"line_number": 1, "procedure_code": "96365", "charge": 0.0, "units": 1, "diagnosis_pointers": [1]}
    zero = kit.make_claim(lines=[line], total_charge=0.0)
    negative = kit.make_claim(lines=[line | {"charge": -0.0}], total_charge=0.0, claim_id="NEG")
    fired = evaluate(kit.frame_of(zero, negative))
    as_json = fired.results_json()
    assert as_json == [orjson.dumps(fired.for_claim(0)), orjson.dumps(fired.for_claim(1))]
    assert b'"charge":-0.0' in as_json[1] and b'"charge":0.0' in as_json[0]


def test_counts_do_not_depend_on_when_rows_are_sorted(frame: ClaimFrame) -> None:
    deferred = evaluate(frame)
    counts_before = deferred.flag_counts()  # counted from the per-rule blocks, nothing sorted yet
    lines_before = deferred.line_counts()
    assert deferred._pending is not None
    sorted_now = deferred.claim_index  # forces the sort
    assert np.all(np.diff(sorted_now) >= 0)
    assert np.array_equal(deferred.flag_counts(), counts_before)
    assert np.array_equal(deferred.line_counts(), lines_before)
    # the public constructor (already-sorted arrays) gives the same answers
    rebuilt = FiredRules(
        deferred.n_claims, deferred.claim_ids, deferred.claim_index, deferred.rule, deferred.line_number,
        deferred.evidence_block, deferred.evidence_row, deferred.blocks, deferred.facts,
    )
    assert rebuilt.results() == deferred.results()
    assert np.array_equal(rebuilt.flag_counts(), counts_before)
    assert counts_before.shape == (frame.n_claims, len(RULE_IDS))


def test_single_claim_counts_match_batch_counts(frame: ClaimFrame) -> None:
    batch = evaluate(frame).flag_counts()
    for i in (0, 1, 17, 399):
        one = evaluate(frame.take([i]))
        assert np.array_equal(one.flag_counts()[0], batch[i])


def _shuffle_lines(frame: ClaimFrame, seed: int) -> ClaimFrame:
    """Same claims with their line rows in a random order (not grouped by claim)."""
    order = np.random.default_rng(seed).permutation(frame.n_lines)
    lines = {name: column[order] for name, column in frame.lines.items()}
    return ClaimFrame(lines, frame.diagnoses, frame.attachments, frame.n_claims, frame.claim_ids)


def test_features_do_not_need_lines_grouped_by_claim(frame: ClaimFrame, featurizer: ClaimFeaturizer) -> None:
    grouped = featurizer.transform(frame)
    shuffled = featurizer.transform(_shuffle_lines(frame, seed=3))
    assert np.array_equal(grouped, shuffled)
    assert grouped.dtype == np.float32 and grouped.flags.f_contiguous  # one block, no copy to C order


def test_claim_without_lines_gets_zero_line_features(frame: ClaimFrame, featurizer: ClaimFeaturizer) -> None:
    two = frame.take([0, 1])
    keep = two.lines["claim_index"] == 0  # claim 1 loses its lines
    lines = {name: column[keep] for name, column in two.lines.items()}
    hollow = ClaimFrame(lines, two.diagnoses, two.attachments, 2, two.claim_ids)
    X = featurizer.transform(hollow)
    names = featurizer.get_feature_names_out().tolist()
    assert np.array_equal(X[0], featurizer.transform(frame.take([0]))[0])
    for name in ("n_lines", "total_charge", "max_line_charge", "units_max", "charge_to_limit_max"):
        assert X[1, names.index(name)] == 0.0
    assert X[1, names.index("days_to_submission_max")] == -366.0
    assert X[1, names.index("days_to_submission_min")] == 3650.0


def test_column_layout_is_derived_not_saved(frame: ClaimFrame, featurizer: ClaimFeaturizer) -> None:
    """The layout is rebuilt from the fitted names on load, so a model saved before it existed (its
    state has no layout) transforms as the featurizer it was saved from."""
    expected = featurizer.transform(frame)
    assert "_layout" in featurizer.__dict__
    state = featurizer.__getstate__()
    assert "_layout" not in state and "_layout_cache" not in state
    restored = pickle.loads(pickle.dumps(featurizer))
    assert restored.__dict__["_layout"].index == featurizer.__dict__["_layout"].index
    assert np.array_equal(restored.transform(frame), expected)
    blank = ClaimFeaturizer.__new__(ClaimFeaturizer)
    blank.__setstate__(state)  # what unpickling an old model does
    assert np.array_equal(blank.transform(frame), expected)


def test_refit_replaces_cached_layouts(frame: ClaimFrame) -> None:
    ft = ClaimFeaturizer(min_category_count=1).fit(frame)
    wide = ft.transform(frame)
    narrow = ft.set_params(max_payers=1).fit(frame).transform(frame)
    assert narrow.shape[1] < wide.shape[1]
    assert np.array_equal(narrow, ClaimFeaturizer(min_category_count=1, max_payers=1).fit(frame).transform(frame))
