"""The tool's RSA key pair: generate it (PEM, mode 0600), load it, and publish its public half as a JWKS.

The platform verifies our client assertions with the JWKS at ``GET /lti/jwks.json``; the key id (``kid``) is
the configured one or the key's RFC 7638 thumbprint, so it stays the same for the same key.
"""

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from service.lti.errors import KeyFileError

KEY_BITS = 2048  # RS256 with 2048-bit keys: what Canvas and Moodle expect


@dataclass(frozen=True)
class ToolKey:
    private: rsa.RSAPrivateKey
    kid: str

    def jwk(self) -> dict[str, str]:
        """The public key as a JWK (RFC 7517) with ``kid``, ``alg`` and ``use``."""
        return {**_public_members(self.private.public_key()), "kid": self.kid, "alg": "RS256", "use": "sig"}

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": [self.jwk()]}


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _public_members(public: rsa.RSAPublicKey) -> dict[str, str]:
    numbers = public.public_numbers()
    return {"kty": "RSA", "n": _b64(numbers.n), "e": _b64(numbers.e)}


def thumbprint(public: rsa.RSAPublicKey) -> str:
    """RFC 7638: sha256 of the required members ``e, kty, n`` in lexicographic order, no spaces, base64url."""
    members = _public_members(public)
    canonical = json.dumps({k: members[k] for k in ("e", "kty", "n")}, separators=(",", ":"))
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode("ascii")


def generate(path: Path, force: bool = False) -> rsa.RSAPrivateKey:
    """A new 2048-bit key written to ``path`` as PKCS#8 PEM, readable by its owner only."""
    if path.exists() and not force:
        raise KeyFileError(
            f"{path} exists; a new key breaks the platform registration until its JWKS is fetched again. "
            "Pass --force to replace it."
        )
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)
    return key


def load(path: Path, kid: str = "") -> ToolKey:
    """The private key at ``path`` with its kid (``kid`` or the thumbprint)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise KeyFileError(f"Cannot read the LTI private key {path}: {error.strerror}. Run 'python -m service.lti "
                        "keygen' or set VITGRADE_LTI_PRIVATE_KEY_PATH.") from None  # fmt: skip
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as error:
        raise KeyFileError(f"{path} is not an unencrypted PEM private key: {error}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyFileError(f"{path} holds a {type(key).__name__}; LTI 1.3 needs an RSA key (RS256).")
    return ToolKey(key, kid or thumbprint(key.public_key()))
