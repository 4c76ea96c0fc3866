"""Survey figures per period (month by default, or week) and per channel, team, agent or shop.

A row counts in the period of its answer, or of its invitation when unanswered, so invited and completed
always describe the same people and the response rate never passes 100%.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import case, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.auth.models import Site, Team, User
from app.core.errors import InvalidInput
from app.core.timeutil import as_utc, utcnow
from app.surveys.models import Band, SurveyResponse

PERIOD_KINDS = ("month", "week")
GROUPINGS = ("channel", "team", "agent", "shop")
BANDS = tuple(b.value for b in Band)


@dataclass
class BandFigures:
    invited: int = 0
    completed: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BANDS, 0))

    @property
    def response_rate(self) -> float:
        return round(100.0 * self.completed / self.invited, 1) if self.invited else 0.0

    @property
    def percents(self) -> dict[str, float]:
        rated = sum(self.counts.values())
        return {band: round(100.0 * n / rated, 1) if rated else 0.0 for band, n in self.counts.items()}

    def as_dict(self) -> dict[str, Any]:
        return {"invited": self.invited, "completed": self.completed, "response_rate": self.response_rate,
                "counts": dict(self.counts), "percents": self.percents}


@dataclass
class PeriodFigures:
    period: str
    start: datetime
    end: datetime
    total: BandFigures = field(default_factory=BandFigures)
    groups: dict[str, BandFigures] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"period": self.period, "start": self.start.isoformat(), "end": self.end.isoformat(),
                **self.total.as_dict(), "groups": {k: v.as_dict() for k, v in sorted(self.groups.items())}}


def period_bounds(moment: datetime, kind: str) -> tuple[str, datetime, datetime]:
    """(label, start, end) of the period holding `moment` (UTC)."""
    moment = as_utc(moment)
    if kind == "month":
        start = datetime(moment.year, moment.month, 1, tzinfo=UTC)
        end = datetime(start.year + (start.month == 12), start.month % 12 + 1, 1, tzinfo=UTC)
        return start.strftime("%Y-%m"), start, end
    if kind == "week":
        day = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
        start = day - timedelta(days=day.weekday())
        iso = start.isocalendar()
        return f"{iso.year}-W{iso.week:02d}", start, start + timedelta(days=7)
    raise InvalidInput(f"period must be one of {', '.join(PERIOD_KINDS)}")


def parse_month(value: str) -> datetime:
    """'2026-11' → the first moment of that month (UTC). Raises InvalidInput."""
    try:
        return datetime.strptime(value.strip(), "%Y-%m").replace(tzinfo=UTC)
    except ValueError as exc:
        raise InvalidInput(f"month must look like 2026-11, not {value!r}") from exc


def latest_answer_at(*, session: Session) -> datetime | None:
    """When the latest survey answer came (executive pages open on its period, not on an empty current one)."""
    latest = session.exec(select(func.max(SurveyResponse.responded_at))).one()
    return as_utc(latest) if latest is not None else None


def survey_figures(*, session: Session, period: str = "month", until: datetime | None = None, periods: int = 6,
                   group_by: str | None = None, agent_ids: set[int] | None = None) -> list[PeriodFigures]:
    """The `periods` periods ending with the one holding `until` (default now), oldest first.

    `group_by` adds per-channel/team/agent/shop figures; `agent_ids` (a coach's team) limits the rows.
    Raises InvalidInput for an unknown period kind or grouping.
    """
    if group_by is not None and group_by not in GROUPINGS:
        raise InvalidInput(f"group_by must be one of {', '.join(GROUPINGS)}")
    if not 1 <= periods <= 36:
        raise InvalidInput("periods must be between 1 and 36")
    buckets: list[PeriodFigures] = []
    label, start, end = period_bounds(until or utcnow(), period)
    for _ in range(periods):
        buckets.insert(0, PeriodFigures(period=label, start=start, end=end))
        label, start, end = period_bounds(start - timedelta(seconds=1), period)
    first, last = buckets[0].start, buckets[-1].end
    columns: list[Any] = [SurveyResponse.invited_at, SurveyResponse.responded_at, SurveyResponse.band,
                          SurveyResponse.channel, SurveyResponse.team_id, SurveyResponse.agent_id,
                          SurveyResponse.site_id, SurveyResponse.shop]
    query = sa_select(*columns).where(
        ((col(SurveyResponse.responded_at) >= first) & (col(SurveyResponse.responded_at) < last))
        | (col(SurveyResponse.responded_at).is_(None) & (col(SurveyResponse.invited_at) >= first)
           & (col(SurveyResponse.invited_at) < last)))
    if agent_ids is not None:
        query = query.where(col(SurveyResponse.agent_id).in_(agent_ids or {-1}))
    if group_by is None:
        _count_in_database(session=session, query=query, buckets=buckets)
        return buckets
    names = _group_names(session=session, group_by=group_by)
    for invited_at, responded_at, band, channel, team_id, agent_id, site_id, shop in session.execute(query).all():
        anchor = as_utc(responded_at or invited_at)
        bucket = next((b for b in buckets if b.start <= anchor < b.end), None)
        if bucket is None:
            continue
        targets = [bucket.total]
        if group_by is not None:
            key = {"channel": channel, "team": names.get(team_id), "agent": names.get(agent_id),
                   "shop": names.get(site_id) or shop}[group_by] or "unknown"
            targets.append(bucket.groups.setdefault(str(key), BandFigures()))
        for figures in targets:
            figures.invited += 1
            if responded_at is not None:
                figures.completed += 1
                if band in figures.counts:
                    figures.counts[band] += 1
    return buckets


def _count_in_database(*, session: Session, query: Any, buckets: list[PeriodFigures]) -> None:
    """The totals of every bucket in one aggregate query (home panels and ungrouped pages): the same counts as
    the row loop above, without bringing every response of six months into Python."""
    rows = query.subquery()
    anchor = func.coalesce(rows.c.responded_at, rows.c.invited_at)
    # grouped by (bucket, answered, band): each row is placed once, instead of being tested by one filtered
    # count per bucket and band (6 periods x 7 counts: most of the executive home page's time)
    index = case(*[((anchor >= b.start) & (anchor < b.end), i) for i, b in enumerate(buckets)], else_=-1)
    answered = rows.c.responded_at.is_not(None)
    grouped = sa_select(index, answered, rows.c.band, func.count()).select_from(rows).group_by(index, answered,
                                                                                             rows.c.band)
    for position, was_answered, band, n in session.execute(grouped).all():
        if position < 0:
            continue
        figures = buckets[position].total
        figures.invited += n
        if was_answered:
            figures.completed += n
            if band in figures.counts:
                figures.counts[band] += n


def _group_names(*, session: Session, group_by: str | None) -> dict[int | None, str]:
    if group_by == "team":
        return {t.id: t.name for t in session.exec(select(Team)).all()}
    if group_by == "agent":
        return {u.id: u.username for u in session.exec(select(User)).all()}
    if group_by == "shop":
        return {s.id: s.name for s in session.exec(select(Site)).all()}
    return {}


def change_from_previous(current: BandFigures, previous: BandFigures | None) -> dict[str, float | None]:
    """Percentage-point changes against the previous period (None when there is nothing to compare)."""
    if previous is None or not previous.invited:
        return {"response_rate": None, **dict.fromkeys(BANDS)}
    now, before = current.percents, previous.percents
    rated_before = sum(previous.counts.values())
    return {"response_rate": round(current.response_rate - previous.response_rate, 1),
            **{band: round(now[band] - before[band], 1) if rated_before else None for band in BANDS}}


def as_trend(periods: list[PeriodFigures]) -> list[dict[str, Any]]:
    """The periods as JSON, each with its change from the period before."""
    out = []
    for index, period in enumerate(periods):
        previous = periods[index - 1].total if index else None
        out.append({**period.as_dict(), "change": change_from_previous(period.total, previous)})
    return out
