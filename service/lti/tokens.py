"""OAuth2 client credentials with a signed JWT client assertion (RFC 7523, LTI 1.3 security framework 4.1).

The assertion: header ``alg=RS256, kid``; claims ``iss = sub = client_id``, ``aud`` = the token URL (or the
configured audience), a fresh ``jti``, ``iat`` and ``exp`` at most 5 minutes later. Access tokens are cached
per (token URL, client id, scopes) until shortly before they expire.
"""

import threading
import time
import uuid
from dataclasses import dataclass

import jwt

from service.lti.keys import ToolKey

LIFETIME_S = 300  # exp - iat: the security framework asks for a short-lived assertion (5 minutes at most)
CLOCK_SKEW_S = 5  # iat a little in the past, for a platform whose clock runs behind ours
EXPIRY_MARGIN_S = 30  # a cached token is dropped this long before the platform says it expires
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def client_assertion(key: ToolKey, client_id: str, audience: str, now: float | None = None) -> str:
    """The signed JWT that authenticates us at the token endpoint (RFC 7523 section 2.2)."""
    issued = int(now if now is not None else time.time()) - CLOCK_SKEW_S
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": issued,
        "exp": issued + LIFETIME_S,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, key.private, algorithm="RS256", headers={"kid": key.kid})


def token_request(key: ToolKey, client_id: str, audience: str, scopes: tuple[str, ...]) -> dict[str, str]:
    """The form of the client-credentials grant."""
    return {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": client_assertion(key, client_id, audience),
        "scope": " ".join(scopes),
    }


@dataclass
class _Cached:
    token: str
    expires_at: float  # time.monotonic()


class TokenCache:
    """Access tokens by (token URL, client id, scopes); thread-safe, one per app or CLI run."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, str, tuple[str, ...]], _Cached] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, tuple[str, ...]]) -> str | None:
        with self._lock:
            cached = self._tokens.get(key)
            if cached is None or time.monotonic() >= cached.expires_at:
                self._tokens.pop(key, None)
                return None
            return cached.token

    def put(self, key: tuple[str, str, tuple[str, ...]], token: str, expires_in: float) -> None:
        """Keep ``token`` until ``expires_in`` seconds minus a margin (not at all when that is under a second)."""
        keep = min(expires_in - EXPIRY_MARGIN_S, expires_in * 0.9)
        if keep < 1:
            return
        with self._lock:
            self._tokens[key] = _Cached(token, time.monotonic() + keep)

    def drop(self, key: tuple[str, str, tuple[str, ...]]) -> None:
        with self._lock:
            self._tokens.pop(key, None)
