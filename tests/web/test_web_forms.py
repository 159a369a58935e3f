"""The sign-in, password and user forms (``serving.web.forms``): what each answers for a good form,
a missing or empty field, an over-long one, and fields the model does not name."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.web.conftest import csrf_of


def _admin(client: TestClient, signed_in: Any) -> str:
    assert signed_in(client, "ada").status_code == 303
    return csrf_of(client.get("/app/admin/users").text)


def _problems(answer: Any) -> list[tuple[str, str]]:
    assert answer.status_code == 422, answer.status_code
    body = answer.json()
    assert all(set(item) == {"loc", "msg", "type"} for item in body["detail"])  # the values are never echoed
    return [(item["loc"][-1], item["type"]) for item in body["detail"]]


def test_web_user_forms_create_reset_and_set_roles(web_client: TestClient, signed_in: Any) -> None:
    token = _admin(web_client, signed_in)
    form = {"name": "cy", "role": "biller", "password": "a long enough pass", "csrf_token": token}
    created = web_client.post("/app/admin/users", data=form)
    assert created.status_code == 303 and created.headers["location"].startswith("/app/admin/users")
    assert "cy" in web_client.get("/app/admin/users").text
    reset = web_client.post("/app/admin/users/cy/password", data={"password": "another long pass", "csrf_token": token})
    assert reset.status_code == 303
    role = web_client.post("/app/admin/users/cy/role", data={"role": "analyst", "csrf_token": token})
    assert role.status_code == 303
    taken = web_client.post("/app/admin/users", data=form)  # a service refusal is a flash, not a 422
    assert taken.status_code == 303


def test_web_user_forms_refuse_missing_empty_and_over_long_fields(web_client: TestClient, signed_in: Any) -> None:
    token = _admin(web_client, signed_in)
    form = {"name": "dee", "role": "biller", "csrf_token": token}
    assert _problems(web_client.post("/app/admin/users", data=form)) == [("password", "missing")]
    assert _problems(web_client.post("/app/admin/users", data={**form, "password": ""})) == [("password", "missing")]
    long_name = {**form, "name": "n" * 81, "password": "p" * 1025}
    assert _problems(web_client.post("/app/admin/users", data=long_name)) == [
        ("name", "string_too_long"), ("password", "string_too_long")
    ]
    role = web_client.post("/app/admin/users/bo/role", data={"role": "r" * 17, "csrf_token": token})
    assert _problems(role) == [("role", "string_too_long")]


def test_web_password_change_form(web_client: TestClient, signed_in: Any) -> None:
    assert signed_in(web_client, "bo").status_code == 303
    token = csrf_of(web_client.get("/app/account/password").text)
    form = {"current": "staple battery horse", "new": "a new long password", "csrf_token": token}
    differ = web_client.post("/app/account/password", data={**form, "repeat": "something else entirely"})
    assert differ.status_code == 422 and "differ" in differ.text
    assert _problems(web_client.post("/app/account/password", data={**form, "repeat": ""})) == [("repeat", "missing")]
    changed = web_client.post("/app/account/password", data={**form, "repeat": form["new"]})
    assert changed.status_code == 303


def test_web_sign_in_with_empty_fields_is_a_failed_sign_in(web_client: TestClient) -> None:
    token = csrf_of(web_client.get("/app/login").text)
    empty = web_client.post("/app/login", data={"username": "", "password": "", "next": "", "csrf_token": token})
    assert empty.status_code == 401  # one message for every failure, not a 422 naming the field
    long = web_client.post("/app/login", data={"username": "u" * 81, "password": "x", "csrf_token": token})
    assert _problems(long) == [("username", "string_too_long")]
