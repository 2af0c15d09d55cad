"""The assignment's policy: due time, grace, late credit, hard close, and which submission counts.

Stored as versions (``PolicyVersion``, append-only): the newest is in force, and every grade is priced
with it when read, so changing the policy re-prices past submissions without regrading.

Times: the instructor writes local times (``2026-03-29T23:59``) read in the policy's IANA time zone,
or times with an offset; they are stored in UTC. A local time that does not exist (skipped by a DST
change) is refused; one that happens twice (the autumn change) is the first of the two (``fold=0``).
"""

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import PolicyVersion


class Counts(StrEnum):
    """Which submission's grade counts for a student."""

    latest = "latest"  # the last submitted (by submission time, never by grading time)
    best = "best"  # the highest final score (after late credit); ties go to the later submission
    chosen = "chosen"  # the one the student marked; the latest when none is marked
    best_per_question = "best_per_question"  # each question's best final score over submissions (opt-in)


class AfterClose(StrEnum):
    refuse = "refuse"  # 403 with the close date
    practice = "practice"  # accepted and graded, for no credit


class LateMode(StrEnum):
    none = "none"  # late = no credit after grace (until the close, if any)
    windows = "windows"  # dated windows: until each date, that credit
    decay = "decay"  # linear decay: credit falls by ``decay_percent_per_hour`` down to ``decay_floor_percent``


class Window(BaseModel):
    until: datetime = Field(description="End of the window (inclusive): local to the policy's zone, or with offset.")
    credit_percent: float = Field(ge=0, le=100, description="Credit of a submission received in this window.")


class Policy(BaseModel):
    """One assignment's policy. Every field has a default: no due time means nothing is ever late."""

    timezone: str = Field(default="UTC", description="IANA time zone of local times (e.g. Europe/Paris).")
    due_at: datetime | None = Field(default=None, description="Due time; None = no deadline.")
    grace_minutes: float = Field(default=0, ge=0, le=7 * 24 * 60, description="Received by due + grace is on time.")
    late_mode: LateMode = LateMode.none
    windows: list[Window] = Field(default_factory=list, max_length=20, description="For late_mode=windows.")
    decay_percent_per_hour: float = Field(default=0, ge=0, le=100, description="For late_mode=decay.")
    decay_floor_percent: float = Field(default=0, ge=0, le=100, description="For late_mode=decay.")
    late_token_hours: int = Field(default=0, ge=0, le=24 * 30, description="Late tokens per student, in hours.")
    close_at: datetime | None = Field(default=None, description="Hard close; None = never closes.")
    after_close: AfterClose = AfterClose.refuse
    counts: Counts = Counts.latest

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/Paris") from None
        return value

    @model_validator(mode="after")
    def _to_utc(self) -> "Policy":
        zone = ZoneInfo(self.timezone)
        self.due_at = to_utc(self.due_at, zone, "due_at")
        self.close_at = to_utc(self.close_at, zone, "close_at")
        for i, window in enumerate(self.windows):
            window.until = to_utc(window.until, zone, f"windows[{i}].until")
        self.windows.sort(key=lambda w: w.until)
        if self.due_at and self.close_at and self.close_at < self.due_at:
            raise ValueError(f"close_at ({self.close_at.isoformat()}) is before due_at ({self.due_at.isoformat()})")
        if self.windows and self.due_at is None:
            raise ValueError("late windows need a due_at")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, moment: datetime | None) -> str:
        """``moment`` written in the policy's time zone, e.g. ``2026-03-29 23:59 CEST``."""
        if moment is None:
            return ""
        return moment.astimezone(ZoneInfo(self.timezone)).strftime("%Y-%m-%d %H:%M:%S %Z")


def to_utc(moment: datetime | None, zone: ZoneInfo, name: str) -> datetime | None:
    """An aware UTC datetime; a naive one is local to ``zone`` and must exist there."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        return moment.astimezone(UTC)
    local = moment.replace(tzinfo=zone)
    back = local.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if back != moment:
        raise ValueError(
            f"{name}: {moment.isoformat()} does not exist in {zone.key} (skipped by a daylight-saving change); "
            f"pick another time, e.g. {(moment + timedelta(hours=1)).isoformat()}"
        )
    return local.astimezone(UTC)


def current(session: Session) -> Policy:
    """The policy in force (the newest version), or the default policy when none was ever set."""
    document = session.scalars(select(PolicyVersion.document).order_by(PolicyVersion.id.desc()).limit(1)).first()
    return Policy.model_validate(document) if document is not None else Policy()


def history(session: Session) -> list[PolicyVersion]:
    return list(session.scalars(select(PolicyVersion).order_by(PolicyVersion.id)))


def save(session: Session, policy: Policy, author: str) -> PolicyVersion:
    """A new version (earlier ones stay)."""
    version = PolicyVersion(document=policy.model_dump(mode="json"), author=author)
    session.add(version)
    session.flush()
    return version
