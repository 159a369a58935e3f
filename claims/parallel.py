"""How many worker processes a command may use to read and process one large file in parts.

``check`` and ``score`` split a big JSONL file into byte ranges that end at line ends
(``claims.jsonl.jsonl_parts``); each part is read and processed in its own process, and the parts'
results are put back in file order. One process per usable core, capped at eight: beyond that
the parent's merge dominates.
"""

from __future__ import annotations

import os

from claims.errors import InputError

MAX_WORKERS = 8


def usable_cores() -> int:
    """Cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def worker_count(env: str) -> int:
    """``$env`` when set (0 or 1: one process), else the usable cores, at most ``MAX_WORKERS``."""
    raw = os.environ.get(env, "").strip()
    if raw:
        try:
            return max(1, int(raw))
        except ValueError:
            raise InputError(f"{env} must be a whole number, not {raw!r}") from None
    return max(1, min(usable_cores(), MAX_WORKERS))
