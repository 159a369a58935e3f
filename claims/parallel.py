"""How many worker processes a command may use to read and process one large file in parts.

``check`` and ``score`` split a big JSONL file into byte ranges that end at line ends
(:func:`part_cuts`, numbered by ``claims.jsonl.numbered_parts`` as they are handed out); each part
is read and processed in its own process, and the parts' results are put back in file order. One
process per usable core, capped at eight: beyond that the parent's merge dominates.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from claims.errors import InputError

MAX_WORKERS = 8
MIN_FILE_BYTES = 8 << 20  # below this, starting workers costs more than it saves


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


def part_cuts(file: Path, workers: int, part_bytes: int) -> list[int]:
    """Byte offsets of the parts of ``file``: parts of about ``part_bytes``, and at least two per
    worker, so that one slow part does not leave the other workers idle at the end."""
    from claims.jsonl import jsonl_cuts

    return jsonl_cuts(file, max(2 * workers, -(-file.stat().st_size // part_bytes)))


def init_part_worker() -> None:
    """In each worker process: Arrow on this core only (its own threads would fight the other
    workers), and no cyclic GC (short-lived; the reader's objects form no cycles worth collecting)."""
    import pyarrow as pa

    pa.set_cpu_count(1)
    gc.disable()


_PART_JOB: Callable[[tuple[int, int, int]], Any] | None = None  # set before the fork; inherited
_PART_JOB_LOCK = threading.Lock()


def map_parts(
    file: Path,
    workers: int,
    part_bytes: int,
    work: Callable[[tuple[int, int, int]], Any],
    *,
    initializer: Callable[[], None] | None = None,
) -> Iterator[Any]:
    """``work(part)`` for each part of ``file`` (``(start, stop, lines before start)``, see
    ``claims.jsonl.read_claims_jsonl_part``) in worker processes forked now, results in file order
    as they come: the caller consumes part 1 while the workers read the next ones.

    The workers inherit ``work`` and everything it holds (a loaded model, reference data) through
    the fork; only the part bounds go in and each part's result comes back pickled. The caller
    must be able to fork safely: a command-line process, not a server's request thread."""
    from claims.jsonl import numbered_parts

    global _PART_JOB
    cuts = part_cuts(file, workers, part_bytes)
    with _PART_JOB_LOCK:  # one job at a time: the workers read it from this module's global
        _PART_JOB = work
        try:
            context = multiprocessing.get_context("fork")
            processes = max(1, min(workers, len(cuts) - 1))
            with context.Pool(processes, initializer=_init_job_worker, initargs=(initializer,)) as pool:
                yield from pool.imap(_run_part_job, numbered_parts(file, cuts))
        finally:
            _PART_JOB = None


def _init_job_worker(initializer: Callable[[], None] | None) -> None:
    init_part_worker()
    if initializer is not None:
        initializer()


def _run_part_job(part: tuple[int, int, int]) -> Any:
    assert _PART_JOB is not None, "worker started without the job (not forked?)"
    return _PART_JOB(part)
