"""The worklist web application under ``/app/``: server-rendered pages over the worklist services.

``install_web(app)`` is the one call ``serving.app`` makes: it mounts the pages (``pages_*``), the
packaged static files (CSS and a few lines of script: no CDN, no build step) and the handlers that
turn a missing session into a redirect to sign-in and a refused page into an HTML error page.
Pages call the same ``worklist`` services as the ``/v1/queue`` API; permissions come from
``worklist.roles`` through ``context.needs``; templates autoescape everything.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from serving.web import pages_admin, pages_auth, pages_claim, pages_queue, pages_transfer
from serving.web.context import STATIC_DIR, PageError, SignInRequired, render, sign_in_redirect

web_router = APIRouter(prefix="/app", include_in_schema=False)
for _pages in (pages_auth, pages_queue, pages_claim, pages_transfer, pages_admin):
    web_router.include_router(_pages.router)


def install_web(app: FastAPI) -> None:
    """Mount the application and its static files on ``app`` and register its page handlers."""
    app.include_router(web_router)
    app.mount("/app/static", StaticFiles(directory=STATIC_DIR), name="web-static")

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        return sign_in_redirect(exc.next_path)

    @app.exception_handler(PageError)
    async def _page_error(request: Request, exc: PageError) -> Response:
        return render(request, "error.html", exc.status_code, message=exc.message, code=exc.status_code)
