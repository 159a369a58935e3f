"""The ``--x12`` copy of a history: claims.837 and remits.835 through the project's own writers.

The JSONL files are the source: they are streamed back and handed to ``edi.writer`` so the X12
files hold exactly the same records (the edi readers turn them back into identical ones) and
memory stays flat however long the history is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from claims.model import Claim
from edi.writer import write_835, write_837
from synthetic.history import CLAIMS_X12, REMITS_X12

# ISA/GS "time of writing": fixed so that the same seed gives byte-identical X12 files.
WRITTEN_AT = dt.datetime(2026, 4, 1, 12, 0)


def _records(path: Path) -> Iterator[dict[str, Any]]:
    with open(path, "rb") as handle:
        for line in handle:
            yield orjson.loads(line)


def write_x12(claims_path: Path, remits_path: Path, out: Path) -> None:
    write_837((Claim.model_validate(record) for record in _records(claims_path)), out / CLAIMS_X12, now=WRITTEN_AT)
    write_835(_records(remits_path), out / REMITS_X12, now=WRITTEN_AT)
