"""Pages: review cases (list, case page with the customer's story), actions, meetings (walk mode, minutes,
the PDF pack). Agents have no access; see app/reviews/service.py for the roles."""

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlmodel import Session

from app.auth import service as auth_service
from app.auth.deps import QueueDep, SessionDep, SettingsDep, web_require_roles
from app.core.errors import EarshotError, InvalidInput
from app.core.export import Column, page_window, table_csv, wants_csv
from app.core.listing import paginate, parse_sort, sort_rows
from app.core.security import Principal, Role
from app.core.web import NavItem, render, stored_file
from app.reviews import actions as review_actions
from app.reviews import meetings as review_meetings
from app.reviews import pack, service
from app.reviews.models import (
    TRANSITIONS,
    ActionCreate,
    ActionKind,
    ActionStatus,
    ActionUpdate,
    CaseStatus,
    MeetingCreate,
    ReviewAction,
    ReviewCase,
    ReviewMeeting,
)

router = APIRouter()
NAV = [
    NavItem("Review cases", "/reviews", service.INVESTIGATORS, order=45),
    NavItem("Meetings", "/reviews/meetings", service.DECIDERS, order=46),
]
WebInvestigator = Annotated[Principal, Depends(web_require_roles(*service.INVESTIGATORS))]
WebDecider = Annotated[Principal, Depends(web_require_roles(*service.DECIDERS))]


def _back(next_url: str, fallback: str, *, message: str | None = None, error: str | None = None) -> Response:
    target = next_url if next_url.startswith("/reviews") and not next_url.startswith("//") else fallback
    note = f"error={quote(error)}" if error else f"message={quote(message)}" if message else ""
    if note:
        target += ("&" if "?" in target else "?") + note
    return RedirectResponse(target, status_code=303)


def _optional_int(value: str) -> int | None:
    return int(value) if value.strip().isdigit() else None


def _optional_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()) if value.strip() else None
    except ValueError as exc:
        raise InvalidInput(f"{value!r} is not a date (YYYY-MM-DD)") from exc


def _form_lists(session: Session) -> dict[str, Any]:
    users = auth_service.list_users(session=session)
    return {"agents": [u for u in users if Role.AGENT in u.role_set], "staff": users,
            "sites": auth_service.list_sites(session=session),
            "root_causes": service.get_config(session=session).root_causes,
            "action_kinds": list(ActionKind), "action_statuses": list(ActionStatus)}


# ---------------------------------------------------------------- cases

CASE_SORTS: dict[str, Callable[[ReviewCase], Any]] = {
    "opened": lambda c: c.opened_at, "case": lambda c: c.id, "month": lambda c: c.period, "status": lambda c: c.status,
    "root_cause": lambda c: c.root_cause or None}
ACTION_SORTS: dict[str, Callable[[ReviewAction], Any]] = {
    "case": lambda a: a.case_id, "kind": lambda a: a.kind, "due": lambda a: a.due_date, "status": lambda a: a.status}


def _status_badge(status: str, overdue: bool) -> Markup:
    badge = Markup('<span class="badge {}">{}</span>').format(status, status.replace("_", " "))
    return badge + Markup(' <span class="badge overdue">overdue</span>') if overdue else badge


CASE_COLUMNS: list[Column[service.CaseStory]] = [
    Column("Case", lambda s: s.case.id, sort="case", link=lambda s: f"/reviews/cases/{s.case.id}"),
    Column("Month", lambda s: s.case.period, sort="month"),
    Column("Customer", lambda s: s.customer_name),
    Column("Verbatim", lambda s: s.response.comment,
           format=lambda text: text if len(text or "") <= 80 else (text or "")[:77].rstrip() + "..."),
    Column("Agents", lambda s: ", ".join(s.agents)),
    Column("Channels", lambda s: s.channel_path),
    Column("Status", lambda s: s.case.status, sort="status",
           html=lambda s: _status_badge(s.case.status, service.is_overdue(s.case))),
    Column("Overdue", lambda s: "yes" if service.is_overdue(s.case) else "no", screen=False),
    Column("Root cause", lambda s: s.case.root_cause, sort="root_cause"),
    Column("Owner", lambda s: s.owner_name, screen=False)]


def action_columns(names: dict[int | None, str], site_names: dict[int | None, str]) -> list[Column[ReviewAction]]:
    """The actions list and its export; on screen the kind, agent, topic, site and description read as one
    "Action" cell, and the status is a form for those who may change it (the page's call block)."""
    def summary(a: ReviewAction) -> str:
        text = a.kind.replace("_", " ")
        if a.agent_id:
            text += f": {names.get(a.agent_id, '')}"
        if a.topic:
            text += f" ({a.topic})"
        if a.site_id:
            text += f": {site_names.get(a.site_id, '')}"
        return text + (f" — {a.description}" if a.description else "")

    def due(a: ReviewAction) -> Markup:
        cell = Markup("{}").format(a.due_date or "")
        return cell + Markup(' <span class="badge overdue">overdue</span>') if review_actions.action_overdue(a) else cell

    return [
        Column("Case", lambda a: a.case_id, sort="case", link=lambda a: f"/reviews/cases/{a.case_id}"),
        Column("Id", lambda a: a.id, screen=False),
        Column("Action", summary, csv=False, sort="kind"),
        Column("Kind", lambda a: a.kind, screen=False),
        Column("Agent", lambda a: names.get(a.agent_id, ""), screen=False),
        Column("Topic", lambda a: a.topic, screen=False),
        Column("Site", lambda a: site_names.get(a.site_id, ""), screen=False),
        Column("Description", lambda a: a.description, screen=False),
        Column("Owner", lambda a: names.get(a.owner_id, "")),
        Column("Due", lambda a: a.due_date, name="due_date", sort="due", html=due),
        Column("Overdue", lambda a: "yes" if review_actions.action_overdue(a) else "no", screen=False),
        Column("Status", lambda a: a.status, screen=False),
        Column("Outcome", lambda a: a.outcome)]


@router.get("/reviews", response_class=HTMLResponse)
def cases_page(request: Request, principal: WebInvestigator, session: SessionDep, status: str = "",
               month: str = "", sort: str = "", page: Annotated[int, Query(ge=1)] = 1) -> Response:
    order = parse_sort(sort, CASE_SORTS, "-opened")
    cases = sort_rows(service.list_cases(session=session, principal=principal, status=status or None,
                                         period=month or None), order)
    page, per_page = page_window(request, page, 50)
    result = paginate(cases, page=page, per_page=per_page)
    stories = service.case_stories(session=session, cases=result.items)  # the page's cases only
    if wants_csv(request):
        return table_csv("review-cases.csv", stories, CASE_COLUMNS)
    return render(request, "reviews/cases.html", {
        "columns": CASE_COLUMNS, "stories": stories, "result": result, "sort": order, "status": status,
        "month": month, "statuses": list(CaseStatus), "case_data": lambda s: {"case-id": s.case.id}},
        principal=principal)


@router.get("/reviews/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: int, principal: WebInvestigator, session: SessionDep,
              message: str | None = None, error: str | None = None) -> Response:
    return _case_page(request, session, principal, case_id, message=message, error=error)


def _case_page(request: Request, session: Session, principal: Principal, case_id: int, *,
               message: str | None = None, error: str | None = None, form: dict[str, Any] | None = None,
               status_code: int = 200) -> Response:
    case = service.get_case(session=session, principal=principal, case_id=case_id)
    story = service.case_story(session=session, case=case)
    return render(request, "reviews/case.html", {
        "s": story, "next": request.url.path, "message": message, "error": error, "form": form or {},
        "excerpt": pack.excerpt(session=session, interaction_id=story.response.interaction_id),
        "can_decide": principal.has(*service.DECIDERS), "moves": sorted(TRANSITIONS[case.status]),
        "overdue": service.is_overdue(case), "action_overdue": review_actions.action_overdue, **_form_lists(session),
        "names": {u.id: u.name for u in auth_service.list_users(session=session)},
        "site_names": {s.id: s.name for s in auth_service.list_sites(session=session)}},
        principal=principal, status_code=status_code)


# ---------------------------------------------------------------- the case sheet: one form, nothing lost
#
# The case page and the meeting page are each one form: every button ("Save", "Move to ...", "Record
# decision", "Add action", "Next case", ...) posts every field. The typed text (findings, decision draft,
# minutes) is saved first, then the button's own operation runs; when that fails the page comes back with the
# error and every field as typed, so no button throws away text typed in another block.

TEXT_FIELDS = ("staff_notes", "customer_notes", "owner_id", "root_cause", "decision", "minutes",
               "action_kind", "action_agent_id", "action_topic", "action_site_id", "action_description",
               "action_owner_id", "action_due_date")


async def _sheet_form(request: Request) -> dict[str, Any]:
    raw = await request.form()
    form: dict[str, Any] = {name: str(raw.get(name, "")) for name in TEXT_FIELDS if name in raw}
    form["secondary_causes"] = [str(v) for v in raw.getlist("secondary_causes")]
    form["ready_case_ids"] = [int(str(v)) for v in raw.getlist("ready_case_ids") if str(v).isdigit()]
    form["op"] = str(raw.get("op", "save"))
    return form


def _action_typed(form: dict[str, Any]) -> bool:
    return any(form.get(f"action_{name}", "").strip() for name in ("topic", "description", "agent_id", "site_id"))


def _save_case_texts(session: Session, principal: Principal, case: ReviewCase, form: dict[str, Any]) -> bool:
    """Save the findings and the decision draft the form carries; returns whether anything changed."""
    changed = False
    if "staff_notes" in form or "customer_notes" in form:
        new = (form.get("staff_notes", case.staff_notes).strip(), form.get("customer_notes", case.customer_notes).strip(),
               _optional_int(form.get("owner_id", "")))
        if new[:2] != (case.staff_notes, case.customer_notes) or (new[2] is not None and new[2] != case.owner_id):
            service.update_findings(session=session, case=case, actor=principal, staff_notes=new[0],
                                    customer_notes=new[1], owner_id=new[2])
            changed = True
    if "decision" in form and principal.has(*service.DECIDERS) and case.status != CaseStatus.CLOSED:
        changed = service.save_decision_draft(
            session=session, case=case, actor=principal, decision=form["decision"],
            root_cause=form.get("root_cause", ""), secondary_causes=form["secondary_causes"]) or changed
    return changed


def _case_op(session: Session, principal: Principal, case: ReviewCase, form: dict[str, Any]) -> str:
    """Run the button's operation on the case; returns the message to show. Raises EarshotError."""
    op = form["op"]
    if op.startswith("status:"):
        target = op.removeprefix("status:")
        if target not in set(CaseStatus):
            raise InvalidInput(f"unknown status {target!r}")
        service.change_status(session=session, case=case, to=target, actor=principal)
        return f"Saved; the case is now {target.replace('_', ' ')}"
    if op == "decide":
        if not principal.has(*service.DECIDERS):
            raise InvalidInput("only executives and admins decide")
        if not form.get("root_cause", "").strip():
            raise InvalidInput("root cause: choose the root cause before recording the decision")
        service.record_decision(session=session, case=case, actor=principal, root_cause=form["root_cause"],
                                secondary_causes=form["secondary_causes"], decision=form.get("decision", ""))
        return "Decision recorded"
    if op == "action":
        kind = form.get("action_kind", "")
        if kind not in set(ActionKind):
            raise InvalidInput("choose the kind of action")
        review_actions.add_action(session=session, case=case, actor=principal, data=ActionCreate(
            kind=ActionKind(kind), agent_id=_optional_int(form.get("action_agent_id", "")),
            topic=form.get("action_topic", ""), site_id=_optional_int(form.get("action_site_id", "")),
            description=form.get("action_description", ""), owner_id=_optional_int(form.get("action_owner_id", "")),
            due_date=_optional_date(form.get("action_due_date", ""))))
        for name in list(form):
            if name.startswith("action_"):
                form.pop(name)
        return "Action added"
    return ""


def _run_sheet(session: Session, principal: Principal, case: ReviewCase | None, form: dict[str, Any],
               extra: Callable[[], str] | None = None, save_extra: Callable[[], bool] | None = None) -> str:
    """Save the texts (committed), then run the operation (committed, or rolled back on error: the texts stay
    saved). Returns the message; raises EarshotError for the page to show with the form as typed."""
    changed = False
    if case is not None:
        changed = _save_case_texts(session, principal, case, form)
    if save_extra is not None:
        changed = save_extra() or changed
    session.commit()
    if form["op"] != "action" and case is not None and _action_typed(form):
        raise InvalidInput("an action is filled in but not added: press 'Add action', or clear its fields")
    message = ""
    try:
        if case is not None:
            message = _case_op(session, principal, case, form)
        if not message and extra is not None:
            message = extra()
        session.commit()
    except EarshotError:
        session.rollback()
        raise
    return message or ("Saved" if changed else "Nothing changed")


@router.post("/reviews/cases/{case_id}/sheet")
async def case_sheet_submit(request: Request, case_id: int, principal: WebInvestigator,
                            session: SessionDep) -> Response:
    """The case page's one form (see above)."""
    form = await _sheet_form(request)
    case = service.get_case(session=session, principal=principal, case_id=case_id)
    try:
        message = _run_sheet(session, principal, case, form)
    except EarshotError as exc:
        session.rollback()
        return _case_page(request, session, principal, case_id, error=exc.message, form=form)
    return _back("", f"/reviews/cases/{case_id}", message=message)


def _saved(session: Session, next_url: str, fallback: str, change: Callable[[], object], done: str) -> Response:
    """Commit one change posted by a form: back to `next_url` (or `fallback`) saying `done`, or saying why the
    change was refused (nothing of it kept)."""
    try:
        change()
        session.commit()
    except EarshotError as exc:
        session.rollback()
        return _back(next_url, fallback, error=exc.message)
    return _back(next_url, fallback, message=done)


@router.post("/reviews/cases/{case_id}/findings")
def findings_submit(case_id: int, principal: WebInvestigator, session: SessionDep,
                    staff_notes: Annotated[str, Form()] = "", customer_notes: Annotated[str, Form()] = "",
                    owner_id: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "") -> Response:
    case = service.get_case(session=session, principal=principal, case_id=case_id)
    return _saved(session, next, f"/reviews/cases/{case_id}", lambda: service.update_findings(
        session=session, case=case, actor=principal, staff_notes=staff_notes, customer_notes=customer_notes,
        owner_id=_optional_int(owner_id)), "Findings saved")


@router.post("/reviews/cases/{case_id}/status")
def status_submit(case_id: int, principal: WebInvestigator, session: SessionDep,
                  status: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "",
                  next: Annotated[str, Form()] = "") -> Response:
    case = service.get_case(session=session, principal=principal, case_id=case_id)

    def change() -> None:
        if status not in set(CaseStatus):
            raise InvalidInput(f"unknown status {status!r}")
        service.change_status(session=session, case=case, to=status, actor=principal, reason=reason)

    return _saved(session, next, f"/reviews/cases/{case_id}", change, f"Case is now {status.replace('_', ' ')}")


@router.post("/reviews/cases/{case_id}/decision")
def decision_submit(case_id: int, principal: WebDecider, session: SessionDep,
                    root_cause: Annotated[str, Form()] = "",
                    secondary_causes: Annotated[list[str] | None, Form()] = None,
                    decision: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "") -> Response:
    case = service.get_case(session=session, principal=principal, case_id=case_id)
    return _saved(session, next, f"/reviews/cases/{case_id}", lambda: service.record_decision(
        session=session, case=case, actor=principal, root_cause=root_cause, secondary_causes=secondary_causes or [],
        decision=decision), "Decision recorded")


@router.post("/reviews/cases/{case_id}/actions")
def action_submit(case_id: int, principal: WebDecider, session: SessionDep,
                  kind: Annotated[str, Form()] = "", agent_id: Annotated[str, Form()] = "",
                  topic: Annotated[str, Form()] = "", site_id: Annotated[str, Form()] = "",
                  description: Annotated[str, Form()] = "", owner_id: Annotated[str, Form()] = "",
                  due_date: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "") -> Response:
    case = service.get_case(session=session, principal=principal, case_id=case_id)

    def change() -> None:
        if kind not in set(ActionKind):
            raise InvalidInput("choose the kind of action")
        review_actions.add_action(session=session, case=case, actor=principal, data=ActionCreate(
            kind=ActionKind(kind), agent_id=_optional_int(agent_id), topic=topic, site_id=_optional_int(site_id),
            description=description, owner_id=_optional_int(owner_id), due_date=_optional_date(due_date)))

    return _saved(session, next, f"/reviews/cases/{case_id}", change, "Action added")


# ---------------------------------------------------------------- actions


@router.get("/reviews/actions", response_class=HTMLResponse)
def actions_page(request: Request, principal: WebInvestigator, session: SessionDep, status: str = "",
                 message: str | None = None, error: str | None = None, sort: str = "",
                 page: Annotated[int, Query(ge=1)] = 1) -> Response:
    order = parse_sort(sort, ACTION_SORTS, "due")
    every = sort_rows(review_actions.list_actions(session=session, principal=principal, status=status or None,
                                           open_only=not status), order)
    page, per_page = page_window(request, page, 50)
    result = paginate(every, page=page, per_page=per_page)
    actions = result.items
    names: dict[int | None, str] = {u.id: u.name for u in auth_service.list_users(session=session)}
    site_names: dict[int | None, str] = {s.id: s.name for s in auth_service.list_sites(session=session)}
    columns = action_columns(names, site_names)
    if wants_csv(request):
        return table_csv("review-actions.csv", actions, columns)
    return render(request, "reviews/actions.html", {
        "columns": columns, "result": result, "sort": order, "status": status, "message": message, "error": error,
        "can_decide": principal.has(*service.DECIDERS), "user_id": principal.user_id,
        "action_data": lambda a: {"action-id": a.id},
        "action_statuses": list(ActionStatus)}, principal=principal)


@router.post("/reviews/actions/{action_id}")
def action_update_submit(action_id: int, principal: WebInvestigator, session: SessionDep,
                         status: Annotated[str, Form()] = "", outcome: Annotated[str, Form()] = "",
                         next: Annotated[str, Form()] = "") -> Response:
    action = review_actions.get_action(session=session, principal=principal, action_id=action_id)
    return _saved(session, next, "/reviews/actions", lambda: review_actions.update_action(
        session=session, action=action, actor=principal, data=ActionUpdate(
            status=ActionStatus(status) if status in set(ActionStatus) else None,
            outcome=outcome if outcome.strip() else None)), "Action saved")


# ---------------------------------------------------------------- meetings


@router.get("/reviews/meetings", response_class=HTMLResponse)
def meetings_page(request: Request, principal: WebDecider, session: SessionDep, error: str | None = None,
                  message: str | None = None) -> Response:
    meetings = review_meetings.list_meetings(session=session)
    counts = {m.id: len(review_meetings.meeting_cases(session=session, meeting_id=m.id)) for m in meetings if m.id}
    columns: list[Column[ReviewMeeting]] = [
        Column("Id", lambda m: m.id, screen=False),
        Column("Meeting", lambda m: m.title, name="title", link=lambda m: f"/reviews/meetings/{m.id}"),
        Column("Month", lambda m: m.period),
        Column("Date", lambda m: m.held_on, name="held_on"),
        Column("Cases", lambda m: counts.get(m.id or 0, 0)),
        Column("Attendees", lambda m: ", ".join(m.attendees), screen=False),
        Column("Pack", lambda m: "yes" if m.pack_sha256 else "no", html=lambda m: Markup(
            '<a href="/reviews/meetings/{}/pack.pdf">PDF</a>').format(m.id) if m.pack_sha256 else Markup(""))]
    if wants_csv(request):
        return table_csv("review-meetings.csv", meetings, columns)
    return render(request, "reviews/meetings.html", {
        "meetings": meetings, "columns": columns, "error": error, "message": message,
        "today": date.today().isoformat(),
        "this_month": service.latest_period(session=session) or date.today().strftime("%Y-%m")}, principal=principal)


@router.post("/reviews/meetings")
def meeting_create_submit(principal: WebDecider, session: SessionDep, period: Annotated[str, Form()] = "",
                          held_on: Annotated[str, Form()] = "", title: Annotated[str, Form()] = "",
                          attendees: Annotated[str, Form()] = "", additional: Annotated[str, Form()] = "") -> Response:
    try:
        held = _optional_date(held_on) or date.today()
        meeting = review_meetings.create_meeting(session=session, actor=principal, data=MeetingCreate(
            period=period, held_on=held, title=title, attendees=attendees.replace(";", ",").split(","),
            additional=bool(additional)))
        session.commit()
    except EarshotError as exc:
        session.rollback()
        return _back("", "/reviews/meetings", error=exc.message)
    return RedirectResponse(f"/reviews/meetings/{meeting.id}", status_code=303)


@router.get("/reviews/meetings/{meeting_id}", response_class=HTMLResponse)
def walk_page(request: Request, meeting_id: int, principal: WebDecider, session: SessionDep,
              pos: Annotated[int | None, Query(ge=0)] = None, message: str | None = None,
              error: str | None = None) -> Response:
    """Walk mode: one case at a time with next/previous; the position is remembered to resume."""
    return _walk_page(request, session, principal, meeting_id, pos=pos, message=message, error=error)


def _walk_page(request: Request, session: Session, principal: Principal, meeting_id: int, *,
               pos: int | None = None, message: str | None = None, error: str | None = None,
               form: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    meeting = review_meetings.get_meeting(session=session, meeting_id=meeting_id)
    cases = review_meetings.meeting_cases(session=session, meeting_id=meeting_id)
    position = review_meetings.set_position(session=session, meeting=meeting,
                                    position=meeting.position if pos is None else pos, count=len(cases))
    session.commit()
    story = service.case_story(session=session, case=cases[position]) if cases else None
    job = pack.latest_job(session=session, meeting_id=meeting_id)
    agenda = review_meetings.month_agenda(session=session, meeting=meeting)
    return render(request, "reviews/walk.html", {
        "meeting": meeting, "cases": cases, "position": position, "s": story, "message": message,
        "excerpt": pack.excerpt(session=session, interaction_id=story.response.interaction_id) if story else [],
        "error": error, "next": f"/reviews/meetings/{meeting_id}?pos={position}", "can_decide": True,
        "moves": sorted(TRANSITIONS[story.case.status]) if story else [], "job": job, "form": form or {},
        "agenda": agenda, "missing": [row for row in agenda if row.needs_attention],
        "action_overdue": review_actions.action_overdue, **_form_lists(session),
        "names": {u.id: u.name for u in auth_service.list_users(session=session)},
        "site_names": {s.id: s.name for s in auth_service.list_sites(session=session)}},
        principal=principal, status_code=status_code)


@router.post("/reviews/meetings/{meeting_id}/sheet")
async def meeting_sheet_submit(request: Request, meeting_id: int, principal: WebDecider, session: SessionDep,
                               queue: QueueDep) -> Response:
    """The meeting page's one form: minutes and the case on screen are saved on every button, then the button's
    operation runs (decide, add an action, move, go to another case, mark cases ready, render the pack)."""
    form = await _sheet_form(request)
    meeting = review_meetings.get_meeting(session=session, meeting_id=meeting_id)
    cases = review_meetings.meeting_cases(session=session, meeting_id=meeting_id)
    position = min(meeting.position, max(len(cases) - 1, 0))
    case = cases[position] if cases else None
    target = position
    op = form["op"]

    def save_minutes() -> bool:
        if "minutes" in form and form["minutes"].strip() != meeting.minutes:
            review_meetings.update_minutes(session=session, meeting=meeting, minutes=form["minutes"], actor=principal)
            return True
        return False

    def meeting_op() -> str:
        nonlocal target
        if op.startswith("goto:") and op.removeprefix("goto:").isdigit():
            target = review_meetings.set_position(session=session, meeting=meeting, position=int(op.removeprefix("goto:")),
                                          count=len(cases))
            return "Saved"
        if op == "mark_ready":
            chosen = [service.get_case(session=session, principal=principal, case_id=i) for i in form["ready_case_ids"]]
            if not chosen:
                raise InvalidInput("tick the cases to mark ready for the meeting")
            moved = service.mark_ready(session=session, cases=chosen, actor=principal)
            added = review_meetings.add_ready_cases(session=session, meeting=meeting, actor=principal)
            return f"{len(moved)} case(s) marked ready; {added} added to the agenda"
        if op == "agenda":
            added = review_meetings.add_ready_cases(session=session, meeting=meeting, actor=principal)
            return f"{added} case(s) added to the agenda"
        if op == "pack":
            session.commit()
            job = pack.enqueue_pack(session=session, queue=queue, meeting_id=meeting_id, actor=principal)
            return f"Meeting pack job {job.id} started"
        return ""

    try:
        message = _run_sheet(session, principal, case, form, extra=meeting_op, save_extra=save_minutes)
    except EarshotError as exc:
        session.rollback()
        # the page itself is the answer (200): the error on it, every field as typed
        return _walk_page(request, session, principal, meeting_id, pos=position, error=exc.message, form=form)
    return _back("", f"/reviews/meetings/{meeting_id}?pos={target}", message=message)


@router.post("/reviews/meetings/{meeting_id}/agenda")
def agenda_submit(meeting_id: int, principal: WebDecider, session: SessionDep) -> Response:
    meeting = review_meetings.get_meeting(session=session, meeting_id=meeting_id)
    added = review_meetings.add_ready_cases(session=session, meeting=meeting, actor=principal)
    session.commit()
    return _back("", f"/reviews/meetings/{meeting_id}", message=f"{added} case(s) added to the agenda")


@router.post("/reviews/meetings/{meeting_id}/minutes")
def minutes_submit(meeting_id: int, principal: WebDecider, session: SessionDep,
                   minutes: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "") -> Response:
    meeting = review_meetings.get_meeting(session=session, meeting_id=meeting_id)
    review_meetings.update_minutes(session=session, meeting=meeting, minutes=minutes, actor=principal)
    session.commit()
    return _back(next, f"/reviews/meetings/{meeting_id}", message="Minutes saved")


@router.post("/reviews/meetings/{meeting_id}/pack")
def pack_submit(meeting_id: int, principal: WebDecider, session: SessionDep, queue: QueueDep) -> Response:
    review_meetings.get_meeting(session=session, meeting_id=meeting_id)
    job = pack.enqueue_pack(session=session, queue=queue, meeting_id=meeting_id, actor=principal)
    return _back("", f"/reviews/meetings/{meeting_id}", message=f"Meeting pack job {job.id} started")


@router.get("/reviews/meetings/{meeting_id}/pack.pdf")
def pack_download(meeting_id: int, principal: WebDecider, session: SessionDep, settings: SettingsDep) -> Response:
    meeting = review_meetings.get_meeting(session=session, meeting_id=meeting_id)
    return stored_file(pack.pack_path(settings=settings, meeting=meeting), media_type="application/pdf",
                       filename=f"review-meeting-{meeting.period}-{meeting.id}.pdf")
