"""The admin's sampling rules: the list, creating and running a rule, and the sample-size planner beside it."""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from app.auth.deps import SessionDep, web_require_roles
from app.auth.service import list_teams, list_users, user_names
from app.core.errors import EarshotError, InvalidInput, error_message
from app.core.export import Column, table_csv, wants_csv
from app.core.security import Principal, Role
from app.core.web import render
from app.evaluations import planner, sampling
from app.evaluations.models import SamplingRule, SamplingRuleCreate
from app.evaluations.views.common import FormFields
from app.scorecards import service as scorecards

router = APIRouter()


WebAdminOnly = Annotated[Principal, Depends(web_require_roles(Role.ADMIN))]


def _sampling_page(request: Request, principal: Principal, session: Session, *, message: str | None = None,
                   error: str | None = None, status_code: int = 200, margin: float = 5.0) -> Response:
    rules = sampling.list_rules(session=session)
    evaluators = [u for u in list_users(session=session) if {Role.EVALUATOR, Role.ADMIN} & u.role_set]
    people = user_names(session=session, ids=[i for r in rules for i in r.evaluator_ids])
    if wants_csv(request):
        return table_csv("sampling-rules.csv", rules, rule_columns(people))
    return render(request, "evaluations/sampling.html", {
        "rules": rules, "evaluators": evaluators, "teams": list_teams(session=session),
        "scorecards": scorecards.list_scorecards(session=session), "message": message, "error": error,
        "names": people, "columns": rule_columns(people),
        "plan": _sample_size_plan(session=session, principal=principal, margin=margin), "margin": margin,
        "guide": planner.guide(session=session, principal=principal, margin=margin),
    }, principal=principal, status_code=status_code)


def _filters(rule: SamplingRule) -> str:
    return (rule.channel or "any channel") + (f" · queue {rule.queue}" if rule.queue else "") + (
        f" · team #{rule.team_id}" if rule.team_id else "")


def rule_columns(people: dict[int, str]) -> list[Column[SamplingRule]]:
    """The sampling rules, on screen (the page adds the "Raise to N" button to cell "per_agent") and in the
    export."""
    return [
        Column("#", lambda r: r.id, name="id"),
        Column("Name", lambda r: r.name),
        Column("Filters", _filters, csv=False),
        Column("Channel", lambda r: r.channel, screen=False),
        Column("Queue", lambda r: r.queue, screen=False),
        Column("Team", lambda r: r.team_id, name="team_id", screen=False),
        Column("Per agent", lambda r: r.per_agent),
        Column("Period", lambda r: f"{r.period_days} days, due {r.due_days} days after", csv=False),
        Column("Period days", lambda r: r.period_days, screen=False),
        Column("Due days", lambda r: r.due_days, screen=False),
        Column("Evaluators", lambda r: ", ".join(people.get(i, str(i)) for i in r.evaluator_ids)),
        Column("Active", lambda r: "yes" if r.active else "no", screen=False)]


def _sample_size_plan(*, session: Session, principal: Principal, margin: float = 5.0) -> Any:
    """How many evaluations per agent and period give ±`margin` points at 95 %, from the spread seen so far."""
    from app.core import stats
    from app.evaluations import reports

    spreads = [g.stdev for g in reports.summary(session=session, principal=principal, group_by="agent")
               if g.stdev is not None]
    return stats.plan_sample_size(sd=sum(spreads) / len(spreads), margin=margin) if spreads else None


@router.get("/evaluations/sampling", response_class=HTMLResponse)
def sampling_page(request: Request, principal: WebAdminOnly, session: SessionDep, message: str | None = None,
                  margin: Annotated[float, Query(ge=1, le=50)] = 5.0) -> Response:
    """The rules, and the planner's suggestion for the wanted precision (±`margin` points at 95 %)."""
    return _sampling_page(request, principal, session, message=message, margin=margin)


@router.post("/evaluations/sampling/{rule_id}/per-agent")
def sampling_set_per_agent(rule_id: int, principal: WebAdminOnly, session: SessionDep,
                           per_agent: Annotated[int, Form()]) -> Response:
    """Set a rule's interactions per agent (the planner's "Raise to N" button)."""
    rule = sampling.set_per_agent(session=session, principal=principal, rule_id=rule_id, per_agent=per_agent)
    return RedirectResponse(f"/evaluations/sampling?message=Rule+{rule.id}+now+picks+{per_agent}+per+agent",
                            status_code=303)


@router.post("/evaluations/sampling", response_class=HTMLResponse)
def sampling_create(request: Request, principal: WebAdminOnly, session: SessionDep, fields: FormFields,
                    evaluator_ids: Annotated[list[int] | None, Form()] = None) -> Response:
    def optional(name: str) -> str | None:
        return fields.get(name, "").strip() or None

    try:
        data = SamplingRuleCreate.model_validate({
            "name": fields.get("name", ""), "channel": optional("channel"), "queue": optional("queue"),
            "team_id": optional("team_id"), "per_agent": fields.get("per_agent", "2"),
            "period_days": fields.get("period_days", "7"), "due_days": fields.get("due_days", "5"),
            "seed": fields.get("seed", "0"), "evaluator_ids": evaluator_ids or [],
            "scorecard_id": optional("scorecard_id")})
        sampling.create_rule(session=session, principal=principal, data=data)
    except ValidationError as exc:
        return _sampling_page(request, principal, session, status_code=422, error=error_message(exc))
    except EarshotError as exc:
        session.rollback()
        return _sampling_page(request, principal, session, error=exc.message, status_code=exc.status_code)
    return RedirectResponse("/evaluations/sampling?message=Rule+created", status_code=303)


@router.post("/evaluations/sampling/{rule_id}/run")
def sampling_run(rule_id: int, principal: WebAdminOnly, session: SessionDep,
                 period_start: Annotated[str, Form()]) -> Response:
    try:
        start = datetime.fromisoformat(period_start).replace(tzinfo=UTC)
    except ValueError as exc:
        raise InvalidInput("period_start must be a date (YYYY-MM-DD)",
                           details=[{"loc": "period_start", "msg": "not a date"}]) from exc
    created = sampling.run_rule(session=session, principal=principal, rule_id=rule_id, period_start=start)
    return RedirectResponse(f"/evaluations/sampling?message={len(created)}+assignment(s)+created", status_code=303)
