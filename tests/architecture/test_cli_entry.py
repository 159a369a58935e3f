"""The command's entry points: ``python -m claimrisk`` and the installed script both go through
``claimrisk.cli.run`` (``main``, then a cheap interpreter exit) and keep ``main``'s exit codes."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_installed_script_is_run() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["claimrisk"] == "claimrisk.cli:run"


def test_python_m_claimrisk_exits_with_the_command_code(tmp_path: Path) -> None:
    missing = tmp_path / "missing.jsonl"
    failed = subprocess.run(
        [sys.executable, "-m", "claimrisk", "check", "--input", str(missing), "--output", str(tmp_path / "o.jsonl")],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )
    assert failed.returncode == 2, failed.stderr
    assert "claimrisk check: error:" in failed.stderr
    done = subprocess.run([sys.executable, "-m", "claimrisk", "--version"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("claimrisk ")
