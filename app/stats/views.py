"""The scores page: average scores per agent, team or question with their 95 % intervals, verdicts
against a target only where the interval allows one, and the sample-size planner."""

import statistics
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

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
        rows.append({"name": names.get(group.key, group.key), "group": group,
                     "verdict": stats.compare_to_target(interval, target).value})
    if wants_csv(request):
        verdicts = {group.key: str(row["verdict"]) for group, row in zip(groups, rows, strict=True)}
        return table_csv(f"scores-by-{group_by}.csv", groups, [
            Column(group_by, lambda g: names.get(g.key, g.key), name=group_by),
            Column("evaluations", lambda g: g.n),
            Column("average", lambda g: _round(g.mean)),
            Column("ci_low", lambda g: _round(g.ci_low)),
            Column("ci_high", lambda g: _round(g.ci_high)),
            Column("conclusive", lambda g: "yes" if g.conclusive else "no (not enough evaluations to say)"),
            Column(f"against_{target:g}", lambda g: verdicts[g.key], name=f"against_{target:g}"),
            Column("critical_failures", lambda g: g.critical_failures)])
    ranking = [[names.get(key, key) for key in tier] for tier in stats.rank_groups(intervals)]
    spreads = [g.stdev for g in groups if g.stdev is not None]
    plan = stats.plan_sample_size(sd=statistics.fmean(spreads), margin=margin) if spreads else None
    return render(request, "stats/scores.html", {
        "rows": rows, "ranking": ranking, "plan": plan, "group_by": group_by, "target": target,
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


def _names(session: SessionDep, group_by: str) -> dict[str, str]:
    if group_by in ("agent", "evaluator"):
        return {str(u.id): u.name for u in auth_service.list_users(session=session)}
    if group_by == "team":
        return {str(t.id): t.name for t in auth_service.list_teams(session=session)}
    return {}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
