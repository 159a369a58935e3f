"""Denial reasons in a real browser (CONTRACT §7): the queue's "Likely reason" column and the claim
page's "Why it may be denied" pass axe-core with no serious or critical violation, and what-if
tells the biller the edited claim's likely reason. The server runs a model with reason heads (the
fixture model of the other browser tests predates them)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks.web_setup import WebServer, start_web_server
from tests.browser.test_browser_accessibility import _violations
from tests.worklist.reasons_model import fill_reasons_store, shared_reasons_model

pytestmark = pytest.mark.slow


@pytest.fixture
def reasons_server(tmp_path: Path) -> Iterator[WebServer]:
    trained = shared_reasons_model()
    url = f"sqlite:///{tmp_path / 'worklist.db'}"
    fill_reasons_store(url, trained, 80)
    live = start_web_server(trained.models_dir, url, tmp_path / "server.log", workers=1)
    try:
        yield live
    finally:
        live.stop()


def test_browser_reasons_are_shown_accessibly_and_what_if_names_one(
    chromium: Any, reasons_server: WebServer, signed_in_as: Any
) -> None:
    context = chromium.new_context(viewport={"width": 1366, "height": 768}, bypass_csp=True)
    page = context.new_page()
    try:
        signed_in_as(page, reasons_server.url, "bo")
        assert page.get_by_role("columnheader", name="Likely reason").is_visible()
        assert page.locator("tr[data-claim-id] [data-top-reason]").count() >= 1
        queue = _violations(page)
        claim_id = page.locator("tr[data-claim-id]").first.get_attribute("data-claim-id")
        page.goto(f"{reasons_server.url}/app/claims/{claim_id}")
        section = page.get_by_role("region", name="Why it may be denied")
        assert section.locator("li[data-reason-family]").count() >= 1
        claim = _violations(page)
        page.get_by_label("Prior authorisation").fill("PA-778812")
        page.get_by_role("button", name="What if? (re-score, do not save)").click()
        result = page.locator("#what-if-result[data-what-if-reason]")
        result.wait_for(timeout=15_000)
        assert "Likely reason:" in result.inner_text()
    finally:
        context.close()
    assert not queue and not claim, {"queue": queue, "claim": claim}
