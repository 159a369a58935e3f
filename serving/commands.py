"""``claimrisk score`` (the worklist) and ``claimrisk serve`` (the API), called by ``claimrisk.cli``."""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from claims.errors import InputError

if TYPE_CHECKING:
    from serving.config import Settings
    from serving.model_store import ModelStore
    from serving.scorer import Scorer


def _model_store(settings: Settings | None = None) -> ModelStore:
    from serving.config import Settings
    from serving.errors import ModelUnavailable, ServingError
    from serving.model_store import ModelStore
    from serving.scorer import load_rule_context

    store = ModelStore(settings or Settings(), load_rule_context())
    try:
        store.load()
    except ServingError as exc:  # the operator at the terminal gets the detail (paths), not only the code
        raise InputError(exc.detail if isinstance(exc, ModelUnavailable) else exc.message) from None
    return store


def champion_scorer() -> Scorer:
    """The promoted model's scorer, loaded as ``claimrisk score`` loads it (``InputError`` with the
    reason when there is none): the worklist commands score with exactly this one."""
    return _model_store().require_model()


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

    Exit codes are CONTRACT §5's: 0 after a clean shutdown, 2 when the server could not run. Every
    reason it cannot (a bad setting, a busy port, a models folder that is a file, a worker that
    fails at start-up) raises ``InputError`` with a one-line reason before or instead of serving;
    the socket is bound here, before anything is logged, so a busy port is that one line.
    """
    # Before the model (and its OpenMP runtime) is imported: one thread per process serves
    # sub-millisecond predictions best and does not oversubscribe the cores.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import uvicorn

    from serving.logs import configure_logging

    settings = _serve_settings()  # a bad setting stops here, before any worker starts
    count = settings.workers if workers is None else workers
    if count < 1:
        raise InputError(f"--workers must be at least 1, got {count}")
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_config": None,
        "access_log": False,
        "server_header": False,
        "timeout_graceful_shutdown": 30,
        "timeout_keep_alive": 5,
    }
    sockets = _listen(host, port, count)
    configure_logging(settings.log_level)
    # uvicorn drains requests in flight on SIGTERM/SIGINT, then re-raises the signal; with these
    # handlers in place that re-raise is a no-op, so a clean shutdown exits 0 instead of -15.
    # (With workers, serving.supervisor takes the signals, stops every worker, then returns.)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _after_graceful_shutdown)
    if count == 1:
        from serving.app import create_app

        server = uvicorn.Server(uvicorn.Config(create_app(settings), **options))
        server.run(sockets=sockets)
        if not server.started:  # the app's start-up failed; uvicorn has logged why
            raise InputError("the server could not start (see the log above)")
        return 0
    return _serve_workers(count, options, sockets)


def _serve_settings() -> Settings:
    """The settings, or one line naming the invalid ``CLAIMRISK_*`` variables (never their values:
    some are keys); a models folder that exists but is not a folder is refused too."""
    from pydantic import ValidationError

    from serving.config import Settings

    try:
        settings = Settings()
    except ValidationError as exc:
        fields = "; ".join(
            f"CLAIMRISK_{'_'.join(str(p) for p in e['loc'][:1]).upper()}: {e['msg']}"
            for e in exc.errors(include_url=False, include_input=False)
        )
        raise InputError(f"invalid setting: {fields}") from None
    if settings.model_source == "export" and settings.models_dir.exists() and not settings.models_dir.is_dir():
        raise InputError(f"CLAIMRISK_MODELS_DIR {settings.models_dir} is not a folder")
    return settings


def _listen(host: str, port: int, count: int) -> list[socket.socket]:
    """The bound sockets: one plain socket for one worker (a port another process holds fails,
    whatever options it used), else ``count`` ``SO_REUSEPORT`` sockets (serving.supervisor)."""
    from serving.supervisor import reuse_port_sockets

    try:
        if count > 1:
            return reuse_port_sockets(host, port, count)
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
        except OSError:
            sock.close()
            raise
        return [sock]
    except OSError as exc:
        raise InputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def _serve_workers(count: int, options: dict[str, Any], sockets: list[socket.socket]) -> int:
    import shutil
    import tempfile

    import uvicorn

    from serving.metrics import MULTIPROCESS_DIR_ENV
    from serving.supervisor import WorkerPool
    from serving.workers import RELOAD_NOTICE_ENV

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
        if WorkerPool(config, sockets).run() != 0:
            raise InputError("a worker could not start (see the log above); the server stopped")
        return 0
    finally:
        shutil.rmtree(shared, ignore_errors=True)
