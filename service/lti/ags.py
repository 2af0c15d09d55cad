"""Assignment and Grade Services 2.0: find or create the assignment's line item, post one student's score.

Line items are found by ``resourceId`` (and ``tag`` when the platform keeps one) in the context's line items
container; a new one gets the configured label and ``scoreMaximum``. A score goes to ``{lineitem}/scores``
(query string kept, as Moodle's line item URLs carry one).
"""

from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from service.lti.client import Platform, explain
from service.lti.config import LtiSettings
from service.lti.errors import PlatformError

LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEMS = "application/vnd.ims.lis.v2.lineitemcontainer+json"
SCORE = "application/vnd.ims.lis.v1.score+json"


def with_query(url: str, **params: str) -> str:
    """``url`` with ``params`` added to the query it already has."""
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


def scores_url(lineitem: str) -> str:
    """The score publish service of a line item: its path plus ``/scores``, query kept."""
    parts = urlsplit(lineitem)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/scores"))


def find_lineitem(platform: Platform, settings: LtiSettings) -> str | None:
    """The id (URL) of the first line item with our resourceId and tag, or None."""
    url = with_query(settings.lineitems_url, resource_id=settings.resource_id)
    for page in platform.pages(url, LINEITEMS):
        if not isinstance(page, list):
            raise PlatformError(f"GET {url}: a line item container is a JSON array, got {type(page).__name__}.")
        for item in page:
            if not isinstance(item, dict) or item.get("resourceId") != settings.resource_id:
                continue
            if item.get("tag") not in (None, "", settings.tag):
                continue
            if isinstance(item.get("id"), str) and item["id"]:
                return item["id"]
    return None


def create_lineitem(platform: Platform, settings: LtiSettings) -> str:
    """POST a new line item; its id (URL) as the platform assigned it."""
    body = {
        "label": settings.label,
        "scoreMaximum": settings.score_maximum,
        "resourceId": settings.resource_id,
        "tag": settings.tag,
    }
    response = platform.call(
        "POST", settings.lineitems_url, accept=LINEITEM, body=body, media_type=LINEITEM, idempotent=False
    )
    if response.status_code not in (200, 201):
        raise PlatformError(
            f"Creating the line item {settings.label!r} at {settings.lineitems_url}: {response.status_code} "
            f"{explain(response)}",
            response.status_code,
        )
    try:
        created = response.json()["id"]
    except (ValueError, KeyError, TypeError):
        raise PlatformError(f"The platform created a line item but sent no id: {response.text[:200]!r}.") from None
    platform.check_origin(created)
    return created


def score(user_id: str, given: float, maximum: float, now: datetime) -> dict[str, Any]:
    """One Score (AGS 2.0 section 3.4): final, fully graded, stamped with an aware ISO-8601 time."""
    return {
        "userId": user_id,
        "scoreGiven": given,
        "scoreMaximum": maximum,
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": now.isoformat(timespec="milliseconds"),
    }


def post_score(platform: Platform, lineitem: str, body: dict[str, Any]) -> None:
    """POST one score; a refusal (after retries on 429/5xx) raises with the platform's message."""
    response = platform.call("POST", scores_url(lineitem), accept="application/json", body=body, media_type=SCORE)
    if response.status_code not in (200, 201, 202, 204):
        raise PlatformError(f"{response.status_code} {explain(response)}", response.status_code)
