"""A model with recency columns: "what if this problem were fixed" clears every column of its rule.

A rule's recency column (``rule:<ID>:payer_recent_denial_rate``, ``features.recency``) is the
payer's recent denial rate on claims that have the problem, and reads 0 on a claim without it. A
fix that cleared the flag and line count but left that column would score a claim that no longer
has the problem as if the payer's record on it still applied. The scorer reads the featurizer's
``rule_columns``, so the fix variants and the all-fixed rows clear it with the rest of the rule.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from features.recency import RULE_SUFFIX
from inputs.sources import load_claims, load_remits
from serving.scorer import Scorer, load_rule_context
from training.dataset import build_training_data
from training.pipeline import fit_and_evaluate
from training.reasons import claim_reasons, reasons_for_training


@pytest.fixture(scope="module")
def recency_scorer(history_dir: Path) -> Scorer:
    """A model trained with the recency columns on the serving tests' history (no registry)."""
    remits = load_remits(history_dir / "remits.jsonl").rows
    data = build_training_data(load_claims(history_dir / "claims.jsonl").frame, remits)
    result = fit_and_evaluate(
        data, holdout_fraction=0.2, target_precision=0.8, recency=True, backtest_folds=1,
        reasons=reasons_for_training(claim_reasons(remits), data),
    )
    return Scorer(result.model, context=load_rule_context())


@pytest.fixture(scope="module")
def sample(history_dir: Path) -> Any:
    read = load_claims(history_dir / "claims.jsonl")
    return read.frame.take(np.arange(read.frame.n_claims - 800, read.frame.n_claims))


def _recency_columns(scorer: Scorer) -> dict[str, int]:
    names = [str(n) for n in scorer.model.featurizer.get_feature_names_out()]
    return {name.split(":")[1]: k for k, name in enumerate(names) if name.endswith(f":{RULE_SUFFIX}")}


def test_a_fix_clears_the_rules_recency_column(recency_scorer: Scorer, sample: Any) -> None:
    scorer = recency_scorer
    recency = _recency_columns(scorer)
    columns = scorer.model.featurizer.rule_columns
    assert recency and all(recency[rule] in columns[rule] for rule in recency)
    arrays = scorer.score_arrays(sample, None, with_fixes=True)
    X, _ = scorer.model.featurize(sample)
    pairs = [(int(c), str(r)) for c, r in zip(arrays.fix_claim, arrays.fix_rule, strict=True)]
    alone = [k for k, pair in enumerate(pairs) if pairs.count(pair) == 1]
    with_rate = [k for k in alone if X[arrays.fix_claim[k], recency[arrays.fix_rule[k]]] > 0]
    assert len(with_rate) > 50, "the sample has problems whose payer has a recent record on them"
    moved = 0
    for k in with_rate:
        row = X[arrays.fix_claim[k]].copy()
        row[columns[arrays.fix_rule[k]]] = 0
        cleared = scorer.model.predict_from_features(row[None, :])[0]
        assert arrays.fix_risk[k] == pytest.approx(cleared, abs=1e-12)
        row[recency[arrays.fix_rule[k]]] = X[arrays.fix_claim[k], recency[arrays.fix_rule[k]]]
        moved += not np.isclose(scorer.model.predict_from_features(row[None, :])[0], cleared, rtol=0, atol=1e-9)
    # the model does use the column, so leaving it set would have given other answers
    assert moved > 0


def test_all_fixed_clears_every_rules_recency_column(recency_scorer: Scorer, sample: Any) -> None:
    scorer = recency_scorer
    arrays = scorer.score_arrays(sample, None, with_fixes=True, with_all_fixed=True)
    X, _ = scorer.model.featurize(sample)
    columns = scorer.model.featurizer.rule_columns
    several = np.flatnonzero(np.bincount(arrays.fix_claim, minlength=sample.n_claims) > 1)
    assert several.size >= 20
    for i in several[:40]:
        row = X[i].copy()
        for rule in arrays.fix_rule[arrays.fix_claim == i]:
            row[columns[rule]] = 0
        assert arrays.all_fixed_risk[i] == pytest.approx(scorer.model.predict_from_features(row[None, :])[0], abs=1e-12)
