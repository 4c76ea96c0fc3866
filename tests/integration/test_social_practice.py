"""The center's written practice, end to end through the service and the pages: non-genuine at 72 h (not a
minute early), a 'thanks' is no breach, site visits have a resolution target, flagged threads stay in the
figures, fairness counts the unanswered, the influencer watch list gives nobody a faster clock, and the
queue, the thread page and the dashboard print the same due time for the same post."""

import re
from datetime import timedelta

import pytest

from app.core.timeutil import utcnow
from app.social import reports, service
from app.social.sweep import sweep
from tests.integration.social_helpers import T0, thread

NOOP = {"post": lambda url, body: None}
# the first reply at 1 h, follow-ups at 25, 49 and 60 h: silence since the first reply reaches 72 h at 73 h
QUIET = [("customer", 0, "You charged me twice, sort it out"), ("agent", 1, "Sorry! Please DM us your account."),
         ("agent", 25, "Following up: please DM us."), ("agent", 49, "Still keen to help, DM us."),
         ("agent", 60, "Last try: DM us and we'll refund it.")]
BOUNDARY = T0 + timedelta(hours=73)


@pytest.mark.parametrize(("offset_minutes", "flagged"), [(-60, False), (-1, False), (0, True), (60, True)])
def test_non_genuine_exactly_at_72_hours_of_silence(session, offset_minutes, flagged):
    iid = thread(session, "quiet", *QUIET)
    result = sweep(session=session, now=BOUNDARY + timedelta(minutes=offset_minutes), **NOOP)
    assert (result["non_genuine_flagged"] == [iid]) is flagged
    state = service.get_state(session=session, interaction_id=iid)
    assert state.non_genuine is flagged and state.follow_up_attempts == 3


def test_flag_is_reversible_and_stays_in_the_figures(session, make_user):
    iid = thread(session, "quiet", *QUIET)
    other = thread(session, "fine", ("customer", 0, "Bill wrong"), ("agent", 0.5, "Fixed, refund sent"))
    sweep(session=session, now=BOUNDARY + timedelta(hours=1), **NOOP)
    row = reports.sla_attainment(session=session, now=BOUNDARY)[0]
    assert (row.threads, row.non_genuine, row.first_met) == (2, 1, 2)  # counted in, and counted apart
    bands = {b.band: b for b in reports.fairness(session=session, now=BOUNDARY).bands}
    assert sum(b.threads for b in bands.values()) == 2 and sum(b.non_genuine for b in bands.values()) == 1
    user = make_user("evaluator", username="rev")
    from app.core.security import Principal, Role
    actor = Principal(user_id=user.id, username="rev", display_name="Rev", roles=frozenset({Role.EVALUATOR}))
    state = service.mark_genuine(session=session, interaction_id=iid, actor=actor, reason="Known customer")
    assert not state.non_genuine and other


def test_a_thanks_is_no_breach_and_site_visits_have_a_resolution_target(session):
    thanks = thread(session, "thanks", ("customer", 0, "Router keeps dropping"), ("agent", 0.5, "Restarted it remotely"),
                    ("customer", 2, "Thanks, all working now!"))
    visit = thread(session, "visit", ("customer", 0, "My line is dead, I need an engineer to come out"),
                   ("agent", 0.5, "Booked an engineer for Wednesday"))
    now = T0 + timedelta(days=3)
    sweep(session=session, now=now, **NOOP)
    done = service.get_state(session=session, interaction_id=thanks)
    assert done.follow_up_status == "not_needed" and done.awaiting_reply_since is None and done.next_due_at is None
    assert all(c.status != "breached" for c in service.thread_clocks(done, now=now))
    booked = service.get_state(session=session, interaction_id=visit)
    assert booked.site_visit and booked.resolution_due_at == T0 + timedelta(days=2)
    clocks = {c.name: c for c in service.thread_clocks(booked, now=now)}
    assert clocks["resolution"].status == "breached" and clocks["resolution"].running


def test_influencer_is_watched_but_gets_no_faster_clock(session):
    star = thread(session, "star", ("customer", 0, "Broadband down"), followers=800_000)
    nobody = thread(session, "nobody", ("customer", 0, "Broadband down"), followers=12)
    sweep(session=session, now=T0 + timedelta(minutes=5), **NOOP)
    a = service.get_state(session=session, interaction_id=star)
    b = service.get_state(session=session, interaction_id=nobody)
    assert a.watched and not b.watched
    assert a.first_response_due_at == b.first_response_due_at and a.next_due_at == b.next_due_at
    assert [r.state.interaction_id for r in service.care_queue(session=session, now=T0).items] == [star, nobody]  # by id
    assert [s.interaction_id for s in reports.watch_list(session=session)] == [star]


def test_fairness_counts_unanswered_posts(session):
    thread(session, "big", ("customer", 0, "Outage!"), followers=800_000)  # never answered
    thread(session, "small", ("customer", 0, "Outage"), ("agent", 0.5, "On it"), followers=50)
    sweep(session=session, now=T0 + timedelta(hours=5), **NOOP)
    report = reports.fairness(session=session, now=T0 + timedelta(hours=5))
    rows = {b.band: b for b in report.bands if b.threads}
    big = [b for b in rows.values() if b.unanswered]
    assert len(big) == 1 and big[0].late == 1 and big[0].median_seconds == 5 * 3600


def _due_texts(html, iid):
    """The due instants printed for thread `iid` in a queue/dashboard row, or the thread page's 'Next due'."""
    block = html.split(f'data-interaction-id="{iid}"', 1)[1] if f'data-interaction-id="{iid}"' in html else html
    return re.search(r'class="next-due">.*?data-due="([^"]+)"', block, re.S).group(1)


def test_queue_thread_and_dashboard_print_the_same_clock(client, session, make_user, login):
    start = utcnow() - timedelta(hours=30)
    # answered and followed up in time (both clocks met), then the customer wrote again: the reply to the
    # latest post is what is due, and every page says so with the same instant
    iid = thread(session, "again", ("customer", 0, "Bill is wrong"), ("agent", 0.2, "DM us"),
                 ("agent", 5, "Refund on its way"), ("customer", 29.5, "I DMed you, nothing back"), start=start)
    sweep(session=session, **NOOP)
    login(make_user("evaluator"))
    queue = client.get("/social").text
    page = client.get(f"/social/threads/{iid}").text
    dashboard = client.get("/social/dashboard").text
    due = _due_texts(queue, iid)
    assert due == _due_texts(page, iid) == _due_texts(dashboard, iid)
    assert due == (start + timedelta(hours=30.5)).isoformat()
    assert "reply to the customer" in queue and "reply to the customer" in page


def test_public_care_page_lists_every_channel_and_the_policy_from_the_settings(client, session, make_user, login):
    thread(session, "pub", ("customer", 0, "hi"), platform="facebook")
    sweep(session=session, now=T0, **NOOP)
    client.cookies.clear()
    page = client.get("/care").text
    for channel in ("phone", "chat", "email", "social"):
        assert f'data-channel="{channel}"' in page
    assert "Faults and outages that need fixing now" in page and "within 2 minutes" in page
    assert "follow up 3 times and hear nothing from you for 72 hours" in page
    assert "Problems that need a technician or a visit are resolved within 2 days" in page
    admin = make_user("admin")
    login(admin)
    token = client.headers["x-csrf-token"]
    saved = client.post("/social/settings/facebook", data={
        "csrf_token": token, "non_genuine_follow_ups": "2", "non_genuine_window_hours": "48",
        "non_genuine_grace_hours": "2", "site_visit_hours": "24", "influencer_followers": "50000",
        "first_response_minutes": "60", "follow_up_hours": "24", "listed_publicly": "on"}, follow_redirects=False)
    assert "error" not in saved.headers["location"], saved.headers["location"]
    edited = client.post("/social/settings/care/email", data={
        "csrf_token": token, "display_name": "E-mail", "response_minutes": "240", "hours": "Every day",
        "issues": "Bills with documents\nWritten complaints", "listed_publicly": "on"}, follow_redirects=False)
    assert "error" not in edited.headers["location"], edited.headers["location"]
    bad = client.post("/social/settings/care/fax", data={"csrf_token": token}, follow_redirects=False)
    assert "error=" in bad.headers["location"]
    client.cookies.clear()
    page = client.get("/care").text
    assert "follow up 2 times and hear nothing from you for 48 hours" in page
    assert "resolved within 1 day" in page and "within 4 hours" in page and "Written complaints" in page


def test_listening_rules_tag_threads_and_raise_mention_spikes(client, session, make_user, login):
    from sqlmodel import select

    from app.connectors import webhooks
    from app.connectors.models import WebhookDelivery
    from app.social import alerts

    login(make_user("admin"))
    token = client.headers["x-csrf-token"]
    for name, kind, terms in (("Kestrel", "brand", "Kestrel, KestrelHelp"), ("Falcon", "competitor", "Falcon Fibre")):
        saved = client.post("/social/settings/listening", data={"csrf_token": token, "name": name, "kind": kind,
                                                                 "terms": terms, "active": "on"},
                            follow_redirects=False)
        assert "error" not in saved.headers["location"]
    assert "kind+must+be+one+of" in client.post("/social/settings/listening", data={
        "csrf_token": token, "name": "x", "kind": "friend", "terms": "y"}, follow_redirects=False).headers["location"]
    webhooks.create_endpoint(session=session, data=webhooks.EndpointIn(
        url="https://hooks.example.com/x", event_types=["alert.spike"]), actor=None)
    for day in range(7):  # a quiet week: one competitor mention a day
        thread(session, f"calm{day}", ("customer", day * 24 + 5, "Thinking about Falcon Fibre"))
    for n in range(6):  # then six in an hour
        thread(session, f"switch{n}", ("customer", 7 * 24 + 3 + n * 0.1, f"Leaving for falcon fibre #{n}"))
    mixed = thread(session, "mixed", ("customer", 7 * 24 + 6, "@KestrelHelp is slower than Falcon Fibre"))
    unrelated = thread(session, "plain", ("customer", 7 * 24 + 6, "kestrels are lovely birds"))
    assert service.get_state(session=session, interaction_id=mixed).mentions == ["Falcon", "Kestrel"]
    assert service.get_state(session=session, interaction_id=unrelated).mentions == []
    raised = alerts.detect_mention_spikes(session=session, since=T0 + timedelta(days=7), until=T0 + timedelta(days=8))
    assert [(a.kind, a.details["rule"], a.details["count"]) for a in raised] == [("mention_spike", "Falcon", 6)]
    session.commit()
    events = session.exec(select(WebhookDelivery)).all()
    assert [e.payload["metric"] for e in events] == ["mentions: Falcon"]
    queue = client.get("/social").text
    assert 'class="badge mention">Kestrel<' in queue and 'class="badge mention">Falcon<' in queue


def test_seed_metrics_quality_from_social_evaluations_and_first_issue_resolution(session, make_user):
    from app.auth.service import principal_of
    from app.evaluations import service as evaluations
    from app.evaluations.models import AnswerIn
    from app.scorecards import service as scorecards
    from app.scorecards.schema import parse_form
    from tests.integration.evaluations_support import FULL_MARKS, SMALL_FORM

    social_form = parse_form({**SMALL_FORM, "key": "small_social", "channels": ["social"]})
    scorecard, _, _ = scorecards.save_form(session=session, form=social_form, actor=None, publish=True)

    solved = thread(session, "solved", ("customer", 0, "My bill is wrong this month"),
                    ("agent", 0.5, "Corrected, refund on its way"), ("customer", 2, "Thanks, sorted!"))
    again = thread(session, "again", ("customer", 0, "My bill is wrong this month"),
                   ("agent", 0.5, "Corrected"), ("customer", 30, "Still wrong, nothing changed"))
    evaluator = make_user("evaluator")
    draft = evaluations.create(session=session, principal=principal_of(evaluator), interaction_id=solved,
                               scorecard_id=scorecard.id)
    evaluations.submit(session=session, principal=principal_of(evaluator), evaluation_id=draft.id,
                       answers=[AnswerIn(**a) for a in FULL_MARKS])
    sweep(session=session, now=T0 + timedelta(days=2), **NOOP)
    billing = next(r for r in reports.process_report(session=session).rows if r.threads)
    assert billing.threads == 2 and billing.quality_mean == 100.0
    assert billing.first_issue_resolution == 0.5  # the "thanks" counts as solved first time; "still wrong" not
    assert service.get_state(session=session, interaction_id=again).customer_posted_again


def test_a_new_post_is_alerted_even_when_the_follow_up_is_overdue(session):
    iid = thread(session, "late", ("customer", 0, "Bill is wrong"), ("agent", 0.2, "Looking into it"),
                 ("customer", 30, "Still waiting, bill still wrong"))
    result = sweep(session=session, now=T0 + timedelta(hours=30, minutes=40), **NOOP)
    state = service.get_state(session=session, interaction_id=iid)
    assert service.current_clock(state, now=T0 + timedelta(hours=31)).name == "follow_up"  # due first, breached
    assert result["unattended_alerts"] == 1  # the new post is still watched: a warning before its reply is due
