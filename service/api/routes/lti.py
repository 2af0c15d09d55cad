"""LTI 1.3: our public keys for the platform's registration (no auth), and the instructor's grade push."""

import logging
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from service.api.deps import ClockDep, DatabaseDep, InstructorUser, LtiSettingsDep
from service.lti import keys
from service.lti.client import connect
from service.lti.errors import KeyFileError, LtiError, NotConfigured
from service.lti.push import LtiPushSummary, class_grades, push
from service.schemas import ErrorPublic

log = logging.getLogger(__name__)
jwks = APIRouter(tags=["lti"])
router = APIRouter(prefix="/instructor", tags=["lti"])
ERRORS = {code: {"model": ErrorPublic} for code in (401, 403, 409, 502, 503)}


@jwks.get("/lti/jwks.json", responses={404: {"model": ErrorPublic}})
def public_keys(settings: LtiSettingsDep) -> JSONResponse:
    """Our public key set: the platform verifies our client assertions with it (its registration's JWKS URL)."""
    try:
        key = keys.load(settings.private_key_path, settings.key_id)
    except KeyFileError as error:
        log.warning("LTI JWKS asked for, no key: %s", error)
        raise HTTPException(404, "No LTI key on this server: run 'python -m service.lti keygen'.") from None
    return JSONResponse(key.jwks(), headers={"Cache-Control": "public, max-age=300"})


@router.post("/exports/lti", response_model=LtiPushSummary, responses=ERRORS)
async def lti_push(
    _: InstructorUser,
    request: Request,
    settings: LtiSettingsDep,
    database: DatabaseDep,
    clock: ClockDep,
    dry_run: Annotated[bool, Query(description="Match and report; create and post nothing.")] = False,
) -> LtiPushSummary:
    """Post each matched student's final score to the LMS line item (LTI AGS), students matched through NRPS."""
    missing = settings.missing()
    if missing:
        raise HTTPException(409, f"LTI is not configured on this server: set {', '.join(missing)}.")
    lock = request.app.state.lti_lock
    if not lock.acquire(blocking=False):
        raise HTTPException(409, "A grade push to the LMS is running; try again when it has finished.")

    def run() -> LtiPushSummary:
        with database.session() as session:
            students = class_grades(session)
        with connect(settings, request.app.state.lti_tokens) as platform:
            return push(platform, students, dry_run, clock)

    try:
        return await run_in_threadpool(run)
    except (NotConfigured, KeyFileError) as error:
        raise HTTPException(409, str(error)) from None
    except LtiError as error:
        raise HTTPException(502, str(error)) from None
    finally:
        lock.release()
