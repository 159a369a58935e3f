"""``claimrisk score`` (the worklist) and ``claimrisk serve`` (the API), called by ``claimrisk.cli``."""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from claims.errors import InputError

if TYPE_CHECKING:
    from serving.config import Settings
    from serving.model_store import ModelStore


def _model_store(settings: Settings | None = None) -> ModelStore:
    from serving.config import Settings
    from serving.errors import ServingError
    from serving.model_store import ModelStore
    from serving.scorer import load_rule_context

    store = ModelStore(settings or Settings(), load_rule_context())
    try:
        store.load()
    except ServingError as exc:
        raise InputError(exc.message) from None
    return store


def score(*, input_path: Path, output_path: Path, threshold: float | None, fixes: bool = False) -> int:
    """Score every claim of a JSONL/837 file into a CSV or Parquet worklist, highest expected loss first;
    ``fixes`` re-scores each claim's fixes too (``serving.worklist.FIX_COLUMNS``)."""
    import pyarrow.compute as pc

    from serving.worklist import output_format, score_file, write_worklist

    output_format(output_path)  # fail on a bad extension before any work
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise InputError(f"--threshold must be between 0 and 1, got {threshold}")
    from serving.config import Settings

    settings = Settings()
    scorer = _model_store(settings).require_model()
    threshold = threshold if threshold is not None else settings.threshold
    started = time.perf_counter()
    table, errors = score_file(scorer, input_path, threshold, fixes=fixes)
    for error in errors:
        sys.stderr.write(f"{error}\n")
    write_worklist(table, output_path)
    n_review = int(pc.sum(pc.equal(table.column("decision"), "review")).as_py() or 0)
    sys.stderr.write(
        f"claimrisk score: {table.num_rows} claims scored with model {scorer.model_version} "
        f"({n_review} for review) in {time.perf_counter() - started:.1f} s -> {output_path}; "
        f"{len(errors)} records rejected\n"
    )
    return 1 if errors else 0


def _after_graceful_shutdown(signum: int, frame: object) -> None:
    """Swallow the signal uvicorn re-raises once it has finished shutting down gracefully."""


def serve(*, host: str, port: int, workers: int | None = None) -> int:
    """The API under uvicorn; SIGTERM/SIGINT finish requests in flight before exiting.

    ``workers`` (default ``CLAIMRISK_WORKERS``, itself the usable cores) worker processes, each on its
    own ``SO_REUSEPORT`` socket (``serving.supervisor``), each loading and verifying the model itself.
    They share one private folder for the reload notice and the Prometheus multi-process files,
    removed at exit. One worker runs the app in this process.
    """
    # Before the model (and its OpenMP runtime) is imported: one thread per process serves
    # sub-millisecond predictions best and does not oversubscribe the cores.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import uvicorn

    from serving.config import Settings
    from serving.logs import configure_logging

    settings = Settings()  # a bad setting stops here, before any worker starts
    count = settings.workers if workers is None else workers
    if count < 1:
        raise InputError(f"--workers must be at least 1, got {count}")
    configure_logging(settings.log_level)
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_config": None,
        "access_log": False,
        "server_header": False,
        "timeout_graceful_shutdown": 30,
        "timeout_keep_alive": 5,
    }
    # uvicorn drains requests in flight on SIGTERM/SIGINT, then re-raises the signal; with these
    # handlers in place that re-raise is a no-op, so a clean shutdown exits 0 instead of -15.
    # (With workers, serving.supervisor takes the signals, stops every worker, then returns.)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _after_graceful_shutdown)
    if count == 1:
        from serving.app import create_app

        uvicorn.run(create_app(settings), **options)
        return 0
    return _serve_workers(count, options)


def _serve_workers(count: int, options: dict[str, Any]) -> int:
    import shutil
    import tempfile

    import uvicorn

    from serving.metrics import MULTIPROCESS_DIR_ENV
    from serving.supervisor import WorkerPool, reuse_port_sockets
    from serving.workers import RELOAD_NOTICE_ENV

    try:
        sockets = reuse_port_sockets(options["host"], options["port"], count)
    except OSError as exc:
        raise InputError(f"cannot listen on {options['host']}:{options['port']}: {exc.strerror}") from None
    shared = Path(tempfile.mkdtemp(prefix="claimrisk-serve-"))  # 0700: only this user's workers
    metrics_dir = shared / "metrics"
    metrics_dir.mkdir()
    # Spawned workers inherit the environment: that is how they find the shared folder.
    os.environ[MULTIPROCESS_DIR_ENV] = str(metrics_dir)
    os.environ[RELOAD_NOTICE_ENV] = str(shared / "reload-notice")
    host, port = sockets[0].getsockname()[:2]
    logging.getLogger("claimrisk.serve").info(f"{count} workers listening on http://{host}:{port}")
    try:
        config = uvicorn.Config("serving.app:create_worker_app", factory=True, **options)
        return WorkerPool(config, sockets).run()
    finally:
        shutil.rmtree(shared, ignore_errors=True)
