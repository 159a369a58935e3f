"""Fixtures for the web application's server-side tests: a real app, store, model and users.

The model is the real trained fixture model (``tests/data/models/pre-wave2.joblib``) exported the
way ``claimrisk train --promote`` exports one (joblib + metadata with its sha256), so the app's own
model store verifies and loads it. The worklist store is a fresh SQLite file per test, filled with
the 200 fixture claims through the import service.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from benchmarks.web_setup import PASSWORDS, export_fixture_model, fill_store


@pytest.fixture(scope="session")
def web_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_fixture_model(tmp_path_factory.mktemp("web-models"))


@pytest.fixture(scope="session")
def filled_db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One filled SQLite file per session, copied for each test (an import scores 200 claims)."""
    path = tmp_path_factory.mktemp("web-db") / "worklist.db"
    fill_store(f"sqlite:///{path}")
    return path


@pytest.fixture
def web_db(filled_db_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    target = tmp_path / "worklist.db"
    shutil.copyfile(filled_db_template, target)
    url = f"sqlite:///{target}"
    monkeypatch.setenv("CLAIMRISK_DATABASE_URL", url)
    monkeypatch.delenv("CLAIMRISK_SESSION_SECRET", raising=False)
    return url


@pytest.fixture
def web_client(web_db: str, web_models_dir: Path) -> Iterator[TestClient]:
    from serving.app import create_app
    from serving.config import Settings

    app = create_app(Settings(models_dir=web_models_dir, reload_poll_seconds=0))
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        yield client


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found is not None, "the page carries no CSRF token"
    return found.group(1)


def sign_in(client: TestClient, name: str, password: str | None = None) -> Any:
    page = client.get("/app/login")
    token = csrf_of(page.text)
    return client.post(
        "/app/login",
        data={"username": name, "password": password or PASSWORDS[name], "csrf_token": token, "next": "/app/"},
    )


@pytest.fixture
def signed_in() -> Any:
    """``signed_in(client, name, password=None)``: the sign-in answer (a fixture, so test modules
    need not import this conftest)."""
    return sign_in
