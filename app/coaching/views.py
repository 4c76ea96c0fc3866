"""Coaching pages: the assignments list (state in the URL), a new assignment, the assignment page
(evidence, sessions, status, acknowledgement, before/after), effectiveness roll-ups and the admin's rules.

Evaluators and executives read these pages without the forms; agents see their own coaching only.
"""

from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from app.auth.deps import SessionDep, SettingsDep, WebAdmin, WebPrincipal, WebStaff, web_require_roles
from app.auth.service import list_users, user_names, visible_agent_ids
from app.coaching import export, queries, results, rules, service, sources
from app.coaching.export import STATUS_LABELS
from app.coaching.models import (
    AssignmentCreate,
    AssignmentStatus,
    CoachingAssignment,
    RuleCreate,
    RuleKind,
    RuleUpdate,
    SessionCreate,
    SessionUpdate,
)
from app.core.errors import Conflict, EarshotError, InvalidInput, error_message
from app.core.security import Principal, Role
from app.core.settings import Settings
from app.core.web import NavItem, render
from app.scorecards import service as scorecards

router = APIRouter()

NAV = [NavItem("Coaching", "/coaching", tuple(Role), order=40)]

WebCoach = Annotated[Principal, Depends(web_require_roles(Role.COACH, Role.ADMIN))]
WebAgent = Annotated[Principal, Depends(web_require_roles(Role.AGENT))]

ACTION_LABELS = {"in_progress": "Start coaching", "completed": "Mark completed", "verified": "Verify",
                 "cancelled": "Cancel", "assigned": "Back to assigned"}


def _redirect(path: str, **params: Any) -> RedirectResponse:
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return RedirectResponse(f"{path}?{query}" if query else path, status_code=303)


def _optional_int(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


def _parse_date(value: str, field: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise InvalidInput(f"{field}: not a date (YYYY-MM-DD)") from exc


def _parse_local_time(value: str, field: str, settings: Settings) -> datetime | None:
    """A `datetime-local` form value, read in the display time zone."""
    if not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise InvalidInput(f"{field}: not a date and time") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(settings.display_timezone))


def _visible_agents(session: Session, principal: Principal) -> list[Any]:
    visible = visible_agent_ids(session=session, principal=principal)
    return [u for u in list_users(session=session, role=Role.AGENT) if visible is None or u.id in visible]


def _names(session: Session, assignments: list[CoachingAssignment]) -> dict[int, str]:
    return user_names(session=session, ids=[a.agent_id for a in assignments]
                      + [a.coach_id for a in assignments])


# ---------------------------------------------------------------- list and create


@router.get("/coaching", response_class=HTMLResponse)
def assignments_page(
    request: Request, principal: WebPrincipal, session: SessionDep, status: str = "", agent_id: str = "",
    topic: str = "", overdue: str = "", open: str = "", page: Annotated[int, Query(ge=1)] = 1,
    message: str | None = None, error: str | None = None,
) -> Response:
    filters = queries.AssignmentFilters(status=status or None, agent_id=_optional_int(agent_id),
                                        topic=topic or None, overdue=bool(overdue), open_only=bool(open))
    result = queries.list_assignments(session=session, principal=principal, filters=filters, page=page)
    state = {"status": status, "agent_id": agent_id, "topic": topic, "overdue": overdue, "open": open}
    overdue_ids = {a.id for a in result.items if a.id is not None and service.is_overdue(a)}
    return render(request, "coaching/list.html", {
        "result": result, "filters": state, "query": urlencode({k: v for k, v in state.items() if v}),
        "columns": export.assignment_columns(_names(session, result.items), overdue_ids=overdue_ids),
        "row_class": lambda a: "overdue" if a.id in overdue_ids else "",
        "agents": _visible_agents(session, principal), "statuses": STATUS_LABELS,
        "can_create": principal.has(Role.COACH, Role.ADMIN), "message": message, "error": error,
    }, principal=principal)


def _new_form(request: Request, session: SessionDep, principal: Principal, *, values: dict[str, Any],
              error: str | None = None, status_code: int = 200, existing_id: int | None = None) -> Response:
    """The form; questions are picked from the scorecards (searchable by text), never typed as ids."""
    catalogue = scorecards.question_catalogue(session=session)
    return render(request, "coaching/new.html", {
        "agents": _visible_agents(session, principal), "values": values, "error": error,
        "catalogue": catalogue, "chosen": set(values.get("question_ids") or []), "existing_id": existing_id,
    }, principal=principal, status_code=status_code)


@router.get("/coaching/new", response_class=HTMLResponse)
def new_page(request: Request, principal: WebCoach, session: SessionDep, agent_id: str = "") -> Response:
    return _new_form(request, session, principal, values={"agent_id": agent_id})


@router.post("/coaching/new", response_class=HTMLResponse)
def new_submit(
    request: Request, principal: WebCoach, session: SessionDep, agent_id: Annotated[str, Form()] = "",
    topic_title: Annotated[str, Form()] = "", question_ids: Annotated[list[str] | None, Form()] = None,
    goal: Annotated[str, Form()] = "", due_date: Annotated[str, Form()] = "",
) -> Response:
    """Fields: agent, topic, the questions ticked in the picker (`question_ids`, one value each), goal, due date.
    A topic already open for the agent offers that assignment instead of an error with no way forward."""
    picked = [q for value in question_ids or [] for q in value.replace(",", " ").split() if q]
    values = {"agent_id": agent_id, "topic_title": topic_title, "question_ids": picked, "goal": goal,
              "due_date": due_date}
    try:
        data = AssignmentCreate(agent_id=_optional_int(agent_id) or 0, topic_title=topic_title,
                                question_ids=picked, goal=goal, due_date=_parse_date(due_date, "due_date"))
        assignment = service.create_assignment(session=session, data=data, actor=principal)
    except service.DuplicateAssignment as exc:
        session.rollback()
        return _new_form(request, session, principal, values=values, status_code=409,
                         existing_id=exc.open_assignment_id,
                         error="This agent already has an open assignment on this topic.")
    except (EarshotError, ValidationError) as exc:
        status_code = exc.status_code if isinstance(exc, EarshotError) else 422
        return _new_form(request, session, principal, values=values, error=error_message(exc),
                         status_code=status_code)
    return _redirect(f"/coaching/{assignment.id}", message="Assignment created.")


@router.post("/coaching/from-evaluation/{evaluation_id}", response_class=HTMLResponse)
def from_evaluation_submit(
    evaluation_id: int, principal: WebCoach, session: SessionDep,
    question_ids: Annotated[list[str] | None, Form()] = None, goal: Annotated[str, Form()] = "",
    due_date: Annotated[str, Form()] = "",
) -> Response:
    """The evaluation page's "Assign coaching" button (coaching/_assign_from_evaluation.html): the failed
    questions ticked there (default: all) become one assignment; if the topic is already open for the
    agent, the coach lands on that assignment instead."""
    outcome = sources.load_evaluation_outcome(session, evaluation_id)
    try:
        assignment = service.create_from_evaluation(
            session=session, outcome=outcome, actor=principal, question_ids=question_ids or None, goal=goal,
            due_date=_parse_date(due_date, "due_date"))
    except service.DuplicateAssignment as exc:
        if exc.open_assignment_id is None:
            raise
        return _redirect(f"/coaching/{exc.open_assignment_id}", message="This topic is already open for the agent, "
                         "so here is that assignment: add a session or change its goal instead of a second one.")
    return _redirect(f"/coaching/{assignment.id}", message=f"Assignment created from evaluation {evaluation_id}.")


# ---------------------------------------------------------------- effectiveness and rules (before /{id})


@router.get("/coaching/effectiveness", response_class=HTMLResponse)
def effectiveness_page(
    request: Request, principal: WebStaff, session: SessionDep,
    evaluations: Annotated[int | None, Query(ge=1, le=200)] = None,
    days: Annotated[int | None, Query(ge=1, le=3650)] = None,
) -> Response:
    window = results.window_of(evaluations=evaluations, days=days)
    report = results.effectiveness_report(session=session, principal=principal, load=sources.observations_for,
                                          window=window)
    names = user_names(session=session, ids=[e.agent_id for e in report.effects])
    return render(request, "coaching/effectiveness.html", {
        "report": report, "window": window, "names": names,
        "form": {"evaluations": evaluations or "", "days": days or ""},
    }, principal=principal)


@router.get("/coaching/rules", response_class=HTMLResponse)
def rules_page(request: Request, principal: WebAdmin, session: SessionDep, message: str | None = None,
               error: str | None = None) -> Response:
    return render(request, "coaching/rules.html", {
        "rules": [(r, rules.describe_rule(r)) for r in rules.list_rules(session=session)],
        "kinds": list(RuleKind), "message": message, "error": error,
    }, principal=principal)


def _rule_values(**values: str) -> dict[str, Any]:
    """Form fields → rule values: blank fields are left out; numbers are checked by the rule model."""
    return {k: v for k, v in values.items() if v.strip()}


@router.post("/coaching/rules", response_class=HTMLResponse)
def rules_create(
    principal: WebAdmin, session: SessionDep, kind: Annotated[str, Form()] = "", name: Annotated[str, Form()] = "",
    enabled: Annotated[str, Form()] = "", window_days: Annotated[str, Form()] = "",
    min_failures: Annotated[str, Form()] = "", score_threshold: Annotated[str, Form()] = "",
    last_n: Annotated[str, Form()] = "", due_in_days: Annotated[str, Form()] = "",
) -> Response:
    try:
        data = RuleCreate.model_validate({"kind": kind, "name": name, "enabled": enabled == "on", **_rule_values(
            window_days=window_days, min_failures=min_failures, score_threshold=score_threshold, last_n=last_n,
            due_in_days=due_in_days)})
        rule = rules.create_rule(session=session, principal=principal, data=data)
    except (EarshotError, ValidationError) as exc:
        return _redirect("/coaching/rules", error=error_message(exc))
    return _redirect("/coaching/rules", message=f"Rule {rule.name!r} created.")


@router.post("/coaching/rules/apply", response_class=HTMLResponse)
def rules_apply(principal: WebAdmin, session: SessionDep) -> Response:
    created = rules.run_rules(session=session, load=sources.load_recent_outcomes)
    picked = sources.pick_up_retraining(session)
    return _redirect("/coaching/rules", message=f"Rules run: {len(created)} assignment(s) created; "
                     f"{len(picked)} from review retraining actions.")


@router.post("/coaching/rules/{rule_id}", response_class=HTMLResponse)
def rules_update(
    rule_id: int, principal: WebAdmin, session: SessionDep, name: Annotated[str, Form()] = "",
    enabled: Annotated[str, Form()] = "", window_days: Annotated[str, Form()] = "",
    min_failures: Annotated[str, Form()] = "", score_threshold: Annotated[str, Form()] = "",
    last_n: Annotated[str, Form()] = "", due_in_days: Annotated[str, Form()] = "",
) -> Response:
    try:
        data = RuleUpdate.model_validate({"name": name or None, "enabled": enabled == "on", **_rule_values(
            window_days=window_days, min_failures=min_failures, score_threshold=score_threshold, last_n=last_n,
            due_in_days=due_in_days)})
        rule = rules.update_rule(session=session, principal=principal, rule_id=rule_id, data=data)
    except ValidationError as exc:
        return _redirect("/coaching/rules", error=error_message(exc))
    return _redirect("/coaching/rules", message=f"Rule {rule.name!r} saved.")


# ---------------------------------------------------------------- one assignment


def evidence_links(item: dict[str, Any]) -> list[tuple[str, str]]:
    """Where an evidence item opens: its interaction (at the transcript moment, `?t=` seconds, or at the
    message, `#m-<id>` as the thread pages anchor them) and its evaluation (whose page shows the thread)."""
    links = []
    message = f"#m-{int(item['message_id'])}" if item.get("message_id") is not None else ""
    interaction_id = item.get("interaction_id")
    if interaction_id is not None:
        moment = f"?t={float(item['start']):g}" if item.get("start") is not None else ""
        links.append((f"Interaction {int(interaction_id)}", f"/interactions/{int(interaction_id)}{moment}{message}"))
    if item.get("evaluation_id") is not None:
        evaluation_id = int(item["evaluation_id"])
        links.append((f"Evaluation {evaluation_id}", f"/evaluations/{evaluation_id}{message}"))
    return links


@router.get("/coaching/{assignment_id}", response_class=HTMLResponse)
def assignment_page(request: Request, assignment_id: int, principal: WebPrincipal, session: SessionDep,
                    message: str | None = None, error: str | None = None) -> Response:
    assignment = service.get_assignment(session=session, principal=principal, assignment_id=assignment_id)
    manages = service.can_manage(session=session, principal=principal, agent_id=assignment.agent_id)
    window = results.window_of()
    effect = results.effect_of(assignment=assignment, observations=sources.observations_for(session, assignment.agent_id),
                               window=window)
    return render(request, "coaching/assignment.html", {
        "a": assignment, "names": _names(session, [assignment]),
        "sessions": service.list_sessions(session=session, assignment_id=assignment_id),
        "evidence": [(item, evidence_links(item)) for item in assignment.evidence],
        "manages": manages, "is_agent": assignment.agent_id == principal.user_id,
        "transitions": service.allowed_transitions(principal=principal, assignment=assignment) if manages else [],
        "statuses": STATUS_LABELS, "actions": ACTION_LABELS, "overdue": service.is_overdue(assignment),
        "closed": assignment.status in (AssignmentStatus.VERIFIED, AssignmentStatus.CANCELLED),
        "effect": effect, "window": window, "message": message, "error": error,
        "question_texts": {question_id: text for _, question_id, text in scorecards.question_catalogue(session=session)},
    }, principal=principal)


@router.post("/coaching/{assignment_id}/status", response_class=HTMLResponse)
def status_submit(assignment_id: int, principal: WebCoach, session: SessionDep,
                  status: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "") -> Response:
    path = f"/coaching/{assignment_id}"
    try:
        to = AssignmentStatus(status)
    except ValueError:
        return _redirect(path, error=f"Unknown status {status!r}.")
    try:
        service.change_status(session=session, principal=principal, assignment_id=assignment_id, to=to,
                              note=note.strip() or None)
    except Conflict as exc:  # illegal move or duplicate topic: explain on the page
        return _redirect(path, error=exc.message)
    return _redirect(path, message=f"Now {STATUS_LABELS[to].lower()}.")


@router.post("/coaching/{assignment_id}/acknowledge", response_class=HTMLResponse)
def acknowledge_submit(assignment_id: int, principal: WebAgent, session: SessionDep,
                       comment: Annotated[str, Form()] = "") -> Response:
    path = f"/coaching/{assignment_id}"
    try:
        service.acknowledge(session=session, principal=principal, assignment_id=assignment_id,
                            comment=comment[:4000])
    except Conflict as exc:
        return _redirect(path, error=exc.message)
    return _redirect(path, message="Thank you: acknowledged.")


@router.post("/coaching/{assignment_id}/sessions", response_class=HTMLResponse)
def session_create(
    assignment_id: int, principal: WebCoach, session: SessionDep, settings: SettingsDep,
    scheduled_at: Annotated[str, Form()] = "", held_at: Annotated[str, Form()] = "",
    notes: Annotated[str, Form()] = "", outcome: Annotated[str, Form()] = "",
) -> Response:
    path = f"/coaching/{assignment_id}"
    try:
        data = SessionCreate(scheduled_at=_parse_local_time(scheduled_at, "scheduled_at", settings),
                             held_at=_parse_local_time(held_at, "held_at", settings), notes=notes, outcome=outcome)
        service.add_session(session=session, principal=principal, assignment_id=assignment_id, data=data)
    except (Conflict, InvalidInput, ValidationError) as exc:
        return _redirect(path, error=error_message(exc))
    return _redirect(path, message="Session saved.")


@router.post("/coaching/sessions/{session_id}", response_class=HTMLResponse)
def session_update(
    session_id: int, principal: WebCoach, session: SessionDep, settings: SettingsDep,
    held_at: Annotated[str, Form()] = "", notes: Annotated[str, Form()] = "", outcome: Annotated[str, Form()] = "",
) -> Response:
    changes: dict[str, Any] = {"notes": notes, "outcome": outcome}
    try:
        held = _parse_local_time(held_at, "held_at", settings)
        if held is not None:
            changes["held_at"] = held
        row = service.update_session(session=session, principal=principal, session_id=session_id,
                                     data=SessionUpdate.model_validate(changes))
    except (InvalidInput, ValidationError) as exc:
        return _redirect("/coaching", error=error_message(exc))
    except Conflict as exc:
        return _redirect("/coaching", error=exc.message)
    return _redirect(f"/coaching/{row.assignment_id}", message="Session saved.")
