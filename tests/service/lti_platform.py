"""A stand-in LMS for the LTI tests, served by a real uvicorn: what Canvas and Moodle do for a tool without a launch.

- ``POST /token``: the client-credentials grant; VERIFIES the client assertion with the tool's JWKS (fetched
  over HTTP from the tool, or a fixed key set: the key "registered"): signature, ``aud`` = this URL, ``iss`` =
  ``sub`` = the client id, ``exp`` (at most 5 minutes after ``iat``), and a ``jti`` never seen before.
- ``/lineitems``: AGS line items container (GET, filtered by ``resource_id``; POST creates one), and
  ``/lineitems/{n}/lineitem/scores`` (POST stores what came; optional failures and throttling).
- ``/memberships``: NRPS, ``page_size`` members per page with ``Link: <...>; rel="next"``.
Every service call needs a token the token endpoint issued.
"""

import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import uvicorn
from conftest import free_port
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SCOPES = {
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
}
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


@dataclass
class PlatformState:
    url: str
    client_id: str
    members: list[dict[str, Any]]
    tool_jwks_url: str = ""  # fetched on each token request, as platforms do with a JWKS URL registration
    tool_jwks: dict[str, Any] | None = None  # or a fixed key set
    page_size: int = 2
    next_url: str = ""  # overrides the next page's URL (hostile tests)
    lineitems: list[dict[str, Any]] = field(default_factory=list)
    scores: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (line item id, score as received)
    score_attempts: list[str] = field(default_factory=list)  # userId of every score POST, answered or not
    refuse: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)  # userId -> status, body
    throttle: list[int] = field(default_factory=list)  # statuses to answer the next score POSTs with
    token_calls: int = 0
    token_errors: list[str] = field(default_factory=list)
    seen_jti: set[str] = field(default_factory=set)
    tokens: set[str] = field(default_factory=set)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path) of every service call


def _refuse(message: str) -> JSONResponse:
    return JSONResponse({"error": "invalid_client", "error_description": message}, status_code=401)


def platform_app(state: PlatformState) -> FastAPI:
    app = FastAPI()

    @app.post("/token")
    async def token(request: Request) -> Response:
        state.token_calls += 1
        form = await request.form()
        if form.get("grant_type") != "client_credentials" or form.get("client_assertion_type") != ASSERTION_TYPE:
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        assertion = str(form.get("client_assertion", ""))
        try:
            keyset = state.tool_jwks
            if keyset is None:
                async with httpx.AsyncClient() as http:
                    keyset = (await http.get(state.tool_jwks_url, timeout=10)).json()
            kid = jwt.get_unverified_header(assertion).get("kid")
            jwk = next((k for k in keyset["keys"] if k.get("kid") == kid), None)
            if jwk is None:
                raise jwt.InvalidTokenError(f"no key {kid!r} in the tool's JWKS")
            claims = jwt.decode(
                assertion, jwt.PyJWK(jwk).key, algorithms=["RS256"], audience=f"{state.url}/token",
                issuer=state.client_id, options={"require": ["iss", "sub", "aud", "exp", "iat", "jti"]},
            )  # fmt: skip
            if claims["sub"] != state.client_id:
                raise jwt.InvalidTokenError(f"sub {claims['sub']!r} is not the client id")
            if claims["exp"] - claims["iat"] > 300:
                raise jwt.InvalidTokenError(f"assertion lives {claims['exp'] - claims['iat']} s, over 300")
            if claims["jti"] in state.seen_jti:
                raise jwt.InvalidTokenError("jti replayed")
            state.seen_jti.add(claims["jti"])
        except jwt.InvalidTokenError as error:
            state.token_errors.append(str(error))
            return _refuse(str(error))
        asked = set(str(form.get("scope", "")).split())
        if not asked or not asked <= SCOPES:
            return JSONResponse({"error": "invalid_scope", "error_description": str(asked - SCOPES)}, 400)
        issued = secrets.token_urlsafe(16)
        state.tokens.add(issued)
        return JSONResponse(
            {"access_token": issued, "token_type": "Bearer", "expires_in": 3600, "scope": " ".join(sorted(asked))}
        )

    def authorized(request: Request) -> bool:
        state.requests.append((request.method, request.url.path))
        header = request.headers.get("authorization", "")
        return header.startswith("Bearer ") and header.removeprefix("Bearer ") in state.tokens

    @app.get("/lineitems")
    def list_lineitems(request: Request, resource_id: str = "") -> Response:
        if not authorized(request):
            return JSONResponse({"errors": [{"message": "Invalid access token"}]}, status_code=401)
        items = [i for i in state.lineitems if not resource_id or i["resourceId"] == resource_id]
        return JSONResponse(items, media_type="application/vnd.ims.lis.v2.lineitemcontainer+json")

    @app.post("/lineitems")
    async def create_lineitem(request: Request) -> Response:
        if not authorized(request):
            return JSONResponse({"errors": [{"message": "Invalid access token"}]}, status_code=401)
        if request.headers.get("content-type") != "application/vnd.ims.lis.v2.lineitem+json":
            return JSONResponse({"errors": [{"message": "wrong content type"}]}, status_code=415)
        item = {**(await request.json()), "id": f"{state.url}/lineitems/{len(state.lineitems) + 1}/lineitem?x=1"}
        state.lineitems.append(item)
        return JSONResponse(item, status_code=201, media_type="application/vnd.ims.lis.v2.lineitem+json")

    @app.post("/lineitems/{number}/lineitem/scores")
    async def post_score(number: int, request: Request) -> Response:
        if not authorized(request):
            return JSONResponse({"errors": [{"message": "Invalid access token"}]}, status_code=401)
        if request.headers.get("content-type") != "application/vnd.ims.lis.v1.score+json":
            return JSONResponse({"errors": [{"message": "wrong content type"}]}, status_code=415)
        if request.query_params.get("x") != "1":
            return JSONResponse({"errors": [{"message": "the line item's query string was lost"}]}, status_code=404)
        body = await request.json()
        state.score_attempts.append(body.get("userId", ""))
        if state.throttle:
            status = state.throttle.pop(0)
            slow = {"errors": [{"message": "slow down"}]}
            return JSONResponse(slow, status_code=status, headers={"Retry-After": "0"})
        if body.get("userId") in state.refuse:
            status, answer = state.refuse[body["userId"]]
            return JSONResponse(answer, status_code=status)
        state.scores.append((f"{state.url}/lineitems/{number}/lineitem?x=1", body))
        return JSONResponse({}, status_code=200)

    @app.get("/memberships")
    def memberships(request: Request, page: int = 1) -> Response:
        if not authorized(request):
            return JSONResponse({"errors": [{"message": "Invalid access token"}]}, status_code=401)
        start = (page - 1) * state.page_size
        rows = state.members[start : start + state.page_size]
        headers = {}
        if start + state.page_size < len(state.members):
            headers["Link"] = f'<{state.next_url or f"{state.url}/memberships?page={page + 1}"}>; rel="next"'
        body = {"id": f"{state.url}/memberships", "context": {"id": "c1"}, "members": rows}
        container = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
        return JSONResponse(body, headers=headers, media_type=container)

    return app


@contextmanager
def serve(app: FastAPI, port: int | None = None) -> Iterator[str]:
    """``app`` under a real uvicorn on a loopback port, in a thread; yields its base URL."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"uvicorn did not start on port {port}")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
