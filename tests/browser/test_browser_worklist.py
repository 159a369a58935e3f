"""The worklist application in a real browser: sign-in, queue, filters, claim page, what-if, save.

Each test drives headless Chromium against ``claimrisk serve`` with a store of 200 scored claims.
Marked slow: they run in ``make test`` / ``.ci/run`` (``-m ""``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from benchmarks.web_setup import start_web_server

pytestmark = pytest.mark.slow
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "images"


def _token(database_url: str, name: str) -> str:
    from worklist.db import open_store
    from worklist.users import issue_token

    store = open_store(database_url)
    try:
        with store.session() as db:
            return issue_token(db, None, name)
    finally:
        store.dispose()


def test_browser_sign_in_and_refusal(server: Any, page: Any, signed_in_as: Any) -> None:
    page.goto(f"{server.url}/app/")
    assert page.url.startswith(f"{server.url}/app/login")
    signed_in_as(page, server.url, "bo", "not the password at all")
    assert page.get_by_role("alert").inner_text().startswith("The user name or password is not right")
    signed_in_as(page, server.url, "bo")
    assert page.get_by_role("heading", name="Queue").is_visible()
    page.get_by_role("button", name="Sign out").click()
    page.goto(f"{server.url}/app/")
    assert "/app/login" in page.url


def test_browser_queue_order_equals_the_api_and_is_saved_as_screenshot(
    server: Any, page: Any, signed_in_as: Any, database_url: str
) -> None:
    signed_in_as(page, server.url, "bo")
    rows = page.locator("tr[data-claim-id]")
    shown = [(r.get_attribute("data-claim-id"), r.get_attribute("data-expected-loss")) for r in rows.all()]
    token = _token(database_url, "bo")
    answer = httpx.get(f"{server.url}/v1/queue/claims", params={"limit": 50},
                       headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    api_rows = answer.json()["rows"]
    assert [c for c, _ in shown] == [r["claim_id"] for r in api_rows]
    assert [loss for _, loss in shown] == [f"{r['expected_loss']:.2f}" for r in api_rows]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "queue.png"))


def test_browser_filters_narrow_the_queue(server: Any, page: Any, signed_in_as: Any) -> None:
    signed_in_as(page, server.url, "bo")
    total = int(page.locator("[data-total-claims]").get_attribute("data-total-claims"))
    page.get_by_label("Problem").select_option("NDC_MISSING")
    page.get_by_role("button", name="Apply", exact=True).click()
    narrowed = int(page.locator("[data-total-claims]").get_attribute("data-total-claims"))
    assert 0 < narrowed < total
    first = page.locator("tr[data-claim-id]").first.get_attribute("data-claim-id")
    page.goto(f"{server.url}/app/claims/{first}")
    assert page.locator('[data-rule-id="NDC_MISSING"]').count() >= 1
    page.goto(f"{server.url}/app/?decision=pass")
    decisions = page.locator("tr[data-claim-id]").count()
    assert int(page.locator("[data-total-claims]").get_attribute("data-total-claims")) >= decisions


def test_browser_claim_page_shows_each_fired_rule_and_its_fix(
    server: Any, page: Any, signed_in_as: Any, database_url: str
) -> None:
    signed_in_as(page, server.url, "bo")
    claim_id = page.locator("tr[data-claim-id]").first.get_attribute("data-claim-id")
    page.goto(f"{server.url}/app/claims/{claim_id}")
    token = _token(database_url, "bo")
    view = httpx.get(f"{server.url}/v1/queue/claims/{claim_id}", headers={"Authorization": f"Bearer {token}"}).json()
    fired = view["score"]["rules"]
    assert fired
    problems = page.locator("li[data-rule-id]")
    assert problems.count() == len(fired) == page.locator("[data-rule-id]").count()
    shown = {(p.get_attribute("data-rule-id"), p.get_attribute("data-line-number")) for p in problems.all()}
    assert shown == {(r["id"], "" if r["line_number"] is None else str(r["line_number"])) for r in fired}
    for rule in fired:
        line = "" if rule["line_number"] is None else str(rule["line_number"])
        item = page.locator(f'li[data-rule-id="{rule["id"]}"][data-line-number="{line}"]')
        assert rule["fix"] in item.inner_text()
        assert item.get_attribute("data-risk-if-fixed") == f"{rule['risk_if_fixed']:.4f}"
    assert page.locator("[data-risk]").first.get_attribute("data-risk") == f"{view['score']['risk']:.4f}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "claim.png"), full_page=False)


def _ndc_for(code: str) -> str:
    from reference.store import load_reference

    crosswalk = load_reference().crosswalk
    found = crosswalk.loc[crosswalk["hcpcs"] == code, "ndc11"]
    assert len(found), f"no crosswalk NDC for {code}"
    return str(found.iloc[-1])


def test_browser_what_if_lowers_the_risk_after_adding_the_missing_ndc_and_save_survives_restart(
    server: Any, page: Any, signed_in_as: Any, web_models_dir: Path, database_url: str, tmp_path: Path
) -> None:
    signed_in_as(page, server.url, "bo")
    page.goto(f"{server.url}/app/?rule=NDC_MISSING")
    claim_id = page.locator("tr[data-claim-id]").first.get_attribute("data-claim-id")
    page.goto(f"{server.url}/app/claims/{claim_id}")
    before = float(page.locator("[data-risk]").first.get_attribute("data-risk"))
    line = int(page.locator('li[data-rule-id="NDC_MISSING"]').first.get_attribute("data-line-number"))
    legend = page.locator("fieldset legend", has_text=f"Line {line} ·").inner_text()
    code = legend.split("·")[-1].strip()
    index = line - 1
    page.locator(f"#e-{index}-ndc").fill(_ndc_for(code))
    page.locator(f"#e-{index}-qty").fill("1")
    page.locator(f"#e-{index}-unit").fill("ML")
    page.get_by_role("button", name="What if? (re-score, do not save)").click()
    result = page.locator("#what-if-result[data-what-if-risk]")
    result.wait_for()
    after = float(result.get_attribute("data-what-if-risk"))
    assert after < before
    assert page.locator("[data-revision]").get_attribute("data-revision") == "1"  # nothing saved

    page.get_by_role("button", name="Save as a new revision").click()
    assert "Saved as revision 2" in page.get_by_role("status").first.inner_text()
    server.stop()
    restarted = start_web_server(web_models_dir, database_url, tmp_path / "restarted.log")
    try:
        page.goto(f"{restarted.url}/app/claims/{claim_id}")  # the session outlives the restart too
        assert "/app/login" not in page.url
        assert page.locator("[data-revision]").get_attribute("data-revision") == "2"
        assert page.locator('[data-rule-id="NDC_MISSING"]').count() == 0
        assert page.locator("tr[data-history-revision]").count() == 2
        assert "bo" in page.locator('tr[data-history-revision="2"]').inner_text()
    finally:
        restarted.stop()


def test_browser_script_in_a_description_is_shown_as_text(server: Any, page: Any, signed_in_as: Any) -> None:
    signed_in_as(page, server.url, "bo")
    claim_id = page.locator("tr[data-claim-id]").first.get_attribute("data-claim-id")
    page.goto(f"{server.url}/app/claims/{claim_id}")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    evil = "<script>alert('x')</script><img src=x onerror=alert(2)>"[:80]
    page.locator("#e-0-desc").fill(evil)
    page.get_by_role("button", name="Save as a new revision").click()
    assert "Saved" in page.get_by_role("status").first.inner_text()
    assert page.locator("td.description").first.inner_text() == evil
    assert dialogs == [] and page.locator("td.description script").count() == 0


def test_browser_post_without_csrf_token_is_refused(server: Any, page: Any, signed_in_as: Any) -> None:
    signed_in_as(page, server.url, "bo")
    claim_id = page.locator("tr[data-claim-id]").first.get_attribute("data-claim-id")
    page.goto(f"{server.url}/app/claims/{claim_id}")
    page.evaluate("document.querySelectorAll('form[action$=\"/notes\"] input[name=csrf_token]').forEach(e => e.remove())")
    page.get_by_label("Note").fill("called the payer")
    with page.expect_response(lambda r: r.url.endswith("/notes")) as answer:
        page.get_by_role("button", name="Add note").click()
    assert answer.value.status == 403
    assert page.get_by_role("heading", name="Not allowed").is_visible()


def test_browser_biller_cannot_open_user_admin(server: Any, page: Any, signed_in_as: Any) -> None:
    signed_in_as(page, server.url, "bo")
    assert page.get_by_role("link", name="Users").count() == 0
    answer = page.goto(f"{server.url}/app/admin/users")
    assert answer.status == 403
    assert page.get_by_role("heading", name="Not allowed").is_visible()


def test_browser_password_change(server: Any, page: Any, signed_in_as: Any) -> None:
    signed_in_as(page, server.url, "bo")
    page.get_by_role("link", name="Password").click()
    page.get_by_label("Current password").fill("staple battery horse")
    page.get_by_label("New password (at least 12 characters)").fill("a brand new passphrase")
    page.get_by_label("New password again").fill("a brand new passphrase")
    page.get_by_role("button", name="Change password").click()
    assert "Your password is changed" in page.get_by_role("status").first.inner_text()
    page.get_by_role("button", name="Sign out").click()
    signed_in_as(page, server.url, "bo")  # the old password
    assert page.get_by_role("alert").is_visible()
    signed_in_as(page, server.url, "bo", "a brand new passphrase")
    assert page.get_by_role("heading", name="Queue").is_visible()
