"""Late credit and the grade that counts, at every boundary: due, +1 s, grace, each window, close, a DST change."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from service.counting import Graded, Standing, count
from service.lateness import Timing, deadline, price
from service.policy import Counts, Policy

S = timedelta(seconds=1)
DUE = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def windows_policy(**extra: object) -> Policy:
    return Policy(
        due_at=DUE,
        grace_minutes=10,
        late_mode="windows",
        windows=[
            {"until": DUE + timedelta(days=1), "credit_percent": 80},
            {"until": DUE + timedelta(days=3), "credit_percent": 50},
        ],
        close_at=DUE + timedelta(days=7),
        **extra,
    )


@pytest.mark.parametrize(
    ("offset", "timing", "credit"),
    [
        (-S, Timing.on_time, 1.0),
        (timedelta(0), Timing.on_time, 1.0),  # exactly at the due time
        (S, Timing.on_time, 1.0),  # inside the grace
        (timedelta(minutes=10), Timing.on_time, 1.0),  # the last second of the grace
        (timedelta(minutes=10) + S, Timing.late, 0.8),  # first window
        (timedelta(days=1), Timing.late, 0.8),  # its end is inclusive
        (timedelta(days=1) + S, Timing.late, 0.5),  # second window
        (timedelta(days=3), Timing.late, 0.5),
        (timedelta(days=3) + S, Timing.late, 0.0),  # past every window, before the close
        (timedelta(days=7), Timing.late, 0.0),  # at the close: still accepted
        (timedelta(days=7) + S, Timing.practice, 0.0),  # after it: practice
    ],
)
def test_windows_at_every_boundary(offset: timedelta, timing: Timing, credit: float) -> None:
    rules = windows_policy()
    priced = price(rules, deadline(rules), DUE + offset)
    assert (priced.timing, priced.credit) == (timing, credit), offset
    assert priced.late_s == (max(offset.total_seconds(), 0.0) if timing is not Timing.on_time else 0.0)


def test_no_grace_means_one_second_is_late() -> None:
    rules = Policy(due_at=DUE, late_mode="decay", decay_percent_per_hour=10, decay_floor_percent=30)
    assert price(rules, deadline(rules), DUE).timing is Timing.on_time
    late = price(rules, deadline(rules), DUE + S)
    assert late.timing is Timing.late and late.late_s == 1.0 and late.credit == pytest.approx(1 - 10 / 3600 / 100)
    assert price(rules, deadline(rules), DUE + timedelta(hours=5)).credit == pytest.approx(0.5)
    assert price(rules, deadline(rules), DUE + timedelta(hours=7)).credit == pytest.approx(0.3)  # the floor
    assert price(rules, deadline(rules), DUE + timedelta(days=30)).credit == pytest.approx(0.3)


def test_decay_counts_real_hours_across_a_dst_change() -> None:
    """Europe/Paris springs forward at 02:00 on 2026-03-29: 23:00 to 04:00 local is 4 hours, not 5."""
    rules = Policy(timezone="Europe/Paris", due_at="2026-03-28T23:00", late_mode="decay", decay_percent_per_hour=10)
    assert rules.due_at == datetime(2026, 3, 28, 22, 0, tzinfo=UTC)
    received = Policy(timezone="Europe/Paris", due_at="2026-03-29T04:00").due_at
    assert received == datetime(2026, 3, 29, 2, 0, tzinfo=UTC)
    priced = price(rules, deadline(rules), received)
    assert priced.late_s == 4 * 3600 and priced.credit == pytest.approx(0.6)
    assert rules.local(rules.due_at) == "2026-03-28 23:00:00 CET"
    assert rules.local(received) == "2026-03-29 04:00:00 CEST"


def test_a_local_time_skipped_by_dst_is_refused_and_a_repeated_one_is_the_first() -> None:
    with pytest.raises(ValidationError, match="does not exist in Europe/Paris"):
        Policy(timezone="Europe/Paris", due_at="2026-03-29T02:30")
    autumn = Policy(timezone="Europe/Paris", due_at="2026-10-25T02:30")  # happens twice: the CEST one
    assert autumn.due_at == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    with pytest.raises(ValidationError, match="unknown time zone"):
        Policy(timezone="Mars/Olympus")
    with pytest.raises(ValidationError, match="before due_at"):
        Policy(due_at=DUE, close_at=DUE - S)


def test_extension_moves_due_close_and_windows() -> None:
    rules = windows_policy()
    when = deadline(rules, DUE + timedelta(days=2))
    assert when.extended and when.close_at == DUE + timedelta(days=7)  # the policy's close is still later
    assert price(rules, when, DUE + timedelta(days=2)).timing is Timing.on_time
    assert price(rules, when, DUE + timedelta(days=3)).credit == 0.8  # windows shifted by two days
    assert price(rules, when, DUE + timedelta(days=5) + S).credit == 0.0
    late = deadline(rules, DUE + timedelta(days=10))
    assert late.close_at == DUE + timedelta(days=10)  # never closes before the extended due time
    assert price(rules, late, DUE + timedelta(days=9)).timing is Timing.on_time
    own = deadline(rules, DUE + timedelta(days=1), DUE + timedelta(days=2))
    assert price(rules, own, DUE + timedelta(days=2) + S).timing is Timing.practice


def graded(sid: str, hours: float, raw: float, rules: Policy, *, gradable: bool = True, **q: float) -> Graded:
    received = DUE + timedelta(hours=hours)
    return Graded(sid, received, raw, 100.0, q or {"Q1": raw}, gradable, price(rules, deadline(rules), received))


def test_best_picks_an_on_time_80_over_a_late_90_at_80_percent() -> None:
    rules = windows_policy(counts=Counts.best)
    subs = [graded("on-time", -1, 80, rules), graded("late", 2, 90, rules)]
    result = count(Standing("a", "u", Counts.best), subs)
    assert result.submission.submission_id == "on-time" and result.final == 80
    subs.append(graded("later-80", 3, 100, rules))  # 100 at 80 % = 80: a tie goes to the later one
    assert count(Standing("a", "u", Counts.best), subs).submission.submission_id == "later-80"


def test_latest_chosen_and_ineligible_submissions() -> None:
    rules = windows_policy()
    subs = [
        graded("first", -5, 50, rules),
        graded("second", -4, 70, rules),
        graded("ungradable", -3, 0, rules, gradable=False),
        graded("practice", 24 * 8, 100, rules),
    ]
    latest = count(Standing("a", "u", Counts.latest), subs)
    assert latest.submission.submission_id == "second" and latest.final == 70
    chosen = count(Standing("a", "u", Counts.chosen), subs, chosen_id="first")
    assert chosen.submission.submission_id == "first"
    assert count(Standing("a", "u", Counts.chosen), subs, "practice").submission.submission_id == "second"
    assert count(Standing("a", "u", Counts.latest), subs[2:]).submission is None


def test_best_per_question_is_opt_in_and_credited() -> None:
    rules = windows_policy()
    subs = [graded("a", -2, 9, rules, Q1=5, Q2=4), graded("b", 2, 10, rules, Q1=2, Q2=8)]
    per_q = count(Standing("a", "u", Counts.best_per_question), subs)
    assert per_q.questions == {"Q1": 5, "Q2": pytest.approx(6.4)} and per_q.final == pytest.approx(11.4)
    assert count(Standing("a", "u", Counts.latest), subs).questions == {"Q1": 2, "Q2": 8}


@pytest.mark.parametrize(
    ("late", "timing", "credit", "tokens"),
    [
        (timedelta(minutes=10), Timing.on_time, 1.0, 0),  # in the grace: no token spent
        (timedelta(minutes=10) + S, Timing.on_time, 1.0, 1),  # one token covers the first hour
        (timedelta(hours=3), Timing.on_time, 1.0, 3),  # the whole budget
        (timedelta(hours=3, minutes=10), Timing.on_time, 1.0, 3),  # the budget, then the grace
        (timedelta(hours=5), Timing.late, 0.8, 3),  # 2 h left to price: 100 - 10 x 2
    ],
)
def test_late_tokens_are_spent_in_whole_hours(late: timedelta, timing: Timing, credit: float, tokens: int) -> None:
    rules = Policy(due_at=DUE, grace_minutes=10, late_mode="decay", decay_percent_per_hour=10, late_token_hours=3)
    priced = price(rules, deadline(rules), DUE + late)
    assert (priced.timing, priced.token_hours) == (timing, tokens)
    assert priced.credit == pytest.approx(credit)
