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
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from claims import parallel
from claims.errors import InputError, RecordError
from features.rules.engine import default_policies, default_reference, evaluate
from features.version import rules_version

EXIT_OK, EXIT_REJECTED = 0, 1
WORKERS_ENV = "CLAIMRISK_CHECK_WORKERS"
PART_BYTES = 64 << 20  # parts of about this size: few enough that per-part costs stay small (16 MiB
# parts cost ~8 % more CPU on 238 MB), and at least two per worker (below) keep them all busy to the end
_NUMBER = re.compile(r"\d+")

def _record_number(position: str) -> int:
    found = _NUMBER.search(position)
    return int(found.group()) if found else sys.maxsize


def check(*, input_path: Path, output_path: Path) -> int:
    from inputs.sources import input_files, load_claims

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
            payloads, errors, n_claims = _check_in_parts(files[0], workers, header)
        else:
            read = load_claims(input_path)
            fired = evaluate(read.frame, policies=policies, reference=reference)
            payloads, errors = [_output(read, fired, header)], list(read.errors)
            n_claims = read.frame.n_claims
        return _write(payloads, errors, n_claims, output_path)


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
    return parallel.worker_count(WORKERS_ENV)


def _parallel_worthy(file: Path) -> bool:
    from inputs.sources import FileFormat, sniff_format

    return (
        file.stat().st_size >= parallel.MIN_FILE_BYTES
        and "fork" in multiprocessing.get_all_start_methods()  # the workers are forked (map_parts)
        and sniff_format(file) is FileFormat.JSONL
    )


# ------------------------------------------------------------------------------ output assembly
_BYTES = pa.large_binary()  # 64-bit offsets: a large batch's output may pass 2 GiB
_NEEDS_ESCAPE = r'[\x00-\x1f"\\]'  # what orjson escapes in a string (it leaves the rest as UTF-8)


def _output(read: Any, fired: Any, header: dict[str, str]) -> pa.Buffer:
    """The output lines of one read, each ending in a newline, in input order with a line per
    record that could not be read (``{"claim_id", "error"}``) at its place.

    Each claim's line is ``orjson.dumps({"claim_id", "rules", **header})``, assembled in Arrow
    from pre-serialised parts: the rules' JSON (each distinct result serialised once, by
    ``FiredRules.results_json_fragments``), the claim ids quoted in bulk, the header the same
    bytes on every line. No Python object per claim."""
    n = read.frame.n_claims
    fragments, offsets = fired.results_json_fragments()
    rules = pc.binary_join(
        pa.LargeListArray.from_arrays(pa.array(offsets, type=pa.int64()), pa.array(fragments, type=_BYTES)),
        pa.scalar(b",", _BYTES),
    )
    tail = b"]," + orjson.dumps(header)[1:] + b"\n" if header else b"]}\n"
    lines = pc.binary_join_element_wise(
        pa.scalar(b'{"claim_id":', _BYTES),
        _json_strings(read.frame.claim_ids),
        pa.scalar(b',"rules":[', _BYTES),
        rules,
        pa.scalar(tail, _BYTES),
        pa.scalar(b"", _BYTES),
    )
    sources = read.sources if read.sources.shape[0] == n else np.full(n, "", dtype=object)
    positions = read.positions if read.positions.shape[0] == n else np.arange(n, dtype=np.int64)
    if read.errors or len(set(sources.tolist())) > 1:
        lines = _in_record_order(lines, sources, positions, read.errors)
    return _data(lines)


def _json_strings(values: np.ndarray) -> pa.Array:
    """``orjson.dumps(v)`` of each string, as a binary array: quoted in bulk, and escaped by orjson
    only in the rare batch where some value holds a quote, a backslash or a control character."""
    strings = pa.array(values, type=pa.large_string())
    if pc.any(pc.match_substring_regex(strings, _NEEDS_ESCAPE)).as_py():
        return pa.array([orjson.dumps(v) for v in values.tolist()], type=_BYTES)
    quote = pa.scalar(b'"', _BYTES)
    return pc.binary_join_element_wise(quote, strings.cast(_BYTES), quote, pa.scalar(b"", _BYTES))


def _in_record_order(lines: pa.Array, sources: np.ndarray, positions: np.ndarray, errors: list[RecordError]) -> pa.Array:
    """Claims' lines and error lines merged by (file name, record number), errors after a claim of
    the same number; a stable sort, so equal keys keep reading order."""
    error_lines = pa.array([orjson.dumps(_error_body(e)) + b"\n" for e in errors], type=_BYTES)
    names = np.concatenate([sources, np.asarray([e.source for e in errors] or [], dtype=object)])
    names = np.asarray([name or "" for name in names.tolist()], dtype=object)
    numbers = np.concatenate([positions.astype(np.int64), [_record_number(e.position) for e in errors]])
    kinds = np.concatenate([np.zeros(len(lines), dtype=np.int8), np.ones(len(errors), dtype=np.int8)])
    _, name_order = np.unique(names, return_inverse=True)
    order = np.lexsort((kinds, numbers.astype(np.int64), name_order.ravel()))
    return pa.concat_arrays([lines, error_lines]).take(pa.array(order, type=pa.int64()))


def _data(lines: pa.Array) -> pa.Buffer:
    """The bytes of a binary array's values, back to back: with a newline ending each value,
    that is the output file."""
    if len(lines) == 0:
        return pa.py_buffer(b"")
    bounds = np.frombuffer(lines.buffers()[1], dtype=np.int64)[lines.offset : lines.offset + len(lines) + 1]
    return lines.buffers()[2].slice(int(bounds[0]), int(bounds[-1] - bounds[0]))


def _error_body(error: RecordError) -> dict[str, Any]:
    return {"claim_id": error.claim_id, "error": f"{error.position}: {error.reason}"}


def _write(payloads: list[pa.Buffer], errors: list[RecordError], n_claims: int, output_path: Path) -> int:
    for error in errors:
        sys.stderr.write(f"{error}\n")
    try:
        output_path.parent.mkdir(parents=True, exist_ok=True)
        with output_path.open("wb") as handle:
            for payload in payloads:
                handle.write(memoryview(payload))
    except OSError as exc:
        raise InputError(f"cannot write {output_path}: {exc.strerror or exc}") from None
    n_rejected = len(errors)
    if n_rejected:
        sys.stderr.write(f"check: {n_claims} claims checked, {n_rejected} records rejected\n")
    return EXIT_REJECTED if n_rejected else EXIT_OK


# ------------------------------------------------------------------------------ worker processes
def _check_in_parts(file: Path, workers: int, header: dict[str, str]) -> tuple[list[pa.Buffer], list[RecordError], int]:
    """Read, evaluate and serialise the parts of one JSONL file in ``workers`` forked processes
    (``claims.parallel.map_parts``, the pool ``score`` and the queue import use too).

    The children start with the policies and reference data already loaded. Parts come back in
    file order with their error lines already in place (a part's records are a contiguous run of
    lines), so the parts' bytes, one after the other, are the output; every part uses the same
    ``today`` for a missing submission date."""
    today = dt.date.today()

    def work(part: tuple[int, int, int]) -> tuple[bytes, list[RecordError], int]:
        return _check_part(file, part, today, header)

    payloads: list[pa.Buffer] = []
    errors: list[RecordError] = []
    n_claims = 0
    for blob, part_errors, part_claims in parallel.map_parts(file, workers, PART_BYTES, work):
        payloads.append(pa.py_buffer(blob))
        errors.extend(part_errors)
        n_claims += part_claims
    return payloads, errors, n_claims


def _check_part(
    file: Path, part: tuple[int, int, int], today: dt.date, header: dict[str, str]
) -> tuple[bytes, list[RecordError], int]:
    """(output bytes of one part, its read errors, claims read): one bytes object crosses the pipe."""
    from claims.jsonl import read_claims_jsonl_part

    read = read_claims_jsonl_part(file, *part, today=today)
    fired = evaluate(read.frame, policies=default_policies(), reference=default_reference())
    return _output(read, fired, header).to_pybytes(), list(read.errors), read.frame.n_claims
