"""``claimrisk score`` (the worklist) and ``claimrisk serve`` (the API), called by ``claimrisk.cli``."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

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


def score(*, input_path: Path, output_path: Path, threshold: float | None) -> int:
    """Score every claim of a JSONL/837 file into a CSV or Parquet worklist, highest expected loss first."""
    import pyarrow.compute as pc

    from claims.sources import load_claims
    from serving.worklist import build_worklist, output_format, write_worklist

    output_format(output_path)  # fail on a bad extension before any work
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise InputError(f"--threshold must be between 0 and 1, got {threshold}")
    from serving.config import Settings

    settings = Settings()
    scorer = _model_store(settings).require_model()
    threshold = threshold if threshold is not None else settings.threshold
    started = time.perf_counter()
    read = load_claims(input_path)
    for error in read.errors:
        sys.stderr.write(f"{error}\n")
    table = build_worklist(scorer, read.frame, threshold)
    write_worklist(table, output_path)
    n_review = int(pc.sum(pc.equal(table.column("decision"), "review")).as_py() or 0)
    sys.stderr.write(
        f"claimrisk score: {table.num_rows} claims scored with model {scorer.model_version} "
        f"({n_review} for review) in {time.perf_counter() - started:.1f} s -> {output_path}; "
        f"{len(read.errors)} records rejected\n"
    )
    return 1 if read.errors else 0


def _after_graceful_shutdown(signum: int, frame: object) -> None:
    """Swallow the signal uvicorn re-raises once it has finished shutting down gracefully."""


def serve(*, host: str, port: int) -> int:
    """One uvicorn process; SIGTERM/SIGINT finish requests in flight before exiting."""
    # Before the model (and its OpenMP runtime) is imported: one thread per process serves
    # sub-millisecond predictions best and does not oversubscribe the cores.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import uvicorn

    from serving.app import create_app
    from serving.config import Settings
    from serving.logs import configure_logging

    settings = Settings()
    configure_logging(settings.log_level)
    app = create_app(settings)
    # uvicorn drains requests in flight on SIGTERM/SIGINT, then re-raises the signal; with these
    # handlers in place that re-raise is a no-op, so a clean shutdown exits 0 instead of -15.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _after_graceful_shutdown)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=30,
        timeout_keep_alive=5,
    )
    return 0
