"""Pages: evaluations list, the evaluation form for an interaction, evaluation detail (breakdown,
acknowledge/dispute, resolution), the evaluator's queue and calibration sessions."""

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from markupsafe import Markup
from pydantic import ValidationError
from sqlmodel import Session, col, select

from app.auth.deps import SessionDep, WebPrincipal, web_require_roles
from app.auth.models import User
from app.auth.service import list_teams, list_users, visible_agent_ids
from app.core import stats
from app.core.errors import EarshotError, InvalidInput, plain_validation_detail
from app.core.export import Column, csv_response, page_window, table_csv, wants_csv
from app.core.listing import parse_sort
from app.core.security import Principal, Role
from app.core.web import NavItem, render
from app.evaluations import agreement, bias, calibration, planner, sampling, service, suggestions
from app.evaluations import queue as work_queue
from app.evaluations.forms import FormFieldError, answers_from_form, evidence_text, field_value
from app.evaluations.models import (
    CalibrationSession,
    DisputeItem,
    Evaluation,
    EvaluationState,
    SamplingRuleCreate,
)
from app.interactions import content, timeline
from app.interactions.models import Interaction, Message, Segment
from app.scorecards import service as scorecards
from app.scorecards.schema import ScorecardForm
from app.scorecards.scoring import ScoreResult

router = APIRouter()

NAV = [
    NavItem("Evaluations", "/evaluations", tuple(Role), order=30),
    NavItem("My queue", "/evaluations/queue", (Role.ADMIN, Role.EVALUATOR), order=31),
    NavItem("Calibration", "/calibrations", (Role.ADMIN, Role.EVALUATOR), order=32),
    NavItem("Sampling", "/evaluations/sampling", (Role.ADMIN,), order=33),
    NavItem("Evaluator bias", "/calibrations/bias", (Role.ADMIN,), order=34),
    NavItem("Auto-QA kept", "/evaluations/suggestions", (Role.ADMIN, Role.EVALUATOR), order=35),
]

WebEvaluator = Annotated[Principal, Depends(web_require_roles(Role.ADMIN, Role.EVALUATOR))]
WebAgent = Annotated[Principal, Depends(web_require_roles(Role.AGENT))]


async def _form_fields(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


FormFields = Annotated[dict[str, str], Depends(_form_fields)]


def names(*, session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.exec(select(User).where(col(User.id).in_(wanted))).all()
    return {u.id: u.name for u in rows if u.id is not None}


def answers_from_form_quietly(form: ScorecardForm, fields: dict[str, str]) -> list[Any]:
    """The posted answers, or none when a field cannot be read (that error is reported on its own)."""
    try:
        return answers_from_form(form, fields)
    except FormFieldError:
        return []


def _error_text(exc: Exception) -> tuple[str, list[dict[str, Any]]]:
    if isinstance(exc, EarshotError):
        return exc.message, exc.details
    if isinstance(exc, FormFieldError):
        return exc.message, [{"loc": exc.field, "msg": exc.message}]
    return str(exc), []


# ---------------------------------------------------------------- list and queue

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


def _channel(interaction: Interaction | None) -> str:
    return interaction.channel if interaction else ""


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


# ---------------------------------------------------------------- sampling rules (admin)

WebAdminOnly = Annotated[Principal, Depends(web_require_roles(Role.ADMIN))]


def _sampling_page(request: Request, principal: Principal, session: Session, *, message: str | None = None,
                   error: str | None = None, status_code: int = 200, margin: float = 5.0) -> Response:
    rules = sampling.list_rules(session=session)
    evaluators = [u for u in list_users(session=session) if {Role.EVALUATOR, Role.ADMIN} & u.role_set]
    people = names(session=session, ids=[i for r in rules for i in r.evaluator_ids])
    if wants_csv(request):
        return table_csv("sampling-rules.csv", rules, [
            Column("id", lambda r: r.id),
            Column("name", lambda r: r.name),
            Column("channel", lambda r: r.channel),
            Column("queue", lambda r: r.queue),
            Column("team_id", lambda r: r.team_id),
            Column("per_agent", lambda r: r.per_agent),
            Column("period_days", lambda r: r.period_days),
            Column("due_days", lambda r: r.due_days),
            Column("evaluators", lambda r: ", ".join(people.get(i, str(i)) for i in r.evaluator_ids)),
            Column("active", lambda r: "yes" if r.active else "no")])
    return render(request, "evaluations/sampling.html", {
        "rules": rules, "evaluators": evaluators, "teams": list_teams(session=session),
        "scorecards": scorecards.list_scorecards(session=session), "message": message, "error": error,
        "names": people,
        "plan": _sample_size_plan(session=session, principal=principal, margin=margin), "margin": margin,
        "guide": planner.guide(session=session, principal=principal, margin=margin),
    }, principal=principal, status_code=status_code)


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
        first = plain_validation_detail(dict(exc.errors()[0]))
        return _sampling_page(request, principal, session, status_code=422,
                              error=f"{first['loc'].replace('_', ' ')} {first['msg']}".strip())
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


# ---------------------------------------------------------------- starting an evaluation

@router.get("/evaluations/new", response_class=HTMLResponse)
def new_evaluation_page(request: Request, principal: WebEvaluator, session: SessionDep,
                        interaction_id: str = "", assignment_id: str = "", q: str = "", channel: str = "") -> Response:
    """Pick an interaction (search by customer, subject, queue or id) and a form. `interaction_id` that is not a
    number is taken as search text, so a mistyped link still lands somewhere useful."""
    interaction = None
    cards = []
    if interaction_id.strip().isdigit():
        interaction = service.get_interaction(session=session, interaction_id=int(interaction_id),
                                              principal=principal)
        cards = [c for c in scorecards.list_scorecards(session=session, channel=interaction.channel)
                 if c.id is not None and scorecards.published_version(session=session, scorecard_id=c.id)]
    elif interaction_id.strip():
        q = q or interaction_id
    mine = (service.own_evaluation_of(session=session, evaluator_id=principal.user_id,
                                      interaction_id=interaction.id) if interaction and interaction.id else None)
    return render(request, "evaluations/new.html", {
        "interaction": interaction, "scorecards": cards,
        "assignment_id": assignment_id if assignment_id.isdigit() else "",
        "existing": service.list_visible(session=session, principal=principal, interaction_id=interaction.id).items
        if interaction else [], "mine": mine, "q": q, "channel": channel,
        "found": work_queue.search(session=session, principal=principal, text=q, channel=channel or None)
        if interaction is None else [],
    }, principal=principal)


@router.post("/evaluations/new")
def new_evaluation(principal: WebEvaluator, session: SessionDep, interaction_id: Annotated[int, Form()],
                   scorecard_id: Annotated[int, Form()], assignment_id: Annotated[str, Form()] = "",
                   again: Annotated[str, Form()] = "") -> Response:
    """Start the draft. An interaction the evaluator already scored opens that evaluation instead, unless
    `again` asks for a second one on purpose."""
    try:
        evaluation = service.create(session=session, principal=principal, interaction_id=interaction_id,
                                    scorecard_id=scorecard_id, again=again == "1",
                                    assignment_id=int(assignment_id) if assignment_id.strip().isdigit() else None)
    except service.AlreadyEvaluated as exc:
        session.rollback()
        return RedirectResponse(f"/evaluations/{exc.evaluation_id}?flash=already_evaluated", status_code=303)
    return RedirectResponse(f"/evaluations/{evaluation.id}/edit", status_code=303)


def _next_in_queue(*, session: Session, principal: Principal, after_interaction: int) -> work_queue.NextItem | None:
    return work_queue.next_item(session=session, evaluator_id=principal.user_id, after_interaction=after_interaction)


def _after_submit(*, session: Session, principal: Principal, evaluation: Evaluation) -> str:
    """Where "submit and next" goes: the next queue item's form (started when no choice is needed), its
    chooser, or the queue when it is empty."""
    item = _next_in_queue(session=session, principal=principal, after_interaction=evaluation.interaction_id)
    if item is None:
        return "/evaluations/queue?flash=queue_empty"
    started = work_queue.start(session=session, principal=principal, item=item)
    if started is not None:
        return f"/evaluations/{started.id}/edit?flash=submitted_next"
    return (f"/evaluations/new?interaction_id={item.row.interaction.id}&assignment_id={item.row.assignment.id}"
            "&flash=submitted_next")


# ---------------------------------------------------------------- the evaluation form

def _thread(*, session: Session, interaction_id: int) -> tuple[list[Message], list[Segment]]:
    """The interaction beside the form: its messages and its transcript (the player comes from _player), as the
    content gate shows them (redacted)."""
    messages = session.exec(select(Message).where(Message.interaction_id == interaction_id)
                            .order_by(col(Message.sent_at), col(Message.id))).all()
    segments = session.exec(select(Segment).where(Segment.interaction_id == interaction_id)
                            .order_by(col(Segment.seq))).all()
    return content.REDACTED.messages(messages), content.REDACTED.segments(segments)


def _stored_values(*, session: Session, evaluation: Evaluation, form: ScorecardForm) -> dict[str, dict[str, str]]:
    assert evaluation.id is not None
    questions = service.question_map(form)
    values: dict[str, dict[str, str]] = {}
    for answer in service.answers_of(session=session, evaluation_id=evaluation.id):
        question = questions.get(answer.question_id)
        if question is None:
            continue
        values[answer.question_id] = {"value": field_value(question, answer.value, answer.na),
                                      "comment": answer.comment or "", "evidence": evidence_text(answer.evidence)}
    return values


def _posted_values(form: ScorecardForm, fields: dict[str, str]) -> dict[str, dict[str, str]]:
    return {q.id: {"value": fields.get(f"answer__{q.id}", ""), "comment": fields.get(f"comment__{q.id}", ""),
                   "evidence": fields.get(f"evidence__{q.id}", "")} for _, q in form.questions()}


def _player(request: Request, *, session: Session, principal: Principal, interaction: Any,
            segments: list[Segment]) -> dict[str, Any]:
    return timeline.player_context(session=session, principal=principal, settings=request.app.state.settings,
                                   interaction=interaction, segments=segments)


def question_errors(form: ScorecardForm, details: list[dict[str, Any]], answers: list[Any] | None = None
                    ) -> dict[str, str]:
    """Error details turned into a message per question id, in the form's words (no internal ids): details
    name a question as `answers.<id>` (missing), `answer__<id>`/`evidence__<id>` (form fields) or
    `answers[<i>]...` (the i-th posted answer)."""
    out: dict[str, str] = {}
    questions = service.question_map(form)
    for detail in details:
        loc, msg = str(detail.get("loc") or ""), str(detail.get("msg") or "")
        question_id = None
        if loc.startswith("answers."):
            question_id = loc.removeprefix("answers.")
        elif "__" in loc:
            field, _, question_id = loc.partition("__")
            if field == "evidence":
                msg = f"Evidence: {msg}"
        elif loc.startswith("answers[") and answers is not None:
            index = loc[len("answers["):].split("]")[0]
            if index.isdigit() and int(index) < len(answers):
                question_id = answers[int(index)].question_id
        if question_id in questions:
            out.setdefault(question_id, "Answer this question before submitting." if msg == "required" else
                           msg[:1].upper() + msg[1:])
    return out


def _prefilled(values: dict[str, dict[str, str]], offered: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Unanswered questions with a suggestion start with the suggested answer selected."""
    for question_id, suggestion in offered.items():
        current = values.setdefault(question_id, {"value": "", "comment": "", "evidence": ""})
        if not current.get("value"):
            current["value"] = suggestion.value
            current["prefilled"] = "yes"
    return values


def _edit_page(request: Request, *, principal: Principal, session: Session, evaluation: Evaluation,
               values: dict[str, dict[str, str]] | None = None, result: ScoreResult | None = None,
               error: str | None = None, details: list[dict[str, Any]] | None = None,
               field_errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    assert evaluation.id is not None
    form = service.form_of(session=session, evaluation=evaluation)
    interaction = service.get_interaction(session=session, interaction_id=evaluation.interaction_id,
                                          principal=principal)
    messages, segments = _thread(session=session, interaction_id=evaluation.interaction_id)
    offered = suggestions.of_evaluation(session=session, evaluation_id=evaluation.id)
    if values is None:
        values = _prefilled(_stored_values(session=session, evaluation=evaluation, form=form), offered)
    return render(request, "evaluations/edit.html", {
        "evaluation": evaluation, "form": form, "interaction": interaction, "messages": messages,
        "segments": segments, "values": values, "suggestions": offered,
        "evidence_views": suggestions.evidence_views, "evidence_refs": suggestions.evidence_refs,
        "result": result, "error": error, "details": details or [], "field_errors": field_errors or {},
        "agent_name": names(session=session, ids=[evaluation.agent_id]).get(evaluation.agent_id or 0, "—"),
        "version": service.version_of(session=session, evaluation=evaluation),
        "next_item": _next_in_queue(session=session, principal=principal, after_interaction=evaluation.interaction_id),
        **_player(request, session=session, principal=principal, interaction=interaction, segments=segments),
    }, principal=principal, status_code=status_code)


@router.get("/evaluations/{evaluation_id}/edit", response_class=HTMLResponse)
def edit_page(request: Request, evaluation_id: int, principal: WebEvaluator, session: SessionDep) -> Response:
    evaluation = service.get_visible(session=session, principal=principal, evaluation_id=evaluation_id)
    if evaluation.state != EvaluationState.DRAFT or evaluation.evaluator_id != principal.user_id:
        return RedirectResponse(f"/evaluations/{evaluation_id}", status_code=303)
    return _edit_page(request, principal=principal, session=session, evaluation=evaluation)


@router.post("/evaluations/{evaluation_id}/edit", response_class=HTMLResponse)
def edit_submit(request: Request, evaluation_id: int, principal: WebEvaluator, session: SessionDep,
                fields: FormFields) -> Response:
    """action=save (draft), autosave (save, answer JSON with the new revision), preview (save and show the
    server's score) or submit. A stale `revision` (someone else saved meanwhile) is refused with 409."""
    evaluation = service.get_visible(session=session, principal=principal, evaluation_id=evaluation_id)
    form = service.form_of(session=session, evaluation=evaluation)
    action = fields.get("action", "save")
    revision = int(fields["revision"]) if fields.get("revision", "").isdigit() else None
    try:
        answers = answers_from_form(form, fields)
        if action in ("submit", "submit_next"):
            service.save_answers(
                session=session, principal=principal, evaluation_id=evaluation_id,
                revision=revision or evaluation.revision, answers=answers, replace=True)
            service.submit(session=session, principal=principal, evaluation_id=evaluation_id)
            target = (_after_submit(session=session, principal=principal, evaluation=evaluation)
                      if action == "submit_next" else f"/evaluations/{evaluation_id}?flash=submitted")
            return RedirectResponse(target, status_code=303)
        saved = service.save_answers(
            session=session, principal=principal, evaluation_id=evaluation_id,
            revision=revision or evaluation.revision, answers=answers, replace=True)
        if action == "autosave":  # the page's script saves drafts while the evaluator works
            return JSONResponse({"revision": saved.revision, "saved_at": saved.updated_at.isoformat()})
        result = service.preview(form=form, answers=answers) if action == "preview" else None
        return _edit_page(request, principal=principal, session=session, evaluation=evaluation, result=result,
                          values=_posted_values(form, fields))
    except (EarshotError, FormFieldError) as exc:
        session.rollback()
        message, details = _error_text(exc)
        status = exc.status_code if isinstance(exc, EarshotError) else 422
        posted = answers_from_form_quietly(form, fields)
        per_question = question_errors(form, details, posted)
        if per_question:  # shown beside each question, in its words; the summary names no ids
            count = len(per_question)
            message = (f"{count} question{'s' if count > 1 else ''} need{'' if count > 1 else 's'} your attention "
                       "(marked below).")
            details = [d for d in details if not question_errors(form, [d], posted)]
        if action == "autosave":
            return JSONResponse({"error": {"message": message, "details": details}}, status_code=status)
        evaluation = service.get_visible(session=session, principal=principal, evaluation_id=evaluation_id)
        return _edit_page(request, principal=principal, session=session, evaluation=evaluation,
                          values=_posted_values(form, fields), error=message, details=details,
                          field_errors=per_question, status_code=status)


# ---------------------------------------------------------------- detail, acknowledge, dispute, resolve

def _detail_page(request: Request, *, principal: Principal, session: Session, evaluation: Evaluation,
                 error: str | None = None, status_code: int = 200) -> Response:
    assert evaluation.id is not None
    form = service.form_of(session=session, evaluation=evaluation)
    answers = {a.question_id: a for a in service.answers_of(session=session, evaluation_id=evaluation.id)}
    disputes = service.disputes_of(session=session, evaluation_id=evaluation.id)
    breakdown = evaluation.breakdown or {}
    results = {q["question_id"]: q for q in breakdown.get("questions", [])}
    sections = {s["section_id"]: s for s in breakdown.get("sections", [])}
    interaction = service.get_interaction(session=session, interaction_id=evaluation.interaction_id,
                                          principal=principal)
    messages, segments = _thread(session=session, interaction_id=evaluation.interaction_id)
    history = service.history(session=session, evaluation_id=evaluation.id)
    people = names(session=session, ids=[evaluation.agent_id, evaluation.evaluator_id,
                                         *[d.raised_by for d in disputes], *[d.resolved_by for d in disputes]])
    open_dispute = next((d for d in disputes if d.resolved_at is None), None)
    disputed_ids = {i["question_id"] for i in open_dispute.items} if open_dispute else set()
    return render(request, "evaluations/detail.html", {
        "evaluation": evaluation, "form": form, "answers": answers, "results": results, "sections": sections,
        "disputes": disputes, "open_dispute": open_dispute, "disputed_ids": disputed_ids, "history": history,
        "interaction": interaction, "messages": messages, "segments": segments, "names": people,
        "evidence_text": evidence_text, "field_value": field_value, "error": error,
        "version": service.version_of(session=session, evaluation=evaluation),
        "is_agent": evaluation.agent_id == principal.user_id and principal.has(Role.AGENT),
        "can_resolve": evaluation.state == EvaluationState.DISPUTED and service.may_resolve(
            session=session, principal=principal, evaluation=evaluation),
        "resolver_needed": evaluation.state == EvaluationState.DISPUTED and evaluation.evaluator_id == principal.user_id
        and not service.may_resolve(session=session, principal=principal, evaluation=evaluation),
        **_player(request, session=session, principal=principal, interaction=interaction, segments=segments),
    }, principal=principal, status_code=status_code)


@router.get("/evaluations/{evaluation_id}", response_class=HTMLResponse)
def detail_page(request: Request, evaluation_id: int, principal: WebPrincipal, session: SessionDep) -> Response:
    evaluation = service.get_visible(session=session, principal=principal, evaluation_id=evaluation_id)
    return _detail_page(request, principal=principal, session=session, evaluation=evaluation)


@router.post("/evaluations/{evaluation_id}/acknowledge")
def acknowledge(evaluation_id: int, principal: WebAgent, session: SessionDep) -> Response:
    service.acknowledge(session=session, principal=principal, evaluation_id=evaluation_id)
    return RedirectResponse(f"/evaluations/{evaluation_id}?flash=acknowledged", status_code=303)


@router.post("/evaluations/{evaluation_id}/dispute", response_class=HTMLResponse)
def dispute(request: Request, evaluation_id: int, principal: WebAgent, session: SessionDep,
            fields: FormFields) -> Response:
    """Fields: reason, and per question `dispute__<id>` (the reason for that question; empty = not disputed)."""
    items = [DisputeItem(question_id=key.removeprefix("dispute__"), reason=value.strip())
             for key, value in fields.items() if key.startswith("dispute__") and value.strip()]
    try:
        service.dispute(session=session, principal=principal, evaluation_id=evaluation_id,
                        reason=fields.get("reason", "").strip() or _missing("reason"), items=items)
    except EarshotError as exc:
        session.rollback()
        evaluation = service.get_visible(session=session, principal=principal, evaluation_id=evaluation_id)
        return _detail_page(request, principal=principal, session=session, evaluation=evaluation,
                            error=exc.message, status_code=exc.status_code)
    return RedirectResponse(f"/evaluations/{evaluation_id}?flash=disputed", status_code=303)


def _missing(field: str) -> str:
    raise InvalidInput(f"{field} is required", details=[{"loc": field, "msg": "required"}])


@router.post("/evaluations/{evaluation_id}/resolve", response_class=HTMLResponse)
def resolve(request: Request, evaluation_id: int, principal: WebEvaluator, session: SessionDep,
            fields: FormFields) -> Response:
    """Fields: outcome (upheld | adjusted), reason, and for adjusted the changed `answer__<id>` fields."""
    evaluation = service.get_visible(session=session, principal=principal, evaluation_id=evaluation_id)
    form = service.form_of(session=session, evaluation=evaluation)
    try:
        outcome = fields.get("outcome", "")
        if outcome not in ("upheld", "adjusted"):
            raise InvalidInput("choose upheld or adjusted", details=[{"loc": "outcome", "msg": "required"}])
        changed = [a for a in answers_from_form(form, fields) if fields.get(f"answer__{a.question_id}")]
        stored = _stored_values(session=session, evaluation=evaluation, form=form)
        changed = [a for a in changed if fields.get(f"answer__{a.question_id}") !=
                   stored.get(a.question_id, {}).get("value")]
        service.resolve(session=session, principal=principal, evaluation_id=evaluation_id, outcome=outcome,
                        reason=fields.get("reason", "").strip() or _missing("reason"), answers=changed)
    except (EarshotError, FormFieldError) as exc:
        session.rollback()
        message, _ = _error_text(exc)
        evaluation = service.get_visible(session=session, principal=principal, evaluation_id=evaluation_id)
        return _detail_page(request, principal=principal, session=session, evaluation=evaluation, error=message,
                            status_code=exc.status_code if isinstance(exc, EarshotError) else 422)
    return RedirectResponse(f"/evaluations/{evaluation_id}?flash=resolved", status_code=303)


# ---------------------------------------------------------------- calibration

@router.get("/calibrations", response_class=HTMLResponse)
def calibrations_page(request: Request, principal: WebEvaluator, session: SessionDep) -> Response:
    rows = calibration.list_sessions(session=session, principal=principal)
    evaluators = [u for u in list_users(session=session) if {Role.EVALUATOR, Role.ADMIN} & u.role_set]
    bias_rows = bias.evaluator_bias(session=session, principal=principal)
    people = names(session=session, ids=[c.lead_id for c in rows])
    columns: list[Column[CalibrationSession]] = [
        Column("#", lambda c: c.id, name="id", link=lambda c: f"/calibrations/{c.id}"),
        Column("Title", lambda c: c.title),
        Column("Interaction", lambda c: c.interaction_id, name="interaction_id", format=lambda v: f"#{v}"),
        Column("Lead", lambda c: people.get(c.lead_id or 0, ""), format=lambda v: v or "—"),
        Column("Evaluators", lambda c: len(c.evaluator_ids)),
        Column("Status", lambda c: c.status, html=lambda c: Markup('<span class="badge">{}</span>').format(c.status)),
        Column("Nominal α", lambda c: (c.results or {}).get("alpha", {}).get("nominal"), name="nominal_alpha",
               format=lambda v: "—" if v is None else str(v)),
        Column("Created", lambda c: c.created_at, name="created_at")]
    if wants_csv(request):
        return table_csv("calibrations.csv", rows, columns)
    return render(request, "evaluations/calibrations.html", {
        "sessions": rows, "columns": columns, "evaluators": evaluators, "scorecards": scorecards.list_scorecards(session=session),
        "names": people, "error": None,
        "trend": calibration.evaluator_trend(session=session, evaluator_id=principal.user_id),
        "bias_rows": bias_rows, "bias_names": names(session=session, ids=[r.evaluator_id for r in bias_rows]),
        "min_pairs": bias.MIN_PAIRS,
    }, principal=principal)


@router.post("/calibrations")
def create_calibration(principal: WebEvaluator, session: SessionDep, title: Annotated[str, Form()],
                       interaction_id: Annotated[int, Form()], scorecard_id: Annotated[int, Form()],
                       evaluator_ids: Annotated[list[int], Form()]) -> Response:
    row = calibration.create(session=session, principal=principal, title=title, interaction_id=interaction_id,
                             scorecard_id=scorecard_id, evaluator_ids=evaluator_ids)
    return RedirectResponse(f"/calibrations/{row.id}", status_code=303)


# Registered before /calibrations/{calibration_id}, which would otherwise take "bias" for an id.
@router.get("/calibrations/bias", response_class=HTMLResponse)
def bias_page(request: Request, principal: WebEvaluator, session: SessionDep,
              format: Literal["html", "csv"] = "html") -> Response:
    """Every evaluator's offset against gold and peers (admins); an evaluator sees their own rows."""
    rows = bias.evaluator_bias(session=session, principal=principal)
    who = names(session=session, ids=[r.evaluator_id for r in rows])
    if format == "csv":
        return csv_response("evaluator-bias.csv", bias.CSV_HEADERS, bias.csv_rows(rows, who))
    return render(request, "evaluations/bias.html", {"rows": rows, "names": who, "min_pairs": bias.MIN_PAIRS},
                  principal=principal)


@router.get("/calibrations/agreement", response_class=HTMLResponse)
def agreement_page(request: Request, principal: WebEvaluator, session: SessionDep, scorecard_id: int | None = None,
                   period: agreement.Period = "month", format: Literal["html", "csv"] = "html") -> Response:
    """Krippendorff's alpha per question and month/quarter with its bootstrap interval, table + charts."""
    if scorecard_id is None:
        scorecard_id = agreement.default_scorecard_id(session=session)
    report = agreement.question_agreement(session=session, scorecard_id=scorecard_id, period=period)
    if format == "csv":
        return csv_response(f"calibration-agreement-{period}.csv", agreement.CSV_HEADERS, agreement.csv_rows(report))
    return render(request, "evaluations/agreement.html", {
        "report": report, "charts": [agreement.chart(q, report.periods) for q in report.questions],
        "scorecards": scorecards.list_scorecards(session=session), "min_units": stats.MIN_UNITS,
        "too_few": stats.TOO_FEW_UNITS, "no_variation": stats.NO_VARIATION}, principal=principal)


@router.get("/calibrations/{calibration_id}", response_class=HTMLResponse)
def calibration_page(request: Request, calibration_id: int, principal: WebEvaluator, session: SessionDep) -> Response:
    row = calibration.get(session=session, principal=principal, calibration_id=calibration_id)
    view = calibration.public(session=session, principal=principal, calibration=row)
    return render(request, "evaluations/calibration.html", {
        "calibration": row, "view": view,
        "names": names(session=session, ids=[row.lead_id, *row.evaluator_ids]),
        "is_lead": principal.user_id == row.lead_id or principal.has(Role.ADMIN),
        "can_score": principal.user_id in row.evaluator_ids or principal.user_id == row.lead_id,
        "overall_bias": {r.evaluator_id: r for r in bias.evaluator_bias(session=session, principal=principal)
                         if r.reference == "gold" and r.measure == bias.TOTAL} if row.status == "closed" else {},
    }, principal=principal)


@router.post("/calibrations/{calibration_id}/start")
def calibration_start(calibration_id: int, principal: WebEvaluator, session: SessionDep) -> Response:
    evaluation = calibration.start_evaluation(session=session, principal=principal, calibration_id=calibration_id)
    return RedirectResponse(f"/evaluations/{evaluation.id}/edit", status_code=303)


@router.post("/calibrations/{calibration_id}/close")
def calibration_close(calibration_id: int, principal: WebEvaluator, session: SessionDep) -> Response:
    calibration.close(session=session, principal=principal, calibration_id=calibration_id)
    return RedirectResponse(f"/calibrations/{calibration_id}", status_code=303)
