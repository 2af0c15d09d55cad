"""The tool's LMS registration (LTI 1.3): one pydantic-settings ``LtiSettings``, each field ``VITGRADE_LTI_<NAME>``.

The values come from the platform's developer key / tool registration (see docs/instructors.md, "LTI 1.3").
"""

from ipaddress import ip_address
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_MEMBERSHIPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
SCOPES = (SCOPE_LINEITEM, SCOPE_SCORE, SCOPE_MEMBERSHIPS)
URL_FIELDS = ("auth_token_url", "platform_jwks_url", "lineitems_url", "lineitem_url", "memberships_url")


class LtiSettings(BaseSettings):
    """The platform registration and our key; empty strings mean "not set"."""

    model_config = SettingsConfigDict(env_prefix="VITGRADE_LTI_", extra="ignore")

    issuer: str = Field(default="", description="The platform's issuer (iss), e.g. https://canvas.instructure.com.")
    client_id: str = Field(default="", description="Our client id at the platform (Canvas: the developer key id).")
    deployment_id: str = Field(default="", description="The deployment id of the tool in the course or account.")
    auth_token_url: str = Field(default="", description="The platform's OAuth2 token endpoint.")
    audience: str = Field(default="", description="Our assertion's aud; empty = the token URL (Canvas, Moodle).")
    platform_jwks_url: str = Field(default="", description="The platform's public keys (a launch would verify them).")
    lineitems_url: str = Field(default="", description="AGS line items endpoint of the course context ('lineitems').")
    lineitem_url: str = Field(default="", description="One line item to post to (skips find-or-create); optional.")
    memberships_url: str = Field(default="", description="NRPS context memberships URL ('context_memberships_url').")
    private_key_path: Path = Field(default=Path("var/lti/tool-key.pem"), description="Our RSA private key (PEM).")
    key_id: str = Field(default="", description="kid of our key; empty = its RFC 7638 thumbprint.")
    resource_id: str = Field(default="vitgrade-vit-lab", description="resourceId of the line item we find or create.")
    tag: str = Field(default="vitgrade", description="tag of the line item we find or create.")
    label: str = Field(default="ViT lab", description="label (the gradebook column's name) of a new line item.")
    score_maximum: float = Field(default=100.0, gt=0, description="scoreMaximum of a new line item.")
    timeout_s: float = Field(default=20.0, gt=0, description="Timeout of one HTTP request to the platform.")
    attempts: int = Field(default=4, ge=1, le=10, description="Tries of a request answered 429 or 5xx.")
    backoff_s: float = Field(default=1.0, ge=0, description="First wait before a retry; doubled each time.")
    max_backoff_s: float = Field(default=20.0, ge=0, description="Longest wait before a retry (and Retry-After).")

    @field_validator(*URL_FIELDS)
    @classmethod
    def _https(cls, value: str) -> str:
        """Bearer tokens travel only over HTTPS (plain HTTP only to this machine, for tests and tunnels)."""
        if not value:
            return value
        parts = urlsplit(value)
        if parts.scheme == "https" and parts.hostname:
            return value
        if parts.scheme == "http" and _loopback(parts.hostname or ""):
            return value
        raise ValueError(f"{value!r} must be an https:// URL (http:// only for localhost), got scheme {parts.scheme!r}")

    def missing(self) -> list[str]:
        """The environment variables a push still needs (empty when it can run)."""
        need = ["issuer", "client_id", "auth_token_url", "memberships_url"]
        names = [f"VITGRADE_LTI_{n.upper()}" for n in need if not getattr(self, n)]
        if not self.lineitems_url and not self.lineitem_url:
            names.append("VITGRADE_LTI_LINEITEMS_URL")
        if not self.private_key_path.is_file():
            names.append(f"VITGRADE_LTI_PRIVATE_KEY_PATH (no file at {self.private_key_path}: run "
                         "'python -m service.lti keygen')")  # fmt: skip
        return names


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False
