"""The FastAPI app: ``/api/v1`` (OpenAPI at ``/docs``), ops endpoints, and the student page at ``/``.

Run it with ``uvicorn service.app:app`` (settings from ``VITGRADE_*``) or ``python -m service.demo``.
"""

import logging
import threading
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from service import logs
from service.api.routes import (
    assignment,
    course,
    exports,
    instructor,
    lti,
    ops,
    overrides,
    regrade_requests,
    roster,
    similarity,
    student_kit,
    submissions,
    users,
)
from service.auth import Authenticator
from service.config import Settings, get_settings
from service.db import Database
from service.docs_pages import add_offline_docs
from service.lti.config import LtiSettings
from service.lti.tokens import TokenCache
from service.middleware import BodyLimitMiddleware
from service.migrate import upgrade
from service.models import utcnow
from service.storage import open_store

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "static"
MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers on top of the files themselves


def create_app(
    settings: Settings | None = None, clock: Callable[[], datetime] = utcnow, lti_settings: LtiSettings | None = None
) -> FastAPI:
    """The app; ``clock`` (aware UTC now) stamps receive times and prices lateness (tests inject one);
    ``lti_settings``: the LMS registration (default: ``VITGRADE_LTI_*``)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        logs.configure(settings.log_level)
        database = Database(settings)
        if settings.run_migrations:
            upgrade(database)
        app.state.database = database
        app.state.authenticate = Authenticator(database, settings.auth_cache_s)
        app.state.store = open_store(settings, database)
        yield
        database.dispose()

    app = FastAPI(
        title="vitgrade",
        version="1",
        summary="Autograding service for the ViT lab.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    add_offline_docs(app)
    app.state.settings = settings
    app.state.clock = clock
    app.state.lti_settings = lti_settings or settings.lti
    app.state.lti_tokens = TokenCache()  # platform access tokens, kept until they expire
    app.state.lti_lock = threading.Lock()  # one grade push at a time
    app.state.requests = Counter()
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=settings.max_request_bytes + MULTIPART_OVERHEAD, requests=app.state.requests
    )
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(DBAPIError, _database_unavailable)
    app.add_exception_handler(PoolTimeout, _database_unavailable)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(Exception, _internal_error)  # a JSON 500; the traceback goes to the log only
    for module in (
        submissions,
        assignment,
        instructor,
        course,
        overrides,
        exports,
        roster,
        regrade_requests,
        similarity,
        users,
        lti,
    ):
        app.include_router(module.router, prefix="/api/v1")
    app.include_router(overrides.imports, prefix="/api/v1")
    app.include_router(overrides.reviews, prefix="/api/v1")
    app.include_router(ops.router)
    app.include_router(lti.jwks)
    app.include_router(student_kit.router)
    app.mount("/", StaticFiles(directory=STATIC_DIR, html=True), name="static")
    return app


async def _database_unavailable(request: Request, error: Exception) -> JSONResponse:
    log.error("database unavailable: %s: %s", error.__class__.__name__, str(error)[:300], extra={"status": 503})
    return JSONResponse(
        {"detail": "The database is unavailable or busy; nothing was lost. Try again in a few seconds."},
        status_code=503,
        headers={"Retry-After": "5"},
    )


async def _invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body') or 'request'}: {e.get('msg', 'invalid')}"
        for e in error.errors()
    )
    return JSONResponse({"detail": f"Invalid request: {problems}"}, status_code=422)


async def _internal_error(request: Request, error: Exception) -> JSONResponse:
    log.error("unhandled %s on %s %s", error.__class__.__name__, request.method, request.url.path)
    return JSONResponse(
        {"detail": "Internal error: the service failed on this request (it is logged). Try again, or tell staff."},
        status_code=500,
    )


@lru_cache
def _default_app() -> FastAPI:
    return create_app()


def __getattr__(name: str):  # noqa: ANN202
    """``service.app:app`` for uvicorn, built once on first access from the environment."""
    if name == "app":
        return _default_app()
    raise AttributeError(name)
