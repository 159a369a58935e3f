"""Prometheus metrics: request counts and latency per route, and the distribution of served risks.

A private registry per app (not the process-global default) so that tests and several apps in one
process do not collide. Route labels are route templates, never raw paths, to bound cardinality.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
RISK_BUCKETS = tuple(round(0.05 * i, 2) for i in range(1, 20)) + (1.0,)

__all__ = ["CONTENT_TYPE_LATEST", "ServingMetrics"]


class RiskHistogram(Collector):
    """A histogram fed whole arrays at once: a 1,000-claim batch costs one ``np.searchsorted``
    instead of 1,000 locked ``observe`` calls."""

    def __init__(self, name: str, documentation: str, buckets: tuple[float, ...]) -> None:
        self.name = name
        self.documentation = documentation
        self.bounds = np.asarray(buckets, dtype=np.float64)
        self.counts = np.zeros(len(buckets) + 1, dtype=np.int64)  # last slot: above the top bound
        self.total = 0.0
        self._lock = threading.Lock()

    def observe_many(self, values: np.ndarray) -> None:
        slots = np.searchsorted(self.bounds, values, side="left")
        add = np.bincount(slots, minlength=self.counts.shape[0])
        with self._lock:
            self.counts += add
            self.total += float(values.sum())

    def collect(self) -> Iterator[HistogramMetricFamily]:
        with self._lock:
            cumulative = np.cumsum(self.counts).tolist()
            total = self.total
        buckets = [(repr(float(b)), c) for b, c in zip(self.bounds.tolist(), cumulative, strict=False)]
        buckets.append(("+Inf", cumulative[-1]))
        yield HistogramMetricFamily(self.name, self.documentation, buckets=buckets, sum_value=total)


class ServingMetrics:
    def __init__(self) -> None:
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
        self.risk = RiskHistogram(
            "claimrisk_risk", "Served denial risks (one observation per scored claim)", RISK_BUCKETS
        )
        self.registry.register(self.risk)
        self.claims_scored = Counter(
            "claimrisk_claims_scored", "Claims scored by decision", ("decision",), registry=self.registry
        )
        self.model_info = Gauge(
            "claimrisk_model_loaded", "1 for the model version being served", ("model_version",),
            registry=self.registry,
        )
        self._served_version: str | None = None

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def observe_risks(self, risks: np.ndarray, review: np.ndarray) -> None:
        if risks.shape[0] == 0:
            return
        self.risk.observe_many(risks)
        n_review = int(np.count_nonzero(review))
        n_pass = int(review.shape[0]) - n_review
        if n_review:
            self.claims_scored.labels("review").inc(n_review)
        if n_pass:
            self.claims_scored.labels("pass").inc(n_pass)

    def set_model(self, version: str | None) -> None:
        if version == self._served_version:
            return
        if self._served_version is not None:
            self.model_info.remove(self._served_version)
        if version is not None:
            self.model_info.labels(version).set(1)
        self._served_version = version

    def render(self) -> bytes:
        return generate_latest(self.registry)
