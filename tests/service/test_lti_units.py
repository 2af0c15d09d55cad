"""Unit tests of the LTI pieces: the client assertion's claims, the key and its JWKS, the settings, retries,
the token cache, matching. HTTP here goes to an ``httpx.MockTransport`` (the real-HTTP tests are in
test_lti_push.py)."""

import json
import os
import subprocess
import sys
import time
import unicodedata
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import ValidationError

from service.lti import ags, keys, nrps, tokens
from service.lti.client import Platform
from service.lti.config import SCOPES, LtiSettings
from service.lti.errors import KeyFileError, PlatformError
from service.lti.nrps import Member
from service.lti.push import StudentGrade, match

ROOT = Path(__file__).resolve().parents[2]
TOKEN_URL = "https://lms.example.edu/login/oauth2/token"


@pytest.fixture(scope="module")
def tool_key(tmp_path_factory: pytest.TempPathFactory) -> keys.ToolKey:
    path = tmp_path_factory.mktemp("lti") / "tool.pem"
    keys.generate(path)
    return keys.load(path)


def test_client_assertion_claims(tool_key: keys.ToolKey) -> None:
    now = time.time()
    assertion = tokens.client_assertion(tool_key, "client-7", TOKEN_URL, now)
    header = jwt.get_unverified_header(assertion)
    assert (header["alg"], header["kid"]) == ("RS256", tool_key.kid)
    public = jwt.PyJWK(tool_key.jwk()).key
    claims = jwt.decode(assertion, public, algorithms=["RS256"], audience=TOKEN_URL, issuer="client-7")
    assert claims["sub"] == claims["iss"] == "client-7" and claims["aud"] == TOKEN_URL
    assert 0 < claims["exp"] - claims["iat"] <= 300, claims
    assert now - 60 <= claims["iat"] <= now and claims["exp"] <= now + 300
    again = jwt.decode(tokens.client_assertion(tool_key, "client-7", TOKEN_URL), public, algorithms=["RS256"],
                       audience=TOKEN_URL)  # fmt: skip
    assert again["jti"] != claims["jti"] and len(claims["jti"]) >= 16
    other = keys.ToolKey(rsa.generate_private_key(public_exponent=65537, key_size=2048), tool_key.kid)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(tokens.client_assertion(other, "client-7", TOKEN_URL), public, algorithms=["RS256"],
                   audience=TOKEN_URL)  # fmt: skip


def _platform(tool_key: keys.ToolKey, handler, **settings) -> tuple[Platform, list[float]]:  # noqa: ANN001
    registration = LtiSettings(
        client_id="client-7", auth_token_url=TOKEN_URL, lineitems_url="https://lms.example.edu/api/lti/lineitems",
        memberships_url="https://lms.example.edu/api/lti/members", backoff_s=0.5, max_backoff_s=4, **settings,
    )  # fmt: skip
    slept: list[float] = []
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return Platform(registration, tool_key, tokens.TokenCache(), http, sleep=slept.append), slept


def test_token_request_form_audience_and_cache(tool_key: keys.ToolKey) -> None:
    forms = []

    def handler(request: httpx.Request) -> httpx.Response:
        forms.append({k: v[0] for k, v in parse_qs(request.content.decode()).items()})
        return httpx.Response(200, json={"access_token": f"t{len(forms)}", "expires_in": 3600})

    platform, _ = _platform(tool_key, handler, audience="https://lms.example.edu")
    assert platform.token() == platform.token() == "t1" and len(forms) == 1  # cached
    form = forms[0]
    assert form["grant_type"] == "client_credentials" and form["client_assertion_type"] == tokens.ASSERTION_TYPE
    assert form["scope"].split() == list(SCOPES)
    claims = jwt.decode(form["client_assertion"], jwt.PyJWK(tool_key.jwk()).key, algorithms=["RS256"],
                        audience="https://lms.example.edu")  # the configured audience, not the token URL  # fmt: skip
    assert claims["iss"] == "client-7"


def test_token_cache_keeps_a_token_until_shortly_before_it_expires() -> None:
    cache = tokens.TokenCache()
    cache.put(("u", "c", ()), "long", 3600)
    cache.put(("u", "c2", ()), "short", 20)  # under the margin: not kept at all
    assert cache.get(("u", "c", ())) == "long" and cache.get(("u", "c2", ())) is None
    cache.drop(("u", "c", ()))
    assert cache.get(("u", "c", ())) is None


def test_retries_honour_retry_after_within_the_bound(tool_key: keys.ToolKey) -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "100"}), httpx.Response(503),
                    httpx.Response(200, json={"access_token": "t", "expires_in": 60})])  # fmt: skip
    seen_jti = []

    def handler(request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        seen_jti.append(jwt.decode(form["client_assertion"], options={"verify_signature": False})["jti"])
        return next(answers)

    platform, slept = _platform(tool_key, handler, attempts=3)
    assert platform.token() == "t"
    assert slept == [4, 1.0]  # Retry-After 100 s capped at max_backoff_s; then backoff_s * 2
    assert len(set(seen_jti)) == 3  # each try signs a new assertion


def test_a_non_idempotent_request_is_not_retried_after_a_5xx(tool_key: keys.ToolKey) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("token"):
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        calls.append(request.method)
        return httpx.Response(502, text="bad gateway")

    platform, _ = _platform(tool_key, handler, attempts=4)
    with pytest.raises(Exception, match="502 bad gateway"):
        ags.create_lineitem(platform, platform.settings)
    assert calls == ["POST"]  # a retried create could make two line items


def test_scores_url_keeps_the_query() -> None:
    assert ags.scores_url("https://m.example/mod/lti/services.php/2/lineitems/5/lineitem?type_id=1") == (
        "https://m.example/mod/lti/services.php/2/lineitems/5/lineitem/scores?type_id=1"
    )
    assert ags.with_query("https://c.example/li?a=1", resource_id="x y") == "https://c.example/li?a=1&resource_id=x+y"


def test_jwks_and_rfc7638_thumbprint() -> None:
    """The RFC 7638 section 3.1 example key and its thumbprint."""
    n = (
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3"
        "oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZ"
        "Hzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kE"
        "gU8awapJzKnqDKgw"
    )
    e = "AQAB"
    number = lambda text: int.from_bytes(jwt.utils.base64url_decode(text), "big")  # noqa: E731
    public = rsa.RSAPublicNumbers(number(e), number(n)).public_key()
    assert keys.thumbprint(public) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_keygen_writes_a_private_file_and_keeps_an_existing_key(tmp_path: Path) -> None:
    path = tmp_path / "k" / "tool.pem"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VITGRADE_LTI_PRIVATE_KEY_PATH": str(path)}
    command = [sys.executable, "-m", "service.lti", "keygen"]
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert path.stat().st_mode & 0o777 == 0o600
    [jwk] = json.loads(first.stdout)["keys"]
    assert jwk["kid"] == keys.load(path).kid and "d" not in jwk and jwk["alg"] == "RS256"  # public half only
    before = path.read_bytes()
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 2 and "--force" in second.stderr and path.read_bytes() == before
    path.write_text("not a key")
    with pytest.raises(KeyFileError, match="not an unencrypted PEM private key"):
        keys.load(path)


def test_settings_accept_https_and_loopback_http_only(tmp_path: Path) -> None:
    assert LtiSettings(auth_token_url="http://127.0.0.1:9/token").auth_token_url
    assert LtiSettings(lineitems_url="https://canvas.example.edu/api/lti/courses/1/line_items").lineitems_url
    with pytest.raises(ValidationError, match="must be an https"):
        LtiSettings(auth_token_url="http://canvas.example.edu/login/oauth2/token")
    missing = LtiSettings(private_key_path=tmp_path / "none.pem").missing()
    assert "VITGRADE_LTI_CLIENT_ID" in missing and "VITGRADE_LTI_LINEITEMS_URL" in missing
    assert any("keygen" in m for m in missing)


def test_matching_by_sis_id_then_email_and_ambiguity() -> None:
    def member(uid: str, email: str = "", sis: str = "") -> Member:
        return Member(uid, uid, email, sis, True)

    members = [member("m1", "a@x.edu", "S1"), member("m2", unicodedata.normalize("NFD", "ZOË@x.edu")),
               member("m3", "twin@x.edu"), member("m4", "twin@x.edu"), member("m5", "b@x.edu")]  # fmt: skip
    students = [
        StudentGrade("a", "other@x.edu", "S1", 1.0, 10.0),  # SIS id wins over a different email
        StudentGrade("Łukasiewicz, Zoë", "zoë@x.edu", "", 1.0, 10.0),  # case and Unicode normalisation
        StudentGrade("twin", "twin@x.edu", "", 1.0, 10.0),  # two members share the email: nobody
        StudentGrade("b1", "b@x.edu", "", 1.0, 10.0),  # two students claim one member: neither
        StudentGrade("b2", "B@x.edu", "", 1.0, 10.0),
        StudentGrade("none", "", "", 1.0, 10.0),
    ]
    found = {name: m.user_id if m else None for name, m in match(students, members).items()}
    assert found == {"a": "m1", "Łukasiewicz, Zoë": "m2", "twin": None, "b1": None, "b2": None, "none": None}


def test_a_next_link_back_to_a_seen_page_is_an_error_not_a_loop(tool_key: keys.ToolKey) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("token"):
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        calls.append(str(request.url))
        link = '<https://lms.example.edu/api/lti/members>; rel="next"'
        return httpx.Response(200, json={"members": [{"user_id": "u1", "roles": "Learner"}]}, headers={"Link": link})

    platform, _ = _platform(tool_key, handler)
    with pytest.raises(PlatformError, match="loop"):
        nrps.members(platform, "https://lms.example.edu/api/lti/members")
    assert calls == ["https://lms.example.edu/api/lti/members"]
