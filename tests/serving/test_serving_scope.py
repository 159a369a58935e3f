"""Scopes and what the API tells: admin keys apart from scoring keys, a readiness probe that names
only a reason code, serving that does not import the CLI, ``claimrisk serve`` exit codes, and the
README's ``claim.json``."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from claims.model import Claim

ROOT = Path(__file__).resolve().parents[2]
SCORING_KEY = "scoring-key-0123456789"
ADMIN_KEY = "admin-key-0123456789"


def test_admin_routes_are_off_without_admin_keys(empty_models_dir: Path, make_client: Callable[..., TestClient]) -> None:
    with make_client(models_dir=empty_models_dir, api_keys=[SCORING_KEY]) as client:
        for headers in ({}, {"X-API-Key": SCORING_KEY}):
            assert client.post("/v1/admin/reload", headers=headers).status_code == 404
    with make_client(models_dir=empty_models_dir) as client:  # no key of any kind: still not open
        assert client.post("/v1/admin/reload").status_code == 404


@pytest.mark.parametrize("scoring_keys", [[], [SCORING_KEY]])
def test_admin_routes_need_an_admin_key_whatever_the_scoring_keys(
    scoring_keys: list[str], models_dir: Path, make_client: Callable[..., TestClient]
) -> None:
    with make_client(models_dir=models_dir, api_keys=scoring_keys, admin_keys=[ADMIN_KEY]) as client:
        assert client.post("/v1/admin/reload").status_code == 401
        assert client.post("/v1/admin/reload", headers={"X-API-Key": "not-a-key-at-all"}).status_code == 401
        if scoring_keys:  # a scoring key never reloads a model
            assert client.post("/v1/admin/reload", headers={"X-API-Key": SCORING_KEY}).status_code == 403
        reload = client.post("/v1/admin/reload", headers={"X-API-Key": ADMIN_KEY})
        assert reload.status_code == 200 and reload.json()["changed"] is False
        headers = {"X-API-Key": SCORING_KEY} if scoring_keys else {}
        assert client.get("/v1/model", headers=headers).status_code == 200


def test_admin_dependency_refuses_a_scoring_key_behind_the_guard(
    models_dir: Path, make_client: Callable[..., TestClient]
) -> None:
    """The route checks the admin key itself too, not only the guard in front of it."""
    from serving.routes.admin import require_admin_key

    with make_client(models_dir=models_dir, admin_keys=[ADMIN_KEY]) as client:
        client.app.middleware_stack = None  # rebuilt below without the guard
        client.app.user_middleware = [m for m in client.app.user_middleware if m.cls.__name__ != "RequestGuard"]
        assert client.post("/v1/admin/reload", headers={"X-API-Key": SCORING_KEY}).status_code == 403
        assert client.post("/v1/admin/reload", headers={"X-API-Key": ADMIN_KEY}).status_code == 200
    assert require_admin_key.__doc__


def _write_tampered_export(source: Path, target: Path) -> None:
    target.mkdir()
    (target / "claimrisk.joblib").write_bytes((source / "claimrisk.joblib").read_bytes())
    metadata = json.loads((source / "claimrisk.json").read_text())
    metadata["sha256"] = "0" * 64
    (target / "claimrisk.json").write_text(json.dumps(metadata))


def test_readyz_names_a_reason_code_never_a_path(
    models_dir: Path, tmp_path: Path, claim: dict[str, Any], make_client: Callable[..., TestClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    tampered = tmp_path / "tampered-models"
    _write_tampered_export(models_dir, tampered)
    with make_client(models_dir=tampered) as client:
        ready = client.get("/readyz")
        score = client.post("/v1/score", json=claim)
    assert ready.status_code == 503 and ready.json() == {"status": "not_ready", "reason": "model_invalid"}
    assert score.status_code == 503 and score.json()["reason"] == "model_invalid"
    for answer in (ready, score):
        assert str(tampered) not in answer.text and "sha256" not in answer.text
    failed = [r for r in caplog.records if getattr(r, "event", None) == "model_load_failed"]
    assert failed and str(tampered) in failed[-1].detail  # the operator finds the path in the log


def test_a_failed_reload_keeps_the_model_and_says_model_invalid(
    models_dir: Path, tmp_path: Path, make_client: Callable[..., TestClient]
) -> None:
    import shutil

    models = tmp_path / "models"
    shutil.copytree(models_dir, models)
    with make_client(models_dir=models, admin_keys=[ADMIN_KEY]) as client:
        before = client.get("/v1/model").json()["model_version"]
        metadata = json.loads((models / "claimrisk.json").read_text())
        (models / "claimrisk.json").write_text(json.dumps(metadata | {"sha256": "f" * 64}))
        reload = client.post("/v1/admin/reload", headers={"X-API-Key": ADMIN_KEY})
        assert reload.status_code == 503 and reload.json()["reason"] == "model_invalid"
        assert str(models) not in reload.text
        assert client.get("/readyz").json()["status"] == "ready"
        assert client.get("/v1/model").json()["model_version"] == before


def test_serving_does_not_import_the_cli_package() -> None:
    code = "import sys, serving.app, serving.commands; sys.exit('claimrisk' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


def test_the_readme_claim_is_a_valid_claim() -> None:
    """README: ``curl ... --data @claim.json`` from a fresh clone sends the contract's example claim."""
    assert "--data @claim.json" in (ROOT / "README.md").read_text()
    claim = Claim.model_validate_json((ROOT / "claim.json").read_bytes())
    assert claim.claim_id == "PCN20260115B" and claim.attachments == []


def _serve(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "CLAIMRISK_RELOAD_POLL_SECONDS": "0", **env}
    return subprocess.run([sys.executable, "-m", "claimrisk", "serve", *args], env=environment,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_on_a_busy_port_exits_2_with_one_line(workers: str, empty_models_dir: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        done = _serve("--port", port, "--workers", workers, CLAIMRISK_MODELS_DIR=str(empty_models_dir))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and f"cannot listen on 127.0.0.1:{port}" in done.stderr


def test_serve_with_a_bad_setting_or_models_dir_exits_2_with_one_line(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "models"
    not_a_folder.write_text("")
    done = _serve("--port", "0", CLAIMRISK_MODELS_DIR=str(not_a_folder))
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "is not a folder" in done.stderr
    done = _serve("--port", "0", CLAIMRISK_MAX_BATCH="0", CLAIMRISK_ADMIN_KEYS="short")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "CLAIMRISK_MAX_BATCH" in done.stderr and "CLAIMRISK_ADMIN_KEYS" in done.stderr
    assert "short" not in done.stderr.replace("CLAIMRISK", "")  # a key's value is never printed


def test_with_a_signing_key_an_unsigned_model_is_model_invalid(
    models_dir: Path, claim: dict[str, Any], make_client: Callable[..., TestClient]
) -> None:
    """CLAIMRISK_MODEL_SIGNING_KEY reaches the loaders: the session's model was exported without a
    key, so with one configured it is refused (training.signing.SignatureError -> model_invalid)."""
    with make_client(models_dir=models_dir, model_signing_key="deployment-signing-key-01") as client:
        ready = client.get("/readyz")
        score = client.post("/v1/score", json=claim)
    assert ready.status_code == 503 and ready.json() == {"status": "not_ready", "reason": "model_invalid"}
    assert score.status_code == 503 and score.json()["reason"] == "model_invalid"
