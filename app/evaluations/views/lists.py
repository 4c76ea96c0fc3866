"""Evaluation lists: every evaluation the principal may see (on screen and as CSV), the evaluator's queue
of assignments and drafts, and how often auto-QA suggestions were kept."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from app.auth.deps import SessionDep, WebPrincipal
from app.auth.service import list_users, visible_agent_ids
from app.core.export import Column, page_window, table_csv, wants_csv
from app.core.listing import parse_sort
from app.core.security import Role
from app.core.web import render
from app.evaluations import queue as work_queue
from app.evaluations import service, suggestions
from app.evaluations.models import (
    Evaluation,
    EvaluationState,
)
from app.evaluations.views.common import WebEvaluator, names
from app.interactions import content
from app.interactions.models import Interaction
from app.scorecards import service as scorecards

router = APIRouter()


def _score_cell(evaluation: Evaluation) -> Markup:
    if evaluation.score is None:
        return Markup("—")
    critical = " critical" if evaluation.critical_failed else ""
    return Markup('<span class="score{}">{:.1f}</span>').format(critical, evaluation.score)


def evaluation_columns(people: dict[int, str]) -> list[Column[Evaluation]]:
    """The evaluations list, on screen and in its export (sort keys are service.LIST_SORTS)."""
    return [
        Column("#", lambda e: e.id, name="id", sort="id", link=lambda e: f"/evaluations/{e.id}"),
        Column("Interaction", lambda e: e.interaction_id, name="interaction_id"),
        Column("Channel", lambda e: e.channel, sort="channel"),
        Column("Agent", lambda e: people.get(e.agent_id or 0, ""), format=lambda name: name or "—"),
        Column("Evaluator", lambda e: people.get(e.evaluator_id or 0, ""), format=lambda name: name or "—"),
        Column("State", lambda e: e.state, sort="state",
               html=lambda e: Markup('<span class="badge state-{}">{}</span>').format(e.state, e.state)),
        Column("Score", lambda e: "" if e.score is None else round(e.score, 1), sort="score", html=_score_cell),
        Column("Critical failed", lambda e: "yes" if e.critical_failed else "no", screen=False),
        Column("Submitted", lambda e: e.submitted_at, name="submitted_at", sort="submitted")]


@router.get("/evaluations", response_class=HTMLResponse)
def evaluations_page(request: Request, principal: WebPrincipal, session: SessionDep, state: str = "",
                     agent_id: str = "", channel: str = "", sort: str = "", page: Annotated[int, Query(ge=1)] = 1
                     ) -> Response:
    order = parse_sort(sort, service.LIST_SORTS, "-id")
    page, per_page = page_window(request, page, 50)
    agent = int(agent_id) if agent_id.isdigit() else None
    result = service.page_visible(session=session, principal=principal, sort=order, page=page, per_page=per_page,
                                  state=state or None, agent_id=agent, channel=channel or None)
    rows = result.items
    people = names(session=session, ids=[e.agent_id for e in rows] + [e.evaluator_id for e in rows])
    columns = evaluation_columns(people)
    if wants_csv(request):
        return table_csv("evaluations.csv", rows, columns)
    visible = visible_agent_ids(session=session, principal=principal)
    agents = [u for u in list_users(session=session, role=Role.AGENT) if visible is None or u.id in visible]
    return render(request, "evaluations/list.html", {
        "result": result, "columns": columns, "sort": order, "states": list(EvaluationState),
        "filters": {"state": state, "agent_id": agent_id, "channel": channel}, "agents": agents,
    }, principal=principal)


@router.get("/evaluations/queue", response_class=HTMLResponse)
def queue_page(request: Request, principal: WebEvaluator, session: SessionDep, channel: str = "", queue: str = "",
               overdue: str = "", message: str = "") -> Response:
    """The evaluator's open assignments (filters: channel, queue, overdue only) and drafts."""
    rows = work_queue.rows(session=session, evaluator_id=principal.user_id, channel=channel or None,
                           queue=queue or None, overdue_only=overdue == "1")
    drafts = service.list_visible(session=session, principal=principal, evaluator_id=principal.user_id,
                                  state=EvaluationState.DRAFT).items
    people = names(session=session, ids=[d.agent_id for d in drafts])
    if wants_csv(request):
        return table_csv("evaluation-queue.csv", rows, [
            Column("due_at", lambda r: r.assignment.due_at),
            Column("overdue", lambda r: "yes" if r.overdue else "no"),
            Column("interaction_id", lambda r: r.interaction.id),
            Column("started_at", lambda r: r.interaction.started_at),
            Column("customer", lambda r: r.customer),
            Column("channel", lambda r: r.interaction.channel),
            Column("queue", lambda r: r.interaction.queue or ""),
            Column("duration_seconds", lambda r: r.interaction.duration_seconds),
            Column("subject", lambda r: _subject(r.interaction)),
            Column("agent", lambda r: r.agent),
            Column("source", lambda r: f"rule #{r.assignment.rule_id}" if r.assignment.rule_id else "manual")])
    every = work_queue.rows(session=session, evaluator_id=principal.user_id)
    return render(request, "evaluations/queue.html", {
        "rows": rows, "drafts": drafts, "names": people, "message": message,
        "filters": {"channel": channel, "queue": queue, "overdue": overdue},
        "channels": sorted({r.interaction.channel for r in every}),
        "queues": sorted({r.interaction.queue for r in every if r.interaction.queue}),
        "overdue_count": sum(1 for r in every if r.overdue),
    }, principal=principal)




def _subject(interaction: Interaction | None) -> str:
    return content.REDACTED.subject(interaction) or ""



@router.get("/evaluations/suggestions", response_class=HTMLResponse)
def suggestions_page(request: Request, principal: WebEvaluator, session: SessionDep, scorecard_id: str = "") -> Response:
    """Per question: how often evaluators kept the auto-QA suggestion (agreement, kappa), to decide which rules
    to trust."""
    chosen = int(scorecard_id) if scorecard_id.isdigit() else None
    report = suggestions.agreement(session=session, scorecard_id=chosen)
    if wants_csv(request):
        return table_csv("auto-qa-suggestions.csv", report, [
            Column("question_id", lambda r: r.question_id),
            Column("question", lambda r: r.question_text),
            Column("submitted", lambda r: r.agreement.n),
            Column("kept", lambda r: r.agreement.agreed),
            Column("changed", lambda r: r.agreement.n - r.agreement.agreed),
            Column("agreement", lambda r: None if r.agreement.accuracy is None else round(r.agreement.accuracy, 3)),
            Column("kappa", lambda r: None if r.agreement.kappa is None else round(r.agreement.kappa, 3)),
            Column("mean_confidence", lambda r: None if r.confidence is None else round(r.confidence, 3))])
    return render(request, "evaluations/suggestions.html", {
        "report": report, "scorecard_id": chosen, "scorecards": scorecards.list_scorecards(session=session),
    }, principal=principal)
