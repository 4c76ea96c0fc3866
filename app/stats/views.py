"""The scores page: average scores per agent, team or question with their 95 % intervals, verdicts
against a target only where the interval allows one, and the sample-size planner."""

import statistics
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from app.auth import service as auth_service
from app.auth.deps import SessionDep, WebPrincipal
from app.core import stats
from app.core.charts import Chart, Series, iso_weeks, line_chart
from app.core.export import Column, table_csv, wants_csv
from app.core.security import Principal, Role
from app.core.timeutil import utcnow
from app.core.web import NavItem, render
from app.evaluations import reports

router = APIRouter()
NAV = [NavItem("Scores", "/scores", tuple(Role), order=35)]


@router.get("/scores", response_class=HTMLResponse)
def scores_page(
    request: Request, principal: WebPrincipal, session: SessionDep,
    group_by: Literal["agent", "team", "question", "channel", "evaluator"] = "agent",
    target: Annotated[float, Query(ge=0, le=100)] = 80.0,
    margin: Annotated[float, Query(gt=0, le=50)] = 5.0,
) -> Response:
    groups = reports.summary(session=session, principal=principal, group_by=group_by)
    names = _names(session, group_by)
    rows = []
    intervals = {}
    for group in groups:
        interval = stats.mean_interval(group.scores)
        intervals[group.key] = interval
        rows.append(ScoreRow(name=names.get(group.key, group.key), group=group,
                             verdict=str(stats.compare_to_target(interval, target).value)))
    columns = score_columns(group_by=group_by, target=target)
    if wants_csv(request):
        return table_csv(f"scores-by-{group_by}.csv", rows, columns)
    ranking = [[names.get(key, key) for key in tier] for tier in stats.rank_groups(intervals)]
    spreads = [g.stdev for g in groups if g.stdev is not None]
    plan = stats.plan_sample_size(sd=statistics.fmean(spreads), margin=margin) if spreads else None
    return render(request, "stats/scores.html", {
        "rows": rows, "columns": columns, "ranking": ranking, "plan": plan, "group_by": group_by, "target": target,
        "margin": margin, "min_n": stats.MIN_N, "max_half_width": stats.MAX_HALF_WIDTH,
        "trend": score_trend(session=session, principal=principal, target=target)}, principal=principal)


def score_trend(*, session: SessionDep, principal: Principal, target: float, weeks: int = 12) -> Chart | None:
    """Weekly average score over the last `weeks` weeks with its 95 % interval drawn as a band wherever one
    can be computed (two scores or more; clipped to 0–100); weeks without scores stay on the axis as gaps.
    None: no scores at all."""
    now = utcnow()
    groups = {g.key: g for g in reports.summary(session=session, principal=principal, group_by="week",
                                                since=now - timedelta(weeks=weeks))}
    if not groups:
        return None
    labels = iso_weeks((now - timedelta(weeks=weeks)).date(), now.date())
    labels = [w for w in labels if w >= min(groups)]  # start at the first week with scores
    intervals = [stats.mean_interval(groups[w].scores) if w in groups else None for w in labels]
    series = Series("Average score", [i.estimate if i else None for i in intervals],
                    low=[i.low if i else None for i in intervals], high=[i.high if i else None for i in intervals])
    chart = line_chart("Average score per week with its 95 % interval (shaded)", labels, [series],
                       y_min=0, y_max=100, target=target, label_header="Week")
    chart.headers += ["95 % interval", "Evaluations"]
    for row, interval in zip(chart.rows, intervals, strict=True):
        if interval is None:
            row += ["no evaluations", "0"]
            continue
        if interval.low is None or interval.high is None:
            band = "needs two evaluations"
        else:
            band = f"{max(interval.low, 0):.1f}–{min(interval.high, 100):.1f}"
            band += "" if interval.conclusive() else " (too wide to conclude)"
        row += [band, str(interval.n)]
    return chart


@dataclass(frozen=True)
class ScoreRow:
    name: str  # the agent's, team's, question's ... name
    group: reports.ScoreGroup
    verdict: str  # against the target: above / below target, or not enough evaluations to say


def _interval_cell(row: ScoreRow) -> Markup:
    if row.group.conclusive:
        return Markup("{:.1f} – {:.1f}").format(row.group.ci_low, row.group.ci_high)
    return Markup('<span class="muted">not enough evaluations to say</span>')


def _verdict_cell(row: ScoreRow) -> Markup:
    tone = "bad" if row.verdict == "below target" else "good" if row.verdict == "above target" else ""
    return Markup('<span class="badge {}">{}</span>').format(tone, row.verdict)


def score_columns(*, group_by: str, target: float) -> list[Column[ScoreRow]]:
    """The scores table, on screen (the interval in words, the verdict as a badge, an agent's PDF summary) and
    in its export (the interval's ends, whether it is conclusive, critical failures)."""
    columns: list[Column[ScoreRow]] = [
        Column(group_by.capitalize(), lambda r: r.name, name=group_by),
        Column("Evaluations", lambda r: r.group.n),
        Column("Average", lambda r: _round(r.group.mean), format=lambda v: "" if v is None else f"{v:.1f}"),
        Column("95 % interval", lambda r: None, html=_interval_cell, csv=False),
        Column("ci_low", lambda r: _round(r.group.ci_low), screen=False),
        Column("ci_high", lambda r: _round(r.group.ci_high), screen=False),
        Column("conclusive", lambda r: "yes" if r.group.conclusive else "no (not enough evaluations to say)",
               screen=False),
        Column(f"Against {round(target)}", lambda r: r.verdict, name=f"against_{target:g}", html=_verdict_cell),
        Column("critical_failures", lambda r: r.group.critical_failures, screen=False)]
    if group_by == "agent":
        columns.append(Column("Summary", lambda r: "PDF, last 90 days", csv=False,
                              link=lambda r: f"/agents/{r.group.key}/summary.pdf?target={target}"))
    return columns


def _names(session: SessionDep, group_by: str) -> dict[str, str]:
    if group_by in ("agent", "evaluator"):
        return {str(u.id): u.name for u in auth_service.list_users(session=session)}
    if group_by == "team":
        return {str(t.id): t.name for t in auth_service.list_teams(session=session)}
    return {}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
