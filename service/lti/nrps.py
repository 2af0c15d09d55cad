"""Names and Role Provisioning Services 2.0: the context's members, every page (``Link: rel="next"``)."""

from dataclasses import dataclass

from service.lti.client import Platform
from service.lti.errors import PlatformError

MEMBERSHIPS = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
LEARNER = "Learner"  # the role's short name; platforms send it as a full IMS URI or short


@dataclass(frozen=True)
class Member:
    user_id: str  # the LTI user id: the Score's userId
    name: str
    email: str
    sourcedid: str  # lis_person_sourcedid: the SIS id where the platform shares it
    learner: bool


def members(platform: Platform, url: str) -> list[Member]:
    """Every member not marked Deleted, over all pages."""
    found: list[Member] = []
    for page in platform.pages(url, MEMBERSHIPS):
        rows = page.get("members") if isinstance(page, dict) else None
        if not isinstance(rows, list):
            raise PlatformError(f"GET {url}: a membership container has a 'members' list; got {str(page)[:200]!r}.")
        for row in rows:
            if not isinstance(row, dict) or not row.get("user_id") or row.get("status") == "Deleted":
                continue
            listed = row.get("roles")
            roles = [r for r in listed if isinstance(r, str)] if isinstance(listed, list) else []
            found.append(
                Member(
                    user_id=str(row["user_id"]),
                    name=str(row.get("name") or ""),
                    email=str(row.get("email") or ""),
                    sourcedid=str(row.get("lis_person_sourcedid") or ""),
                    learner=any(r.rsplit("#", 1)[-1].rsplit("/", 1)[-1] == LEARNER for r in roles),
                )
            )
    return found
