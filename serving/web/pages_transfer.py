"""Import and export: upload claims (JSONL or 837) or remittances, download the queue and claims.

Uploads are streamed to a private temporary folder, then handed to the same services as
``claimrisk queue import`` / ``queue outcomes`` (``worklist.importing.import_path``,
``worklist.outcomes.attach_outcomes_path``): every readable record is imported and each
unreadable one is listed by file, position and reason (never its content). Downloads are the
``worklist.export`` services writing to a temporary file that is read back and removed.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from serving.model_store import ModelStore
from serving.web.context import CsrfDep, DbDep, PageError, Visitor, needs, page_errors, render, worklist_store
from serving.web.pages_queue import parse_query
from worklist.errors import WorklistError
from worklist.export import export_claims, export_queue
from worklist.importing import import_path
from worklist.outcomes import attach_outcomes_path
from worklist.queue import QueueFilter
from worklist.roles import Action

router = APIRouter()
Importer = Annotated[Visitor, Depends(needs(Action.CLAIMS_IMPORT))]
Exporter = Annotated[Visitor, Depends(needs(Action.QUEUE_EXPORT))]
MAX_LISTED_ERRORS = 200
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MEDIA = {"csv": "text/csv", "jsonl": "application/x-ndjson", "837": "application/edi-x12"}


@router.get("/transfer", name="web_transfer")
def transfer_page(request: Request, visitor: Importer) -> Response:
    return render(request, "transfer.html", visitor=visitor, report=None, errors=[], kind=None)


def _save_upload(upload: UploadFile, folder: Path) -> Path:
    """The upload on disk under a cleaned version of its own name (the name appears in error
    lines as the record's source file)."""
    name = _UNSAFE.sub("_", Path(upload.filename or "upload").name)[:100] or "upload"
    target = folder / name
    with open(target, "wb") as out:
        shutil.copyfileobj(upload.file, out, length=1 << 20)
    return target


@router.post("/transfer/claims", dependencies=[CsrfDep])
async def upload_claims(request: Request, visitor: Importer, file: Annotated[UploadFile, File()]) -> Response:
    store: ModelStore = request.app.state.store
    scorer = store.require_model()

    def run() -> tuple[dict[str, int], list[str]]:
        with tempfile.TemporaryDirectory(prefix="claimrisk-upload-") as folder:
            path = _save_upload(file, Path(folder))
            with worklist_store(request.app).session() as db:
                report = import_path(db, path, scorer, visitor.user)
            return report.counts(), [str(e) for e in report.errors[:MAX_LISTED_ERRORS]]

    try:
        counts, errors = await run_in_threadpool(run)
    except (WorklistError, ValueError) as exc:
        raise PageError(422, f"The file could not be imported: {exc}") from None
    return render(request, "transfer.html", visitor=visitor, report=counts, errors=errors, kind="claims")


@router.post("/transfer/outcomes", dependencies=[CsrfDep])
async def upload_outcomes(
    request: Request,
    visitor: Annotated[Visitor, Depends(needs(Action.OUTCOMES_IMPORT))],
    file: Annotated[UploadFile, File()],
) -> Response:
    def run() -> tuple[dict[str, Any], list[str]]:
        with tempfile.TemporaryDirectory(prefix="claimrisk-upload-") as folder:
            path = _save_upload(file, Path(folder))
            with worklist_store(request.app).session() as db:
                report, errors = attach_outcomes_path(db, visitor.user, path)
            return dict(report.__dict__), [str(e) for e in errors[:MAX_LISTED_ERRORS]]

    try:
        counts, errors = await run_in_threadpool(run)
    except (WorklistError, ValueError) as exc:
        raise PageError(422, f"The file could not be imported: {exc}") from None
    return render(request, "transfer.html", visitor=visitor, report=counts, errors=errors, kind="outcomes")


def _download(path: Path, fmt: str, name: str) -> Response:
    return Response(
        path.read_bytes(),
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


@router.get("/export/queue.csv")
def download_queue(request: Request, db: DbDep, visitor: Exporter) -> Response:
    """The queue under the page's current filter and sort, as CSV."""
    query = parse_query(request)
    with tempfile.TemporaryDirectory(prefix="claimrisk-export-") as folder, page_errors():
        path = Path(folder) / "queue.csv"
        export_queue(db, visitor.user, path, query.where, fmt="csv", sort=query.sort)
        return _download(path, "csv", "queue.csv")


@router.get("/export/claims.{fmt}")
def download_claims(request: Request, db: DbDep, visitor: Exporter, fmt: str) -> Response:
    """The latest revisions of the ready claims (or the filter's status) as JSONL or 837."""
    if fmt not in ("jsonl", "837"):
        raise PageError(404, "Claims download as .jsonl or .837.")
    query = parse_query(request)
    where = query.where if query.where != QueueFilter() else QueueFilter(status="ready")
    with tempfile.TemporaryDirectory(prefix="claimrisk-export-") as folder, page_errors():
        path = Path(folder) / f"claims.{fmt}"
        export_claims(db, visitor.user, path, where, fmt=fmt)
        return _download(path, fmt, f"claims.{fmt}")
