"""Re-scoring after a promotion as a background job of the server: the open claims gain a score of
the new model (the earlier ones stay), and the lease lets exactly one worker do it."""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from worklist.importing import import_path
from worklist.models import ClaimRevision, ClaimScore, QueueClaim
from worklist.rescoring import finish_rescore_lease, holds_lease, take_rescore_lease

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "models"
ADMIN_KEY = "admin-key-0123456"
VERSIONS = {"model_version": "m1", "rules_version": "r1", "reference_data_version": "x1"}


def _export(folder: Path, version: str) -> Path:
    folder.mkdir(exist_ok=True)
    shutil.copyfile(FIXTURES / "pre-wave2.joblib", folder / "claimrisk.joblib")
    digest = hashlib.sha256((folder / "claimrisk.joblib").read_bytes()).hexdigest()
    (folder / "claimrisk.json").write_text(json.dumps({"model_version": version, "sha256": digest}))
    return folder


def _join_jobs() -> None:
    for thread in threading.enumerate():
        if thread.name == "claimrisk-rescore":
            thread.join(timeout=120)
            assert not thread.is_alive(), "the rescore job did not finish"


def _versions_per_current_revision(session: Any) -> dict[str, set[str]]:
    query = (
        select(QueueClaim.claim_id, ClaimScore.model_version)
        .join(ClaimRevision, (ClaimRevision.claim_pk == QueueClaim.id) & (ClaimRevision.revision == QueueClaim.revision))
        .join(ClaimScore, ClaimScore.revision_id == ClaimRevision.id)
    )
    out: dict[str, set[str]] = {}
    for claim_id, version in session.execute(query):
        out.setdefault(claim_id, set()).add(version)
    return out


def test_a_reload_with_a_new_model_rescores_the_open_claims_in_the_background(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scorer: Any, claims_file: Path
) -> None:
    from fastapi.testclient import TestClient

    from serving.app import create_app
    from serving.config import Settings
    from worklist.db import open_store
    from worklist.users import add_user
    from worklist.workflow import set_status

    url = f"sqlite:///{tmp_path / 'worklist.db'}"
    monkeypatch.setenv("CLAIMRISK_DATABASE_URL", url)
    store = open_store(url)
    with store.session() as session:
        admin = add_user(session, None, "ada", "admin", None)
        assert import_path(session, claims_file, scorer, admin).new == 200
        dismissed = session.scalars(select(QueueClaim.claim_id).order_by(QueueClaim.id)).first()
        set_status(session, admin, dismissed, "dismissed", 1, reason="duplicate of another claim")
    models = _export(tmp_path / "models", "pre-wave2")  # the version the queue was scored with
    app = create_app(Settings(models_dir=models, reload_poll_seconds=0, admin_keys=[ADMIN_KEY]))
    with TestClient(app) as client:
        _join_jobs()  # the start-up job: the queue is already scored by this model, nothing to do
        with store.session() as session:
            assert session.scalar(select(func.count()).select_from(ClaimScore)) == 200
        _export(models, "promoted-2")
        answer = client.post("/v1/admin/reload", headers={"X-API-Key": ADMIN_KEY})
        assert answer.status_code == 200 and answer.json()["changed"] is True
        _join_jobs()
    with store.session() as session:
        versions = _versions_per_current_revision(session)
        assert versions.pop(dismissed) == {"pre-wave2"}  # closed claims are not re-scored
        assert len(versions) == 199 and all(v == {"pre-wave2", "promoted-2"} for v in versions.values())
        on_queue = session.execute(select(QueueClaim.model_version, func.count()).group_by(QueueClaim.model_version))
        assert dict(on_queue.all()) == {"promoted-2": 199, "pre-wave2": 1}
    store.dispose()


def test_the_rescore_lease_goes_to_one_worker_and_is_kept_once_done(store: Any) -> None:
    with store.session() as session:
        assert take_rescore_lease(session, VERSIONS, "worker-a") is True
        assert take_rescore_lease(session, VERSIONS, "worker-b") is False  # worker-a is at it
        assert holds_lease(session, "worker-a") and not holds_lease(session, "worker-b")
        finish_rescore_lease(session, VERSIONS, "worker-a")
        assert take_rescore_lease(session, VERSIONS, "worker-c") is False  # done for these versions
        newer = {**VERSIONS, "model_version": "m2"}
        assert take_rescore_lease(session, newer, "worker-b") is True  # a newer model takes over
        assert not holds_lease(session, "worker-a")


def test_a_dead_holders_lease_lapses(store: Any) -> None:
    import datetime as dt

    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    with store.session() as session:
        assert take_rescore_lease(session, VERSIONS, "worker-a", now=long_ago) is True
        assert take_rescore_lease(session, VERSIONS, "worker-b") is True
