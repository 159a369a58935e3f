"""One small synthetic history and one model trained on it per session, made by the real code."""

from __future__ import annotations

from pathlib import Path

import pytest

from inputs.sources import load_claims, load_remits
from synthetic.commands import synth
from training.dataset import TrainingData, build_training_data
from training.pipeline import TrainResult, fit_and_evaluate

HISTORY_CLAIMS = 10_000  # ~1,900 holdout claims: enough for the model-vs-rule-count margin to be more than noise
HISTORY_SEED = 5


def synthetic_history(tmp_path_factory: pytest.TempPathFactory, n_claims: int) -> Path:
    """A synthetic history of ``n_claims`` (seed HISTORY_SEED) in a new temporary folder."""
    out = tmp_path_factory.mktemp("training") / "history"
    assert synth(n_claims=n_claims, seed=HISTORY_SEED, out=out, x12=False) == 0
    return out


def labelled(history: Path) -> TrainingData:
    """A history's claims joined to their remittances, as training reads them."""
    claims = load_claims(history / "claims.jsonl")
    remits = load_remits(history / "remits.jsonl")
    assert not claims.errors and not remits.errors
    return build_training_data(claims.frame, remits.rows)


@pytest.fixture(scope="session")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_history(tmp_path_factory, HISTORY_CLAIMS)


@pytest.fixture(scope="session")
def training_data(history: Path) -> TrainingData:
    return labelled(history)


@pytest.fixture(scope="session")
def trained(training_data: TrainingData) -> TrainResult:
    return fit_and_evaluate(training_data, holdout_fraction=0.2, target_precision=0.8)
