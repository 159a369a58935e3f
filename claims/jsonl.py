"""Contract claims from JSONL at Arrow speed, with exactly pydantic's verdicts.

The pieces: ``claims.model_spec`` (the model as data), ``claims.vector_checks`` (its constraints
on whole columns), ``claims.arrow_lines`` (chunks of lines, the Arrow parse, doubtful lines set
aside), ``claims.arrow_frame`` (table -> ``ClaimFrame``) and ``claims.records`` (one record at a
time with pydantic). This module puts them together per file, per byte range of a file (parallel
readers) and per in-memory batch, and keeps the plain pydantic reader the others must reproduce.
"""

from __future__ import annotations

import datetime as dt
import mmap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from claims.arrow_frame import frame_from_table
from claims.arrow_lines import (
    CHUNK_BYTES,
    UTF8_BOM,
    ChunkLines,
    JsonlShape,
    is_blank,
    line_chunks,
    mapped_chunks,
    require_file,
    split_chunk,
)
from claims.columnar import ClaimFrame, from_claims
from claims.errors import RecordError
from claims.model import Claim
from claims.model_spec import CLAIM_SCHEMA
from claims.records import claim_from_json, claim_from_object, validation_reason
from claims.vector_checks import line_count_fails, parse_iso_dates


@dataclass(frozen=True)
class ClaimReadResult:
    """Claims read from one or more files.

    ``positions`` is the 1-based record number in its file per claim (the line for JSONL);
    ``sources`` the file name per claim (object array), so a claim can always be traced back.
    """

    frame: ClaimFrame
    errors: list[RecordError]
    positions: np.ndarray
    sources: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=object))

    @staticmethod
    def concat(results: Sequence[ClaimReadResult]) -> ClaimReadResult:
        if not results:
            return ClaimReadResult(ClaimFrame.empty(), [], np.empty(0, dtype=np.int64))
        if len(results) == 1:  # one file: nothing to join (a copy of every column otherwise)
            return results[0]
        return ClaimReadResult(
            frame=ClaimFrame.concat([r.frame for r in results]),
            errors=[e for r in results for e in r.errors],
            positions=np.concatenate([r.positions for r in results]).astype(np.int64, copy=False),
            sources=np.concatenate([r.sources for r in results]).astype(object, copy=False),
        )



CLAIM_SHAPE = JsonlShape.of(Claim, extra_check=line_count_fails)


class _ClaimCollector:
    """Claims of one file as its chunks are read: each chunk's Arrow table becomes a frame at once
    (holding tables to convert them in larger batches was measured 13 % slower on bench_claims and
    was removed), claims pydantic had to judge are kept as objects; ``result`` puts both back into
    file order."""

    def __init__(self, source: str, today: dt.date) -> None:
        self.source = source
        self.today = today
        self.frames: list[ClaimFrame] = []
        self.positions: list[np.ndarray] = []
        self.claims: list[Claim] = []
        self.claim_positions: list[int] = []
        self.errors: list[RecordError] = []

    def add(self, chunk: ChunkLines) -> None:
        table, table_lines, one_by_one = split_chunk(chunk, CLAIM_SHAPE)
        if table is not None and table.num_rows:
            self.frames.append(frame_from_table(table, self.today))
            self.positions.append(chunk.numbers[table_lines])
        for index in one_by_one:
            number = int(chunk.numbers[index])
            result = claim_from_json(chunk.raw(int(index)), source=self.source, position=f"line {number}")
            if isinstance(result, RecordError):
                self.errors.append(result)
            else:
                self.claims.append(result)
                self.claim_positions.append(number)

    def result(self) -> ClaimReadResult:
        frames, positions = self.frames, self.positions
        if self.claims:
            frames = [*frames, from_claims(self.claims)]
            positions = [*positions, np.asarray(self.claim_positions, dtype=np.int64)]
        if not frames:
            return _result(ClaimFrame.empty(), self.errors, np.empty(0, dtype=np.int64), self.source)
        frame = frames[0] if len(frames) == 1 else ClaimFrame.concat(frames)
        where = positions[0] if len(positions) == 1 else np.concatenate(positions)
        if self.claims and where.size > 1 and np.any(where[1:] < where[:-1]):
            order = np.argsort(where, kind="stable")
            frame, where = frame.take(order), where[order]
        return _result(frame, self.errors, where, self.source)


def read_claims_jsonl(path: Path, *, chunk_bytes: int = CHUNK_BYTES) -> ClaimReadResult:
    """Claims of a JSONL file (one claim per line; blank lines skipped) in file order.

    Accepts and rejects exactly what ``Claim.model_validate`` does, with the same values; a record
    that cannot be read becomes a ``RecordError`` (``line N``) and the others still go through."""
    path = Path(path)
    require_file(path)
    collector = _ClaimCollector(path.name, dt.date.today())
    for chunk in line_chunks(path, chunk_bytes):
        collector.add(chunk)
    return collector.result()


def read_claims_jsonl_bytes(data: bytes, *, source: str = "request") -> ClaimReadResult:
    """``read_claims_jsonl`` of JSONL already in memory (an API batch), without a file between:
    the same checks, values and ``line N`` errors."""
    if not data.endswith(b"\n"):
        data += b"\n"
    collector = _ClaimCollector(source, dt.date.today())
    collector.add(ChunkLines.split(data, 0))
    return collector.result()


def jsonl_cuts(path: Path, n_parts: int) -> list[int]:
    """Byte offsets splitting a JSONL file into about ``n_parts`` ranges at line ends: ``[0, ...,
    size]``, ``[0, 0]`` for an empty file. A few ``find`` calls: cheap, unlike counting lines."""
    path = Path(path)
    require_file(path)
    size = path.stat().st_size
    if size == 0:
        return [0, 0]
    with path.open("rb") as handle:
        data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        cuts = [0]
        for k in range(1, max(1, n_parts)):
            target = max(size * k // n_parts, cuts[-1])
            newline = data.find(b"\n", target)
            if newline < 0 or newline + 1 >= size:
                break
            if newline + 1 > cuts[-1]:
                cuts.append(newline + 1)
        cuts.append(size)
        return cuts
    finally:
        data.close()


def numbered_parts(path: Path, cuts: list[int]) -> Iterator[tuple[int, int, int]]:
    """(start, stop, lines before start) for each range of ``cuts``, counting each range's lines
    only after yielding it: handed to ``Pool.imap``, the first part is being read by a worker while
    the newlines before the next ones are still being counted (NumPy, a block at a time, on the
    memory-mapped file: a quarter of the cost of reading it into one bytes object)."""
    if cuts[-1] == 0:
        yield (0, 0, 0)
        return
    with Path(path).open("rb") as handle:
        data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        lines_before = 0
        for start, stop in zip(cuts[:-1], cuts[1:], strict=True):
            yield (start, stop, lines_before)
            lines_before += _count_newlines(data, start, stop)
    finally:
        data.close()


def _count_newlines(data: mmap.mmap, start: int, stop: int, block: int = 16 << 20) -> int:
    count = 0
    for offset in range(start, stop, block):
        view = np.frombuffer(data, dtype=np.uint8, count=min(block, stop - offset), offset=offset)
        count += int(np.count_nonzero(view == 10))
        del view  # no export left behind: the map can be closed
    return count


def read_claims_jsonl_part(
    path: Path, start: int, stop: int, lines_before: int, *, today: dt.date | None = None,
    chunk_bytes: int = CHUNK_BYTES,
) -> ClaimReadResult:
    """``read_claims_jsonl`` restricted to bytes ``start:stop`` (from :func:`numbered_parts`), with
    line numbers counted from ``lines_before``. The parts of a file, concatenated in order, give
    exactly what ``read_claims_jsonl`` gives for the whole file (with the same ``today``)."""
    path = Path(path)
    require_file(path)
    collector = _ClaimCollector(path.name, today or dt.date.today())
    for chunk in mapped_chunks(path, start, min(stop, path.stat().st_size), lines_before, chunk_bytes):
        collector.add(chunk)
    return collector.result()




def _line_chunks(path: Path, chunk_bytes: int) -> Iterator[tuple[int, bytes]]:
    """(number of lines before the chunk, chunk of whole lines ending in a newline)."""
    lines_before = 0
    carry = b""
    first = True
    with path.open("rb") as handle:
        while True:
            block = handle.read(chunk_bytes)
            if first:
                first = False
                if block.startswith(UTF8_BOM):
                    block = block[len(UTF8_BOM) :]
            if not block:
                if carry:
                    yield lines_before, carry + b"\n"
                return
            data = carry + block if carry else block
            cut = data.rfind(b"\n")
            if cut < 0:
                carry = data
                continue
            chunk, carry = data[: cut + 1], data[cut + 1 :]
            yield lines_before, chunk
            lines_before += chunk.count(b"\n")


def read_claims_jsonl_pydantic(path: Path) -> ClaimReadResult:
    """The reference reader: orjson + ``Claim.model_validate`` + ``from_claims`` per record.

    Kept public because it defines what the Arrow path must reproduce (tests compare the two) and
    because the benchmark measures against it."""
    path = Path(path)
    require_file(path)
    source = path.name
    claims: list[Claim] = []
    positions: list[int] = []
    errors: list[RecordError] = []
    for lines_before, chunk in _line_chunks(path, CHUNK_BYTES):
        for offset, raw in enumerate(chunk.split(b"\n")[:-1], start=lines_before + 1):
            if is_blank(raw):
                continue
            result = claim_from_json(raw, source=source, position=f"line {offset}")
            if isinstance(result, RecordError):
                errors.append(result)
            else:
                claims.append(result)
                positions.append(offset)
    return _result(from_claims(claims), errors, np.asarray(positions, dtype=np.int64), source)


def _result(
    frame: ClaimFrame, errors: list[RecordError], positions: np.ndarray, source: str
) -> ClaimReadResult:
    sources = np.empty(frame.n_claims, dtype=object)
    sources[:] = source
    return ClaimReadResult(frame, errors, positions, sources)



__all__ = [
    "CHUNK_BYTES",
    "CLAIM_SCHEMA",
    "ClaimReadResult",
    "claim_from_json",
    "claim_from_object",
    "frame_from_table",
    "jsonl_cuts",
    "line_chunks",
    "numbered_parts",
    "parse_iso_dates",
    "read_claims_jsonl",
    "read_claims_jsonl_bytes",
    "read_claims_jsonl_part",
    "read_claims_jsonl_pydantic",
    "validation_reason",
]
