"""SLA clock arithmetic, pure: business hours (a weekly schedule in a time zone) and clock status.

A schedule maps ISO weekdays as Python numbers (0 = Monday ... 6 = Sunday) to opening intervals
("09:00", "17:30") in local time. Local times are turned into instants day by day through zoneinfo, so
daylight-saving changes move the opening instants as they should. With no schedule (business hours
off) a clock counts every second.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from app.core.timeutil import as_utc

MAX_SCAN_DAYS = 800  # a schedule with no opening at all would never end a clock: refuse after this


class ClockStatus(StrEnum):
    PENDING = "pending"
    MET = "met"
    BREACHED = "breached"


@dataclass(frozen=True)
class BusinessHours:
    timezone: str
    weekly: dict[int, tuple[tuple[time, time], ...]]

    @classmethod
    def from_config(cls, *, timezone: str, schedule: dict[str, Any]) -> "BusinessHours":
        """`schedule`: {"0": [["09:00", "17:00"]], ...}; raises ValueError on a bad zone or interval."""
        try:
            ZoneInfo(timezone)
        except Exception as exc:
            raise ValueError(f"unknown time zone {timezone!r}") from exc
        weekly: dict[int, tuple[tuple[time, time], ...]] = {}
        for key, intervals in schedule.items():
            day = int(key)
            if not 0 <= day <= 6:
                raise ValueError(f"weekday {key!r} must be 0 (Monday) to 6 (Sunday)")
            parsed = []
            for opening, closing in intervals:
                start, end = time.fromisoformat(opening), time.fromisoformat(closing)
                if end <= start and end != time(0):
                    raise ValueError(f"interval {opening}-{closing} on day {day} ends before it starts")
                parsed.append((start, end))
            weekly[day] = tuple(sorted(parsed))
        if not any(weekly.values()):
            raise ValueError("business hours need at least one opening interval")
        return cls(timezone=timezone, weekly=weekly)

    def intervals_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The opening intervals of one local date, as UTC instants."""
        zone = ZoneInfo(self.timezone)
        out = []
        for start, end in self.weekly.get(day.weekday(), ()):
            opens = datetime.combine(day, start, tzinfo=zone)
            closes = (datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone) if end == time(0)
                      else datetime.combine(day, end, tzinfo=zone))
            out.append((as_utc(opens), as_utc(closes)))
        return out

    def _days_from(self, instant: datetime) -> list[date]:
        first = as_utc(instant).astimezone(ZoneInfo(self.timezone)).date() - timedelta(days=1)
        return [first + timedelta(days=i) for i in range(MAX_SCAN_DAYS)]


def add_business_seconds(start: datetime, seconds: float, hours: BusinessHours | None) -> datetime:
    """The instant `seconds` of business time after `start` (plain addition when `hours` is None).

    A clock started outside business hours begins counting at the next opening.
    """
    start = as_utc(start)
    if hours is None:
        return start + timedelta(seconds=seconds)
    remaining = float(seconds)
    for day in hours._days_from(start):
        for opens, closes in hours.intervals_on(day):
            begin = max(opens, start)
            if begin >= closes:
                continue
            available = (closes - begin).total_seconds()
            if remaining <= available:
                return begin + timedelta(seconds=remaining)
            remaining -= available
    raise ValueError("business hours never open long enough for this clock")


def business_seconds_between(start: datetime, end: datetime, hours: BusinessHours | None) -> float:
    """Business seconds elapsed from `start` to `end` (negative when `end` is earlier)."""
    start, end = as_utc(start), as_utc(end)
    if end < start:
        return -business_seconds_between(end, start, hours)
    if hours is None:
        return (end - start).total_seconds()
    total = 0.0
    for day in hours._days_from(start):
        intervals = hours.intervals_on(day)
        if intervals and intervals[0][0] >= end:
            break
        for opens, closes in intervals:
            begin, finish = max(opens, start), min(closes, end)
            if finish > begin:
                total += (finish - begin).total_seconds()
    return total


@dataclass(frozen=True)
class ClockReading:
    status: ClockStatus
    due_at: datetime | None
    met_at: datetime | None
    breached_at: datetime | None


def read_clock(*, due_at: datetime | None, met_at: datetime | None, now: datetime) -> ClockReading:
    """Met when answered by the due time; breached (at the due time) when answered late or still open past it."""
    if due_at is None:
        return ClockReading(ClockStatus.MET if met_at else ClockStatus.PENDING, None, met_at, None)
    due_at = as_utc(due_at)
    if met_at is not None:
        met_at = as_utc(met_at)
        if met_at <= due_at:
            return ClockReading(ClockStatus.MET, due_at, met_at, None)
        return ClockReading(ClockStatus.BREACHED, due_at, met_at, due_at)
    if as_utc(now) > due_at:
        return ClockReading(ClockStatus.BREACHED, due_at, None, due_at)
    return ClockReading(ClockStatus.PENDING, due_at, None, None)
