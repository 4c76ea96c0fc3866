"""Evaluation lists: every evaluation the principal may see (on screen and as CSV), the evaluator's queue
of assignments and drafts, and how often auto-QA suggestions were kept."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup, escape

from app.auth.deps import SessionDep, WebPrincipal
from app.auth.service import list_users, user_names, visible_agent_ids
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
from app.evaluations.views.common import WebEvaluator
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
                     agent_id: str = "", channel: str = "", sort: str = "", page: Annotated[int, Query(ge=1)] = 1,
                     to_resolve: str = "") -> Response:
    """`to_resolve=1`: the disputes waiting for the signed-in evaluator (the home panel's figure)."""
    order = parse_sort(sort, service.LIST_SORTS, "-id")
    page, per_page = page_window(request, page, 50)
    agent = int(agent_id) if agent_id.isdigit() else None
    result = service.page_visible(session=session, principal=principal, sort=order, page=page, per_page=per_page,
                                  state=state or None, agent_id=agent, channel=channel or None,
                                  to_resolve=to_resolve == "1")
    rows = result.items
    people = user_names(session=session, ids=[e.agent_id for e in rows] + [e.evaluator_id for e in rows])
    columns = evaluation_columns(people)
    if wants_csv(request):
        return table_csv("evaluations.csv", rows, columns)
    visible = visible_agent_ids(session=session, principal=principal)
    agents = [u for u in list_users(session=session, role=Role.AGENT) if visible is None or u.id in visible]
    return render(request, "evaluations/list.html", {
        "result": result, "columns": columns, "sort": order, "states": list(EvaluationState),
        "filters": {"state": state, "agent_id": agent_id, "channel": channel, "to_resolve": to_resolve == "1"},
        "agents": agents,
    }, principal=principal)


@router.get("/evaluations/queue", response_class=HTMLResponse)
def queue_page(request: Request, principal: WebEvaluator, session: SessionDep, channel: str = "", queue: str = "",
               overdue: str = "", message: str = "") -> Response:
    """The evaluator's open assignments (filters: channel, queue, overdue only) and drafts."""
    rows = work_queue.rows(session=session, evaluator_id=principal.user_id, channel=channel or None,
                           queue=queue or None, overdue_only=overdue == "1")
    drafts = service.list_visible(session=session, principal=principal, evaluator_id=principal.user_id,
                                  state=EvaluationState.DRAFT).items
    people = user_names(session=session, ids=[d.agent_id for d in drafts])
    if wants_csv(request):
        return table_csv("evaluation-queue.csv", rows, QUEUE_COLUMNS)
    every = work_queue.rows(session=session, evaluator_id=principal.user_id)
    return render(request, "evaluations/queue.html", {
        "rows": rows, "columns": QUEUE_COLUMNS, "row_class": lambda r: "overdue" if r.overdue else "",
        "drafts": drafts, "names": people, "message": message,
        "filters": {"channel": channel, "queue": queue, "overdue": overdue},
        "channels": sorted({r.interaction.channel for r in every}),
        "queues": sorted({r.interaction.queue for r in every if r.interaction.queue}),
        "overdue_count": sum(1 for r in every if r.overdue),
    }, principal=principal)




def _subject(interaction: Interaction | None) -> str:
    return content.REDACTED.subject(interaction) or ""


# The evaluator's queue, on screen and in its export. The page draws the due time with its "overdue" badge and
# the duration as m:ss with macros of its own (cells "due_at", "duration_seconds"), and adds the Evaluate button.
# The interaction's title is a link on screen, after the agent; the export keeps its column order (subject, then
# agent).
QUEUE_COLUMNS: list[Column[work_queue.QueueRow]] = [
    Column("Due", lambda r: r.assignment.due_at, name="due_at"),
    Column("Overdue", lambda r: "yes" if r.overdue else "no", screen=False),
    Column("Interaction", lambda r: r.interaction.id, name="interaction_id", screen=False),
    Column("Date", lambda r: r.interaction.started_at, name="started_at"),
    Column("Customer", lambda r: r.customer),
    Column("Channel", lambda r: r.interaction.channel),
    Column("Queue", lambda r: r.interaction.queue or "", format=lambda queue: queue or "—"),
    Column("Duration", lambda r: r.interaction.duration_seconds, name="duration_seconds"),
    Column("Subject", lambda r: _subject(r.interaction), screen=False),
    Column("Agent", lambda r: r.agent),
    Column("Interaction", lambda r: content.shown_title(r.interaction), csv=False,
           link=lambda r: f"/interactions/{r.interaction.id}"),
    Column("Source", lambda r: f"rule #{r.assignment.rule_id}" if r.assignment.rule_id else "manual", screen=False)]


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f} %"


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


# Auto-QA suggestions kept or changed per question, on screen (shares in words) and in the export (rounded
# figures).
SUGGESTION_COLUMNS: list[Column[suggestions.SuggestionAgreement]] = [
    Column("Question id", lambda r: r.question_id, name="question_id", screen=False),
    Column("Question", lambda r: r.question_text),
    Column("Suggestions submitted", lambda r: r.agreement.n, name="submitted"),
    Column("Kept", lambda r: r.agreement.agreed),
    Column("Changed", lambda r: r.agreement.n - r.agreement.agreed),
    Column("Agreement", lambda r: _rounded(r.agreement.accuracy), html=lambda r: escape(_share(r.agreement.accuracy))),
    Column("Kappa", lambda r: _rounded(r.agreement.kappa),
           html=lambda r: escape("–" if r.agreement.kappa is None else f"{r.agreement.kappa:.2f}")),
    Column("Reading", lambda r: r.agreement.trust, csv=False),
    Column("Mean confidence", lambda r: _rounded(r.confidence), html=lambda r: escape(_share(r.confidence))),
    Column("Suggested → final", lambda r: ", ".join(f"{k}: {v}" for k, v in r.agreement.confusion.items()),
           csv=False)]


@router.get("/evaluations/suggestions", response_class=HTMLResponse)
def suggestions_page(request: Request, principal: WebEvaluator, session: SessionDep, scorecard_id: str = "") -> Response:
    """Per question: how often evaluators kept the auto-QA suggestion (agreement, kappa), to decide which rules
    to trust."""
    chosen = int(scorecard_id) if scorecard_id.isdigit() else None
    report = suggestions.agreement(session=session, scorecard_id=chosen)
    if wants_csv(request):
        return table_csv("auto-qa-suggestions.csv", report, SUGGESTION_COLUMNS)
    return render(request, "evaluations/suggestions.html", {
        "report": report, "columns": SUGGESTION_COLUMNS, "scorecard_id": chosen, "scorecards": scorecards.list_scorecards(session=session),
    }, principal=principal)
