"""Sampling guidance a small team can act on: what precision the current sample gives, and what a feasible
plan gives per agent (a month, a quarter) and pooled per team, not only the size an ideal precision needs.

Precision is the half-width of the 95 % Student-t interval on a mean score: t(n-1) · sd / √n, with sd the
spread seen across evaluations. Pooling a team's evaluations assumes its agents are alike enough that the
team average means something; it answers "is the team on target", not "is this agent".
"""

import math
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session

from app.auth.service import list_users
from app.core.security import Principal, Role
from app.core.timeutil import utcnow
from app.evaluations import reports

LOOKBACK_DAYS = 90
MONTHS = LOOKBACK_DAYS / 30
PLAN_STEPS = (2, 4, 6, 8, 12)


def half_width(*, sd: float, n: float, confidence: float = 0.95) -> float | None:
    """± points of the t-interval on a mean of n scores with spread sd (None below two scores)."""
    whole = int(n)
    if whole < 2:
        return None
    from scipy import stats  # loaded on first use: ~0.8 s that most requests never pay

    return float(stats.t.ppf((1 + confidence) / 2, whole - 1)) * sd / math.sqrt(whole)


@dataclass(frozen=True)
class PlanRow:
    per_agent_month: int
    agent_month: float | None  # ± points for one agent's monthly average
    agent_quarter: float | None
    team_month: float | None  # ± points for a typical team's monthly average, pooled


@dataclass(frozen=True)
class PrecisionGuide:
    sd: float
    agents: int
    team_size: int
    current_per_agent_month: float
    current: PlanRow
    rows: list[PlanRow]
    wanted_margin: float
    feasible: PlanRow | None  # the smallest plan in PLAN_STEPS meeting the margin per team-month, if any


def _row(sd: float, per_month: float, team_size: int) -> PlanRow:
    return PlanRow(per_agent_month=round(per_month), agent_month=half_width(sd=sd, n=per_month),
                   agent_quarter=half_width(sd=sd, n=per_month * 3),
                   team_month=half_width(sd=sd, n=per_month * team_size))


def guide(*, session: Session, principal: Principal, margin: float) -> PrecisionGuide | None:
    """The guidance from the last LOOKBACK_DAYS of scored evaluations the principal may see (None: not
    enough scores to measure the spread)."""
    groups = reports.summary(session=session, principal=principal, group_by="agent",
                             since=utcnow() - timedelta(days=LOOKBACK_DAYS))
    spreads = [g.stdev for g in groups if g.stdev is not None]
    if not spreads:
        return None
    sd = statistics.fmean(spreads)
    teams = Counter(u.team_id for u in list_users(session=session, role=Role.AGENT) if u.team_id is not None)
    team_size = max(1, round(statistics.median(teams.values()))) if teams else 1
    per_month = sum(g.n for g in groups) / len(groups) / MONTHS
    rows = [_row(sd, n, team_size) for n in PLAN_STEPS]
    feasible = next((r for r in rows if r.team_month is not None and r.team_month <= margin), None)
    return PrecisionGuide(sd=sd, agents=len(groups), team_size=team_size, current_per_agent_month=per_month,
                          current=_row(sd, per_month, team_size), rows=rows, wanted_margin=margin,
                          feasible=feasible)
