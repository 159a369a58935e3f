"""A payer changes its policy late in the training history: the shipped model follows it.

The generator's policy-change payer starts denying NOC lines without prior authorisation on a date
in the last quarter of the history the model is trained on. A model fitted only on the history
before the change has never seen the new rule; the shipped model, refitted on every labelled claim
with the recency columns, has. Scored on the claims after its history, its mean risk for that
payer's claims flagged PRIOR_AUTH_MISSING after the change must move towards the generator's truth.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.bench_train import TRAIN_SHARE, head, policy_follow, policy_rows
from inputs.sources import load_claims, load_remits
from synthetic.commands import synth
from synthetic.world import PolicyChange
from training.commands import read_truth
from training.dataset import build_training_data
from training.frames import slice_claims
from training.pipeline import fit_and_evaluate

pytestmark = pytest.mark.slow  # two trainings on 40,000 claims: a few minutes on 2 busy cores

CHANGE = "2025-08-15"  # the earliest 80 % of a history ends about 2025-11-01: this is its last quarter
CLAIMS = 40_000


@pytest.fixture(scope="module")
def late_change(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("policy") / "history"
    assert synth(n_claims=CLAIMS, seed=9, out=out, x12=False, policy_change=PolicyChange(date=CHANGE)) == 0
    return out


def test_the_shipped_model_follows_a_policy_change_late_in_its_history(late_change: Path) -> None:
    claims, remits = load_claims(late_change / "claims.jsonl"), load_remits(late_change / "remits.jsonl")
    data = build_training_data(claims.frame, remits.rows)
    truth = read_truth(late_change / "truth.jsonl", data.claim_ids)
    cut = int(round(len(data) * TRAIN_SHARE))
    shipped = fit_and_evaluate(head(data, cut), holdout_fraction=0.2, target_precision=0.8, recency=True).model
    window_end = np.datetime64(shipped.metadata["training_window"]["to"])
    assert window_end - np.timedelta64(92, "D") < np.datetime64(CHANGE) < window_end  # its last quarter
    # the same procedure on the history as it stood at the change: it cannot know the new rule
    before = int(np.searchsorted(data.submission_date, np.datetime64(CHANGE)))
    unaware = fit_and_evaluate(head(data, before), holdout_fraction=0.2, target_precision=0.8, recency=True).model

    later = slice(cut, len(data))
    future = slice_claims(data.frame, cut, len(data))
    follow, old = (
        policy_follow(model, future, data.payer_id[later], truth[later], CHANGE) for model in (shipped, unaware)
    )
    print(f"policy change: shipped {follow}, model of the history before the change {old}")
    assert follow["claims"] >= 10 and follow["mean_truth"] > 0.9
    # What the shipped model knows of the payer's new behaviour: the recent denial rate of its
    # PRIOR_AUTH_MISSING claims, frozen in the model at training (features.recency).
    column = "rule:PRIOR_AUTH_MISSING:payer_recent_denial_rate"
    known = {}
    for name, model in (("shipped", shipped), ("unaware", unaware)):
        rows, X = policy_rows(model, future, data.payer_id[later], CHANGE)
        known[name] = float(np.nanmean(X[rows, list(model.featurizer.get_feature_names_out()).index(column)]))
    print(f"recent PA denial rate at the payer: {known}")
    assert known["shipped"] >= known["unaware"] + 0.15, known  # measured 0.30 vs 0.00 (deterministic)
    assert follow["mean_risk"] > old["mean_risk"], (follow, old)
    # How far the risk moves is the benchmark's target (120k claims: within 0.05 of the truth), met
    # there (0.968 vs 0.989, with the reason rates); at this size the payer has too few answers to
    # claims with that one problem since the change (measured 0.66 vs 0.56 here): docs/retraining.md.
