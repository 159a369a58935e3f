"""End to end: the real ``claimrisk serve`` (uvicorn) on a free loopback port, called over HTTP."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.slow

API_KEY = "e2e-key-0123456789"
ADMIN_KEY = "e2e-admin-key-0123456789"
PHI = {"ndc": "55555-4444-33", "dx": "Q87.40", "description": "ZORBLAXIMAB 250MG IV"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    models_dir: Path

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_server(models_dir: Path, log_path: Path, workers: int = 1, **env: str) -> LiveServer:
    port = free_port()
    environment = {
        **os.environ,
        "CLAIMRISK_MODELS_DIR": str(models_dir),
        "OMP_NUM_THREADS": "1",
        "CLAIMRISK_LOG_LEVEL": "DEBUG",
        **env,
    }
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "claimrisk", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers)],
        env=environment, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60 * workers
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {log_path.read_text()}")
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return LiveServer(url, process, log_path, models_dir)
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise AssertionError(f"server not ready: {log_path.read_text()}")


def stop_server(server: LiveServer) -> int:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
    return server.process.wait(timeout=30)


@pytest.fixture
def server_models(models_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "models"
    shutil.copytree(models_dir, copy)
    return copy


def _serve(models: Path, tmp_path: Path, workers: int) -> Iterator[LiveServer]:
    server = start_server(models, tmp_path / "server.log", workers, CLAIMRISK_API_KEYS=API_KEY,
                          CLAIMRISK_ADMIN_KEYS=ADMIN_KEY, CLAIMRISK_RELOAD_POLL_SECONDS="0.3")
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture(params=[1, 2], ids=["1-worker", "2-workers"])
def live(request: pytest.FixtureRequest, server_models: Path, tmp_path: Path) -> Iterator[LiveServer]:
    """The server as one process, and as two worker processes (``--workers 2``)."""
    yield from _serve(server_models, tmp_path, request.param)


@pytest.fixture
def live_one(server_models: Path, tmp_path: Path) -> Iterator[LiveServer]:
    yield from _serve(server_models, tmp_path, 1)


def _headers() -> dict[str, str]:
    return {"X-API-Key": API_KEY}


def _admin() -> dict[str, str]:
    return {"X-API-Key": ADMIN_KEY}


def _versions_seen_by_new_connections(url: str, n: int) -> list[str]:
    """The model version answered on ``n`` new connections (so, with workers, by all of them)."""
    return [httpx.get(f"{url}/v1/model", headers=_headers(), timeout=10).json()["model_version"] for _ in range(n)]


def test_e2e_every_route_over_http_and_no_phi_in_server_logs(live: LiveServer, claim: dict[str, Any]) -> None:
    claim["diagnosis_codes"] = [PHI["dx"]]
    claim["lines"][0]["drug"]["ndc"] = PHI["ndc"]
    claim["lines"][0]["description"] = PHI["description"]
    with httpx.Client(base_url=live.url, headers=_headers(), timeout=10) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/readyz").json()["status"] == "ready"
        model = client.get("/v1/model").json()
        score = client.post("/v1/score", json=claim)
        assert score.status_code == 200
        assert score.json()["model_version"] == model["model_version"]
        assert client.post("/v1/check", json=claim).status_code == 200
        bad = dict(claim, total_charge=str(PHI["dx"]))
        assert client.post("/v1/score", json=bad).status_code == 422
        batch = client.post("/v1/score/batch", json={"claims": [claim, bad]}).json()
        assert len(batch["results"]) == 1 and batch["errors"][0]["index"] == 1
        assert httpx.post(f"{live.url}/v1/score", json=claim).status_code == 401
        assert httpx.post(f"{live.url}/v1/score", content=b"{broken").status_code == 401
        metrics = client.get("/metrics").text
        assert 'route="/v1/score",status="200"' in metrics
        assert "claimrisk_risk_count 2.0" in metrics
    assert stop_server(live) == 0
    logs = live.logs()
    access = [json.loads(line) for line in logs.splitlines() if '"claimrisk.access"' in line]
    scored = [a for a in access if a["route"] == "/v1/score" and a["status"] == 200]
    assert scored and scored[0]["risk"] == pytest.approx(score.json()["risk"], abs=1e-6)
    assert all({"request_id", "latency_ms", "status", "route"} <= set(a) for a in access)
    for value in PHI.values():
        assert value not in logs


def test_reload_under_load_has_no_failed_request(live: LiveServer, claim: dict[str, Any]) -> None:
    import joblib

    from training.export import export_model

    stop = threading.Event()
    seen: list[tuple[int, str | None]] = []
    errors: list[str] = []

    def hammer() -> None:
        with httpx.Client(base_url=live.url, headers=_headers(), timeout=30) as client:
            while not stop.is_set():
                try:
                    response = client.post("/v1/score", json=claim)
                    body = response.json()
                    seen.append((response.status_code, body.get("model_version")))
                except Exception as exc:  # a dropped connection is a failure too
                    errors.append(type(exc).__name__)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.0)
        old_version = seen[-1][1]
        model = joblib.load(live.models_dir / "claimrisk.joblib")
        model.metadata["model_version"] = "e2e-reloaded-2"
        export_model(model, live.models_dir)  # a promotion lands: the watcher picks it up
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (not seen or seen[-1][1] != "e2e-reloaded-2"):
            time.sleep(0.1)
        # every worker: fresh connections land on each of them (the kernel spreads them by address)
        while time.monotonic() < deadline and set(_versions_seen_by_new_connections(live.url, 12)) != {"e2e-reloaded-2"}:
            time.sleep(0.2)
        time.sleep(0.5)
        # the explicit reload endpoint too (needs an admin key: a scoring key is refused)
        assert httpx.post(f"{live.url}/v1/admin/reload").status_code == 401
        assert httpx.post(f"{live.url}/v1/admin/reload", headers=_headers()).status_code == 403
        reload = httpx.post(f"{live.url}/v1/admin/reload", headers=_admin(), timeout=30).json()
        assert reload == {"model_version": "e2e-reloaded-2", "previous_model_version": "e2e-reloaded-2", "changed": False}
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert not errors
    assert len(seen) > 50
    assert {status for status, _ in seen} == {200}
    versions = [v for _, v in seen]
    assert old_version in versions and versions[-1] == "e2e-reloaded-2"


def test_tampered_export_is_refused_and_the_old_model_keeps_serving(live_one: LiveServer, claim: dict[str, Any]) -> None:
    live = live_one
    before = httpx.get(f"{live.url}/v1/model", headers=_headers()).json()["model_version"]
    metadata = json.loads((live.models_dir / "claimrisk.json").read_text())
    metadata["sha256"] = "0" * 64
    metadata["model_version"] = "tampered"
    (live.models_dir / "claimrisk.json").write_text(json.dumps(metadata))
    reload = httpx.post(f"{live.url}/v1/admin/reload", headers=_admin(), timeout=30)
    assert reload.status_code == 503
    assert reload.json()["reason"] == "model_invalid"
    assert str(live.models_dir) not in reload.text  # the path is in the log only
    assert httpx.get(f"{live.url}/readyz").status_code == 200  # the old model still serves
    score = httpx.post(f"{live.url}/v1/score", json=claim, headers=_headers())
    assert score.status_code == 200 and score.json()["model_version"] == before


def test_graceful_shutdown_finishes_requests_in_flight(live: LiveServer, claim: dict[str, Any]) -> None:
    import orjson

    payload = orjson.dumps({"claims": [dict(claim, claim_id=f"C{i}") for i in range(1000)]})
    uploaded = threading.Event()
    result: dict[str, Any] = {}

    def body() -> Iterator[bytes]:
        for start in range(0, len(payload), 65536):
            yield payload[start : start + 65536]
        uploaded.set()  # the whole request is on the wire: it is in flight when SIGTERM lands

    def send() -> None:
        result["response"] = httpx.post(
            f"{live.url}/v1/score/batch", content=body(), timeout=60,
            headers={**_headers(), "content-type": "application/json"},
        )

    sender = threading.Thread(target=send)
    sender.start()
    assert uploaded.wait(timeout=30)
    live.process.send_signal(signal.SIGTERM)
    sender.join()
    assert result["response"].status_code == 200
    assert len(result["response"].json()["results"]) == 1000
    assert live.process.wait(timeout=30) == 0
    assert "Traceback" not in live.logs()


def test_server_without_a_model_is_live_but_not_ready(tmp_path: Path, claim: dict[str, Any]) -> None:
    empty = tmp_path / "none"
    empty.mkdir()
    port = free_port()
    log = (tmp_path / "s.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "claimrisk", "serve", "--port", str(port), "--workers", "1"],
        env={**os.environ, "CLAIMRISK_MODELS_DIR": str(empty)}, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                health = httpx.get(f"{url}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert health.status_code == 200
        assert httpx.get(f"{url}/readyz").status_code == 503
        assert httpx.post(f"{url}/v1/score", json=claim).status_code == 503
        assert httpx.post(f"{url}/v1/check", json=claim).status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0


def test_schemathesis_finds_no_server_error_or_schema_violation(live_one: LiveServer, tmp_path: Path) -> None:
    live = live_one
    st = Path(sys.executable).with_name("st")
    command = [
        str(st), "run", f"{live.url}/openapi.json",
        "--checks", "all",
        # Schema-valid but semantically invalid claims (duplicate line numbers, 51 professional lines)
        # are rightly 422: JSON Schema cannot express those cross-field rules.
        "--exclude-checks", "positive_data_acceptance",
        "-H", f"X-API-Key: {API_KEY}",
        "--max-examples", os.environ.get("SERVING_ST_EXAMPLES", "25"),
        "--max-time", os.environ.get("SERVING_ST_SECONDS", "120"),
        "--request-timeout", "20",
        "--seed", "1",
        "--workers", "1",
        "--exclude-path", "/v1/admin/reload",
        # the queue answers only to a signed-in user, never to this scoring key: its routes are exercised
        # with real users in tests/worklist/test_worklist_api.py and test_worklist_openapi.py
        "--exclude-path-regex", "^/v1/queue",
        "--suppress-health-check", "all",
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=600)
    report = run.stdout[-6000:] + run.stderr[-2000:]
    assert run.returncode == 0, report
    assert " 5" not in "".join(line for line in run.stdout.splitlines() if "Server error" in line)


def test_concurrent_scores_are_batched_and_answer_as_alone(live_one: LiveServer, history_dir: Path) -> None:
    """Requests that wait together share a model call (the batch-size histogram shows it), and each
    gets the answer it gets when sent alone."""
    claims = [json.loads(line) for line in (history_dir / "claims.jsonl").read_bytes().splitlines()[:48]]
    with httpx.Client(base_url=live_one.url, headers=_headers(), timeout=30) as client:
        alone = {c["claim_id"]: client.post("/v1/score", json=c).json() for c in claims}
        before = _batch_histogram(client.get("/metrics").text)
    assert before["count"] == len(claims) and before["sum"] == len(claims)  # one by one: batches of 1

    answers: dict[str, dict[str, Any]] = {}

    def send(chunk: list[dict[str, Any]]) -> None:
        with httpx.Client(base_url=live_one.url, headers=_headers(), timeout=30) as client:
            for c in chunk:
                response = client.post("/v1/score", json=c)
                assert response.status_code == 200
                answers[c["claim_id"]] = response.json()

    threads = [threading.Thread(target=send, args=(claims[k::12],)) for k in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with httpx.Client(base_url=live_one.url, headers=_headers(), timeout=30) as client:
        after = _batch_histogram(client.get("/metrics").text)
    assert after["sum"] - before["sum"] == len(claims)
    assert after["count"] - before["count"] < len(claims), "12 concurrent clients never shared a model call"
    for claim_id, answer in answers.items():
        expected = alone[claim_id]
        assert answer["risk"] == pytest.approx(expected["risk"], abs=1e-9)
        assert [(r["id"], r["line_number"]) for r in answer["rules"]] == [
            (r["id"], r["line_number"]) for r in expected["rules"]
        ]
        assert [r["risk_if_fixed"] for r in answer["rules"]] == pytest.approx(
            [r["risk_if_fixed"] for r in expected["rules"]], abs=1e-9
        )


def _batch_histogram(metrics: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for line in metrics.splitlines():
        for key in ("count", "sum"):
            if line.startswith(f"claimrisk_score_batch_claims_{key} "):
                found[key] = float(line.split()[1])
    return found
