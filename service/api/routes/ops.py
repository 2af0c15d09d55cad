"""Operations: liveness, readiness (database and a recent worker heartbeat) and Prometheus metrics."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from service import metrics, ops
from service.api.deps import DatabaseDep, SettingsDep

router = APIRouter(tags=["ops"])


@router.get("/healthz")
def healthz() -> dict:
    """The process answers."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(database: DatabaseDep, settings: SettingsDep) -> JSONResponse:
    """200 when the database answers and a worker's heartbeat is recent; 503 with the reason otherwise."""
    ready, reason = ops.readiness(database, settings.worker_stale_s)
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "reason": reason}, status_code=200 if ready else 503
    )


@router.get("/metrics", response_class=PlainTextResponse)
def get_metrics(request: Request, database: DatabaseDep, settings: SettingsDep) -> PlainTextResponse:
    """Prometheus text exposition."""
    with database.session() as session:
        body = metrics.render(session, request.app.state.requests, settings.worker_stale_s)
    return PlainTextResponse(body, media_type="text/plain; version=0.0.4")
