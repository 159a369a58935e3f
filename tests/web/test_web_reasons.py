"""Denial reasons in the web application (CONTRACT §7): the queue's "Likely reason" column, the
claim page's "Why it may be denied" (each family, its probability and its fired rules, as
``/v1/score`` answers them), what-if's reasons, and the no-heads case."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from serving.web.context import stored_reasons
from tests.web.conftest import csrf_of
from tests.worklist.reasons_model import ReasonsModel, fill_reasons_store, shared_reasons_model

CLAIMS = 120
REASON_ITEM = re.compile(r'<li data-reason-family="([a-z_]+)" data-reason-probability="([0-9.]+)">(.*?)</li>', re.S)


@pytest.fixture(scope="module")
def trained() -> ReasonsModel:
    return shared_reasons_model()


@pytest.fixture(scope="module")
def reasons_db_template(trained: ReasonsModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Users of every role and part of the history imported by the model with reason heads."""
    path = tmp_path_factory.mktemp("web-reasons") / "worklist.db"
    fill_reasons_store(f"sqlite:///{path}", trained, CLAIMS)
    return path


@pytest.fixture
def client(trained: ReasonsModel, reasons_db_template: Path, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    from serving.app import create_app
    from serving.config import Settings

    shutil.copyfile(reasons_db_template, tmp_path / "worklist.db")
    monkeypatch.setenv("CLAIMRISK_DATABASE_URL", f"sqlite:///{tmp_path / 'worklist.db'}")
    monkeypatch.delenv("CLAIMRISK_SESSION_SECRET", raising=False)
    app = create_app(Settings(models_dir=trained.models_dir, reload_poll_seconds=0))
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as c:
        yield c


def _stored(claim_id: str) -> dict[str, Any]:
    """The claim's stored score, read through the service the page calls."""
    from worklist.db import open_store
    from worklist.models import User
    from worklist.workflow import get_claim

    store = open_store()
    with store.session() as db:
        admin = db.scalar(select(User).where(User.name == "ada"))
        assert admin is not None
        score = get_claim(db, admin, claim_id).score
    store.dispose()
    return score


def test_web_queue_shows_each_rows_likely_reason(client: TestClient, signed_in: Any) -> None:
    signed_in(client, "bo")
    page = client.get("/app/").text
    assert '<th scope="col">Likely reason</th>' in page
    rows = re.findall(r'data-claim-id="([^"]+)".*?data-top-reason="([a-z_]+)" data-top-reason-probability="([0-9.]+)"',
                      page, re.S)
    assert len(rows) == 50
    for claim_id, family, probability in rows[:8]:
        score = _stored(claim_id)
        assert family == score["top_reason"] and probability == f"{score['top_reason_probability']:.4f}"


def test_web_claim_page_says_why_it_may_be_denied(client: TestClient, signed_in: Any) -> None:
    signed_in(client, "bo")
    queue = client.get("/app/").text
    claim_ids = re.findall(r'data-claim-id="([^"]+)"', queue)[:12]
    shown_rules = 0
    for claim_id in claim_ids:
        page = client.get(f"/app/claims/{claim_id}").text
        assert "Why it may be denied" in page
        expected = stored_reasons(_stored(claim_id))
        items = REASON_ITEM.findall(page)
        assert [(f, p) for f, p, _ in items] == [(r["family"], f"{r['probability']:.4f}") for r in expected]
        for (_, _, body), reason in zip(items, expected, strict=True):
            assert all(rule_id in body for rule_id in reason["rules"])
            shown_rules += len(reason["rules"])
        # every fired problem is named under its family, and the contract's hook stays unique
        assert shown_rules == 0 or "data-rule-id" not in "".join(body for _, _, body in items)
    assert shown_rules > 0, "some of the top claims have fired rules under a family"


def test_web_what_if_answers_the_edited_claims_reasons(client: TestClient, signed_in: Any) -> None:
    signed_in(client, "bo")
    claim_id = re.findall(r'data-claim-id="([^"]+)"', client.get("/app/").text)[0]
    page = client.get(f"/app/claims/{claim_id}").text
    answer = client.post(f"/app/claims/{claim_id}/what-if", data={"prior_authorization": "PA-778812"},
                         headers={"X-CSRF-Token": csrf_of(page)})
    assert answer.status_code == 200
    reasons = orjson.loads(answer.content)["reasons"]
    assert reasons and {"family", "probability"} == set(reasons[0])
    assert [r["probability"] for r in reasons] == sorted((r["probability"] for r in reasons), reverse=True)


def test_web_claim_page_of_a_model_without_heads_says_so(web_client: TestClient, signed_in: Any) -> None:
    signed_in(web_client, "bo")
    queue = web_client.get("/app/").text
    assert "data-top-reason=" not in queue
    claim_id = re.search(r'data-claim-id="([^"]+)"', queue).group(1)  # type: ignore[union-attr]
    page = web_client.get(f"/app/claims/{claim_id}").text
    assert "does not predict denial reasons" in page and "data-reason-family" not in page
