"""Re-scoring the worklist in the background when the server loads a model the queue was not scored by.

A promotion (export watch, ``POST /v1/admin/reload``, the reload notice) or a restart on new
reference data leaves every open claim ranked by the old figures. ``ModelStore.on_new_model`` calls
:func:`rescore_in_background` after such a load; it starts one daemon thread that takes the
worklist's rescore lease (``worklist.rescoring.take_rescore_lease``: with several worker
processes loading the same model at once, exactly one of them re-scores) and then runs
``worklist.rescoring.rescore_open`` with the new scorer, the very service ``claimrisk queue
rescore`` runs. Earlier scores stay. Requests keep being served meanwhile: the job works a batch
per transaction, and SQLite's WAL lets readers go on while it writes.

No worklist, nothing to do: when the configured store is an SQLite file that does not exist, no
thread starts (a scoring-only deployment never gets a database file created behind its back).
Failures are logged by type only; claim content is never logged.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from pathlib import Path

from sqlalchemy.engine import URL

from serving.scorer import Scorer

logger = logging.getLogger("claimrisk.worklist")


def worklist_exists(url: URL) -> bool:
    """Whether there is a worklist to re-score at ``url``: any server database, an SQLite file
    only when it is there."""
    if url.get_backend_name() != "sqlite":
        return True
    return bool(url.database) and url.database != ":memory:" and Path(str(url.database)).is_file()


def rescore_in_background(scorer: Scorer) -> threading.Thread | None:
    """Start the re-scoring job for ``scorer`` (None when there is no worklist to re-score)."""
    from worklist.db import database_url

    url = database_url()
    if not worklist_exists(url):
        return None
    owner = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}:{scorer.model_version}"
    thread = threading.Thread(target=_run, args=(url, scorer, owner), name="claimrisk-rescore", daemon=True)
    thread.start()
    return thread


def _run(url: URL, scorer: Scorer, owner: str) -> None:
    from worklist.db import open_store
    from worklist.rescoring import finish_rescore_lease, holds_lease, rescore_open, take_rescore_lease
    from worklist.scoring import scorer_versions

    versions = scorer_versions(scorer)
    try:
        store = open_store(url)
    except Exception as exc:  # the API keeps serving; the operator can run `claimrisk queue rescore`
        logger.error("worklist rescore failed", extra={"event": "rescore_failed", "reason": type(exc).__name__})
        return
    try:
        with store.session() as session:
            if not take_rescore_lease(session, versions, owner):
                return
            logger.info("worklist rescore started", extra={"event": "rescore_started", "model_version": versions["model_version"]})
            report = rescore_open(session, None, scorer, go_on=lambda s: holds_lease(s, owner))
            finish_rescore_lease(session, versions, owner)
        logger.info(
            "worklist rescore finished",
            extra={"event": "rescore_finished", "model_version": versions["model_version"],
                   "open_claims": report.open_claims, "rescored": report.rescored},
        )
    except Exception as exc:
        logger.error("worklist rescore failed", extra={"event": "rescore_failed", "reason": type(exc).__name__})
    finally:
        store.dispose()
