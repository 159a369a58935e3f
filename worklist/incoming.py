"""Claims on their way into the queue: read, canonicalised, hashed, with the columns the queue keeps.

``IncomingClaims`` is everything ``worklist.importing`` needs to store a file's claims, in source
order, as plain columns: each claim's canonical content and its sha256 (how an unchanged re-import
is recognised), where it came from, the queue's filter and sort columns (``claim_facts``), and
either the frame still to be scored or the scores already computed.

A large JSONL file is read and scored in parts by worker processes forked after the model is
loaded (``claims.parallel.map_parts``, the helper ``claimrisk check`` and ``score`` use too):
reading, canonical JSON and scoring are most of an import's work and claims are independent, while
the store has one writer, so each worker hands back a part's columns and scores and the parent
only decides new/revised/unchanged and inserts. The frame stays in the worker (it is large to
pickle and the parent needs only columns). Every part reads with the same ``today``, and a claim
scores the same whichever batch it is in (the vectorized-vs-single-claim tests), so the stored
rows are the ones one process stores.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from claims import parallel
from claims.arrow_lines import UTF8_BOM
from claims.charges import total_charges
from claims.columnar import ClaimFrame, from_claims
from claims.errors import InputError, RecordError
from claims.model import Claim
from edi.claims837 import iter_837
from inputs import FileFormat, input_files, load_claims, sniff_format
from worklist.content import canonical_raw, claim_content, claim_facts, sha256
from worklist.scoring import ClaimScorer, ScoreBatch, score_batch

WORKERS_ENV = "CLAIMRISK_IMPORT_WORKERS"
# Parts of about this size (~7,000 claims): small enough that the parent starts inserting soon
# after the workers start, large enough that a part's model call amortises its overhead.
PART_BYTES = 8 << 20
FACT_COLUMNS = ("claim_type", "payer_id", "payer_type", "submission_date", "filing_deadline", "total_charge")


@dataclass(frozen=True)
class IncomingClaims:
    """Claims to import, in source order, as columns; ``frame`` is what to score when ``scores``
    (every claim's, computed by a worker) is None; ``errors`` are the records that could not be read."""

    claim_ids: list[str]
    contents: list[bytes]
    hashes: list[str]
    sources: list[str]
    positions: list[int]
    facts: dict[str, list[Any]]
    frame: ClaimFrame | None = None
    scores: ScoreBatch | None = None
    errors: list[RecordError] = field(default_factory=list)

    @property
    def n_claims(self) -> int:
        return len(self.claim_ids)

    @staticmethod
    def concat(parts: Sequence[IncomingClaims]) -> IncomingClaims:
        """Unscored parts one after the other (the files of a folder, in name order)."""
        if len(parts) == 1:
            return parts[0]
        frames = [p.frame for p in parts if p.frame is not None]
        return IncomingClaims(
            claim_ids=[c for p in parts for c in p.claim_ids],
            contents=[c for p in parts for c in p.contents],
            hashes=[h for p in parts for h in p.hashes],
            sources=[s for p in parts for s in p.sources],
            positions=[n for p in parts for n in p.positions],
            facts={name: [v for p in parts for v in p.facts[name]] for name in FACT_COLUMNS},
            frame=ClaimFrame.concat(frames),
            errors=[e for p in parts for e in p.errors],
        )


def incoming(
    frame: ClaimFrame, contents: list[bytes], sources: list[str], positions: list[int], errors: list[RecordError]
) -> IncomingClaims:
    """The columns of a read frame whose claims' canonical contents are ``contents``."""
    facts = claim_facts(frame)
    columns = {
        "claim_type": facts.claim_type.tolist(),
        "payer_id": facts.payer_id.tolist(),
        "payer_type": facts.payer_type.tolist(),
        "submission_date": facts.submission_date,
        "filing_deadline": facts.filing_deadline,
        "total_charge": total_charges(frame).tolist(),
    }
    return IncomingClaims(
        claim_ids=[str(c) for c in frame.claim_ids.tolist()],
        contents=contents,
        hashes=[sha256(c) for c in contents],
        sources=sources,
        positions=positions,
        facts=columns,
        frame=frame,
        errors=errors,
    )


def _contents_of_lines(data: bytes, positions: list[int], lines_before: int) -> list[bytes]:
    """Canonical content of the records at ``positions`` (line numbers) of ``data``, whose first
    line is line ``lines_before + 1``; the reader has already validated each of them."""
    lines = data.removeprefix(UTF8_BOM).split(b"\n") if lines_before == 0 else data.split(b"\n")
    return [canonical_raw(lines[p - lines_before - 1]) for p in positions]


def _jsonl_incoming(file: Path) -> IncomingClaims:
    result = load_claims(file)
    positions = result.positions.tolist()
    contents = _contents_of_lines(file.read_bytes(), positions, 0)
    return incoming(result.frame, contents, [file.name] * len(positions), positions, list(result.errors))


def _x12_incoming(file: Path) -> IncomingClaims:
    claims: list[Claim] = []
    positions: list[int] = []
    errors: list[RecordError] = []
    for number, item in enumerate(iter_837(file), start=1):
        if isinstance(item, RecordError):
            errors.append(item)
        else:
            claims.append(item)
            positions.append(number)
    return replace(incoming_from_claims(claims, source=file.name, positions=positions), errors=errors)


def read_incoming(path: Path) -> IncomingClaims:
    """Claims of a JSONL or X12 837 file, or of every file in a folder (sorted by name)."""
    parts: list[IncomingClaims] = []
    for file in input_files(Path(path)):
        found = sniff_format(file)
        if found is None:
            raise InputError(f"{file}: unknown format for claims (expected JSONL or X12)")
        parts.append(_jsonl_incoming(file) if found is FileFormat.JSONL else _x12_incoming(file))
    return IncomingClaims.concat(parts)


def incoming_from_claims(
    claims: Sequence[Claim], *, source: str = "request", positions: Sequence[int] | None = None
) -> IncomingClaims:
    """Validated claim objects (an API body, an 837) as an import."""
    where = list(positions) if positions is not None else list(range(1, len(claims) + 1))
    return incoming(from_claims(list(claims)), [claim_content(c) for c in claims], [source] * len(claims), where, [])


# ---- parts in worker processes ---------------------------------------------------------------


def parallel_file(path: Path, workers: int) -> Path | None:
    """The one large JSONL file worth reading in parts by ``workers`` processes, else None (a
    folder, an 837, a small file, one worker, or no ``fork`` on this platform)."""
    files = input_files(Path(path))
    if workers < 2 or len(files) != 1 or "fork" not in multiprocessing.get_all_start_methods():
        return None
    file = files[0]
    if file.stat().st_size < parallel.MIN_FILE_BYTES or sniff_format(file) is not FileFormat.JSONL:
        return None
    return file


def scored_parts(file: Path, scorer: ClaimScorer, workers: int) -> Iterator[IncomingClaims]:
    """The parts of a JSONL file, each read and scored by a forked worker, in file order."""
    today = dt.date.today()
    memo: dict[Any, bytes] = {}  # each worker's own copy: the problem JSON fragments it has built

    def work(part: tuple[int, int, int]) -> IncomingClaims:
        return _scored_part(file, part, today, scorer, memo)

    yield from parallel.map_parts(file, workers, PART_BYTES, work, initializer=_one_thread_predict)


def _one_thread_predict() -> None:
    from training.calibration import predict_on_one_thread

    predict_on_one_thread()  # the parent's OpenMP pool did not survive the fork


def _scored_part(
    file: Path, part: tuple[int, int, int], today: dt.date, scorer: ClaimScorer, memo: dict[Any, bytes]
) -> IncomingClaims:
    from claims.jsonl import read_claims_jsonl_part

    start, stop, lines_before = part
    read = read_claims_jsonl_part(file, start, stop, lines_before, today=today)
    with file.open("rb") as handle:
        handle.seek(start)
        data = handle.read(stop - start)
    positions = read.positions.tolist()
    contents = _contents_of_lines(data, positions, lines_before)
    claims = incoming(read.frame, contents, [file.name] * len(positions), positions, list(read.errors))
    scores = score_batch(scorer, read.frame, memo) if claims.n_claims else None
    return replace(claims, frame=None, scores=scores)
