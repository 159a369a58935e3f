"""The model and worklist store shared by the web application's tests and the browser tests.

Both run the application on the real trained fixture model (``tests/data/models/pre-wave2.joblib``)
exported the way ``claimrisk train --promote`` exports one, so the app's own model store verifies
and loads it, and on a SQLite worklist store filled with the 200 fixture claims through the import
service. Filling scores every claim, so it happens once per session and each test works on its own
copy (tests change claims). ``tests/web/conftest.py`` (TestClient) and ``tests/browser/conftest.py``
(a real server) import these fixtures.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from benchmarks.web_setup import export_fixture_model, fill_store


@pytest.fixture(scope="session")
def web_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_fixture_model(tmp_path_factory.mktemp("web-models"))


@pytest.fixture(scope="session")
def filled_db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("web-db") / "worklist.db"
    fill_store(f"sqlite:///{path}")
    return path


def store_copy(template: Path, tmp_path: Path) -> str:
    """The URL of a private copy of the filled store for one test."""
    target = tmp_path / "worklist.db"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"
