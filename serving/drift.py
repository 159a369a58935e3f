"""Drift of what the served model sees: the API's recent traffic, and ``claimrisk drift`` on a file.

Both compare against the training window's distributions that ``claimrisk train`` stored in the
model (``training.drift``; the metadata key ``drift_reference``). A model trained before drift
monitoring has none: the API then answers ``{"available": false, ...}`` and the command says so.

The live window is per worker process: a ring buffer of the bin codes (a few dozen small integers
per claim: which decile its charge fell in, which payer column, which rules fired) of the last
``WINDOW_CLAIMS`` claims it scored, never their content. Filing a scored batch is one
``DriftBins.codes`` call and one slice assignment; the PSI is computed from the buffer only when
asked (``/v1/model``, a ``/metrics`` scrape) and every ``REFRESH_CLAIMS`` claims for the gauges,
so that in multi-process mode every worker's gauges stay fresh even when another one is scraped.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np

from training.drift import DriftBins, DriftCounts, DriftReference, report_from_counts

logger = logging.getLogger("claimrisk.drift")

REFERENCE_KEY = "drift_reference"  # where training stores the reference in the model's metadata
WINDOW_CLAIMS = 10_000  # the recent traffic a worker compares: enough for per-payer rates
REFRESH_CLAIMS = 2_000  # scored claims between two recomputations of the gauges
CHUNK_CLAIMS = 100_000  # claims featurized at a time by ``claimrisk drift``: bounded memory
NO_REFERENCE = "the model carries no drift reference (trained before drift monitoring): retrain to compare"


def model_bins(model: Any, metadata: dict[str, Any]) -> tuple[DriftReference, DriftBins] | None:
    """The model's drift reference and its bins over the model's own feature columns, or None when
    it has none (an older model) or the reference does not fit the featurizer."""
    reference = metadata.get(REFERENCE_KEY) or getattr(model, "metadata", {}).get(REFERENCE_KEY)
    featurizer = getattr(model, "featurizer", None)
    if not reference or featurizer is None:
        return None
    try:
        return reference, DriftBins.of(reference, [str(n) for n in featurizer.get_feature_names_out()])
    except (KeyError, ValueError, TypeError):
        return None


class LiveDrift:
    """The last ``capacity`` scored claims of this worker, as bin codes, for the current model.

    Used from the worker's event loop only (scoring and the routes that report run there), so it
    needs no lock. A model swap starts a new window: the bins are the new model's."""

    def __init__(self, capacity: int = WINDOW_CLAIMS, refresh_every: int = REFRESH_CLAIMS) -> None:
        self.capacity = capacity
        self.refresh_every = refresh_every
        self._model: Any = None
        self._bound: tuple[DriftReference, DriftBins] | None = None
        self._codes = np.zeros((0, 0), dtype=np.uint16)
        self._next = 0
        self._filled = 0
        self._since_refresh = 0

    def _bind(self, scorer: Any) -> None:
        if scorer.model is self._model:
            return
        self._model = scorer.model
        self._bound = model_bins(scorer.model, scorer.metadata) if scorer.model is not None else None
        width = self._bound[1].width if self._bound is not None else 0
        self._codes = np.zeros((self.capacity, width), dtype=np.uint16)
        self._next = self._filled = self._since_refresh = 0

    def observe(self, scorer: Any, arrays: Any) -> bool:
        """File a scored frame's rows (``ScoreArrays`` with its ``features``); True when the gauges
        are due for a refresh."""
        self._bind(scorer)
        features = getattr(arrays, "features", None)
        if self._bound is None or features is None or features.shape[0] == 0:
            return False
        try:
            codes = self._bound[1].codes(features[-self.capacity :], arrays.risk[-self.capacity :])
        except (IndexError, ValueError) as exc:  # monitoring must never fail a scoring request
            logger.warning("drift window off", extra={"event": "drift_window_off", "detail": type(exc).__name__})
            self._bound = None
            return False
        n = codes.shape[0]
        positions = (self._next + np.arange(n)) % self.capacity
        self._codes[positions] = codes
        self._next = int((self._next + n) % self.capacity)
        self._filled = min(self.capacity, self._filled + n)
        self._since_refresh += n
        if self._since_refresh >= self.refresh_every:
            self._since_refresh = 0
            return True
        return False

    def report(self, scorer: Any | None = None) -> dict[str, Any]:
        """The PSI report of the window against the model's training window (``scorer``: the model
        being served now; a different one than the window's starts an empty window)."""
        if scorer is not None:
            self._bind(scorer)
        if self._bound is None:
            return {"available": False, "reason": NO_REFERENCE}
        reference, bins = self._bound
        counts: DriftCounts = bins.count(self._codes[: self._filled])
        report = report_from_counts(reference, bins, counts)
        report["recent"] = {"claims": self._filled, "window": self.capacity, "scope": "this worker's latest scored claims"}
        return {"available": True, **report}


def gauge_values(report: dict[str, Any]) -> dict[str, float]:
    """The PSI per feature group that the Prometheus gauges carry (a bounded label set)."""
    if not report.get("available"):
        return {}
    values = {"score": float(report["score"]["psi"])}
    values.update({f"context:{g}": float(e["psi"]) for g, e in report["context"].items()})
    values["rules"] = float(report["groups"]["rules"])
    if report["groups"]["rules_by_payer"] is not None:
        values["rules_by_payer"] = float(report["groups"]["rules_by_payer"])
    return values


def drift(*, claims_path: Path, output_path: Path) -> int:
    """``claimrisk drift``: the PSI report (JSON) of the claims at ``claims_path`` against the
    champion's training window. Exit 0 when it is written, drift or not (drift is a finding, not a
    failure); 1 when some records could not be read; 2 (InputError) when there is nothing to compare."""
    from claims.errors import InputError
    from inputs.sources import load_claims

    model, metadata = _load_champion()
    bound = model_bins(model, metadata)
    if bound is None:
        raise InputError(f"model {metadata.get('model_version', 'unversioned')}: {NO_REFERENCE}")
    reference, bins = bound
    read = load_claims(claims_path)
    for error in read.errors:
        sys.stderr.write(f"{error}\n")
    report = report_from_counts(reference, bins, _count(model, bins, read.frame))
    report = {"model_version": metadata.get("model_version"), **report}
    output_path.parent.mkdir(parents=True, exist_ok=True)
    output_path.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    flagged = ", ".join(report["flagged"][:8]) + (" ..." if len(report["flagged"]) > 8 else "")
    sys.stderr.write(
        f"claimrisk drift: {report['recent']['claims']} claims against the training window of model "
        f"{report['model_version']}: {'drift in ' + flagged if report['drifted'] else 'no drift flagged'} "
        f"-> {output_path}; {len(read.errors)} records rejected\n"
    )
    return 1 if read.errors else 0


def _count(model: Any, bins: DriftBins, frame: Any) -> DriftCounts:
    """Bin counts of every claim of ``frame``, featurized and scored in chunks (bounded memory)."""
    from training.frames import slice_claims

    total = bins.count(np.zeros((0, bins.width), dtype=np.uint16))
    for start in range(0, frame.n_claims, CHUNK_CLAIMS):
        X, _ = model.featurize(slice_claims(frame, start, start + CHUNK_CLAIMS))
        total = total + bins.count(bins.codes(X, model.predict_from_features(X)))
    return total


def _load_champion() -> tuple[Any, dict[str, Any]]:
    """The served model, loaded and verified as the API loads it (export or registry, signature)."""
    from claims.errors import InputError
    from serving.config import Settings
    from serving.errors import ModelUnavailable, ServingError
    from serving.model_store import load_export, load_registry

    settings = Settings()
    key = settings.signing_key()
    try:
        if settings.model_source == "registry":
            return load_registry(settings.registry_model_name, settings.registry_alias, key=key)
        return load_export(settings.models_dir, key=key)
    except ServingError as exc:
        raise InputError(exc.detail if isinstance(exc, ModelUnavailable) else exc.message) from None
