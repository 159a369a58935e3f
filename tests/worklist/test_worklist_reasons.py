"""Denial reasons in the store (CONTRACT §7, §8): stored at import, rescore and edit, the very
reasons ``/v1/score`` answers for the same claim and model; on queue rows, in the claim view, the
REST API and the CSV/Parquet exports; nulls for a model without reason heads; migration 0005."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pytest
from sqlalchemy import inspect, select, text

from features.denial_reasons import FAMILIES, top_families
from inputs import load_claims
from serving.web.context import stored_reasons
from tests.worklist.conftest import insert_old_queue_row, make_scorer
from tests.worklist.reasons_model import MODEL_VERSION, ReasonsModel, shared_reasons_model
from worklist.db import current_revision, downgrade, make_engine, migrate
from worklist.export import export_queue
from worklist.importing import import_path
from worklist.models import ClaimScore, QueueClaim
from worklist.queue import list_queue
from worklist.rescoring import rescore_open
from worklist.scoring import family_probabilities, reasons_json, score_batch
from worklist.workflow import edit_claim, get_claim

CLAIMS = 150  # of the history: enough for several families to come first


@pytest.fixture(scope="module")
def trained() -> ReasonsModel:
    return shared_reasons_model()


@pytest.fixture(scope="module")
def reasons_scorer(trained: ReasonsModel) -> Any:
    return make_scorer(trained.model, MODEL_VERSION)


@pytest.fixture(scope="module")
def claims_part(trained: ReasonsModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("reasons") / "claims.jsonl"
    path.write_text("".join(trained.claims.read_text().splitlines(keepends=True)[:CLAIMS]))
    return path


@pytest.fixture(scope="module")
def answers(reasons_scorer: Any, claims_part: Path) -> dict[str, dict[str, Any]]:
    """What ``/v1/score`` answers for each claim (the scorer the API calls, all claims at once)."""
    return {a["claim_id"]: a for a in reasons_scorer.score(load_claims(claims_part).frame)}


def test_reasons_json_keeps_every_probability_and_ties_go_to_the_first_family() -> None:
    rng = np.random.default_rng(7)
    probabilities = rng.random((5, len(FAMILIES))) * 0.4
    probabilities[3] = 0.125  # an eleven-way tie
    probabilities[4, [2, 5]] = 0.9  # a two-way tie
    stored = reasons_json(probabilities)
    assert [list(family_probabilities(s).values()) for s in stored] == probabilities.tolist()  # type: ignore[union-attr]
    assert list(family_probabilities(stored[0]) or {}) == list(FAMILIES)
    top, probability = top_families(probabilities)
    assert top[3] == 0 and top[4] == 2 and probability[4] == 0.9
    assert reasons_json(np.empty((0, len(FAMILIES)))) == [] and family_probabilities(None) is None
    with pytest.raises(ValueError):
        reasons_json(np.zeros((2, 3)))


def test_import_stores_the_reasons_the_api_answers(
    store: Any, admin: Any, reasons_scorer: Any, claims_part: Path, answers: dict[str, dict[str, Any]]
) -> None:
    with store.session() as db:
        import_path(db, claims_part, reasons_scorer, admin)
        rows = {r.claim_id: r for r in db.scalars(select(QueueClaim))}
        assert len(rows) == CLAIMS
        for claim_id, row in rows.items():
            first = answers[claim_id]["reasons"][0]
            assert row.top_reason == first["family"]
            assert row.top_reason_probability == pytest.approx(first["probability"], rel=1e-12, abs=1e-15)
            assert row.top_reason_probability <= row.risk + 1e-12
        assert len({r.top_reason for r in rows.values()}) >= 2, "the fixture model names several families"
        for claim_id in list(rows)[:40]:
            score = get_claim(db, admin, claim_id).score
            assert score["top_reason"] == rows[claim_id].top_reason
            reasons = stored_reasons(score)
            expected = answers[claim_id]["reasons"]
            assert [(r["family"], r["rules"]) for r in reasons] == [(r["family"], r["rules"]) for r in expected]
            assert [r["probability"] for r in reasons] == pytest.approx([r["probability"] for r in expected], rel=1e-12)


def test_queue_rows_and_exports_carry_the_top_reason(
    store: Any, admin: Any, reasons_scorer: Any, claims_part: Path, tmp_path: Path
) -> None:
    with store.session() as db:
        import_path(db, claims_part, reasons_scorer, admin)
        stored = dict(db.execute(select(QueueClaim.claim_id, QueueClaim.top_reason)).all())
        page = list_queue(db, admin, limit=CLAIMS)
        assert {r.claim_id: r.top_reason for r in page.rows} == stored
        assert all(r.top_reason in FAMILIES and 0 < (r.top_reason_probability or 0) <= r.risk for r in page.rows)
        export_queue(db, admin, tmp_path / "queue.csv")
        export_queue(db, admin, tmp_path / "queue.parquet")
    for frame in (pd.read_csv(tmp_path / "queue.csv"), pd.read_parquet(tmp_path / "queue.parquet")):
        assert dict(zip(frame["claim_id"], frame["top_reason"], strict=True)) == stored
        assert frame["top_reason_probability"].between(0, 1).all()


def test_a_model_without_heads_stores_nulls(store: Any, admin: Any, imported: Any, tmp_path: Path) -> None:
    with store.session() as db:
        assert db.scalar(select(QueueClaim.id).where(QueueClaim.top_reason.is_not(None))) is None
        assert db.scalar(select(ClaimScore.id).where(ClaimScore.reasons.is_not(None))) is None
        assert all(r.top_reason is None and r.top_reason_probability is None for r in list_queue(db, admin).rows)
        claim_id = db.scalars(select(QueueClaim.claim_id)).first()
        score = get_claim(db, admin, claim_id).score
        assert score["reason_probabilities"] is None and stored_reasons(score) == []
        export_queue(db, admin, tmp_path / "queue.csv")
    frame = pd.read_csv(tmp_path / "queue.csv")
    assert frame["top_reason"].isna().all() and frame["top_reason_probability"].isna().all()


def test_rescoring_and_edits_store_the_new_reasons(
    store: Any, admin: Any, scorer: Any, reasons_scorer: Any, claims_part: Path, answers: dict[str, dict[str, Any]]
) -> None:
    with store.session() as db:
        import_path(db, claims_part, scorer, admin)  # the model without heads: nulls
        report = rescore_open(db, admin, reasons_scorer)
        assert report.rescored == CLAIMS
        rows = dict(db.execute(select(QueueClaim.claim_id, QueueClaim.top_reason)).all())
        assert rows == {claim_id: a["reasons"][0]["family"] for claim_id, a in answers.items()}
        claim_id = next(iter(rows))
        content = get_claim(db, admin, claim_id).content
        edits = {"prior_authorization": None if content.get("prior_authorization") else "PA-778812"}
        edit_claim(db, admin, claim_id, edits, 1, reasons_scorer)
        score = get_claim(db, admin, claim_id).score
        edited = db.scalar(select(QueueClaim).where(QueueClaim.claim_id == claim_id))
        assert edited is not None and edited.revision == 2
        assert score["top_reason"] == edited.top_reason and score["reason_probabilities"] is not None
        assert edited.top_reason_probability == max(score["reason_probabilities"].values())


def test_score_batch_columns_match_the_scorer_arrays(reasons_scorer: Any, claims_part: Path) -> None:
    frame = load_claims(claims_part).frame
    batch = score_batch(reasons_scorer, frame)
    arrays = reasons_scorer.score_arrays(frame, None, with_fixes=True, with_all_fixed=True)
    top, probability = top_families(arrays.reasons)
    assert batch.columns["top_reason"] == [FAMILIES[k] for k in top]
    assert batch.columns["top_reason_probability"] == probability.tolist()
    assert [orjson.loads(s) for s in batch.columns["reasons"]] == arrays.reasons.tolist()
    one = batch.take([3]).rows()[0]
    assert (one.top_reason, one.reasons) == (batch.columns["top_reason"][3], batch.columns["reasons"][3])


def test_migration_0005_adds_nullable_columns_to_a_filled_0004_store(store_url: str) -> None:
    engine = make_engine(store_url)
    migrate(engine, "0004")
    insert_old_queue_row(engine)
    migrate(engine, "0005")
    assert current_revision(engine) == "0005"
    columns = {t: {c["name"]: c for c in inspect(engine).get_columns(t)} for t in ("queue_claims", "claim_scores")}
    for table, names in (("queue_claims", ("top_reason", "top_reason_probability")),
                         ("claim_scores", ("top_reason", "top_reason_probability", "reasons"))):
        assert all(columns[table][name]["nullable"] for name in names)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT claim_id, top_reason FROM queue_claims")).all() == [("OLD-1", None)]
    downgrade(engine, "0004")
    assert "top_reason" not in {c["name"] for c in inspect(engine).get_columns("queue_claims")}
    assert "reasons" not in {c["name"] for c in inspect(engine).get_columns("claim_scores")}
    with engine.connect() as connection:  # the indexes of 0003/0004 survived the downgrade
        assert connection.execute(text("SELECT claim_id FROM queue_claims")).scalars().all() == ["OLD-1"]
    assert any(i["name"] == "ix_queue_status_risk" for i in inspect(engine).get_indexes("queue_claims"))
    engine.dispose()


def test_the_rest_api_serves_the_stored_reasons(
    trained: ReasonsModel, claims_part: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Queue rows carry the top reason; a claim's score carries ``reasons`` equal to what
    ``/v1/score`` answers for the same claim (same served model), rules included."""
    from fastapi.testclient import TestClient

    from serving.app import create_app
    from serving.config import Settings
    from worklist.db import open_store
    from worklist.users import add_user, issue_token

    url = f"sqlite:///{tmp_path / 'worklist.db'}"
    monkeypatch.setenv("CLAIMRISK_DATABASE_URL", url)
    opened = open_store(url)
    with opened.session() as db:
        add_user(db, None, "ada", "admin", "ada long enough password")
        token = {"Authorization": f"Bearer {issue_token(db, None, 'ada')}"}
    opened.dispose()
    app = create_app(Settings(models_dir=trained.models_dir, reload_poll_seconds=0))
    with TestClient(app) as client:
        assert client.post("/v1/queue/import", content=claims_part.read_bytes(), headers=token).status_code == 200
        rows = client.get("/v1/queue/claims", params={"limit": 20}, headers=token).json()["rows"]
        assert rows and all(r["top_reason"] in FAMILIES and r["top_reason_probability"] > 0 for r in rows)
        for row in rows[:5]:
            view = client.get(f"/v1/queue/claims/{row['claim_id']}", headers=token).json()
            scored = client.post("/v1/score", json=view["content"]).json()
            assert view["score"]["reasons"] == scored["reasons"]
            assert view["score"]["reasons"][0]["family"] == row["top_reason"]


def test_the_queue_api_examples_show_the_reason_fields_as_served() -> None:
    """The OpenAPI examples of a queue page and a claim cannot drift from what the routes answer."""
    from dataclasses import fields

    from serving.routes.queue import CLAIM_REASONS_EXAMPLE, QUEUE_PAGE_EXAMPLE, router
    from worklist.queue import QueueRow

    (row,) = QUEUE_PAGE_EXAMPLE["rows"]
    assert set(row) == {f.name for f in fields(QueueRow)}
    assert row["top_reason"] == CLAIM_REASONS_EXAMPLE[0]["family"] and row["top_reason_probability"] <= row["risk"]
    probabilities = [r["probability"] for r in CLAIM_REASONS_EXAMPLE]
    assert probabilities == sorted(probabilities, reverse=True) and {r["family"] for r in CLAIM_REASONS_EXAMPLE} <= set(FAMILIES)
    documented = {route.path: route.responses[200]["content"]["application/json"]["example"]  # type: ignore[attr-defined]
                  for route in router.routes if getattr(route, "path", "").startswith("/v1/queue/claims")
                  and 200 in getattr(route, "responses", {})}
    assert documented["/v1/queue/claims"] is QUEUE_PAGE_EXAMPLE
    assert documented["/v1/queue/claims/{claim_id}"]["score"]["reasons"] is CLAIM_REASONS_EXAMPLE
