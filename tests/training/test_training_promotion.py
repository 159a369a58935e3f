"""Promotion: a worse model is not promoted (and says why), a better one is, the first one is."""

from __future__ import annotations

from training.promotion import decide_promotion

CHAMPION = {"pr_auc": 0.70, "brier": 0.110}


def test_first_model_is_promoted() -> None:
    decision = decide_promotion({"pr_auc": 0.5, "brier": 0.2}, None)
    assert decision.promote and "first" in decision.reason


def test_better_or_equal_model_is_promoted() -> None:
    assert decide_promotion({"pr_auc": 0.72, "brier": 0.105}, CHAMPION, champion_version="3").promote
    assert decide_promotion(dict(CHAMPION), CHAMPION, champion_version="3").promote


def test_worse_model_is_not_promoted_and_names_the_metric() -> None:
    worse_pr = decide_promotion({"pr_auc": 0.65, "brier": 0.100}, CHAMPION, champion_version="3")
    assert not worse_pr.promote
    assert "PR-AUC" in worse_pr.reason and "Brier" not in worse_pr.reason.split(":")[0]
    assert "v3" in worse_pr.reason
    worse_both = decide_promotion({"pr_auc": 0.60, "brier": 0.150}, CHAMPION, champion_version="3")
    assert not worse_both.promote and "PR-AUC and Brier" in worse_both.reason
    worse_brier = decide_promotion({"pr_auc": 0.75, "brier": 0.111}, CHAMPION, champion_version="3")
    assert not worse_brier.promote and "worse Brier" in worse_brier.reason
