"""HTTP to the platform: an access token (cached), bounded retries on 429 and 5xx, ``Link: rel="next"`` paging.

Our bearer token goes only to the origins of the configured URLs: a next-page link or a line item id that
points elsewhere is refused, not followed.
"""

import email.utils
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import httpx

from service.lti import keys
from service.lti.config import SCOPES, LtiSettings
from service.lti.errors import LtiError, NotConfigured, PlatformError
from service.lti.keys import ToolKey
from service.lti.tokens import TokenCache, token_request

log = logging.getLogger(__name__)
MAX_PAGES = 1000  # a course of 100,000 members at 100 per page; a platform that loops stops here


def origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


def explain(response: httpx.Response) -> str:
    """The platform's own words: OAuth ``error_description``, ``message``, Canvas ``errors``, or the text."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300] or response.reason_phrase
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            return "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)[:300]
        words = [str(body[k]) for k in ("error", "error_description", "message", "detail") if body.get(k)]
        if words:
            return ": ".join(words)[:300]
    return str(body)[:300]


class Platform:
    """One platform's token endpoint and services, as the registration in ``LtiSettings`` describes them."""

    def __init__(
        self,
        settings: LtiSettings,
        key: ToolKey,
        cache: TokenCache,
        http: httpx.Client,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.settings = settings
        self.key = key
        self.cache = cache
        self.http = http
        self.sleep = sleep
        self.cache_key = (settings.auth_token_url, settings.client_id, SCOPES)
        configured = (settings.lineitems_url, settings.lineitem_url, settings.memberships_url)
        self.origins = {origin(u) for u in configured if u}

    def token(self) -> str:
        """A cached access token, or a new one from the token endpoint."""
        cached = self.cache.get(self.cache_key)
        if cached:
            return cached
        s = self.settings

        def form() -> dict[str, Any]:  # a new assertion (new jti) for each try: a platform may have seen the last
            data = token_request(self.key, s.client_id, s.audience or s.auth_token_url, SCOPES)
            return {"data": data, "headers": {"Accept": "application/json"}}

        response = self._send("POST", s.auth_token_url, idempotent=True, build=form)
        if response.status_code != 200:
            raise PlatformError(
                f"The platform refused our client assertion at {s.auth_token_url}: {response.status_code} "
                f"{explain(response)}. Check that its registration has our JWKS URL (key id {self.key.kid}) and "
                f"client id {s.client_id!r}.",
                response.status_code,
            )
        try:
            body = response.json()
            token, expires_in = str(body["access_token"]), float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError):
            raise PlatformError(f"The token endpoint {s.auth_token_url} answered 200 without an access_token: "
                                f"{response.text[:200]!r}.") from None  # fmt: skip
        self.cache.put(self.cache_key, token, expires_in)
        return token

    def call(
        self, method: str, url: str, *, accept: str, body: Any = None, media_type: str = "", idempotent: bool = True
    ) -> httpx.Response:
        """A service request with our bearer token; a 401 drops the cached token and tries once with a new one."""
        self.check_origin(url)
        content = json.dumps(body).encode() if body is not None else None
        for fresh in (False, True):
            headers = {"Authorization": f"Bearer {self.token()}", "Accept": accept}
            if media_type:
                headers["Content-Type"] = media_type
            request = {"headers": headers, "content": content}
            response = self._send(method, url, idempotent=idempotent, build=lambda r=request: r)
            if response.status_code != 401 or fresh:
                break
            self.cache.drop(self.cache_key)
        return response

    def pages(self, url: str, accept: str) -> Iterator[Any]:
        """Each page's JSON body, following ``Link: <...>; rel="next"`` (same origin only, no page twice)."""
        seen: set[str] = set()
        while url:
            if url in seen or len(seen) >= MAX_PAGES:
                raise PlatformError(f"GET {url}: the pages loop or pass {MAX_PAGES}; the list would be incomplete.")
            seen.add(url)
            response = self.call("GET", url, accept=accept)
            if response.status_code != 200:
                raise PlatformError(f"GET {url}: {response.status_code} {explain(response)}", response.status_code)
            try:
                yield response.json()
            except ValueError:
                raise PlatformError(f"GET {url} answered 200 with no JSON: {response.text[:200]!r}.") from None
            url = response.links.get("next", {}).get("url", "")

    def check_origin(self, url: str) -> None:
        if origin(url) not in self.origins:
            allowed = sorted(f"{s}://{h}{f':{p}' if p else ''}" for s, h, p in self.origins)
            raise LtiError(f"Refusing to send our token to {url}: not on a configured platform origin {allowed}.")

    def _send(self, method: str, url: str, *, idempotent: bool, build: Callable[[], dict[str, Any]]) -> httpx.Response:
        """One request, tried again after 429 (always) or 5xx and network errors (idempotent requests only)."""
        s = self.settings
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.http.request(method, url, timeout=s.timeout_s, **build())
            except httpx.TransportError as error:
                if not idempotent or attempt >= s.attempts:
                    raise PlatformError(f"{method} {url}: {type(error).__name__}: {error} (try {attempt}).") from None
                self._wait(attempt, None, f"{type(error).__name__}", url)
                continue
            retry = response.status_code == 429 or (idempotent and response.status_code >= 500)
            if not retry or attempt >= s.attempts:
                return response
            self._wait(attempt, response.headers.get("Retry-After"), str(response.status_code), url)

    def _wait(self, attempt: int, retry_after: str | None, why: str, url: str) -> None:
        """Exponential backoff (backoff_s, 2x, 4x ...), or the platform's Retry-After; never over max_backoff_s."""
        s = self.settings
        delay = s.backoff_s * 2 ** (attempt - 1)
        if retry_after:
            delay = _retry_after_s(retry_after, delay)
        delay = max(0.0, min(delay, s.max_backoff_s))
        log.warning("LTI: %s from %s; try %d of %d in %.1f s", why, url, attempt + 1, s.attempts, delay)
        self.sleep(delay)


def _retry_after_s(value: str, default: float) -> float:
    """Retry-After as seconds or an HTTP date (RFC 9110 10.2.3)."""
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return when.timestamp() - time.time()


@contextmanager
def connect(settings: LtiSettings, cache: TokenCache) -> Iterator[Platform]:
    """The platform of a complete registration, with our key loaded; ``NotConfigured`` names what is missing."""
    missing = settings.missing()
    if missing:
        raise NotConfigured(
            f"LTI is not configured: set {', '.join(missing)} (see docs/instructors.md, 'LTI 1.3 grade push')."
        )
    key = keys.load(settings.private_key_path, settings.key_id)
    with httpx.Client(follow_redirects=False) as http:  # a redirect would carry our token elsewhere
        yield Platform(settings, key, cache, http)
