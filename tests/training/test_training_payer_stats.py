"""The payer report's statistics, checked by hand on tables small enough to compute on paper."""

from __future__ import annotations

import math

import numpy as np
import pytest

from features.payer_policy import PolicySet
from training.payer_stats import (
    MIN_FLAGGED,
    RULE_POLICY_KEYS,
    FlagPairs,
    PayerRuleTable,
    enforced_by_policy,
    katz_interval,
    monthly_trend,
    payer_rule_table,
    suggest,
    table_json,
)


def test_katz_interval_matches_the_formula_on_a_two_by_two_table() -> None:
    # 30 of 100 flagged claims denied, 20 of 200 unflagged: ratio 0.3 / 0.1 = 3
    ratio, low, high = katz_interval(np.array([30]), np.array([100]), np.array([20]), np.array([200]))
    se = math.sqrt(1 / 30 - 1 / 100 + 1 / 20 - 1 / 200)
    assert ratio[0] == pytest.approx(3.0)
    assert low[0] == pytest.approx(math.exp(math.log(3.0) - 1.959964 * se), rel=1e-6)
    assert high[0] == pytest.approx(math.exp(math.log(3.0) + 1.959964 * se), rel=1e-6)
    assert low[0] == pytest.approx(1.7973, abs=1e-3) and high[0] == pytest.approx(5.0073, abs=1e-3)


def test_katz_interval_adds_half_to_every_cell_of_a_table_with_a_zero() -> None:
    # no flagged claim denied: cells (0, 10, 5, 45) become (0.5, 10.5, 5.5, 45.5)
    ratio, low, high = katz_interval(np.array([0]), np.array([10]), np.array([5]), np.array([50]))
    expected = (0.5 / 11.0) / (5.5 / 51.0)
    se = math.sqrt(1 / 0.5 - 1 / 11.0 + 1 / 5.5 - 1 / 51.0)
    assert ratio[0] == pytest.approx(expected)
    assert low[0] == pytest.approx(expected * math.exp(-1.959964 * se), rel=1e-6)
    assert high[0] == pytest.approx(expected * math.exp(1.959964 * se), rel=1e-6)
    # no unflagged claim at all: no ratio
    assert np.isnan(katz_interval(np.array([3]), np.array([5]), np.array([0]), np.array([0]))[0][0])


def _small_table() -> PayerRuleTable:
    # payers A (claims 0-3) and B (claims 4-5); rules R0, R1
    payer = np.array(["A", "A", "A", "A", "B", "B"], dtype=object)
    flags = np.array([[1, 0], [1, 1], [0, 0], [0, 1], [1, 0], [0, 0]])
    y = np.array([1, 0, 1, 1, 1, 0], dtype=np.int8)
    dollars = np.array([100.0, 0.0, 50.0, 70.0, 30.0, 0.0])
    pairs = FlagPairs.of(flags)  # (0,R0) (1,R0) (1,R1) (3,R1) (4,R0)
    cited = np.array([True, False, False, False, False])
    effect = np.array([0.2, 0.4, 0.1, np.nan, 0.9])
    return payer_rule_table(payer, pairs, ("R0", "R1"), y, dollars, cited, effect)


def test_payer_rule_table_counts_rates_dollars_carc_and_effects() -> None:
    table = _small_table()
    assert table.payers.tolist() == ["A", "B"]
    assert table.claims.tolist() == [4, 2] and table.denied.tolist() == [3, 1]
    assert table.flagged.tolist() == [[2, 2], [1, 0]]
    assert table.denied_flagged.tolist() == [[1, 1], [1, 0]]
    assert table.denied_dollars.tolist() == [[100.0, 70.0], [30.0, 0.0]]
    assert table.carc_match[0, 0] == 1.0 and table.carc_match[0, 1] == 0.0 and np.isnan(table.carc_match[1, 1])
    assert table.effect[0, 0] == pytest.approx(0.3) and table.effect[0, 1] == pytest.approx(0.1)
    assert table.effect_elsewhere()[0, 0] == pytest.approx(0.9) and table.effect_elsewhere()[1, 0] == pytest.approx(0.3)
    shape = table_json(table)
    a_r0 = shape["A"]["rules"]["R0"]
    assert a_r0["denial_rate_flagged"] == 0.5 and a_r0["denial_rate_unflagged"] == 1.0
    assert set(shape["B"]["rules"]) == {"R0"}  # a rule that never fired at a payer is left out
    assert shape["A"]["denial_rate"] == 0.75


def _table_for_suggestions(effect_a: float, n: int = MIN_FLAGGED) -> PayerRuleTable:
    """Payers A and B each with ``n`` claims flagged by PRIOR_AUTH_MISSING and by NDC_MISSING."""
    rules = ("PRIOR_AUTH_MISSING", "NDC_MISSING")
    payer = np.repeat(np.array(["A", "B"], dtype=object), n)
    flags = np.ones((2 * n, 2), dtype=bool)
    pairs = FlagPairs.of(flags)
    effect = np.where(payer[pairs.claim] == "A", effect_a, 0.3)
    y = np.tile(np.array([0, 1], dtype=np.int8), n)
    return payer_rule_table(payer, pairs, rules, y, np.zeros(2 * n), np.zeros(pairs.claim.size, bool), effect)


def test_relax_needs_enforcement_enough_claims_and_a_third_of_the_effect_elsewhere() -> None:
    enforced = np.ones((2, 2), dtype=bool)
    found = suggest(_table_for_suggestions(0.05), enforced, RULE_POLICY_KEYS)
    assert [(s.payer_id, s.rule, s.change) for s in found] == [("A", "PRIOR_AUTH_MISSING", "relax")]
    assert "prior_auth_required: false" in found[0].yaml_patch
    assert found[0].evidence["effect_other_payers"] == pytest.approx(0.3)
    assert suggest(_table_for_suggestions(0.11), enforced, RULE_POLICY_KEYS) == []  # 0.11 > 0.3 / 3
    assert suggest(_table_for_suggestions(0.05, n=MIN_FLAGGED - 1), enforced, RULE_POLICY_KEYS) == []


def test_enforce_where_the_policy_is_off_and_the_effect_is_at_least_the_others() -> None:
    enforced = np.array([[False, True], [True, True]])
    found = suggest(_table_for_suggestions(0.35), enforced, RULE_POLICY_KEYS)
    assert [(s.payer_id, s.rule, s.change) for s in found] == [("A", "PRIOR_AUTH_MISSING", "enforce")]
    assert "prior_auth_required: true" in found[0].yaml_patch
    assert suggest(_table_for_suggestions(0.25), enforced, RULE_POLICY_KEYS) == []


def test_the_shipped_policies_say_which_payer_types_enforce_which_rules() -> None:
    rules = ("PRIOR_AUTH_MISSING", "WASTE_MODIFIER_MISSING", "DOCUMENTATION_MISSING", "NDC_MISSING")
    enforced = enforced_by_policy(
        PolicySet.load(), np.array(["X1", "X2", "X3"], dtype=object),
        np.array(["commercial", "medicare", "medicaid"], dtype=object), rules,
    )
    assert enforced.tolist() == [[True, False, False, True], [False, True, False, True], [True, False, True, True]]


def test_monthly_trend_is_the_denial_rate_per_payer_and_month() -> None:
    dates = np.array(["2025-01-03", "2025-01-20", "2025-02-01", "2025-01-05"], dtype="datetime64[D]")
    trend = monthly_trend(np.array(["A", "A", "A", "B"], dtype=object), dates, np.array([1, 0, 1, 0]))
    assert trend.to_dict("records") == [
        {"payer_id": "A", "month": "2025-01", "claims": 2, "denied": 1, "denial_rate": 0.5},
        {"payer_id": "A", "month": "2025-02", "claims": 1, "denied": 1, "denial_rate": 1.0},
        {"payer_id": "B", "month": "2025-01", "claims": 1, "denied": 0, "denial_rate": 0.0},
    ]
