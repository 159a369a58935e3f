"""axe-core (vendored, tests/browser/vendor) on every page: no serious or critical violation.

The pages' Content-Security-Policy allows only this server's scripts, so the test context bypasses
CSP to inject axe (the page itself is unchanged). Pages are checked at a laptop size and a tablet
size, signed in with the role that may see each.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow
AXE = (Path(__file__).resolve().parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
BLOCKING = ("serious", "critical")


def _violations(page: Any) -> list[str]:
    page.evaluate(AXE)
    found = page.evaluate("async () => (await axe.run(document)).violations.map(v => ({id: v.id, impact: v.impact, "
                          "nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))")
    return [f"{v['id']} ({v['impact']}): {v['nodes']}" for v in found if v["impact"] in BLOCKING]


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 768}, {"width": 820, "height": 1180}],
                         ids=["laptop", "tablet"])
def test_browser_axe_finds_no_serious_violation_on_any_page(
    chromium: Any, server: Any, signed_in_as: Any, viewport: dict[str, int]
) -> None:
    context = chromium.new_context(viewport=viewport, bypass_csp=True)
    page = context.new_page()
    results: dict[str, list[str]] = {}
    try:
        page.goto(f"{server.url}/app/login")
        results["login"] = _violations(page)
        signed_in_as(page, server.url, "ada")
        results["queue"] = _violations(page)
        claim_id = page.locator("tr[data-claim-id]").first.get_attribute("data-claim-id")
        pages = {
            "claim": f"/app/claims/{claim_id}", "transfer": "/app/transfer", "model": "/app/model",
            "users": "/app/admin/users", "password": "/app/account/password", "not found": "/app/claims/NO-SUCH",
        }
        for name, path in pages.items():
            page.goto(f"{server.url}{path}")
            results[name] = _violations(page)
    finally:
        context.close()
    failing = {name: found for name, found in results.items() if found}
    assert not failing, failing
    assert len(results) == 8


def test_browser_queue_and_claim_form_work_from_the_keyboard(server: Any, page: Any, signed_in_as: Any) -> None:
    page.goto(f"{server.url}/app/login")
    page.keyboard.type("bo")  # the user name field has the focus
    page.keyboard.press("Tab")
    page.keyboard.type("staple battery horse")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Queue").wait_for()
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    link = page.locator("tr[data-claim-id] a").first
    link.focus()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "focus must be visible"
    page.keyboard.press("Enter")
    page.locator("#edit-form").wait_for()
    page.locator("#e-0-desc").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "e-0-mod"
