"""SLA clock arithmetic: plain clocks, business hours across nights, weekends and time zones."""

from datetime import UTC, datetime, timedelta

import pytest

from app.social.clock import (
    BusinessHours,
    ClockStatus,
    add_business_seconds,
    business_seconds_between,
    read_clock,
)
from app.social.rules import (
    NonGenuineRule,
    is_closing_remark,
    needs_site_visit,
    non_genuine_at,
    non_genuine_evidence,
)

WEEKDAYS_9_TO_17 = {str(d): [["09:00", "17:00"]] for d in range(5)}
UTC_HOURS = BusinessHours.from_config(timezone="UTC", schedule=WEEKDAYS_9_TO_17)
LONDON = BusinessHours.from_config(timezone="Europe/London", schedule=WEEKDAYS_9_TO_17)


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def test_plain_clock_counts_every_second():
    assert add_business_seconds(at(21, 23, 30), 3600, None) == at(22, 0, 30)  # Saturday night, no hours
    assert business_seconds_between(at(21, 23), at(22, 1), None) == 7200


def test_within_the_same_business_day():
    # Mon 2026-11-23 10:00 + 1h = 11:00
    assert add_business_seconds(at(23, 10), 3600, UTC_HOURS) == at(23, 11)


def test_crosses_the_night():
    # Mon 16:30 + 1h → Tue 09:30 (30 min on Monday, 30 min on Tuesday)
    assert add_business_seconds(at(23, 16, 30), 3600, UTC_HOURS) == at(24, 9, 30)
    assert business_seconds_between(at(23, 16, 30), at(24, 9, 30), UTC_HOURS) == 3600


def test_post_at_night_starts_the_clock_at_opening():
    assert add_business_seconds(at(24, 2), 3600, UTC_HOURS) == at(24, 10)


def test_crosses_the_weekend():
    # Fri 2026-11-27 16:45 + 1h → Mon 11-30 09:45; a Saturday post counts from Monday 09:00
    assert add_business_seconds(at(27, 16, 45), 3600, UTC_HOURS) == at(30, 9, 45)
    assert add_business_seconds(at(28, 12), 3600, UTC_HOURS) == at(30, 10)
    assert business_seconds_between(at(27, 16), at(30, 10), UTC_HOURS) == 2 * 3600


def test_one_business_day_follow_up():
    # 8 business hours (one working day) from Thursday 15:00 → Friday 15:00; from Friday 15:00 → Monday 15:00
    assert add_business_seconds(at(26, 15), 8 * 3600, UTC_HOURS) == at(27, 15)
    assert add_business_seconds(at(27, 15), 8 * 3600, UTC_HOURS) == at(30, 15)


def test_time_zone_and_daylight_saving():
    # London is UTC+1 in summer: 09:00 local = 08:00 UTC on Monday 2026-07-06
    assert add_business_seconds(datetime(2026, 7, 6, 7, 0, tzinfo=UTC), 1800, LONDON) == \
        datetime(2026, 7, 6, 8, 30, tzinfo=UTC)
    # and UTC+0 in winter: the same local opening is 09:00 UTC
    assert add_business_seconds(at(23, 7), 1800, LONDON) == at(23, 9, 30)
    # a New York schedule across its DST change (2026-11-01): Fri 16:30 EDT + 1h → Mon 09:30 EST = 14:30 UTC
    new_york = BusinessHours.from_config(timezone="America/New_York", schedule=WEEKDAYS_9_TO_17)
    assert add_business_seconds(datetime(2026, 10, 30, 20, 30, tzinfo=UTC), 3600, new_york) == \
        datetime(2026, 11, 2, 14, 30, tzinfo=UTC)


def test_split_shifts_and_overnight_interval():
    hours = BusinessHours.from_config(timezone="UTC", schedule={"0": [["13:00", "17:00"], ["08:00", "12:00"]],
                                                                  "1": [["20:00", "00:00"]]})
    assert add_business_seconds(at(23, 11), 2 * 3600, hours) == at(23, 14)
    assert add_business_seconds(at(23, 16), 2 * 3600, hours) == at(24, 21)
    assert business_seconds_between(at(23, 0), at(25, 0), hours) == 12 * 3600


def test_bad_schedules_are_refused():
    with pytest.raises(ValueError):
        BusinessHours.from_config(timezone="Mars/Olympus", schedule=WEEKDAYS_9_TO_17)
    with pytest.raises(ValueError):
        BusinessHours.from_config(timezone="UTC", schedule={})
    with pytest.raises(ValueError):
        BusinessHours.from_config(timezone="UTC", schedule={"0": [["17:00", "09:00"]]})


def test_clock_statuses():
    due = at(23, 11)
    assert read_clock(due_at=due, met_at=None, now=at(23, 10)).status == ClockStatus.PENDING
    assert read_clock(due_at=due, met_at=at(23, 10, 59), now=at(23, 12)).status == ClockStatus.MET
    late = read_clock(due_at=due, met_at=at(23, 11, 1), now=at(23, 12))
    assert late.status == ClockStatus.BREACHED and late.breached_at == due
    open_late = read_clock(due_at=due, met_at=None, now=at(23, 11, 0) + timedelta(seconds=1))
    assert open_late.status == ClockStatus.BREACHED and open_late.breached_at == due


def test_non_genuine_rule_counts_follow_ups_after_the_first_reply_over_rolling_hours():
    rule = NonGenuineRule()  # the practice: 3 follow-ups, 72 h of silence since the first reply, 4 h grace
    reply, follow_ups = at(2, 10), [at(3, 10), at(4, 10), at(5, 0)]
    messages = [reply, *follow_ups]
    boundary = reply + timedelta(hours=72)
    assert non_genuine_evidence(brand_messages=messages, rule=rule, now=boundary - timedelta(hours=1)) is None
    assert non_genuine_evidence(brand_messages=messages, rule=rule, now=boundary) == messages
    assert non_genuine_evidence(brand_messages=messages, rule=rule, now=boundary + timedelta(hours=1)) == messages
    assert non_genuine_at(brand_messages=messages, rule=rule) == boundary
    # the first reply is not a follow-up: a reply and two follow-ups are never enough, however long the silence
    assert non_genuine_evidence(brand_messages=messages[:3], rule=rule, now=at(20, 0)) is None
    # three calendar days are not 72 h: 24 h 25 min of silence is far from it
    quick = [at(2, 23, 30), at(3, 9), at(3, 16), at(3, 23, 55)]
    assert non_genuine_evidence(brand_messages=quick, rule=rule, now=at(4, 23, 55)) is None
    # the grace period: the customer gets time to answer the last follow-up
    late_third = [reply, at(3, 10), at(4, 10), boundary - timedelta(hours=1)]
    assert non_genuine_evidence(brand_messages=late_third, rule=rule, now=boundary + timedelta(hours=1)) is None
    assert non_genuine_evidence(brand_messages=late_third, rule=rule, now=boundary + timedelta(hours=3)) is not None
    # configurable per platform
    assert non_genuine_evidence(brand_messages=messages[:3], now=boundary,
                                rule=NonGenuineRule(follow_ups=2, window_hours=48, grace_hours=0)) == messages[:3]


def test_closing_remarks_and_site_visits():
    assert is_closing_remark("Thanks, all working now!") and is_closing_remark("cheers, sorted")
    assert not is_closing_remark("Thanks but it is still down") and not is_closing_remark("thanks, when?")
    assert not is_closing_remark("My broadband is down")
    assert needs_site_visit("The engineer never came to fix the line") and not needs_site_visit("Bill is wrong")
