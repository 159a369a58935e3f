"""Server-side tests of the web application (TestClient against the real app, store and model)."""

from __future__ import annotations

import html
import re
from typing import Any

import orjson
from fastapi.testclient import TestClient

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(page: str) -> str:
    found = CSRF.search(page)
    assert found is not None, "the page carries no CSRF token"
    return found.group(1)


def test_web_unauthenticated_pages_redirect_to_sign_in(web_client: TestClient) -> None:
    for path in ("/app/", "/app/claims/S00099C000000000", "/app/admin/users", "/app/model", "/app/transfer"):
        answer = web_client.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/app/login")


def test_web_sign_in_sets_a_strict_http_only_cookie(web_client: TestClient, signed_in: Any) -> None:
    answer = signed_in(web_client, "bo")
    assert answer.status_code == 303 and answer.headers["location"] == "/app/"
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" not in cookie
    assert web_client.get("/app/").status_code == 200


def test_web_wrong_password_is_refused_and_then_slowed_down(web_client: TestClient, signed_in: Any) -> None:
    for _ in range(5):
        assert signed_in(web_client, "bo", "wrong password!!").status_code == 401
    slowed = signed_in(web_client, "bo")  # even the right password waits now
    assert slowed.status_code == 429 and int(slowed.headers["retry-after"]) >= 1


def test_web_post_without_csrf_token_is_refused(web_client: TestClient, signed_in: Any) -> None:
    signed_in(web_client, "bo")
    answer = web_client.post("/app/claims/S00099C000000000/notes", data={"text": "hello"})
    assert answer.status_code == 403
    forged = web_client.post("/app/claims/S00099C000000000/notes", data={"text": "hello", "csrf_token": "x" * 32})
    assert forged.status_code == 403
    login = web_client.post("/app/login", data={"username": "bo", "password": "staple battery horse"})
    assert login.status_code == 403


def test_web_biller_gets_403_page_for_user_admin(web_client: TestClient, signed_in: Any) -> None:
    signed_in(web_client, "bo")
    answer = web_client.get("/app/admin/users")
    assert answer.status_code == 403 and "Not allowed" in answer.text
    assert web_client.get("/app/model").status_code == 403


def test_web_queue_rows_carry_plain_decimal_hooks_in_expected_loss_order(web_client: TestClient, signed_in: Any) -> None:
    signed_in(web_client, "bo")
    page = web_client.get("/app/").text
    losses = [float(v) for v in re.findall(r'data-expected-loss="([0-9.]+)"', page)]
    assert len(losses) == 50 and losses == sorted(losses, reverse=True)
    assert "data-rule-id" not in page
    assert "$" not in "".join(re.findall(r'data-expected-loss="([^"]*)"', page))


def test_web_claim_page_shows_each_fired_problem_with_hooks(web_client: TestClient, signed_in: Any) -> None:
    signed_in(web_client, "bo")
    queue = web_client.get("/app/").text
    claim_id = re.search(r'data-claim-id="([^"]+)"', queue).group(1)  # type: ignore[union-attr]
    page = web_client.get(f"/app/claims/{claim_id}").text
    assert re.search(r'data-risk="0\.\d{4}"', page)
    rules = re.findall(r'data-rule-id="([^"]+)" data-line-number="(\d*)" data-risk-if-fixed="([0-9.]*)"', page)
    assert rules, "the top claim of the queue has fired problems"
    assert "Fixing this lowers the risk from" in page


def test_web_script_description_is_shown_as_text(web_client: TestClient, signed_in: Any) -> None:
    signed_in(web_client, "bo")
    claim_id = "S00099C000000000"
    page = web_client.get(f"/app/claims/{claim_id}").text
    token = csrf_of(page)
    evil = "<script>alert(1)</script>"
    saved = web_client.post(
        f"/app/claims/{claim_id}/revisions",
        data={"csrf_token": token, "revision": "1", "line-1-description": evil},
    )
    assert saved.status_code == 303 and "Saved" in saved.headers["location"].replace("%20", " ")
    page = web_client.get(f"/app/claims/{claim_id}").text
    assert evil not in page and html.escape(evil) in page.replace("&#34;", '"').replace("&#39;", "'")


def test_web_what_if_answers_json_and_saves_nothing(web_client: TestClient, signed_in: Any) -> None:
    signed_in(web_client, "bo")
    claim_id = "S00099C000000000"
    page = web_client.get(f"/app/claims/{claim_id}").text
    token = csrf_of(page)
    answer = web_client.post(
        f"/app/claims/{claim_id}/what-if",
        data={"line-1-units": "3"},
        headers={"X-CSRF-Token": token},
    )
    assert answer.status_code == 200
    body = orjson.loads(answer.content)
    assert 0.0 <= body["risk"] <= 1.0 and isinstance(body["problems"], list)
    assert 'data-revision="1"' in web_client.get(f"/app/claims/{claim_id}").text


def test_web_queue_problem_count_equals_the_claim_pages_problems(web_client: TestClient, signed_in: Any) -> None:
    signed_in(web_client, "bo")
    queue = web_client.get("/app/").text
    rows = re.findall(r'data-claim-id="([^"]+)".*?<td class="num">(\d+)</td>\s*<td><span class="status', queue, re.S)
    assert len(rows) == 50
    for claim_id, count in rows[:10]:
        page = web_client.get(f"/app/claims/{claim_id}").text
        assert page.count("data-rule-id=") == int(count), claim_id
