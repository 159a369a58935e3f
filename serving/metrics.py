"""Prometheus metrics: request counts and latency per route, and the distribution of served risks.

A private registry per app (not the process-global default) so that tests and several apps in one
process do not collide. Route labels are route templates, never raw paths, to bound cardinality.

With several uvicorn workers each worker is its own process, and a scrape of ``/metrics`` reaches
only one of them; ``claimrisk serve`` then sets ``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's
multi-process mode: every worker writes its values to memory-mapped files in that folder) and
``render`` adds up all workers' files, so any worker answers for the whole server.
"""

from __future__ import annotations

import bisect
import os
from typing import Any

import numpy as np
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from serving.drift import LiveDrift, gauge_values

LATENCY_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
RISK_BUCKETS = tuple(round(0.05 * i, 2) for i in range(1, 20)) + (1.0,)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64)
MULTIPROCESS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"

__all__ = ["CONTENT_TYPE_LATEST", "ServingMetrics", "multiprocess_dir"]


def multiprocess_dir() -> str | None:
    """The shared folder of multi-process mode, or None when this process is the whole server."""
    return os.environ.get(MULTIPROCESS_DIR_ENV) or None


_FEW = 8  # up to this many values, ``observe_many`` files them one by one


class ArrayHistogram:
    """A Prometheus histogram fed whole arrays: a 1,000-claim batch costs one ``np.searchsorted``
    and one increment per touched bucket, instead of 1,000 ``observe`` calls.

    It writes into a regular ``Histogram``'s bucket and sum values (non-cumulative, bucket ``i``
    holding values ``<= bound i`` and above the previous bound, exactly as ``observe`` files them),
    so exposition and multi-process aggregation are prometheus_client's own.
    """

    def __init__(self, name: str, documentation: str, buckets: tuple[float, ...], registry: CollectorRegistry) -> None:
        self.histogram = Histogram(name, documentation, buckets=buckets, registry=registry)
        self.bounds = np.asarray(buckets, dtype=np.float64)
        self._bound_list = self.bounds.tolist()
        self._slots = self.histogram._buckets  # one value per bound, then +Inf
        self._sum = self.histogram._sum

    def observe_many(self, values: np.ndarray) -> None:
        if values.shape[0] <= _FEW:  # a request's claim or few: the same filing, without NumPy's overhead
            listed = values.tolist()
            bounds = self._bound_list
            for value in listed:
                # as np.searchsorted(side="left"), which sorts NaN after every bound (the last slot)
                self._slots[bisect.bisect_left(bounds, value) if value == value else len(bounds)].inc(1)
            self._sum.inc(listed[0] if len(listed) == 1 else float(values.sum()))
            return
        add = np.bincount(np.searchsorted(self.bounds, values, side="left"), minlength=len(self._slots))
        for slot in np.flatnonzero(add).tolist():
            self._slots[slot].inc(int(add[slot]))
        self._sum.inc(float(values.sum()))


class ServingMetrics:
    def __init__(self) -> None:
        self.multiprocess = multiprocess_dir() is not None
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "claimrisk_http_requests",
            "HTTP requests by route, method and status",
            ("route", "method", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "claimrisk_http_request_duration_seconds",
            "HTTP request latency by route",
            ("route",),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.risk = ArrayHistogram(
            "claimrisk_risk", "Served denial risks (one observation per scored claim)", RISK_BUCKETS, self.registry
        )
        self.claims_scored = Counter(
            "claimrisk_claims_scored", "Claims scored by decision", ("decision",), registry=self.registry
        )
        self.score_batch = Histogram(
            "claimrisk_score_batch_claims",
            "Claims per model call of POST /v1/score (concurrent requests are scored together)",
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self._review = self.claims_scored.labels("review")
        self._pass = self.claims_scored.labels("pass")
        # livemax: a version is "loaded" while any live worker serves it (a dead worker's files drop out).
        self.model_info = Gauge(
            "claimrisk_model_loaded", "1 for the model version being served", ("model_version",),
            registry=self.registry, multiprocess_mode="livemax",
        )
        self._served_version: str | None = None
        # Drift of this worker's recent traffic (serving.drift): PSI per feature group against the
        # model's training window. livemax: with several workers, the most drifted window shows.
        self.drift = LiveDrift()
        self.drift_psi = Gauge(
            "claimrisk_drift_psi",
            "Population stability index of recent scored claims against the training window, by feature group "
            "(> 0.2: drifted)",
            ("group",), registry=self.registry, multiprocess_mode="livemax",
        )
        self.drift_claims = Gauge(
            "claimrisk_drift_window_claims", "Recent scored claims the drift gauges are computed on",
            registry=self.registry, multiprocess_mode="livemax",
        )
        # Labelled children cached: ``labels()`` takes a lock and builds a key on every call.
        self._request_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        children = self._request_children.get(key)
        if children is None:
            children = (self.requests.labels(route, method, str(status)), self.latency.labels(route))
            self._request_children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def observe_score_batch(self, scorer: Any, arrays: Any) -> None:
        """One model call of ``/v1/score`` (its ``ScoreArrays``): its size, the risks it served, and
        its claims' bins in the drift window."""
        self.score_batch.observe(arrays.risk.shape[0])
        self.observe_risks(arrays.risk, arrays.review)
        self.observe_drift(scorer, arrays)

    def observe_drift(self, scorer: Any, arrays: Any) -> None:
        """File scored claims in the drift window; every ``REFRESH_CLAIMS`` claims, refresh the gauges."""
        if self.drift.observe(scorer, arrays):
            self.refresh_drift()

    def refresh_drift(self, report: dict[str, Any] | None = None) -> None:
        """Set the drift gauges from ``report`` (default: this worker's window now)."""
        report = self.drift.report() if report is None else report
        if not report.get("available"):
            return
        for group, value in gauge_values(report).items():
            self.drift_psi.labels(group).set(value)
        self.drift_claims.set(report["recent"]["claims"])

    def observe_risks(self, risks: np.ndarray, review: np.ndarray) -> None:
        if risks.shape[0] == 0:
            return
        self.risk.observe_many(risks)
        n_review = int(np.count_nonzero(review)) if review.shape[0] > _FEW else sum(review.tolist())
        n_pass = int(review.shape[0]) - n_review
        if n_review:
            self._review.inc(n_review)
        if n_pass:
            self._pass.inc(n_pass)

    def set_model(self, version: str | None) -> None:
        if version == self._served_version:
            return
        if self._served_version is not None:
            if self.multiprocess:  # a removed label stays in the shared files: zero it instead
                self.model_info.labels(self._served_version).set(0)
            else:
                self.model_info.remove(self._served_version)
        if version is not None:
            self.model_info.labels(version).set(1)
        self._served_version = version

    def render(self) -> bytes:
        self.refresh_drift()
        if self.multiprocess:
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)

    def worker_exited(self) -> None:
        """Drop this worker's live gauges from the shared files (its counters keep counting)."""
        if self.multiprocess:
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(os.getpid())
