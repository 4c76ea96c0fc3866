"""Social care pages: the care queue, a thread, the dashboard, the settings, and the public /care page."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import quote_plus

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlmodel import col, select

from app.auth.deps import SessionDep, WebAdmin, web_require_roles
from app.auth.service import user_names
from app.core.charts import Chart, Series, bar_chart
from app.core.errors import EarshotError, error_message
from app.core.export import EXPORT_ROWS, Column, page_window, table_csv, wants_csv
from app.core.models import AuditEvent
from app.core.security import Principal, Role
from app.core.timeutil import utcnow
from app.core.web import NavItem, render
from app.interactions import content
from app.social import alerts, care, channels, listening, repeat, reports, service
from app.social.crosschannel import TopicCluster, hide_unviewable, similar_complaints, topic_clusters
from app.social.deps import WebSocialViewer, WebSocialWorker, can_work
from app.social.models import SocialAlert
from app.social.processes import PROCESSES
from app.social.stats import SHARE_TEST, SPIKE_TEST, follower_band

router = APIRouter()

NAV = [
    # Agents of the "Social care" team reach the queue from their home panel: a nav item cannot yet be limited
    # to one team, and a link that answers 403 to every other agent would be worse.
    NavItem("Social care", "/social", (Role.ADMIN, Role.EVALUATOR, Role.COACH, Role.EXECUTIVE), order=40),
]


@router.get("/social", response_class=HTMLResponse)
def queue_page(request: Request, principal: WebSocialViewer, session: SessionDep,
               platform: str | None = None, page: Annotated[int, Query(ge=1)] = 1) -> Response:
    page, per_page = page_window(request, page, 50)
    result = service.care_queue(session=session, platform=platform or None, page=page, per_page=per_page)
    rows = result.items
    if wants_csv(request):
        return table_csv("social-queue.csv", rows, QUEUE_COLUMNS)
    return render(request, "social/queue.html", {
        "rows": rows, "columns": QUEUE_COLUMNS, "row_data": lambda r: {"interaction-id": r.state.interaction_id},
        "result": result, "platform": platform or "", "now": utcnow(), "clock_label": channels.clock_label,
        "platforms": [c.platform for c in channels.list_configs(session=session)]}, principal=principal)


def _status_badge(status: str, *, words: bool = False) -> Markup:
    return Markup('<span class="badge {}">{}</span>').format(status, status.replace("_", " ") if words else status)


# The care queue, on screen and in its export. The page draws the due clock, the first post and the wait with
# macros of its own (cells "due_at", "first_post", "waiting"): they are the same on the thread page and dashboard.
QUEUE_COLUMNS: list[Column[service.QueueRow]] = [
    Column("Interaction", lambda r: r.state.interaction_id, name="interaction_id", screen=False),
    Column("Due", lambda r: r.due_at, name="due_at", cell_class="next-due"),
    Column("Seconds to due", lambda r: None if r.seconds_to_due is None else round(r.seconds_to_due), screen=False),
    Column("Platform", lambda r: r.state.platform),
    Column("Author", lambda r: r.state.author_handle, blank="unknown",
           link=lambda r: f"/social/threads/{r.state.interaction_id}"),
    Column("Followers", lambda r: r.state.follower_count, format=lambda n: "–" if n is None else f"{n:,}",
           cell_class="num"),
    Column("First post", lambda r: r.first_post, cell_class="post-text"),
    Column("First response", lambda r: r.state.first_response_status, html=lambda r: _status_badge(
        r.state.first_response_status)),
    Column("Follow-up", lambda r: r.state.follow_up_status, name="follow_up",
           html=lambda r: _status_badge(r.state.follow_up_status, words=True)),
    Column("Waiting", lambda r: None, csv=False),
    Column("Clock", lambda r: r.clock.name if r.clock else None, screen=False)]


def _thread_context(session: SessionDep, principal: Principal, interaction_id: int, days: int) -> dict[str, object]:
    state = service.get_state(session=session, interaction_id=interaction_id)
    session.commit()
    messages = content.REDACTED.messages(service.thread_messages(session=session, interaction_id=interaction_id))
    config = channels.get_config(session=session, platform=state.platform)
    history = session.exec(select(AuditEvent).where(AuditEvent.record_type == "social_thread",
                                                    AuditEvent.record_id == str(interaction_id))
                           .order_by(col(AuditEvent.at))).all()
    engagement = service.engagement_of(messages)
    evidence = [datetime.fromisoformat(t) for t in state.non_genuine_evidence]
    return {"state": state, "messages": messages, "engagement": engagement, "evidence": evidence,
            "influence": service.influence_score(followers=state.follower_count, engagement=engagement), "story": service.thread_story(state=state, messages=messages),
            "clocks": service.live_clocks(state), "config": config, "clock_label": channels.clock_label,
            "clocks_list": service.thread_clocks(state), "current": service.current_clock(state),
            "targets": {"first_response": config.first_response_seconds, "reply": config.first_response_seconds,
                        "follow_up": config.follow_up_seconds, "resolution": config.site_visit_resolution_seconds},
            "now": utcnow(), "band": follower_band, "process_names": PROCESSES, "plain": channels.plain_duration, "history": history, "days": days,
            "similar": hide_unviewable(session=session, principal=principal, result=similar_complaints(
                session=session, interaction_id=interaction_id, window_days=days))}


@router.get("/social/threads/{interaction_id}", response_class=HTMLResponse)
def thread_page(request: Request, interaction_id: int, principal: WebSocialViewer, session: SessionDep,
                days: int = 7, message: str | None = None) -> Response:
    context = _thread_context(session, principal, interaction_id, max(1, min(days, 90)))
    return render(request, "social/thread.html", {
        **context, "message": message, "error": None, "can_work": can_work(session=session, principal=principal),
        "typed": {},
    }, principal=principal)


def _thread_change(request: Request, session: SessionDep, principal: WebSocialWorker, interaction_id: int,
                   change: Callable[[], object], done: str, *, form: str = "", typed: dict[str, str] | None = None,
                   ) -> Response:
    """Make one change to a thread from its page: back to the thread saying `done`, or the thread page again
    with the reason when the change is refused (nothing of it kept) and, in the `form` that was sent, what
    was `typed`."""
    try:
        change()
    except EarshotError as exc:
        session.rollback()
        return render(request, "social/thread.html", {
            **_thread_context(session, principal, interaction_id, 7), "message": None, "error": exc.message,
            "can_work": True, "typed": {"form": form, **(typed or {})}}, principal=principal,
            status_code=exc.status_code)
    return RedirectResponse(f"/social/threads/{interaction_id}?message={quote_plus(done)}", status_code=303)


@router.post("/social/threads/{interaction_id}/resolution", response_class=HTMLResponse)
def resolution_submit(request: Request, interaction_id: int, principal: WebSocialWorker, session: SessionDep,
                      where: Annotated[str, Form()] = "public", url: Annotated[str, Form()] = "",
                      text: Annotated[str, Form()] = "", message_id: Annotated[str, Form()] = "") -> Response:
    return _thread_change(request, session, principal, interaction_id, lambda: service.record_resolution(
        session=session, interaction_id=interaction_id, actor=principal, public=where != "private", url=url, text=text,
        message_id=int(message_id) if message_id.strip().isdigit() else None), "Resolution recorded",
        form="resolution", typed={"where": where, "url": url, "text": text, "message_id": message_id})


@router.post("/social/threads/{interaction_id}/reply", response_class=HTMLResponse)
def reply_submit(request: Request, interaction_id: int, principal: WebSocialWorker, session: SessionDep,
                 text: Annotated[str, Form()] = "", url: Annotated[str, Form()] = "",
                 where: Annotated[str, Form()] = "public") -> Response:
    """Log the reply the agent posted on the platform; the clocks follow (see service.record_reply)."""
    return _thread_change(request, session, principal, interaction_id, lambda: service.record_reply(
        session=session, interaction_id=interaction_id, actor=principal, text=text, url=url,
        public=where != "private"), "Reply logged", form="reply", typed={"where": where, "url": url, "text": text})


@router.post("/social/threads/{interaction_id}/genuine", response_class=HTMLResponse)
def genuine_submit(request: Request, interaction_id: int, principal: WebSocialWorker, session: SessionDep,
                   reason: Annotated[str, Form()] = "") -> Response:
    return _thread_change(request, session, principal, interaction_id, lambda: service.mark_genuine(
        session=session, interaction_id=interaction_id, actor=principal, reason=reason), "Marked genuine",
        form="genuine", typed={"reason": reason})


@router.post("/social/threads/{interaction_id}/confirm-non-genuine", response_class=HTMLResponse)
def confirm_non_genuine_submit(request: Request, interaction_id: int, principal: WebSocialWorker,
                               session: SessionDep) -> Response:
    return _thread_change(request, session, principal, interaction_id, lambda: service.confirm_non_genuine(
        session=session, interaction_id=interaction_id, actor=principal), "Non-genuine confirmed")


@router.post("/social/threads/{interaction_id}/process", response_class=HTMLResponse)
def process_submit(request: Request, interaction_id: int, principal: WebSocialWorker, session: SessionDep,
                   process: Annotated[str, Form()] = "") -> Response:
    return _thread_change(request, session, principal, interaction_id, lambda: service.set_process(
        session=session, interaction_id=interaction_id, process=process, actor=principal), "Process set")


def sla_chart(attainment: list[reports.Attainment]) -> Chart | None:
    """Share of clocks met per platform (met ÷ met + breached; pending clocks are not counted yet)."""
    if not attainment:
        return None

    def percent(rate: float | None) -> float | None:
        return None if rate is None else round(100 * rate, 1)

    return bar_chart("Social SLA compliance per platform (% of clocks met)", [a.platform for a in attainment],
                     [Series("First response within 1 hour", [percent(a.first_rate) for a in attainment]),
                      Series("Follow-up within 1 day", [percent(a.follow_rate) for a in attainment])],
                     y_min=0, y_max=100, digits=1, label_header="Platform")


@router.get("/social/dashboard", response_class=HTMLResponse)
def dashboard_page(request: Request, principal: WebSocialViewer, session: SessionDep) -> Response:
    if wants_csv(request):
        return table_csv("social-sla-attainment.csv", reports.sla_attainment(session=session), ATTAINMENT_COLUMNS)
    if wants_csv(request, "alerts"):
        return table_csv("social-alerts.csv", alerts.list_alerts(session=session, per_page=EXPORT_ROWS).items,
                         ALERT_COLUMNS)
    attainment = reports.sla_attainment(session=session)
    return render(request, "social/dashboard.html", {
        "alerts": alerts.list_alerts(session=session).items, "fairness": reports.fairness(session=session),
        "attainment": attainment, "attainment_columns": ATTAINMENT_COLUMNS, "alert_columns": ALERT_COLUMNS,
        "alert_class": lambda a: f"alert-{a.kind}", "sla_chart": sla_chart(attainment),
        "private": reports.resolved_privately(session=session),
        "non_genuine": reports.non_genuine_threads(session=session), "spike_test": SPIKE_TEST, "share_test": SHARE_TEST,
        "human": channels.human_duration, "processes": reports.process_report(session=session),
        "process_names": PROCESSES, "urgent": service.care_queue(session=session, per_page=10).items, "now": utcnow(),
        "clock_label": channels.clock_label, "watch": reports.watch_list(session=session),
        "can_work": can_work(session=session, principal=principal)}, principal=principal)


def _met(count: int, rate: float | None) -> Markup:
    return Markup("{}").format(count if rate is None else f"{count} ({100 * rate:.0f}%)")


def _alert_kind(alert: SocialAlert) -> Markup:
    tone = "breached" if "breach" in alert.kind or "spike" in alert.kind else "due"
    return Markup('<span class="badge {}">{}</span>').format(tone, alert.kind.replace("_", " "))


# The dashboard's SLA attainment and alerts tables, on screen and in their exports (the page draws an alert's
# message with its sample posts and its webhook delivery with macros of its own: cells "message", "delivered_at").
ATTAINMENT_COLUMNS: list[Column[reports.Attainment]] = [
    Column("Platform", lambda r: r.platform),
    Column("Threads", lambda r: r.threads, name="genuine_threads", cell_class="num"),
    Column("First response met", lambda r: r.first_met, html=lambda r: _met(r.first_met, r.first_rate),
           cell_class="num"),
    Column("Breached", lambda r: r.first_breached, name="first_response_breached", cell_class="num"),
    Column("Pending", lambda r: r.first_pending, name="first_response_pending", cell_class="num"),
    Column("Follow-up met", lambda r: r.follow_met, name="follow_up_met",
           html=lambda r: _met(r.follow_met, r.follow_rate), cell_class="num"),
    Column("Follow-up breached", lambda r: r.follow_breached, name="follow_up_breached", cell_class="num"),
    Column("Of which flagged non-genuine", lambda r: r.non_genuine, name="non_genuine", cell_class="num")]

ALERT_COLUMNS: list[Column[SocialAlert]] = [
    Column("When", lambda a: a.created_at, name="created_at"),
    Column("Kind", lambda a: a.kind, html=_alert_kind),
    Column("What", lambda a: a.message, name="message"),
    Column("Interaction", lambda a: a.interaction_id, name="interaction_id", screen=False),
    Column("Webhook", lambda a: a.delivered_at, name="delivered_at"),
    Column("Delivery error", lambda a: a.delivery_error, screen=False)]


@router.post("/social/alerts/{alert_id}/ack")
def acknowledge_alert(alert_id: int, principal: WebSocialWorker, session: SessionDep) -> Response:
    alerts.acknowledge(session=session, alert_id=alert_id, actor=principal)
    return RedirectResponse("/social/dashboard", status_code=303)


@router.get("/social/settings", response_class=HTMLResponse)
def settings_page(request: Request, principal: WebAdmin, session: SessionDep, message: str | None = None,
                  error: str | None = None) -> Response:
    return render(request, "social/settings.html", {
        "configs": channels.list_configs(session=session), "message": message, "error": error,
        "care_channels": care.care_channels(session=session), "plain": channels.plain_duration,
        "listening_rules": listening.list_rules(session=session)}, principal=principal)


@router.post("/social/settings/listening")
def listening_submit(principal: WebAdmin, session: SessionDep, name: Annotated[str, Form()] = "",
                     kind: Annotated[str, Form()] = "brand", terms: Annotated[str, Form()] = "",
                     active: Annotated[str, Form()] = "") -> Response:
    """Create or change a listening rule (brand or competitor keywords, comma-separated); no terms deletes it."""
    return _settings_saved(session, lambda: listening.save_rule(
        session=session, name=name, kind=kind, terms=terms.replace("\n", ",").split(","), active=active == "on",
        actor=principal), f"Saved listening rule {name.strip()}")


@router.post("/social/settings/care/{channel}")
def care_channel_submit(channel: str, principal: WebAdmin, session: SessionDep,
                        display_name: Annotated[str, Form()] = "", response_minutes: Annotated[str, Form()] = "",
                        hours: Annotated[str, Form()] = "", issues: Annotated[str, Form()] = "",
                        listed_publicly: Annotated[str, Form()] = "") -> Response:
    """What /care says about one channel (phone, chat, e-mail, social)."""
    def save() -> None:
        minutes = float(response_minutes) if response_minutes.strip() else None
        care.update_care_channel(session=session, channel=channel, actor=principal, data=care.CareChannelUpdate(
            display_name=display_name.strip() or None, listed_publicly=listed_publicly == "on",
            response_seconds=minutes * 60 if minutes is not None else None, hours=hours.strip(),
            issues=issues.splitlines()))

    return _settings_saved(session, save, f"Saved {channel}")


@router.post("/social/settings/{platform}")
def settings_submit(platform: str, principal: WebAdmin, session: SessionDep,
                    display_name: Annotated[str, Form()] = "", first_response_minutes: Annotated[float, Form()] = 60,
                    follow_up_hours: Annotated[float, Form()] = 24, alert_before_minutes: Annotated[float, Form()] = 30,
                    business_hours_enabled: Annotated[str, Form()] = "", business_timezone: Annotated[str, Form()] = "UTC",
                    opens: Annotated[str, Form()] = "09:00", closes: Annotated[str, Form()] = "17:00",
                    weekdays: Annotated[list[str] | None, Form()] = None, listed_publicly: Annotated[str, Form()] = "",
                    webhook_url: Annotated[str, Form()] = "", non_genuine_follow_ups: Annotated[int, Form()] = 3,
                    non_genuine_window_hours: Annotated[float, Form()] = 72,
                    non_genuine_grace_hours: Annotated[float, Form()] = 4,
                    site_visit_hours: Annotated[float, Form()] = 48,
                    influencer_followers: Annotated[int, Form()] = 100000) -> Response:
    return _settings_saved(session, lambda: channels.update_config(
        session=session, platform=platform, actor=principal, data=channels.ChannelConfigUpdate(
            display_name=display_name or None, first_response_seconds=first_response_minutes * 60,
            follow_up_seconds=follow_up_hours * 3600, alert_before_breach_seconds=alert_before_minutes * 60,
            business_hours_enabled=business_hours_enabled == "on", business_timezone=business_timezone,
            business_hours={d: [[opens, closes]] for d in (weekdays or [])},
            listed_publicly=listed_publicly == "on", webhook_url=webhook_url.strip() or None,
            non_genuine_follow_ups=non_genuine_follow_ups, non_genuine_window_hours=non_genuine_window_hours,
            non_genuine_grace_hours=non_genuine_grace_hours, site_visit_resolution_seconds=site_visit_hours * 3600,
            influencer_followers=influencer_followers)), f"Saved {platform}")


def _settings_saved(session: SessionDep, save: Callable[[], object], done: str) -> Response:
    """Save one form of the settings page: back to it saying `done`, or saying why the values were refused
    (nothing of them kept)."""
    try:
        save()
    except (EarshotError, ValueError) as exc:
        session.rollback()
        reason = error_message(exc)
        return RedirectResponse(f"/social/settings?error={quote_plus(reason[:200])}", status_code=303)
    return RedirectResponse(f"/social/settings?message={quote_plus(done)}", status_code=303)


AllScope = Annotated[Principal, Depends(web_require_roles(Role.ADMIN, Role.EVALUATOR, Role.EXECUTIVE))]


@router.get("/social/repeat-contacts", response_class=HTMLResponse)
def repeat_contacts_page(request: Request, principal: AllScope, session: SessionDep,
                         days: Annotated[int, Query(ge=1, le=365)] = 90,
                         min_contacts: Annotated[int, Query(ge=2, le=20)] = 3,
                         within_days: Annotated[int, Query(ge=1, le=90)] = 7) -> Response:
    """Customers made to re-tell their story: repeat contacts about one topic, and transferred calls and chats."""
    until = utcnow()
    since = until - timedelta(days=days)
    transfers = repeat.transferred_contacts(session=session, since=since, until=until)
    agent_ids = {leg.agent_id for t in transfers for leg in t.legs if leg.agent_id}
    agents = user_names(session=session, ids=agent_ids)
    cases = repeat.repeat_contacts(session=session, since=since, until=until, min_contacts=min_contacts,
                                   within_days=within_days)
    if wants_csv(request):  # one row per contact, numbered by case
        contacts = [(number, case, contact) for number, case in enumerate(cases, 1) for contact in case.contacts]
        return table_csv("repeat-contacts.csv", contacts, [
            Column("case", lambda r: r[0]),
            Column("customer", lambda r: r[1].customer_name),
            Column("customer_id", lambda r: r[1].customer_id),
            Column("shared_terms", lambda r: " ".join(r[1].shared_terms)),
            Column("interaction_id", lambda r: r[2].interaction_id),
            Column("channel", lambda r: r[2].channel),
            Column("started_at", lambda r: r[2].started_at),
            Column("text", lambda r: r[2].text)])
    if wants_csv(request, "transfers"):
        return table_csv("transferred-contacts.csv", transfers, transfer_columns(agents))
    return render(request, "social/repeat.html", {
        "cases": cases,
        "transfers": transfers, "transfer_columns": transfer_columns(agents), "agents": agents, "days": days, "min_contacts": min_contacts,
        "within_days": within_days}, principal=principal)


def transfer_columns(agents: dict[int, str]) -> list[Column[repeat.TransferredContact]]:
    """Transferred calls and chats, on screen (the path with each leg's start, cell "path") and in the export."""
    def path(t: repeat.TransferredContact) -> str:
        return " → ".join(agents.get(leg.agent_id or 0, "unknown agent") + (f" ({leg.queue})" if leg.queue else "")
                          for leg in t.legs)

    return [
        Column("Interaction", lambda t: t.interaction.id, name="interaction_id", screen=False),
        Column("When", lambda t: t.interaction.started_at, name="started_at"),
        Column("Channel", lambda t: t.interaction.channel),
        Column("Transfers", lambda t: t.transfers, cell_class="num"),
        Column("Path", path)]


@router.get("/social/topics", response_class=HTMLResponse)
def topics_page(request: Request, principal: WebSocialViewer, session: SessionDep,
                days: Annotated[int, Query(ge=1, le=90)] = 7) -> Response:
    """Topic clusters of the period across all channels: words and counts per channel (post text for social only)."""
    until = utcnow()
    clusters = topic_clusters(session=session, since=until - timedelta(days=days), until=until)
    if wants_csv(request):
        return table_csv("topics.csv", clusters, TOPIC_COLUMNS)
    return render(request, "social/topics.html", {"clusters": clusters, "columns": TOPIC_COLUMNS, "days": days},
                  principal=principal)


TOPIC_COLUMNS: list[Column[TopicCluster]] = [
    Column("Topic (strongest words)", lambda c: " ".join(c.label_terms), name="topic", html=lambda c: Markup(" ").join(
        Markup('<span class="term">{}</span>').format(t) for t in c.label_terms)),
    Column("Contacts", lambda c: len(c.interaction_ids)),
    Column("Per channel", lambda c: ", ".join(f"{n} {ch}" for ch, n in sorted(c.counts.items()))),
    Column("Social examples", lambda c: " | ".join(text for _, text in c.social_examples), html=lambda c: Markup("").join(
        Markup('<div class="post-text"><a href="/social/threads/{}">{}</a></div>').format(i, text)
        for i, text in c.social_examples))]


@router.get("/care", response_class=HTMLResponse)
def public_care_page(request: Request, session: SessionDep) -> Response:
    """Public, no sign-in: every channel the center answers on, how fast, which issues belong where and the
    social rules it is public about, from the same settings the clocks use (app/social/care.py)."""
    content = care.care_page(session=session)
    return render(request, "social/care.html", {"page": content, "configs": content.platforms,
                                                "expected": channels.expected_response,
                                                "plain": channels.plain_duration})
