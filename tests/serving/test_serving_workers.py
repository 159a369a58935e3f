"""``claimrisk serve --workers N``: settings, the reload notice, metrics that add up across
workers, and a real two-worker server (both workers serve, one reload call reaches both)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from pydantic import ValidationError

from claimrisk.cli import build_parser
from serving.config import Settings, usable_cores
from serving.metrics import RISK_BUCKETS, ArrayHistogram
from serving.supervisor import reuse_port_sockets
from serving.workers import ReloadNotice

ADMIN_KEY = "workers-admin-key-0123"


def test_workers_default_to_the_usable_cores_and_are_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLAIMRISK_WORKERS", raising=False)
    assert Settings().workers == usable_cores() == len(os.sched_getaffinity(0))
    monkeypatch.setenv("CLAIMRISK_WORKERS", "3")
    assert Settings().workers == 3
    monkeypatch.setenv("CLAIMRISK_WORKERS", "0")
    with pytest.raises(ValidationError):
        Settings()


def test_serve_takes_a_workers_argument() -> None:
    assert build_parser().parse_args(["serve", "--workers", "4"]).workers == 4
    assert build_parser().parse_args(["serve"]).workers is None  # then CLAIMRISK_WORKERS decides


def test_reload_notice_reaches_the_other_workers_once(tmp_path: Path) -> None:
    path = tmp_path / "reload-notice"
    first, second = ReloadNotice(path), ReloadNotice(path)
    assert not first.received() and not second.received()
    first.publish()
    assert second.received()
    assert not second.received()  # once per notice
    assert not first.received()  # a worker does not reload for its own notice
    second.publish()
    assert first.received()


def test_array_histogram_files_values_like_prometheus_observe() -> None:
    risks = np.array([0.0, 0.05, 0.050001, 0.37, 0.95, 1.0, 0.999, 0.5, 0.5, 0.12])
    ours, reference = CollectorRegistry(), CollectorRegistry()
    ArrayHistogram("claimrisk_risk", "risks", RISK_BUCKETS, ours).observe_many(risks)
    expected = Histogram("claimrisk_risk", "risks", buckets=RISK_BUCKETS, registry=reference)
    for value in risks.tolist():
        expected.observe(value)

    def samples(registry: CollectorRegistry) -> list[str]:
        return [line for line in generate_latest(registry).decode().splitlines() if "_created" not in line]

    assert samples(ours) == samples(reference)
    assert 'claimrisk_risk_bucket{le="0.05"} 2.0' in samples(ours)


def test_reuse_port_sockets_share_one_port() -> None:
    sockets = reuse_port_sockets("127.0.0.1", 0, 3)
    try:
        ports = {sock.getsockname()[1] for sock in sockets}
        assert len(ports) == 1 and ports != {0}
    finally:
        for sock in sockets:
            sock.close()


def test_metrics_add_up_across_worker_processes(tmp_path: Path) -> None:
    """Two processes in multi-process mode: either one's /metrics answer counts both."""
    script = textwrap.dedent(
        """
        import sys
        import numpy as np
        from serving.metrics import ServingMetrics
        metrics = ServingMetrics()
        assert metrics.multiprocess
        metrics.observe_request("/v1/score", "POST", 200, 0.003)
        metrics.observe_risks(np.array([0.1, 0.9]), np.array([False, True]))
        metrics.set_model(sys.argv[1])
        sys.stdout.write(metrics.render().decode())
        """
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for version in ("v1", "v1"):
        out = subprocess.run([sys.executable, "-c", script, version], env=env, capture_output=True, text=True, check=True)
    text = out.stdout
    assert 'claimrisk_http_requests_total{method="POST",route="/v1/score",status="200"} 2.0' in text
    assert "claimrisk_risk_count 4.0" in text
    assert 'claimrisk_claims_scored_total{decision="review"} 2.0' in text


# -- a real server with two workers -----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_two_workers_share_the_load_and_one_reload_call_reaches_both(
    models_dir: Path, tmp_path: Path, claim: dict[str, Any]
) -> None:
    import shutil
    import signal
    import time

    import joblib

    from training.export import export_model

    models = tmp_path / "models"
    shutil.copytree(models_dir, models)
    port = _free_port()
    log_path = tmp_path / "server.log"
    env = {**os.environ, "CLAIMRISK_MODELS_DIR": str(models), "OMP_NUM_THREADS": "1",
           # no export watch: only the reload call (and its notice) can bring the new model in
           "CLAIMRISK_RELOAD_POLL_SECONDS": "0", "CLAIMRISK_ADMIN_KEYS": ADMIN_KEY}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "claimrisk", "serve", "--port", str(port), "--workers", "2"],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        # Each request on a new connection: the kernel spreads connections over both sockets.
        first = [httpx.post(f"{url}/v1/score", json=claim, timeout=30) for _ in range(30)]
        assert {r.status_code for r in first} == {200}
        old = first[0].json()["model_version"]
        metrics = httpx.get(f"{url}/metrics").text
        assert "claimrisk_risk_count 30.0" in metrics  # whichever worker answered, it counts both

        model = joblib.load(models / "claimrisk.joblib")
        model.metadata["model_version"] = "workers-reloaded-2"
        export_model(model, models)
        reload = httpx.post(f"{url}/v1/admin/reload", headers={"X-API-Key": ADMIN_KEY}, timeout=60).json()
        assert reload["model_version"] == "workers-reloaded-2" and reload["previous_model_version"] == old
        deadline = time.monotonic() + 30
        versions: set[str] = set()
        while time.monotonic() < deadline:
            versions = {httpx.get(f"{url}/v1/model", timeout=10).json()["model_version"] for _ in range(16)}
            if versions == {"workers-reloaded-2"}:
                break
            time.sleep(0.3)
        assert versions == {"workers-reloaded-2"}
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=60)
    assert code == 0
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    scored_by = {line["pid"] for line in lines if line.get("route") == "/v1/score"}
    assert len(scored_by) == 2 and process.pid not in scored_by  # both workers served
    loaded = [line for line in lines if line.get("event") == "model_loaded"]
    assert len(loaded) == 4 and len({line["pid"] for line in loaded}) == 2  # each loaded twice
    assert "Traceback" not in log_path.read_text()
