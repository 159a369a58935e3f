"""Fixtures for the web application's server-side tests: a real app, store, model and users.

The model and the filled worklist store (a private copy per test) are those of the browser tests
(``tests/web_store_fixtures.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from benchmarks.web_setup import PASSWORDS
from tests.web_store_fixtures import filled_db_template, store_copy, web_models_dir  # noqa: F401 - fixtures


@pytest.fixture
def web_db(filled_db_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:  # noqa: F811
    url = store_copy(filled_db_template, tmp_path)
    monkeypatch.setenv("CLAIMRISK_DATABASE_URL", url)
    monkeypatch.delenv("CLAIMRISK_SESSION_SECRET", raising=False)
    return url


@pytest.fixture
def web_client(web_db: str, web_models_dir: Path) -> Iterator[TestClient]:  # noqa: F811
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
