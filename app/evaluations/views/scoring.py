"""One evaluation's pages: starting it for an interaction, the form beside the call's player or the thread,
submitting it, its detail with the breakdown, and the agent's acknowledgement or dispute and its resolution."""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlmodel import Session, col, select

from app.auth.deps import SessionDep, WebPrincipal
from app.auth.service import user_names
from app.core.errors import EarshotError, InvalidInput
from app.core.security import Principal, Role
from app.core.web import render
from app.evaluations import queue as work_queue
from app.evaluations import service, suggestions
from app.evaluations.forms import FormFieldError, answers_from_form, evidence_text, field_value
from app.evaluations.models import (
    DisputeItem,
    Evaluation,
    EvaluationState,
)
from app.evaluations.views.common import FormFields, WebAgent, WebEvaluator
from app.interactions import content, timeline
from app.interactions.models import Message, Segment
from app.scorecards import service as scorecards
from app.scorecards.schema import ScorecardForm
from app.scorecards.scoring import ScoreResult

router = APIRouter()


def answers_from_form_quietly(form: ScorecardForm, fields: dict[str, str]) -> list[Any]:
    """The posted answers, or none when a field cannot be read (that error is reported on its own)."""
    try:
        return answers_from_form(form, fields)
    except FormFieldError:
        return []


def error_text(exc: Exception) -> tuple[str, list[dict[str, Any]]]:
    if isinstance(exc, EarshotError):
        return exc.message, exc.details
    if isinstance(exc, FormFieldError):
        return exc.message, [{"loc": exc.field, "msg": exc.message}]
    return str(exc), []



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
        "agent_name": user_names(session=session, ids=[evaluation.agent_id]).get(evaluation.agent_id or 0, "—"),
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
        message, details = error_text(exc)
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
    people = user_names(session=session, ids=[evaluation.agent_id, evaluation.evaluator_id,
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
        message, _ = error_text(exc)
        evaluation = service.get_visible(session=session, principal=principal, evaluation_id=evaluation_id)
        return _detail_page(request, principal=principal, session=session, evaluation=evaluation, error=message,
                            status_code=exc.status_code if isinstance(exc, EarshotError) else 422)
    return RedirectResponse(f"/evaluations/{evaluation_id}?flash=resolved", status_code=303)
