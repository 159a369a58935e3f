"""A session signed in on one worker process holds on the others (``claimrisk serve --workers 2``).

The cookie is signed with the secret the store keeps (CLAIMRISK_SESSION_SECRET unset), so any
worker can check it. Each request goes out on a fresh browser context (a new connection) carrying
the signed-in cookies; the kernel spreads new connections over both workers' ``SO_REUSEPORT``
sockets by their source port, so if a worker could not read the other's session, one of the 16
requests would land on sign-in with probability 1 - 2**-15.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks.web_setup import start_web_server

pytestmark = pytest.mark.slow


def test_browser_session_holds_across_worker_processes(
    chromium: Any, web_models_dir: Path, database_url: str, tmp_path: Path, signed_in_as: Any
) -> None:
    server = start_web_server(web_models_dir, database_url, tmp_path / "two.log", workers=2)
    try:
        first = chromium.new_context(viewport={"width": 1366, "height": 768})
        page = first.new_page()
        signed_in_as(page, server.url, "bo")
        assert page.get_by_role("heading", name="Queue").is_visible()
        state = first.storage_state()
        first.close()
        for _ in range(16):
            context = chromium.new_context(storage_state=state)
            try:
                answer = context.new_page().goto(f"{server.url}/app/")
                assert answer is not None and answer.status == 200
                assert answer.url.endswith("/app/"), "a worker did not accept the session"
            finally:
                context.close()
    finally:
        server.stop()
