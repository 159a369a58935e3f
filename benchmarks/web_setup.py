"""A real worklist web server for the browser tests and the web benchmark.

Both need the same three things: the trained fixture model exported the way ``claimrisk train
--promote`` exports one (joblib + metadata with its sha256, so the server verifies it), a worklist
store with users of every role and scored claims, and ``claimrisk serve`` on a free loopback port
(one worker or several sharing the store). Nothing here is a stand-in: the server is the shipped
command, the claims are scored by the real model through the import service.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "data" / "models"
FIXTURE_CLAIMS = FIXTURES / "pre-wave2-claims.jsonl"
PASSWORDS = {"ada": "correct horse battery", "bo": "staple battery horse", "al": "analyst horse battery"}
ROLES = {"ada": "admin", "bo": "biller", "al": "analyst"}
CHROMIUM = Path("/usr/bin/chromium")  # Debian's package (make system-deps); never `playwright install`
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
]


def export_fixture_model(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(FIXTURES / "pre-wave2.joblib", folder / "claimrisk.joblib")
    digest = hashlib.sha256((folder / "claimrisk.joblib").read_bytes()).hexdigest()
    (folder / "claimrisk.json").write_text(json.dumps({"model_version": "pre-wave2", "sha256": digest}))
    return folder


def fill_store(url: str, claims: Path = FIXTURE_CLAIMS) -> None:
    """Users of every role (``PASSWORDS``) and ``claims`` imported and scored by the real model."""
    import joblib

    from serving.scorer import Scorer, load_rule_context
    from worklist.db import open_store
    from worklist.importing import import_path
    from worklist.users import add_user

    store = open_store(url)
    try:
        with store.session() as db:
            users = {name: add_user(db, None, name, ROLES[name], pw) for name, pw in PASSWORDS.items()}
            model = joblib.load(FIXTURES / "pre-wave2.joblib")
            scorer = Scorer(model, metadata={"model_version": "pre-wave2"}, context=load_rule_context())
            import_path(db, claims, scorer, users["ada"])
    finally:
        store.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class WebServer:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


def start_web_server(models_dir: Path, database_url: str, log_path: Path, workers: int = 1, **env: str) -> WebServer:
    """``claimrisk serve`` on a free loopback port, ready (``/readyz`` 200) when returned."""
    port = free_port()
    environment = {
        **os.environ,
        "CLAIMRISK_MODELS_DIR": str(models_dir),
        "CLAIMRISK_DATABASE_URL": database_url,
        "CLAIMRISK_RELOAD_POLL_SECONDS": "0",
        "OMP_NUM_THREADS": "1",
        **env,
    }
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "claimrisk", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
        env=environment, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60 * workers
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log_path.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return WebServer(url, process, log_path)
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"server not ready: {log_path.read_text(errors='replace')[-2000:]}")
