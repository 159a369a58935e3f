from __future__ import annotations

from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "x12"


@pytest.fixture
def samples() -> Path:
    return SAMPLES
