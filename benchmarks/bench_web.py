"""Web application benchmark: queue page, claim page and what-if server times; first render in Chromium.

A store of 100,000 synthetic claims (``CI=true``: 5,000) is imported the way ``bench_worklist``
imports it, then the pages are requested through the real app in-process (server time: routing,
session check, service queries, template rendering) and, when Chromium is installed, the queue
page's first render is timed in the browser against ``claimrisk serve``.
Targets (issue 20): queue page p95 <= 100 ms, first render <= 1 s, claim page and what-if <= 100 ms.

Run: ``.venv/bin/python -m benchmarks.bench_web``.
"""

from __future__ import annotations

import os
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.bench_worklist import N_CLAIMS, _history, bench_import
from benchmarks.web_setup import CHROMIUM, CHROMIUM_ARGS, PASSWORDS, export_fixture_model, start_web_server

REPEATS = 15 if os.environ.get("CI", "").lower() == "true" else 40
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _timed(call: Callable[[], Any], repeats: int = REPEATS) -> dict[str, float]:
    call()  # warm
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        answer = call()
        times.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, answer.status_code
    times.sort()
    return {"median_ms": statistics.median(times), "p95_ms": times[int(0.95 * (len(times) - 1))]}


def _add_biller(url: str) -> None:
    from worklist.db import open_store
    from worklist.users import add_user

    store = open_store(url)
    with store.session() as db:
        add_user(db, None, "bo", "biller", PASSWORDS["bo"])
    store.dispose()


def bench_server(url: str, models: Path) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from serving.app import create_app
    from serving.config import Settings

    os.environ["CLAIMRISK_DATABASE_URL"] = url
    with TestClient(create_app(Settings(models_dir=models, reload_poll_seconds=0, access_log=False))) as client:
        token = CSRF.search(client.get("/app/login").text).group(1)  # type: ignore[union-attr]
        client.post("/app/login", data={"username": "bo", "password": PASSWORDS["bo"], "csrf_token": token})
        queue = client.get("/app/").text
        claim_id = re.search(r'data-claim-id="([^"]+)"', queue).group(1)  # type: ignore[union-attr]
        page = client.get(f"/app/claims/{claim_id}").text
        token = CSRF.search(page).group(1)  # type: ignore[union-attr]
        return {
            "queue_page": _timed(lambda: client.get("/app/")),
            "queue_page_status_filter": _timed(lambda: client.get("/app/?status=new")),
            "queue_page_status_filter_sorted_by_risk": _timed(lambda: client.get("/app/?status=new&sort=risk")),
            "claim_page": _timed(lambda: client.get(f"/app/claims/{claim_id}")),
            "what_if": _timed(lambda: client.post(f"/app/claims/{claim_id}/what-if", data={"line-0-units": "2"},
                                                  headers={"X-CSRF-Token": token})),
        }


def bench_first_render(url: str, models: Path, work: Path) -> dict[str, Any]:
    """Navigation start to the load event of the queue page in headless Chromium (median of 5)."""
    if not Path("/usr/bin/chromium").is_file():
        return {"skipped": "no /usr/bin/chromium (make system-deps)"}
    from playwright.sync_api import sync_playwright

    server = start_web_server(models, url, work / "server.log", workers=1)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
            page.goto(f"{server.url}/app/login")
            page.fill("#username", "bo")
            page.fill("#password", PASSWORDS["bo"])
            page.click("button[type=submit]")
            page.wait_for_selector("tr[data-claim-id]")
            times = []
            for _ in range(5):
                page.goto(f"{server.url}/app/")
                times.append(page.evaluate(
                    "() => { const n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd - n.startTime; }"
                ))
            browser.close()
    finally:
        server.stop()
    return {"median_ms": statistics.median(times), "max_ms": max(times)}


def main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-web-") as folder:
        work = Path(folder)
        url = f"sqlite:///{work / 'worklist.db'}"
        imported = bench_import(_history(work), url)
        _add_biller(url)
        models = export_fixture_model(work / "models")
        result: dict[str, Any] = {"claims": N_CLAIMS, "imported": imported.get("new")}
        result |= bench_server(url, models)
        result["first_render"] = bench_first_render(url, models, work)
    for name, value in result.items():
        print(f"{name}: {value}", flush=True)  # noqa: T201 - a benchmark reports on stdout
    return result


if __name__ == "__main__":
    main()
