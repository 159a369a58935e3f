"""A small model trained with denial-reason heads, for the store and web tests of CONTRACT §7.

The fixture model of ``tests/data/models`` was saved before the reason heads existed (it must keep
loading as it is), so it stores null reasons. These tests need a model that has heads: the real
training pipeline (``training.pipeline.fit_and_evaluate`` with the reason labels read from the
835-style remittances, as ``claimrisk train`` does) on a small synthetic history from the payer
simulator, without MLflow, which is most of a small ``claimrisk train``'s time and has nothing to
do with the store.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HISTORY_CLAIMS = 2500  # ~600 denied claims: every common family has examples
HISTORY_SEED = 23
MODEL_VERSION = "with-reasons"


@dataclass(frozen=True)
class ReasonsModel:
    model: Any  # training.risk_model.RiskModel with reason heads
    claims: Path  # the history's claims (JSONL), to import
    models_dir: Path  # the model exported as ``claimrisk train --promote`` exports it


def train_reasons_model(folder: Path) -> ReasonsModel:
    import joblib

    from inputs.sources import load_claims, load_remits
    from synthetic.commands import synth
    from training.dataset import build_training_data
    from training.pipeline import fit_and_evaluate
    from training.reasons import claim_reasons, reasons_for_training

    history = folder / "history"
    assert synth(n_claims=HISTORY_CLAIMS, seed=HISTORY_SEED, out=history, x12=False) == 0
    claims = load_claims(history / "claims.jsonl")
    remits = load_remits(history / "remits.jsonl")
    assert not claims.errors and not remits.errors
    data = build_training_data(claims.frame, remits.rows)
    reasons = reasons_for_training(claim_reasons(remits.rows), data)
    result = fit_and_evaluate(data, holdout_fraction=0.2, target_precision=0.8, backtest_folds=0, reasons=reasons)
    model = result.model
    assert model.reason_heads is not None, "the pipeline fitted no reason heads"
    models_dir = folder / "models"
    models_dir.mkdir()
    joblib.dump(model, models_dir / "claimrisk.joblib")
    digest = hashlib.sha256((models_dir / "claimrisk.joblib").read_bytes()).hexdigest()
    (models_dir / "claimrisk.json").write_text(json.dumps({"model_version": MODEL_VERSION, "sha256": digest}))
    return ReasonsModel(model, history / "claims.jsonl", models_dir)


@functools.cache
def shared_reasons_model() -> ReasonsModel:
    """One trained model per test process, whichever area asks first (the worklist and the web
    tests both need it; training twice would double the cost), removed when the process ends."""
    folder = Path(tempfile.mkdtemp(prefix="claimrisk-reasons-model-"))
    atexit.register(shutil.rmtree, folder, True)
    return train_reasons_model(folder)


def fill_reasons_store(url: str, trained: ReasonsModel, claims: int) -> None:
    """Users of every role (``benchmarks.web_setup.PASSWORDS``) and the history's first ``claims``
    claims imported by the model with reason heads (the web and browser tests' store)."""
    from benchmarks.web_setup import PASSWORDS, ROLES
    from serving.scorer import Scorer, load_rule_context
    from worklist.db import open_store
    from worklist.importing import import_path
    from worklist.users import add_user

    part = Path(tempfile.mkdtemp(prefix="claimrisk-reasons-claims-")) / "claims.jsonl"
    part.write_text("".join(trained.claims.read_text().splitlines(keepends=True)[:claims]))
    scorer = Scorer(trained.model, metadata={"model_version": MODEL_VERSION}, context=load_rule_context())
    store = open_store(url)
    try:
        with store.session() as db:
            users = {name: add_user(db, None, name, ROLES[name], pw) for name, pw in PASSWORDS.items()}
            import_path(db, part, scorer, users["ada"])
    finally:
        store.dispose()
        shutil.rmtree(part.parent, ignore_errors=True)
