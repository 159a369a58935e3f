"""Progress bars for the long steps, shown only to a person at a terminal.

When stderr is not a TTY (CI, cron, a pipe into a log) the bars are silent, so logs hold the
summary lines and not thousands of carriage returns.
"""

from __future__ import annotations

import sys
from typing import Any

from tqdm.auto import tqdm


def interactive() -> bool:
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def bar(total: int | None = None, desc: str = "", unit: str = "it", **kwargs: Any) -> Any:
    """A tqdm bar on stderr, disabled when nobody is watching."""
    return tqdm(
        total=total, desc=desc, unit=unit, disable=not interactive(), leave=False, file=sys.stderr, **kwargs
    )


def note(message: str) -> None:
    """A one-line status on stderr (not claim content)."""
    sys.stderr.write(f"claimrisk train: {message}\n")
    sys.stderr.flush()
