"""The analyst's model and payers page, and uploads past the 5 MiB scoring body limit."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import csrf_of


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from synthetic.commands import synth

    out = tmp_path_factory.mktemp("web-history")
    assert synth(n_claims=300, seed=44, out=out, x12=False) == 0
    return out


def _client(web_db: str, models: Path, **settings: Any) -> Iterator[TestClient]:
    from serving.app import create_app
    from serving.config import Settings

    app = create_app(Settings(models_dir=models, reload_poll_seconds=0, **settings))
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        yield client


@pytest.fixture
def carded_client(web_db: str, web_models_dir: Path, tmp_path: Path) -> Iterator[TestClient]:
    """The app over a copy of the exported fixture model with a model card beside it."""
    models = tmp_path / "models"
    shutil.copytree(web_models_dir, models)
    (models / "model_card.md").write_text("# claimrisk model card\n\n| metric | model |\n<script>alert(1)</script>\n")
    yield from _client(web_db, models)


def _upload(client: TestClient, path: str, name: str, body: bytes) -> Any:
    token = csrf_of(client.get("/app/transfer").text)
    return client.post(path, data={"csrf_token": token}, files={"file": (name, body, "application/x-ndjson")})


def test_web_model_page_shows_card_plots_payers_and_rule_lift(
    carded_client: TestClient, signed_in: Any, history: Path, web_db: str
) -> None:
    signed_in(carded_client, "al")
    assert _upload(carded_client, "/app/transfer/claims", "claims.jsonl", (history / "claims.jsonl").read_bytes()).status_code == 200
    assert _upload(carded_client, "/app/transfer/outcomes", "remits.jsonl", (history / "remits.jsonl").read_bytes()).status_code == 200
    page = carded_client.get("/app/model")
    assert page.status_code == 200
    text = page.text
    assert "# claimrisk model card" in text and "<script>alert(1)</script>" not in text and "&lt;script&gt;" in text
    for plot in ("reliability", "dollars-caught"):
        figure = re.search(rf'<figure class="plot" data-plot="{plot}"><svg .*?</svg>', text, re.S)
        assert figure is not None and "<polyline" in figure.group(0) and 'role="img"' in figure.group(0), plot

    from worklist.db import open_store
    from worklist.outcomes import payer_outcomes, rule_lift
    from worklist.users import get_user

    store = open_store(web_db)
    with store.session() as db:
        analyst = get_user(db, "al")
        payers = payer_outcomes(db, analyst)
        lifts = rule_lift(db, analyst)
    store.dispose()
    assert payers and lifts
    shown = re.findall(r'<tr data-payer="([^"]+)"><td>[^<]*</td><td class="num">(\d+)</td><td class="num">([\d.]+)</td><td class="num">([\d.]+)</td>', text)
    assert [(p, int(n)) for p, n, _, _ in shown] == [(p.payer_id, p.claims) for p in payers]
    assert [float(o) for *_, o in shown] == [pytest.approx(p.observed_denial_rate, abs=5e-5) for p in payers]
    assert len(re.findall(r"<tr data-lift-payer=", text)) == len(lifts)


def test_web_model_page_renders_the_card_from_metadata_and_says_when_there_are_no_outcomes(
    web_client: TestClient, signed_in: Any
) -> None:
    """No model_card.md beside the export: the card is rendered from the model's own metadata
    (its holdout metrics); no outcomes yet: no plots, a sentence instead."""
    signed_in(web_client, "al")
    text = web_client.get("/app/model").text
    assert "# claimrisk model card — version pre-wave2" in text and "## Holdout metrics" in text
    assert "No claim has an outcome yet" in text and "<svg" not in text


def test_web_upload_over_5_mib_is_accepted_under_the_upload_limit(web_client: TestClient, signed_in: Any) -> None:
    """Uploads answer to CLAIMRISK_MAX_UPLOAD_BYTES (default 512 MiB), not the 5 MiB body limit of
    scoring requests: a 6 MiB claims file is imported."""
    from benchmarks.web_setup import FIXTURE_CLAIMS

    signed_in(web_client, "bo")
    one = FIXTURE_CLAIMS.read_bytes()
    body = one * (6 * 1024 * 1024 // len(one) + 1)
    assert len(body) > 6 * 1024 * 1024
    answer = _upload(web_client, "/app/transfer/claims", "big.jsonl", body)
    assert answer.status_code == 200, answer.text[:300]
    assert re.search(r'data-count="read">(\d+)<', answer.text).group(1) == str(body.count(b"\n"))  # type: ignore[union-attr]


def test_web_upload_over_the_upload_limit_is_refused(web_db: str, web_models_dir: Path, signed_in: Any) -> None:
    for client in _client(web_db, web_models_dir, max_upload_bytes=1024 * 1024):
        signed_in(client, "bo")
        answer = _upload(client, "/app/transfer/claims", "big.jsonl", b"{}\n" * 400_000)
        assert answer.status_code == 413
