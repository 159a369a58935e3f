"""The saved model: what ``claimrisk train`` writes and ``claimrisk serve`` loads.

Pickled with joblib, so this module path and the class name are part of every saved artifact:
never rename them. The pipeline is (ClaimFeaturizer, CalibratedBooster); the operating threshold
and the metadata an analyst needs to trust it (holdout metrics, data summary, rules and
reference-data versions) travel with it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline

from claims.columnar import ClaimFrame


class RiskModel:
    """Calibrated denial risk for contract claims."""

    # The denial-reason heads (``training.reasons.ReasonHeads``), or None. A class-level default, so
    # a model pickled before the heads existed loads with none and simply answers no reasons.
    reason_heads: Any = None

    def __init__(self, pipeline: Pipeline, threshold: float, metadata: dict[str, Any]) -> None:
        self.pipeline = pipeline
        self.threshold = float(threshold)
        self.metadata = metadata

    @property
    def featurizer(self) -> Any:
        """The pipeline's first step (a fitted ``features.transformer.ClaimFeaturizer``)."""
        return self.pipeline.steps[0][1]

    @property
    def classifier(self) -> Any:
        """The pipeline's last step (a ``training.calibration.CalibratedBooster``)."""
        return self.pipeline.steps[-1][1]

    @property
    def model_version(self) -> str:
        return str(self.metadata.get("model_version", "unregistered"))

    def featurize(self, frame: ClaimFrame) -> tuple[np.ndarray, Any]:
        """(X float32, fired rules): the features and the rule hits that explain them."""
        X, fired = self.featurizer.transform_with_rules(frame)
        return np.asarray(X, dtype=np.float32), fired

    def predict_from_features(self, X: np.ndarray) -> np.ndarray:
        """Calibrated P(deny) per row, fast enough to call per request (risk_if_fixed re-scores)."""
        return self.classifier.predict_fast(np.asarray(X, dtype=np.float32))

    def predict_risk(self, frame: ClaimFrame) -> np.ndarray:
        X = np.asarray(self.featurizer.transform(frame), dtype=np.float32)
        return self.predict_from_features(X)

    def reason_probabilities(self, X: np.ndarray, risk: np.ndarray) -> np.ndarray | None:
        """(rows, families) P(denied for each reason family) = risk x P(family | denied), each at
        most the risk (``training.reasons``); None when the model has no reason heads."""
        heads = self.reason_heads
        if heads is None:
            return None
        return heads.probabilities(np.asarray(X, dtype=np.float32), risk)

    def decide(self, risk: np.ndarray, threshold: float | None = None) -> np.ndarray:
        """ "review" at or above the operating point (or the override), else "pass"."""
        cut = self.threshold if threshold is None else float(threshold)
        return np.where(np.asarray(risk) >= cut, "review", "pass").astype(object)

    def __repr__(self) -> str:
        return f"RiskModel(version={self.model_version!r}, threshold={self.threshold:.4f})"
