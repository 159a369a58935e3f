"""Input dispatch: claims and remittances from a path, whatever format each file is in.

It sits above ``claims`` (the model, JSONL, the columnar form) and ``edi`` (X12) because it needs
both readers; keeping it out of ``claims`` lets ``claims`` import neither ``edi`` nor ``reference``.
"""

from inputs.sources import (
    ClaimReadResult,
    FileFormat,
    RemitReadResult,
    input_files,
    load_claims,
    load_remits,
    sniff_format,
)

__all__ = [
    "ClaimReadResult",
    "FileFormat",
    "RemitReadResult",
    "input_files",
    "load_claims",
    "load_remits",
    "sniff_format",
]
