"""Metrics against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from training.metrics import (
    dollars_caught,
    evaluate,
    expected_calibration_error,
    per_payer,
    recall_at_precision,
    threshold_at_precision,
)
from training.operating_point import choose_threshold, realized


def test_ece_by_hand() -> None:
    # bins (10 equal-width): 0.05,0.05 -> bin 0 (mean p 0.05, rate 0.5); 0.95 -> bin 9 (0.95 vs 1); 0.45 -> bin 4 (0.45 vs 0)
    y = np.array([0, 1, 1, 0])
    p = np.array([0.05, 0.05, 0.95, 0.45])
    expected = (2 * abs(0.5 - 0.05) + 1 * abs(1 - 0.95) + 1 * abs(0 - 0.45)) / 4
    assert expected_calibration_error(y, p) == pytest.approx(expected)
    assert (
        expected_calibration_error(np.array([1, 0]), np.array([1.0, 0.0])) == 0.0
    )  # p = 1 lands in the last bin


def test_recall_at_precision_by_hand() -> None:
    # ranked: 0.9(1) 0.8(1) 0.7(0) 0.6(1) 0.5(0) 0.4(1)
    y = np.array([1, 1, 0, 1, 0, 1])
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    # precision 1.0 up to 0.8 (recall 2/4); 3/4 at 0.6 (recall 3/4); 4/6 at 0.4 (recall 1)
    assert recall_at_precision(y, p, 0.95) == pytest.approx(0.5)
    assert recall_at_precision(y, p, 0.75) == pytest.approx(0.75)
    assert recall_at_precision(y, p, 0.6) == pytest.approx(1.0)
    assert threshold_at_precision(y, p, 0.75) == pytest.approx((0.6, 0.75, 0.75))
    assert recall_at_precision(np.array([0, 1]), np.array([0.9, 0.1]), 0.9) == 0.0


def test_dollars_caught_by_hand() -> None:
    loss = np.array([10.0, 50.0, 30.0, 20.0, 40.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    denied = np.array([0.0, 100.0, 0.0, 300.0, 0.0, 0.0, 0.0, 0.0, 0.0, 600.0])
    assert dollars_caught(loss, denied, 0.10) == pytest.approx(100 / 1000)  # top 1: the 50
    assert dollars_caught(loss, denied, 0.20) == pytest.approx(100 / 1000)  # top 2: 50, 40
    assert dollars_caught(loss, denied, 0.40) == pytest.approx(400 / 1000)  # 50, 40, 30, 20
    assert math.isnan(dollars_caught(loss, np.zeros(10), 0.1))


def test_evaluate_and_per_payer() -> None:
    rng = np.random.default_rng(0)
    p = rng.random(4000)
    y = (rng.random(4000) < p).astype(int)
    charge = np.full(4000, 100.0)
    denied = y * 100.0
    payer = np.where(np.arange(4000) % 2 == 0, "A", "B").astype(object)
    out = evaluate(y, p, charge, denied)
    assert out["ece"] < 0.03  # p is the truth
    assert 0.80 < out["roc_auc"] < 0.86  # uniform p drawn as the truth: AUC = 5/6
    assert out["brier"] == pytest.approx(np.mean((p - y) ** 2))
    assert out["dollars_top10"] > 0.1  # better than random order
    payers = per_payer(y, p, charge, denied, payer)
    assert set(payers) == {"A", "B"} and payers["A"]["n"] == 2000


def test_operating_point_reaches_target_or_says_why() -> None:
    y = np.array([1, 1, 0, 1, 0, 1])
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    op = choose_threshold(y, p, 0.75)
    assert op["threshold"] == pytest.approx(0.6) and op["validation_recall"] == pytest.approx(0.75)
    unreachable = choose_threshold(np.array([0, 1, 0, 1]), np.array([0.9, 0.8, 0.2, 0.1]), 0.99)
    assert "not reachable" in unreachable["rule"]
    held = realized(y, p, 0.6)
    assert held == pytest.approx({"precision": 0.75, "recall": 0.75, "review_share": 4 / 6})
