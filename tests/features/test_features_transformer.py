"""ClaimFeaturizer follows scikit-learn's conventions, and no feature can see a remittance."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from claims.remittance import RemitRow
from features.leakage import (
    CLAIM_SCHEMAS,
    REMITTANCE_ONLY_FIELDS,
    LeakageError,
    check_no_remittance_leakage,
    columns_read,
)
from features.rules.catalog import RULES
from features.transformer import ClaimFeaturizer


@pytest.fixture(scope="module")
def frame(kit: Any) -> Any:
    return kit.frame_of(*kit.random_claims(600, seed=21))


@pytest.fixture(scope="module")
def labels(frame: Any) -> np.ndarray:
    return (np.random.default_rng(4).random(frame.n_claims) < 0.3).astype(float)


def test_sklearn_conventions(frame: Any, labels: np.ndarray) -> None:
    ft = ClaimFeaturizer(max_payers=3)
    assert clone(ft).get_params() == ft.get_params() and ft.get_params()["max_payers"] == 3
    with pytest.raises(NotFittedError):
        ft.transform(frame)
    assert ft.fit(frame, labels) is ft
    X = ft.transform(frame)
    assert X.dtype == np.float32 and X.shape == (frame.n_claims, len(ft.get_feature_names_out()))
    assert np.isfinite(X).all()
    assert not hasattr(clone(ft), "feature_names_out_")


def test_set_output_pandas(frame: Any) -> None:
    ft = ClaimFeaturizer().set_output(transform="pandas").fit(frame)
    out = ft.transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ft.get_feature_names_out().tolist()
    assert out.shape[0] == frame.n_claims


def test_pickle_and_joblib_round_trip(frame: Any, labels: np.ndarray, tmp_path: Path) -> None:
    ft = ClaimFeaturizer().fit(frame, labels)
    path = tmp_path / "ft.joblib"
    joblib.dump(ft, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.transform(frame), ft.transform(frame))
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(ft)).transform(frame), ft.transform(frame))
    assert type(loaded).__module__ == "features.transformer" and type(loaded).__name__ == "ClaimFeaturizer"


def test_rule_columns_and_monotonic_constraints(frame: Any) -> None:
    ft = ClaimFeaturizer().fit(frame)
    names = ft.get_feature_names_out().tolist()
    cst = ft.monotonic_cst()
    assert len(cst) == len(names)
    assert set(ft.rule_columns) == set(RULES)
    rule_cols = {c for cols in ft.rule_columns.values() for c in cols}
    assert {i for i, v in enumerate(cst) if v == 1} == rule_cols
    assert names[ft.rule_columns["UNITS_INVALID"][0]] == "rule:UNITS_INVALID"
    assert names[ft.rule_columns["UNITS_INVALID"][1]] == "rule:UNITS_INVALID:lines"
    assert len(ft.rule_columns["TIMELY_FILING"]) == 1


def test_rule_features_match_fired_rules(frame: Any) -> None:
    ft = ClaimFeaturizer().fit(frame)
    X, fired = ft.transform_with_rules(frame)
    results = fired.results()
    for i in range(0, frame.n_claims, 37):
        for rule_id, cols in ft.rule_columns.items():
            hits = [r for r in results[i] if r["id"] == rule_id]
            assert X[i, cols[0]] == (1.0 if hits else 0.0)
            if len(cols) > 1:
                assert X[i, cols[1]] == sum(1 for r in hits if r["line_number"] is not None)


def test_single_claim_rows_equal_batch_rows(frame: Any, labels: np.ndarray) -> None:
    ft = ClaimFeaturizer().fit(frame, labels)
    X = ft.transform(frame)
    for i in (0, 1, 99, 598):
        np.testing.assert_array_equal(ft.transform(frame.take([i]))[0], X[i])


def test_context_features(kit: Any) -> None:
    claim = kit.make_claim()
    claim["lines"][0]["modifiers"] = ["JZ"]
    claim["lines"][0]["procedure_code"] = "J9035"
    claim["lines"][0]["units"] = 10
    claim["lines"][0]["drug"] = {"ndc": "50242-0060-01", "quantity": 1, "unit": "UN"}
    frame = kit.frame_of(claim)
    ft = ClaimFeaturizer(min_category_count=1).fit(frame)
    row = dict(zip(ft.get_feature_names_out().tolist(), ft.transform(frame)[0].tolist(), strict=True))
    assert row["payer_type=commercial"] == 1 and row["payer_id=EXHP1"] == 1 and row["place_of_service=11"] == 1
    assert row["n_lines"] == 2 and row["n_drug_lines"] == 1 and row["code_family=J"] == 1 and row["code_family=admin"] == 1
    assert row["total_charge"] == 1250 and row["max_line_charge"] == 1000
    assert row["modifier_jz_lines"] == 1 and row["attachments_invoice"] == 1 and row["prior_authorization"] == 1
    assert row["days_to_submission_max"] == 5 and row["dx_chapter=13"] == 1 and row["n_diagnoses"] == 2
    # J9035: $1000 for 10 units at the CMS limit per unit, capped and finite
    assert 0 < row["charge_to_limit_max"] < 1000 and row["n_lines_with_limit"] == 1


def test_unseen_categories_fall_into_other(kit: Any) -> None:
    train = kit.frame_of(*[kit.make_claim(claim_id=f"C{i}") for i in range(6)])
    ft = ClaimFeaturizer().fit(train)
    names = ft.get_feature_names_out().tolist()
    row = ft.transform(kit.frame_of(kit.make_claim(payer={"id": "NEWPAYER", "type": "other"}, place_of_service="99")))[0]
    assert row[names.index("payer_id=__other__")] == 1 and row[names.index("place_of_service=__other__")] == 1
    assert len(names) == ft.transform(train).shape[1]


def test_tiny_units_do_not_overflow(kit: Any) -> None:
    claim = kit.make_claim()
    claim["lines"][0].update({"procedure_code": "J9035", "units": 1e-300, "charge": 1e9})
    frame = kit.frame_of(claim)
    X = ClaimFeaturizer().fit(frame).transform(frame)
    assert np.isfinite(X).all()


def test_provider_encoding_excludes_own_label(kit: Any) -> None:
    claims = [kit.make_claim(claim_id=f"P{i}", billing_provider_npi="1111111111" if i < 40 else "2222222222")
              for i in range(41)]
    frame = kit.frame_of(*claims)
    y = np.zeros(41)
    y[40] = 1.0  # the only claim of provider 2222222222 was denied
    ft = ClaimFeaturizer(provider_smoothing=1.0)
    X_fit = ft.fit_transform(frame, y)
    col = ft.get_feature_names_out().tolist().index("provider_target")
    prior = y.mean()
    assert X_fit[40, col] == pytest.approx(prior, rel=1e-5)  # out-of-fold: its own denial is not visible
    X = ft.transform(frame)
    assert X[40, col] == pytest.approx((1.0 + prior) / 2.0, rel=1e-5)  # at serving time the history is used


# ----------------------------------------------------------------------------------- leakage
def test_remittance_fields_are_known() -> None:
    assert {"paid", "adjustments", "remarks", "outcome", "claim_status", "units_paid"} <= REMITTANCE_ONLY_FIELDS
    assert REMITTANCE_ONLY_FIELDS <= set(RemitRow.model_fields)


def test_no_feature_reads_or_depends_on_remittance(frame: Any, labels: np.ndarray) -> None:
    ft = ClaimFeaturizer().fit(frame, labels)
    check_no_remittance_leakage(ft, frame)
    read = columns_read(ft, frame)
    assert read["lines"] and not (set().union(*read.values()) & REMITTANCE_ONLY_FIELDS)


def _joined(frame: Any, paid_share: float, seed: int) -> Any:
    """``frame`` with remittance columns joined onto its lines the way a careless training join would."""
    rng = np.random.default_rng(seed)
    n = frame.n_lines
    lines = {**frame.lines,
             "paid": frame.lines["charge"] * paid_share,
             "outcome": np.where(rng.random(n) < paid_share, "paid", "denied").astype(object),
             "adjustments": np.full(n, "CO-16", dtype=object)}
    return dataclasses.replace(frame, lines=lines)


def test_changing_remittance_data_changes_no_feature(frame: Any, labels: np.ndarray) -> None:
    """Joined remittance data that changes leaves every feature as it was, while the same comparison
    does see a featurizer that uses it (so an unchanged matrix means something)."""
    ft = ClaimFeaturizer().fit(frame, labels)
    np.testing.assert_array_equal(ft.transform(_joined(frame, 0.0, 9)), ft.transform(_joined(frame, 1.0, 9)))
    np.testing.assert_array_equal(ft.transform(_joined(frame, 0.5, 9)), ft.transform(frame))
    leaky = _PaidAwareFeaturizer().fit(frame)
    assert not np.array_equal(leaky.transform(_joined(frame, 0.0, 9)), leaky.transform(_joined(frame, 1.0, 9)))


def test_features_read_the_claim_columns_they_are_built_from(frame: Any, labels: np.ndarray) -> None:
    """The recording frame sees the reads that feed the context columns, and nothing outside a claim."""
    read = columns_read(ClaimFeaturizer().fit(frame, labels), frame)
    for table, columns in read.items():
        assert columns <= CLAIM_SCHEMAS[table], table
    assert {"charge", "units", "total_charge", "billing_provider_npi", "payer_id", "drug_unit", "drug_quantity",
            "submission_date", "place_of_service"} <= read["lines"]
    assert {"claim_index", "code"} <= read["diagnoses"] and "transmission" in read["attachments"]


class _PaidAwareFeaturizer(ClaimFeaturizer):
    """A deliberately leaky featurizer: it puts the paid amount into the charge column."""

    def _build(self, frame: Any, fired: Any, reference: Any) -> np.ndarray:
        X = super()._build(frame, fired, reference)
        paid = np.bincount(frame.lines["claim_index"], weights=frame.lines["paid"], minlength=frame.n_claims)
        X[:, self._index["total_charge"]] = paid
        return X


def test_leakage_check_catches_a_remittance_derived_feature(frame: Any) -> None:
    leaky = _PaidAwareFeaturizer().fit(frame)
    with pytest.raises(LeakageError, match="paid"):
        check_no_remittance_leakage(leaky, frame)


class _HiddenColumnFeaturizer(ClaimFeaturizer):
    """Leaks through a column with an innocent name that no claim has, when a join left it there."""

    def _build(self, frame: Any, fired: Any, reference: Any) -> np.ndarray:
        X = super()._build(frame, fired, reference)
        allowed = frame.lines.get("allowed_amount")
        if allowed is not None:
            X[:, 0] = np.bincount(frame.lines["claim_index"], weights=allowed, minlength=frame.n_claims)
        return X


def test_leakage_check_catches_a_column_no_claim_has(frame: Any) -> None:
    """The name is in no list of remittance fields: it is caught as a column outside the claim schema."""
    assert "allowed_amount" not in REMITTANCE_ONLY_FIELDS
    joined = dataclasses.replace(frame, lines={**frame.lines, "allowed_amount": frame.lines["charge"] * 0.8})
    check_no_remittance_leakage(ClaimFeaturizer().fit(frame), joined)  # the honest featurizer ignores it
    with pytest.raises(LeakageError, match=r"allowed_amount.*that a claim does not have"):
        check_no_remittance_leakage(_HiddenColumnFeaturizer().fit(frame), joined)
