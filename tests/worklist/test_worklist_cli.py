"""``claimrisk users ...`` and ``claimrisk queue ...`` through the real argument parser, on SQLite,
with the champion loaded from a models folder the way ``claimrisk score`` loads it."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pandas as pd
import pytest

from claimrisk.cli import main
from tests.worklist.test_worklist_api import models_dir  # noqa: F401 - the exported fixture model

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "models"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, models_dir: Path) -> str:  # noqa: F811
    url = f"sqlite:///{tmp_path / 'worklist.db'}"
    monkeypatch.setenv("CLAIMRISK_DATABASE_URL", url)
    monkeypatch.setenv("CLAIMRISK_MODELS_DIR", str(models_dir))
    return url


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))


def test_users_commands(env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _stdin(monkeypatch, "correct horse battery\n")
    assert main(["users", "add", "admin", "--role", "admin", "--password-stdin"]) == 0
    _stdin(monkeypatch, "correct horse battery\n")
    assert main(["users", "add", "admin", "--role", "admin", "--password-stdin"]) == 2  # taken
    _stdin(monkeypatch, "short\n")
    assert main(["users", "add", "bo", "--role", "biller", "--password-stdin"]) == 2  # too short
    capsys.readouterr()
    assert main(["users", "token", "admin"]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("crk_")
    _stdin(monkeypatch, "another long password\n")
    assert main(["users", "password", "admin", "--password-stdin"]) == 0
    assert main(["users", "disable", "admin"]) == 0
    assert main(["users", "list"]) == 0
    out = capsys.readouterr()
    assert "admin\tadmin\tyes" in out.out
    assert "horse" not in out.out + out.err and token not in out.err  # passwords never printed

    from worklist.db import open_store
    from worklist.errors import AuthenticationFailed
    from worklist.users import authenticate_token

    store = open_store(env)
    with store.session() as db, pytest.raises(AuthenticationFailed):
        authenticate_token(db, token)  # disabled: the token stopped working
    store.dispose()


def test_queue_commands(env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    claims = FIXTURES / "pre-wave2-claims.jsonl"
    assert main(["queue", "import", "--input", str(claims)]) == 0
    assert main(["queue", "import", "--input", str(claims)]) == 0
    assert "0 new" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(claims.read_bytes().splitlines(keepends=True)[0] + b"{broken\n")
    assert main(["queue", "import", "--input", str(bad)]) == 1
    assert "bad.jsonl" in capsys.readouterr().err
    assert main(["queue", "export", "--output", str(tmp_path / "queue.parquet")]) == 0
    assert len(pd.read_parquet(tmp_path / "queue.parquet")) == 200
    assert main(["queue", "export", "--output", str(tmp_path / "q.csv"), "--status", "ready"]) == 0
    assert len(pd.read_csv(tmp_path / "q.csv")) == 0
    assert main(["queue", "export", "--output", str(tmp_path / "new.jsonl"), "--status", "new"]) == 0
    assert len((tmp_path / "new.jsonl").read_bytes().splitlines()) == 200
    assert main(["queue", "export", "--output", str(tmp_path / "x.txt")]) == 2  # unknown format
    assert main(["queue", "rescore"]) == 0
    assert "200 already scored" in capsys.readouterr().err
    assert main(["queue", "import", "--input", str(tmp_path / "missing.jsonl")]) == 2


def test_queue_import_without_a_model_cannot_run(env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CLAIMRISK_MODELS_DIR", str(tmp_path / "no-models"))
    assert main(["queue", "import", "--input", str(FIXTURES / "pre-wave2-claims.jsonl")]) == 2
    assert "error" in capsys.readouterr().err
