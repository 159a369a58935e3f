"""Browser tests: Debian's Chromium driven by Playwright for Python, against a real server.

Chromium comes from the ``chromium`` package (``make system-deps`` installs it), never from
``playwright install``. A missing browser FAILS the tests with the fix named: CI installs it, and
a skipped browser test would hide exactly what it is there to catch.

The server is ``claimrisk serve`` (benchmarks.web_setup) on a free loopback port, with the real
fixture model and a SQLite worklist store filled with the 200 fixture claims scored by it (the web
tests' fixtures, ``tests/web_store_fixtures.py``; a private copy of the store per test).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks.web_setup import CHROMIUM, CHROMIUM_ARGS, PASSWORDS, WebServer, start_web_server
from tests.web_store_fixtures import filled_db_template, store_copy, web_models_dir  # noqa: F401 - fixtures

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "images"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One browser per test module: Playwright's sync API keeps an event loop running in this thread
    while it is open, so it must close before other tests call ``asyncio.run`` (a session-wide browser
    broke every later test that does)."""
    if not CHROMIUM.is_file():
        pytest.fail("Chromium is missing: run `make system-deps` (apt-get install chromium); never `playwright install`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def database_url(filled_db_template: Path, tmp_path: Path) -> str:  # noqa: F811
    return store_copy(filled_db_template, tmp_path)


@pytest.fixture
def server(web_models_dir: Path, database_url: str, tmp_path: Path) -> Iterator[WebServer]:  # noqa: F811
    live = start_web_server(web_models_dir, database_url, tmp_path / "server.log", workers=1)
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1366, "height": 768})
    try:
        yield context.new_page()
    finally:
        context.close()


def sign_in_as(page: Any, url: str, name: str, password: str | None = None) -> None:
    page.goto(f"{url}/app/login")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(password or PASSWORDS[name])
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def signed_in_as() -> Any:
    """``signed_in_as(page, url, name, password=None)``: fills and submits the sign-in form."""
    return sign_in_as
