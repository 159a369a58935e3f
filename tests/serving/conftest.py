"""Fixtures for the serving tests: example claims, apps with and without a model, a trained model.

The trained model is real: a small synthetic history goes through ``claimrisk train --promote``
once per session (into a temporary models folder), and every scoring test uses that export.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from claims.examples import EXAMPLE_CLAIM
from serving.app import create_app
from serving.config import Settings

API_KEY = "test-key-0123456789"


@pytest.fixture
def claim() -> dict[str, Any]:
    return copy.deepcopy(EXAMPLE_CLAIM)


@pytest.fixture
def empty_models_dir(tmp_path: Path) -> Path:
    path = tmp_path / "models"
    path.mkdir()
    return path


def new_client(**settings: Any) -> TestClient:
    settings.setdefault("reload_poll_seconds", 0)
    return TestClient(create_app(Settings(**settings)), raise_server_exceptions=False)


@pytest.fixture
def make_client() -> Callable[..., TestClient]:
    """An app with the given settings, wrapped in a TestClient (use it in a ``with`` block)."""
    return new_client


@pytest.fixture
def no_model_client(empty_models_dir: Path) -> Iterator[TestClient]:
    with new_client(models_dir=empty_models_dir) as client:
        yield client


@pytest.fixture
def keyed_client(empty_models_dir: Path) -> Iterator[TestClient]:
    with new_client(models_dir=empty_models_dir, api_keys=[API_KEY]) as client:
        yield client


@pytest.fixture(scope="session")
def history_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic claims-and-remits history (the payer simulator, fixed seed)."""
    from synthetic.commands import synth

    out = tmp_path_factory.mktemp("history")
    assert synth(n_claims=int(os.environ.get("SERVING_TEST_CLAIMS", "4000")), seed=11, out=out, x12=False) == 0
    return out


def train_into(history: Path, models_dir: Path) -> Path:
    from training.commands import train

    code = train(
        claims_path=history / "claims.jsonl",
        remits_path=history / "remits.jsonl",
        promote=True,
        truth_path=None,
        holdout_fraction=0.2,
        target_precision=0.8,
        models_dir=models_dir,
    )
    assert code in (0, 1), code
    assert (models_dir / "claimrisk.json").is_file()
    return models_dir


@pytest.fixture(scope="session")
def models_dir(history_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A freshly trained and exported model (the real training package, a small history)."""
    mlruns = tmp_path_factory.mktemp("mlruns")
    previous = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{mlruns / 'mlflow.db'}"
    try:
        return train_into(history_dir, tmp_path_factory.mktemp("models"))
    finally:
        if previous is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = previous


@pytest.fixture(scope="module")
def model_client(models_dir: Path) -> Iterator[TestClient]:
    with new_client(models_dir=models_dir) as client:
        yield client
