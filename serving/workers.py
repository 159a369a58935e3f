"""What the uvicorn worker processes of one ``claimrisk serve`` share: a reload notice.

Each worker is a separate process with its own copy of the model, so a ``POST /v1/admin/reload``
answered by one worker must reach the others. After a successful load that worker publishes a
notice (its pid and a timestamp) to a small file in a folder private to this server; every worker
polls the file a few times a second and loads the promoted model when the notice changes, so the
whole server follows within about ``NOTICE_POLL_SECONDS`` plus one model load. Each worker still
watches the export on its own as well (``CLAIMRISK_RELOAD_POLL_SECONDS``), so a promotion is
picked up without any call; the notice is what makes the reload call work for the MLflow registry
source and with that watch turned off.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

# Set by ``claimrisk serve`` for its workers (an internal hand-over, not an operator setting).
RELOAD_NOTICE_ENV = "CLAIMRISK_RELOAD_NOTICE"
NOTICE_POLL_SECONDS = 0.25


class ReloadNotice:
    """One small file: whoever replaces its content asks every other worker to reload."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen = self._read()

    def _read(self) -> str | None:
        try:
            return self.path.read_text(encoding="ascii")
        except OSError:
            return None

    def publish(self) -> None:
        text = f"{os.getpid()} {time.time_ns()}"
        scratch = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        scratch.write_text(text, encoding="ascii")
        os.replace(scratch, self.path)  # atomic: a reader sees the old notice or the new one
        self._seen = text

    def received(self) -> bool:
        """True once per notice published by another worker since the last call."""
        text = self._read()
        if text is None or text == self._seen:
            return False
        self._seen = text
        return True


def reload_notice_from_env() -> ReloadNotice | None:
    path = os.environ.get(RELOAD_NOTICE_ENV)
    return ReloadNotice(Path(path)) if path else None
