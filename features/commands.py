"""``claimrisk check``: rules only, one JSON line per claim (CONTRACT §5).

The output keeps the input order, with a ``{"claim_id", "error"}`` line where a record could not
be read, so a biller can line results up with what they sent. Per-record problems also go to
stderr (position and reason, never claim content) and make the exit code 1.

A large JSONL file is checked in parts by worker processes (claims are independent, so each part
is read, evaluated and serialised on its own core) and the parts' lines are written in input
order: the output is byte for byte what one process writes. ``CLAIMRISK_CHECK_WORKERS`` sets the
number of processes (default: the cores this process may use; 1 turns it off).
"""

from __future__ import annotations

import datetime as dt
import gc
import multiprocessing
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from claims.errors import InputError, RecordError
from features.rules.engine import default_policies, default_reference, evaluate
from features.version import rules_version

EXIT_OK, EXIT_REJECTED = 0, 1
WORKERS_ENV = "CLAIMRISK_CHECK_WORKERS"
PARALLEL_MIN_BYTES = 8 << 20  # below this, starting workers costs more than it saves
PART_BYTES = 16 << 20  # parts of about this size keep both workers busy to the end
_NUMBER = re.compile(r"\d+")

Record = tuple[str, int, int, bytes]  # (source, record number, 0 result / 1 error, JSON line)


def _record_number(position: str) -> int:
    found = _NUMBER.search(position)
    return int(found.group()) if found else sys.maxsize


def check(*, input_path: Path, output_path: Path) -> int:
    from claims.sources import input_files, load_claims

    input_path = Path(input_path)
    output_path = Path(output_path)
    if not input_path.exists():
        raise InputError(f"input {input_path} does not exist")
    policies = default_policies()
    reference = default_reference()
    header = {"rules_version": rules_version(policies), "reference_data_version": reference.version}

    # Hundreds of thousands of small objects, none of them cyclic: the cyclic collector would
    # rescan the whole heap many times while they are built (measured: ~40 % of this step).
    with _no_cyclic_gc():
        files = input_files(input_path)
        workers = worker_count()
        if workers > 1 and len(files) == 1 and _parallel_worthy(files[0]):
            records, errors, n_claims = _check_in_parts(files[0], workers, header)
        else:
            read = load_claims(input_path)
            fired = evaluate(read.frame, policies=policies, reference=reference)
            records, errors = _records(read, fired, header), list(read.errors)
            n_claims = read.frame.n_claims
        return _write(records, errors, n_claims, output_path)


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def worker_count() -> int:
    """Processes for ``check``: ``$CLAIMRISK_CHECK_WORKERS``, else the usable cores (at most 8)."""
    raw = os.environ.get(WORKERS_ENV, "").strip()
    if raw:
        try:
            return max(1, int(raw))
        except ValueError:
            raise InputError(f"{WORKERS_ENV} must be a whole number, not {raw!r}") from None
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def _parallel_worthy(file: Path) -> bool:
    from claims.sources import FileFormat, sniff_format

    return file.stat().st_size >= PARALLEL_MIN_BYTES and sniff_format(file) is FileFormat.JSONL


def _records(read: Any, fired: Any, header: dict[str, str]) -> list[Record]:
    """One record per claim. Each line is orjson.dumps({"claim_id", "rules", **header}) assembled
    from pre-serialised parts: the rules arrays come from FiredRules.results_json, which
    serialises each distinct result once, and the header is the same bytes on every line."""
    claim_ids = read.frame.claim_ids.tolist()
    rules_json = fired.results_json()
    tail = b"," + orjson.dumps(header)[1:] if header else b"}"
    n = len(claim_ids)
    sources = read.sources.tolist() if read.sources.shape[0] == n else [""] * n
    positions = read.positions.tolist() if read.positions.shape[0] == n else list(range(n))
    dumps = orjson.dumps
    return [
        (source or "", position, 0, b'{"claim_id":' + dumps(claim_id) + b',"rules":' + rules + tail)
        for source, position, claim_id, rules in zip(sources, positions, claim_ids, rules_json, strict=True)
    ]


def _write(records: list[Record], errors: list[RecordError], n_claims: int, output_path: Path) -> int:
    for error in errors:
        sys.stderr.write(f"{error}\n")
        records.append(_error_record(error))
    if len(records) > 1 and (errors or len({r[0] for r in records}) > 1):
        records.sort(key=lambda r: (r[0], r[1], r[2]))
    payload = b"\n".join(r[3] for r in records)
    try:
        output_path.parent.mkdir(parents=True, exist_ok=True)
        output_path.write_bytes(payload + b"\n" if records else b"")
    except OSError as exc:
        raise InputError(f"cannot write {output_path}: {exc.strerror or exc}") from None
    n_rejected = len(errors)
    if n_rejected:
        sys.stderr.write(f"check: {n_claims} claims checked, {n_rejected} records rejected\n")
    return EXIT_REJECTED if n_rejected else EXIT_OK


def _error_record(error: RecordError) -> Record:
    body = {"claim_id": error.claim_id, "error": f"{error.position}: {error.reason}"}
    return (error.source or "", _record_number(error.position), 1, orjson.dumps(body))


# ------------------------------------------------------------------------------ worker processes
def _check_in_parts(file: Path, workers: int, header: dict[str, str]) -> tuple[list[Record], list[RecordError], int]:
    """Read, evaluate and serialise the parts of one JSONL file in ``workers`` processes.

    'fork' where the platform has it: the children start with the policies and reference data
    already loaded. Parts come back in file order (``imap``), so concatenating them keeps the
    input order; every part uses the same ``today`` for a missing submission date."""
    from claims.jsonl import jsonl_parts

    n_parts = max(workers, -(-file.stat().st_size // PART_BYTES))
    parts = jsonl_parts(file, n_parts)
    today = dt.date.today()
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    records: list[Record] = []
    errors: list[RecordError] = []
    n_claims = 0
    tasks = [(str(file), start, stop, lines_before, today, header) for start, stop, lines_before in parts]
    with context.Pool(min(workers, len(parts)), initializer=_init_worker) as pool:
        for source, positions, blob, part_errors in pool.imap(_check_part, tasks):
            if blob:
                lines = blob.split(b"\n")  # orjson escapes newlines inside strings: one line per claim
                records.extend(zip([source] * len(lines), positions, [0] * len(lines), lines, strict=True))
            errors.extend(part_errors)
            n_claims += len(positions)
    return records, errors, n_claims


def _init_worker() -> None:
    import pyarrow as pa

    pa.set_cpu_count(1)  # one core per worker: Arrow's own threads would fight the other workers
    gc.disable()


def _check_part(
    task: tuple[str, int, int, int, dt.date, dict[str, str]],
) -> tuple[str, list[int], bytes, list[RecordError]]:
    """(source, record numbers, the claims' JSON lines joined by newlines, read errors) of one part:
    one bytes object crosses the pipe instead of a tuple per claim."""
    from claims.jsonl import read_claims_jsonl_part

    path, start, stop, lines_before, today, header = task
    read = read_claims_jsonl_part(Path(path), start, stop, lines_before, today=today)
    fired = evaluate(read.frame, policies=default_policies(), reference=default_reference())
    records = _records(read, fired, header)
    return Path(path).name, [r[1] for r in records], b"\n".join(r[3] for r in records), list(read.errors)
