"""MLflow wiring: where runs go, what is logged, and the registered model.

Embedded by default (CONTRACT §1): a SQLite store at ``<cwd>/mlruns/mlflow.db`` with artifacts in
``<cwd>/mlruns/artifacts``, so nothing has to be started by hand. ``MLFLOW_TRACKING_URI`` points it
anywhere else (an MLflow server, PostgreSQL) unchanged. For a SQLite store the experiment's
artifact location is set explicitly beside the database, or MLflow would drop artifacts into
whatever folder the command happens to run from.
"""

from __future__ import annotations

import os
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import mlflow
from mlflow.tracking import MlflowClient

CHAMPION_ALIAS = "champion"
DEFAULT_EXPERIMENT = "claimrisk"
# What the pyfunc needs at load time, pinned to the installed versions (constraints.txt pins them):
# explicit requirements also spare MLflow its 7-second requirement inference.
RUNTIME_PACKAGES = (
    "mlflow",
    "scikit-learn",
    "lightgbm",
    "numpy",
    "pandas",
    "pyarrow",
    "scipy",
    "joblib",
    "pydantic",
    "orjson",
    "pyyaml",
    "simple_icd_10_cm",
)


def tracking_uri() -> str:
    configured = os.environ.get("MLFLOW_TRACKING_URI")
    if configured:
        return configured
    root = Path.cwd() / "mlruns"
    root.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{root / 'mlflow.db'}"


def model_name() -> str:
    return os.environ.get("CLAIMRISK_MODEL_NAME") or "claimrisk"


def experiment_name() -> str:
    return os.environ.get("CLAIMRISK_EXPERIMENT") or DEFAULT_EXPERIMENT


def _sqlite_artifact_root(uri: str) -> Path | None:
    """``<db folder>/artifacts`` for a SQLite store; None for servers that own their artifacts."""
    if not uri.startswith("sqlite:///"):
        return None
    db_path = Path(uri.removeprefix("sqlite:///").split("?", 1)[0])  # "/abs/x.db" or "rel/x.db"
    db_path = db_path if db_path.is_absolute() else Path.cwd() / db_path
    return db_path.parent / "artifacts"


def configure() -> tuple[MlflowClient, str]:
    """Point MLflow at the store and make sure the experiment exists; (client, experiment id)."""
    from training.progress import interactive

    if not interactive():  # MLflow's own download bars would fill non-terminal logs
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    uri = tracking_uri()
    root = _sqlite_artifact_root(uri)
    if root is not None:
        Path(root).parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    name = experiment_name()
    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        location = (root / name).as_uri() if root is not None else None
        experiment_id = client.create_experiment(name, artifact_location=location)
    else:
        experiment_id = experiment.experiment_id
    return client, experiment_id


def pip_requirements() -> list[str]:
    pins = []
    for package in RUNTIME_PACKAGES:
        try:
            pins.append(f"{package}=={importlib_metadata.version(package)}")
        except importlib_metadata.PackageNotFoundError:
            continue
    return pins


def next_version(client: MlflowClient, name: str) -> int:
    """The version number the registry will give the next model (single-writer assumption; the
    number actually assigned is checked after registering)."""
    try:
        versions = client.search_model_versions(f"name='{name}'")
    except mlflow.exceptions.MlflowException:
        return 1
    return 1 + max((int(v.version) for v in versions), default=0)


def champion_version(client: MlflowClient, name: str) -> Any | None:
    try:
        return client.get_model_version_by_alias(name, CHAMPION_ALIAS)
    except mlflow.exceptions.MlflowException:
        return None


def flat_metrics(prefix: str, values: dict[str, Any]) -> dict[str, float]:
    """MLflow metric names from a metrics dict, dropping NaN and non-numbers."""
    out: dict[str, float] = {}
    for key, value in values.items():
        if isinstance(value, int | float) and value == value:  # noqa: PLR0124 - NaN check
            out[f"{prefix}{key}"] = float(value)
    return out
