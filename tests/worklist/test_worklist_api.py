"""The ``/v1/queue`` REST API end to end on SQLite (issue 19's done-when, through HTTP): import a
synthetic file, work claims as two users (one edit conflicts: 409), export the ready claims as an
837 that pyx12 accepts, import the 835 outcomes, read the results; and the 401/403/413/422
discipline: API keys never open stored claims, roles are enforced, values are never echoed."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.worklist.test_worklist_e2e import _pyx12_errors

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "models"
SCORING_KEY = "scoring-key-0123"
ADMIN_KEY = "admin-key-0123456"


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from synthetic.commands import synth

    out = tmp_path_factory.mktemp("api-history")
    assert synth(n_claims=300, seed=21, out=out, x12=True) == 0
    return out


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture model exported as ``claimrisk train --promote`` exports one."""
    folder = tmp_path_factory.mktemp("api-models")
    shutil.copyfile(FIXTURES / "pre-wave2.joblib", folder / "claimrisk.joblib")
    digest = hashlib.sha256((folder / "claimrisk.joblib").read_bytes()).hexdigest()
    (folder / "claimrisk.json").write_text(json.dumps({"model_version": "pre-wave2", "sha256": digest}))
    return folder


@pytest.fixture
def tokens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """An empty store with an admin, a biller and an analyst; a personal token for each."""
    from worklist.db import open_store
    from worklist.users import add_user, issue_token

    url = f"sqlite:///{tmp_path / 'worklist.db'}"
    monkeypatch.setenv("CLAIMRISK_DATABASE_URL", url)
    store = open_store(url)
    out = {}
    with store.session() as db:
        for name, role in (("ada", "admin"), ("bo", "biller"), ("al", "analyst")):
            add_user(db, None, name, role, f"{name} long enough password")
            out[name] = issue_token(db, None, name)
    store.dispose()
    return out


def _client(models_dir: Path, **settings: Any) -> TestClient:
    from serving.app import create_app
    from serving.config import Settings

    return TestClient(create_app(Settings(models_dir=models_dir, reload_poll_seconds=0, **settings)))


@pytest.fixture
def client(tokens: dict[str, str], models_dir: Path) -> Iterator[TestClient]:
    # a tiny scoring body limit and scoring/admin keys: neither may touch the queue routes
    with _client(models_dir, api_keys=[SCORING_KEY], admin_keys=[ADMIN_KEY], max_body_bytes=2048) as c:
        yield c


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _work_two_users(client: TestClient, ada: dict[str, str], bo: dict[str, str]) -> list[str]:
    page = client.get("/v1/queue/claims", params={"limit": 40, "status": "new"}, headers=ada).json()
    ready = []
    for row in [r for r in page["rows"] if r["claim_type"] == "professional"][:4]:
        claim = client.get(f"/v1/queue/claims/{row['claim_id']}", headers=ada).json()
        stale = client.get(f"/v1/queue/claims/{row['claim_id']}", headers=bo).json()["revision"]
        edit = {"revision": claim["revision"], "edits": {"note": "invoice attached"}}
        answer = client.patch(f"/v1/queue/claims/{row['claim_id']}", json=edit, headers=ada)
        assert answer.status_code == 200, answer.text
        revision = answer.json()["revision"]
        assert revision == stale + 1
        lost = client.patch(f"/v1/queue/claims/{row['claim_id']}",
                            json={"revision": stale, "edits": {"note": "other"}}, headers=bo)
        assert lost.status_code == 409 and "other" not in lost.text
        for status in ("in_review", "ready"):
            moved = client.post(f"/v1/queue/claims/{row['claim_id']}/status",
                                json={"revision": revision, "status": status}, headers=bo)
            assert moved.status_code == 200, moved.text
        ready.append(row["claim_id"])
    return ready


def test_import_work_export_outcomes_results_over_http(client: TestClient, tokens: dict[str, str],
                                                       history: Path, tmp_path: Path) -> None:
    ada, bo, al = (auth(tokens[n]) for n in ("ada", "bo", "al"))
    body = (history / "claims.jsonl").read_bytes()
    assert len(body) > 2048  # over the scoring limit, under the upload limit
    imported = client.post("/v1/queue/import", content=body, headers=bo)
    assert imported.status_code == 200, imported.text
    assert imported.json()["new"] == 300 and imported.json()["rejected"] == 0
    again = client.post("/v1/queue/import", content=body, headers=bo).json()
    assert again["unchanged"] == 300 and again["new"] == 0

    page = client.get("/v1/queue/claims", params={"limit": 10, "totals": "true"}, headers=bo).json()
    losses = [r["expected_loss"] for r in page["rows"]]
    assert losses == sorted(losses, reverse=True) and page["totals"]["claims"] == 300
    nxt = client.get("/v1/queue/claims", params={"limit": 10, "cursor": page["next_cursor"]}, headers=bo).json()
    assert not {r["claim_id"] for r in nxt["rows"]} & {r["claim_id"] for r in page["rows"]}

    ready = _work_two_users(client, ada, bo)
    assert ready
    exported = client.get("/v1/queue/export", params={"format": "837"}, headers=bo)
    assert exported.status_code == 200 and exported.headers["cache-control"] == "no-store"
    (tmp_path / "ready.837").write_bytes(exported.content)
    assert _pyx12_errors(tmp_path / "ready.837") == []
    rows = client.get("/v1/queue/export", params={"format": "csv", "status": "ready"}, headers=bo)
    assert rows.text.count("\n") == len(ready) + 1

    remits = (history / "remits.835").read_bytes()
    assert client.post("/v1/queue/outcomes", content=remits, headers=bo).status_code == 403
    outcomes = client.post("/v1/queue/outcomes", content=remits, headers=al)
    assert outcomes.status_code == 200, outcomes.text
    assert outcomes.json()["matched"] > 250 and outcomes.json()["errors"] == []
    assert client.get("/v1/queue/results", headers=bo).status_code == 403
    found = client.get("/v1/queue/results", headers=al).json()
    assert found["worked"]["claims"] + found["not_worked"]["claims"] > 250
    assert 0 < found["not_worked"]["observed_denial_rate"] < 1


def test_keys_never_open_stored_claims(client: TestClient, tokens: dict[str, str]) -> None:
    for headers in ({}, {"X-API-Key": SCORING_KEY}, {"X-API-Key": ADMIN_KEY}, auth("crk_nope_nope"),
                    {"Authorization": f"Bearer {tokens['bo']}x"}):
        answer = client.get("/v1/queue/claims", headers=headers)
        assert answer.status_code == 401, headers
    assert client.get("/v1/queue/claims").headers["www-authenticate"] == "Bearer"
    # refused before the body is read: a malformed body without a credential is a 401, not a 422
    assert client.post("/v1/queue/claims/X/status", content=b"{not json").status_code == 401
    # the scoring key still scores; the token does not replace it there
    assert client.get("/v1/model", headers=auth(tokens["bo"])).status_code == 401
    assert client.get("/v1/model", headers={"X-API-Key": SCORING_KEY}).status_code == 200


def test_roles_404_422_and_no_echo(client: TestClient, tokens: dict[str, str]) -> None:
    bo, ada = auth(tokens["bo"]), auth(tokens["ada"])
    assert client.get("/v1/queue/users", headers=bo).status_code == 403
    assert client.get("/v1/queue/users", headers=ada).status_code == 200
    assert client.get("/v1/queue/claims/NOPE", headers=bo).status_code == 404
    secret = "SSN-123-45-6789"
    bad = client.post("/v1/queue/claims/X/status", json={"revision": 1, "status": secret}, headers=bo)
    assert bad.status_code == 422 and secret not in bad.text
    assert bad.json()["detail"][0]["loc"] == ["body", "status"]
    assert client.get("/v1/queue/claims", params={"limit": 0}, headers=bo).status_code == 422
    added = client.post("/v1/queue/users", json={"name": "cy", "role": "biller"}, headers=ada)
    assert added.status_code == 201
    assert client.post("/v1/queue/users", json={"name": "cy", "role": "biller"}, headers=ada).status_code == 409
    assert client.post("/v1/queue/users/bo/disable", headers=ada).status_code == 200
    assert client.get("/v1/queue/claims", headers=bo).status_code == 401  # a disabled user's token stops


def test_what_if_scores_without_saving(client: TestClient, tokens: dict[str, str]) -> None:
    bo = auth(tokens["bo"])
    body = (FIXTURES / "pre-wave2-claims.jsonl").read_bytes()
    assert client.post("/v1/queue/import", content=body, headers=bo).status_code == 200
    row = client.get("/v1/queue/claims", params={"limit": 1}, headers=bo).json()["rows"][0]
    answer = client.post(f"/v1/queue/claims/{row['claim_id']}/what-if", json={"edits": {"note": "x"}}, headers=bo)
    assert answer.status_code == 200 and 0.0 <= answer.json()["risk"] <= 1.0
    assert "risk_if_all_fixed" in answer.json()
    assert client.get(f"/v1/queue/claims/{row['claim_id']}", headers=bo).json()["revision"] == row["revision"]


def test_upload_limit_is_its_own(tokens: dict[str, str], models_dir: Path) -> None:
    with _client(models_dir, max_upload_bytes=4096) as small:
        answer = small.post("/v1/queue/import", content=b"x" * 5000, headers=auth(tokens["bo"]))
        assert answer.status_code == 413
        chunked = small.post("/v1/queue/import", content=iter([b"x" * 3000, b"x" * 3000]),
                             headers=auth(tokens["bo"]))
        assert chunked.status_code == 413


def test_guard_cookie_name_is_the_web_session_cookie() -> None:
    from serving.guards import SESSION_COOKIE
    from serving.web.security import COOKIE_NAME

    assert SESSION_COOKIE == f"{COOKIE_NAME}=".encode()
