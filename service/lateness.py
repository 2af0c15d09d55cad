"""Late credit: what a submission received at a given time is worth under a policy and an extension.

Computed when grades are read (never stored), so a new policy or extension re-prices past submissions.

- ``due`` is the extension's due time if the student has one, else the policy's. Received at or before
  ``due + grace`` is on time (credit 100 %). Lateness is counted from ``due`` (the grace forgives,
  it does not move the deadline): ``late_s = received - due``.
- Windows: the credit of the first window whose ``until`` is at or after the receive time; past the
  last window, 0 %. An extension shifts every window by the same amount as it moves the due time.
- Decay: ``credit = max(floor, 100 - rate * late_hours)`` with ``late_hours = late_s / 3600`` in real
  elapsed time (a DST change does not add or remove an hour).
- Late tokens: a budget of ``late_token_hours`` per student, spent automatically in whole hours
  (``ceil(late hours)``, at most the budget): they move that submission's due time (and windows) by
  the hours spent; credit is then priced on what lateness is left. (One assignment: the budget is
  not shared with other assignments.)
- Close: the extension's close time if it gives one, else the later of the policy's close and the
  extended due time. Received after the close: ``practice`` (0 %, never counts).
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from service.policy import LateMode, Policy


class Timing(StrEnum):
    on_time = "on_time"
    late = "late"
    practice = "practice"  # after the close: graded, for no credit


@dataclass(frozen=True)
class Deadline:
    """One student's deadlines under a policy and their extension (if any)."""

    due_at: datetime | None
    close_at: datetime | None
    shift: timedelta  # extension's due - policy's due (moves the late windows)
    extended: bool


@dataclass(frozen=True)
class Pricing:
    timing: Timing
    late_s: float  # seconds after the due time (0 when on time without tokens)
    credit: float  # 0..1
    token_hours: int = 0  # late tokens spent (whole hours)

    @property
    def counts(self) -> bool:
        return self.timing is not Timing.practice


ON_TIME = Pricing(Timing.on_time, 0.0, 1.0)


def deadline(
    policy: Policy, extension_due: datetime | None = None, extension_close: datetime | None = None
) -> Deadline:
    """The due and close times that apply to a student (``extension_*`` from their extension in force)."""
    if extension_due is None:
        return Deadline(policy.due_at, policy.close_at, timedelta(0), False)
    shift = extension_due - policy.due_at if policy.due_at else timedelta(0)
    close = extension_close
    if close is None and policy.close_at is not None:
        close = max(policy.close_at, extension_due)
    return Deadline(extension_due, close, shift, True)


def price(policy: Policy, when: Deadline, received: datetime) -> Pricing:
    """Timing and credit of a submission received at ``received`` (an aware datetime)."""
    if when.close_at is not None and received > when.close_at:
        late = (received - when.due_at).total_seconds() if when.due_at else 0.0
        return Pricing(Timing.practice, max(late, 0.0), 0.0)
    if when.due_at is None:
        return ON_TIME
    late_s = (received - when.due_at).total_seconds()
    if late_s <= policy.grace_minutes * 60:
        return ON_TIME
    tokens = min(policy.late_token_hours, math.ceil(late_s / 3600))
    left_s = late_s - tokens * 3600  # the tokens move this student's due time by whole hours
    if left_s <= policy.grace_minutes * 60:
        return Pricing(Timing.on_time, late_s, 1.0, tokens)
    moved = Deadline(when.due_at + timedelta(hours=tokens), when.close_at, when.shift + timedelta(hours=tokens), True)
    return Pricing(Timing.late, late_s, _late_credit(policy, moved, received, left_s), tokens)


def _late_credit(policy: Policy, when: Deadline, received: datetime, late_s: float) -> float:
    if policy.late_mode is LateMode.windows:
        for window in policy.windows:
            if received <= window.until + when.shift:
                return window.credit_percent / 100
        return 0.0
    if policy.late_mode is LateMode.decay:
        percent = 100 - policy.decay_percent_per_hour * late_s / 3600
        return max(policy.decay_floor_percent, percent) / 100
    return 0.0
