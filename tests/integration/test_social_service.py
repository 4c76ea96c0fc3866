"""Thread state, SLA clocks, non-genuine complaints, the care queue, alerts with a webhook, cross-channel similarity."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

from sqlmodel import select

from app.core.models import AuditEvent
from app.core.security import Principal, Role
from app.core.timeutil import as_utc
from app.social import alerts, channels, reports, service
from app.social.crosschannel import similar_complaints
from app.social.models import SocialAlert
from app.social.sweep import sweep
from tests.integration.social_helpers import T0, other_channel, thread

LEAD = Principal(user_id=None, username="lead", display_name="Lead", roles=frozenset({Role.ADMIN}))  # type: ignore[arg-type]


def _audits(session, action):
    return session.exec(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_first_response_met_and_follow_up_met(session):
    iid = thread(session, "met", ("customer", 0, "My broadband is down"), ("agent", 0.5, "Sorry! DM us your account"),
                 ("agent", 5, "Engineers are on it, fixed by 6pm"))
    state = service.refresh_thread(session=session, interaction_id=iid, now=T0 + timedelta(days=2))
    assert state.first_response_due_at == T0 + timedelta(hours=1)
    assert state.first_response_status == "met" and state.first_response_at == T0 + timedelta(minutes=30)
    assert state.follow_up_status == "met" and state.follow_up_at == T0 + timedelta(hours=5)
    assert state.follower_count == 500 and state.author_handle == "@met"
    assert state.next_due_at is None  # answered and followed up: nothing waits


def test_first_response_breached_and_pending(session):
    late = thread(session, "late", ("customer", 0, "Still no signal"), ("agent", 2, "Looking into it"))
    state = service.refresh_thread(session=session, interaction_id=late, now=T0 + timedelta(hours=3))
    assert state.first_response_status == "breached"
    assert state.first_response_breached_at == T0 + timedelta(hours=1)
    assert state.follow_up_status == "pending" and state.next_due_at == T0 + timedelta(days=1)
    waiting = thread(session, "waiting", ("customer", 0, "Hello?"))
    state = service.refresh_thread(session=session, interaction_id=waiting, now=T0 + timedelta(minutes=10))
    assert state.first_response_status == "pending" and state.awaiting_reply_since == T0
    assert state.reply_due_at == T0 + timedelta(hours=1) and state.next_due_at == T0 + timedelta(hours=1)


def test_business_hours_move_the_due_time(session):
    config = channels.ensure_config(session=session, platform="facebook")
    channels.update_config(session=session, platform="facebook", actor=LEAD, data=channels.ChannelConfigUpdate(
        business_hours_enabled=True, business_timezone="UTC",
        business_hours={str(d): [["09:00", "17:00"]] for d in range(5)}))
    assert config.business_hours_enabled
    # Friday 16:30 post → due Monday 09:30
    friday = T0 + timedelta(days=4, hours=6, minutes=30)
    iid = thread(session, "fri", ("customer", 0, "Order missing"), platform="facebook", start=friday)
    state = service.refresh_thread(session=session, interaction_id=iid, now=friday)
    assert state.first_response_due_at == friday + timedelta(days=2, hours=17)
    assert _audits(session, "social.config.updated")


def _quiet(session, name, hours):
    events = [("customer", 0, "Your service is a scam")] + [("agent", h, f"Could you DM us details? ({n})")
                                                            for n, h in enumerate(hours, 1)]
    return thread(session, name, *events)


def test_non_genuine_after_three_follow_ups_over_three_days(session):
    quiet = _quiet(session, "quiet", [0.5, 24.5, 48.5, 70])  # a first reply, then three follow-ups
    too_soon = _quiet(session, "toosoon", [40, 41, 42, 43])  # three follow-ups, but silent only 56 h
    first_reply_counted = _quiet(session, "threeonly", [0.5, 24.5, 48.5])  # the reply is no follow-up
    now = T0 + timedelta(days=4)
    result = sweep(session=session, now=now, post=lambda url, body: None)
    assert result["non_genuine_flagged"] == [quiet]
    state = service.get_state(session=session, interaction_id=quiet)
    assert state.non_genuine and state.next_due_at is None
    assert state.non_genuine_evidence == [(T0 + timedelta(hours=h)).isoformat() for h in (0.5, 24.5, 48.5, 70)]
    assert "3 follow-ups" in (state.non_genuine_reason or "") and "72 h" in (state.non_genuine_reason or "")
    assert not service.get_state(session=session, interaction_id=too_soon).non_genuine
    assert not service.get_state(session=session, interaction_id=first_reply_counted).non_genuine
    marked = _audits(session, "social.non_genuine.marked")
    assert [e.record_id for e in marked] == [str(quiet)] and marked[0].actor_name == "system"
    # a second sweep changes nothing
    assert sweep(session=session, now=now + timedelta(hours=1), post=lambda url, body: None)[
        "non_genuine_flagged"] == []


def test_not_non_genuine_when_the_customer_replied(session):
    iid = thread(session, "replied", ("customer", 0, "Bill is wrong"), ("agent", 0.5, "DM us?"),
                 ("agent", 24.5, "Any news?"), ("customer", 30, "Sent you a DM"), ("agent", 48.5, "Thanks, checking"))
    sweep(session=session, now=T0 + timedelta(days=4), post=lambda url, body: None)
    state = service.get_state(session=session, interaction_id=iid)
    assert not state.non_genuine and state.follow_up_attempts == 0  # the answer to the DM is no follow-up


def test_human_reversal_is_audited_and_the_customer_coming_back_is_welcomed(session, make_user):
    quiet = _quiet(session, "quiet2", [0.5, 24.5, 48.5, 70])
    sweep(session=session, now=T0 + timedelta(days=4), post=lambda url, body: None)
    user = make_user("evaluator", username="reviewer")
    actor = Principal(user_id=user.id, username="reviewer", display_name="Reviewer", roles=frozenset({Role.EVALUATOR}))
    state = service.mark_genuine(session=session, interaction_id=quiet, actor=actor, reason="Known customer, real fault")
    assert not state.non_genuine and state.genuine_override and state.genuine_override_by_id == user.id
    event = _audits(session, "social.non_genuine.reversed")[0]
    assert event.actor_id == user.id and event.reason == "Known customer, real fault"
    assert event.before and event.before["non_genuine"] is True
    # the sweep does not flag it again on the same evidence
    assert sweep(session=session, now=T0 + timedelta(days=5), post=lambda url, body: None)["non_genuine_flagged"] == []
    # a second thread: flagged, then the customer writes again → served again, audited
    other = _quiet(session, "quiet3", [0.5, 24.5, 48.5, 70])
    sweep(session=session, now=T0 + timedelta(days=4), post=lambda url, body: None)
    assert service.get_state(session=session, interaction_id=other).non_genuine
    thread(session, "quiet3", ("customer", 100, "Sorry, was away. Still broken."))
    state = service.refresh_thread(session=session, interaction_id=other, now=T0 + timedelta(days=5))
    assert not state.non_genuine and state.welcome_back_at == T0 + timedelta(hours=100)
    assert state.next_due_at == T0 + timedelta(hours=101)
    assert _audits(session, "social.non_genuine.welcome_back")


def test_queue_is_ordered_by_due_time_only(session):
    influencer = thread(session, "guru", ("customer", 0.5, "Broadband down, 250k people will hear about it"),
                        followers=250_000)
    nobody = thread(session, "nobody", ("customer", 0.0, "Broadband down"), followers=12)
    mid = thread(session, "mid", ("customer", 0.25, "Broadband down too"), followers=5_000)
    for iid in (influencer, nobody, mid):
        service.refresh_thread(session=session, interaction_id=iid, now=T0)
    order = [row.state.interaction_id for row in service.care_queue(session=session, now=T0).items]
    assert order == [nobody, mid, influencer]  # earliest post first, 250k followers or not
    # the same posts at the same minute: ties broken by thread id, never by followers
    a = thread(session, "tie-a", ("customer", 2, "x"), followers=1)
    b = thread(session, "tie-b", ("customer", 2, "y"), followers=1_000_000)
    for iid in (a, b):
        service.refresh_thread(session=session, interaction_id=iid, now=T0)
    order = [row.state.interaction_id for row in service.care_queue(session=session, now=T0).items]
    assert order.index(a) < order.index(b)


def test_public_and_private_resolution(session):
    iid = thread(session, "res", ("customer", 0, "Refund?"), ("agent", 0.2, "DM sent"))
    public = thread(session, "res2", ("customer", 0, "Refund?"), ("agent", 0.2, "Refunded, sorry for the trouble"))
    private = thread(session, "res3", ("customer", 0, "Refund?"), ("agent", 0.2, "Let's take this to DM"))
    thread(session, "res3", ("agent", 1, "Done, refunded"), public=False)
    service.refresh_thread(session=session, interaction_id=private)
    assert [s.interaction_id for s, _ in reports.resolved_privately(session=session)] == [private]
    service.record_resolution(session=session, interaction_id=iid, actor=LEAD, url="https://x.example/res/9",
                              text="Refund confirmed in public", now=T0 + timedelta(hours=3))
    state = service.get_state(session=session, interaction_id=iid)
    assert as_utc(state.resolved_at) == T0 + timedelta(hours=3) == as_utc(state.follow_up_at)
    messages = service.thread_messages(session=session, interaction_id=public)
    state = service.record_resolution(session=session, interaction_id=public, actor=LEAD, message_id=messages[-1].id)
    assert state.resolution_url == "https://x.example/res2/1" and state.resolution_text.startswith("Refunded")
    assert len(_audits(session, "social.resolution.public")) == 2
    service.record_resolution(session=session, interaction_id=private, actor=LEAD, url="https://x.example/res3/close")
    assert reports.resolved_privately(session=session) == []


class _Receiver(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):  # noqa: N802 - the stdlib's name
        length = int(self.headers["content-length"])
        self.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_unattended_alert_is_posted_to_the_webhook(session):
    _Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    worker = threading.Thread(target=server.serve_forever, daemon=True)
    worker.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook"
        channels.update_config(session=session, platform="twitter", actor=LEAD,
                              data=channels.ChannelConfigUpdate(webhook_url=url))
        iid = thread(session, "alone", ("customer", 0, "Anyone there? <b>hello</b>"))
        early = sweep(session=session, now=T0 + timedelta(minutes=20))
        assert early["unattended_alerts"] == 0
        warn = sweep(session=session, now=T0 + timedelta(minutes=31))
        assert warn["unattended_alerts"] == 1 and warn["webhook"] == {"sent": 1, "failed": 0}
        breach = sweep(session=session, now=T0 + timedelta(minutes=61))
        assert breach["unattended_alerts"] == 1
        assert sweep(session=session, now=T0 + timedelta(minutes=90))["unattended_alerts"] == 0  # deduplicated
        assert [body["kind"] for body in _Receiver.received] == ["unattended_warning", "unattended_breach"]
        assert _Receiver.received[0]["interaction_id"] == iid
        assert _Receiver.received[1]["details"]["reply_due_at"] == (T0 + timedelta(hours=1)).isoformat()
        assert all(a.delivered_at for a in alerts.list_alerts(session=session).items)
    finally:
        server.shutdown()
        server.server_close()


def test_failed_webhook_deliveries_are_retried_and_never_block(session):
    channels.update_config(session=session, platform="twitter", actor=LEAD,
                          data=channels.ChannelConfigUpdate(webhook_url="http://127.0.0.1:9/nowhere"))
    thread(session, "alone2", ("customer", 0, "Hello?"))
    calls = []

    def failing(url, body):
        calls.append(url)
        raise ConnectionError("refused")

    result = sweep(session=session, now=T0 + timedelta(hours=2), post=failing)
    assert result["webhook"] == {"sent": 0, "failed": 1}  # first seen past due: the breach alone, no warning
    alert = session.exec(select(SocialAlert)).one()
    assert alert.kind == "unattended_breach"
    assert alert.delivered_at is None and alert.delivery_attempts == 1 and "refused" in alert.delivery_error
    result = sweep(session=session, now=T0 + timedelta(hours=3), post=lambda url, body: None)
    assert result["webhook"] == {"sent": 1, "failed": 0}


def test_negativity_spike_alert_names_the_posts(session):
    # a quiet week: one negative post a day, then six angry posts in one hour
    for day in range(7):
        thread(session, f"calm{day}", ("customer", day * 24 + 5, "This is terrible service"))
    for n in range(6):
        thread(session, f"angry{n}", ("customer", 7 * 24 + 3 + n * 0.1, "Outage again, awful, I hate this"))
    raised = alerts.detect_negativity_spikes(session=session, since=T0 + timedelta(days=7),
                                             until=T0 + timedelta(days=8))
    assert len(raised) == 1
    alert = raised[0]
    assert alert.kind == "negativity_spike" and alert.details["count"] == 6
    assert len(alert.details["posts"]) == 5 and "Outage again" in alert.details["posts"][0]["text"]
    assert "mean + 3·sd" in alert.details["test"]
    again = alerts.detect_negativity_spikes(session=session, since=T0 + timedelta(days=7), until=T0 + timedelta(days=8))
    assert again == []
    volume = alerts.detect_negativity_spikes(session=session, since=T0 + timedelta(days=7),
                                             until=T0 + timedelta(days=8), include_volume=True)
    assert [a.kind for a in volume] == ["volume_spike"] and volume[0].details["count"] == 6


def test_a_flat_week_raises_no_spike(session):
    for hour in range(0, 8 * 24, 6):
        thread(session, f"flat{hour}", ("customer", hour, "This is terrible service"))
    assert alerts.detect_negativity_spikes(session=session, since=T0 + timedelta(days=7),
                                           until=T0 + timedelta(days=8), include_volume=True) == []


def test_similar_complaints_across_channels(session):
    tweet = thread(session, "bb", ("customer", 0, "broadband down again in Leeds, no internet since this morning"))
    call = other_channel(session, "call", "c1", "my broadband is down, no internet at all in Leeds", T0 - timedelta(days=1))
    call2 = other_channel(session, "call", "c2", "the internet keeps dropping, broadband down", T0 + timedelta(days=2))
    chat = other_channel(session, "chat", "ch1", "No broadband this morning, is there an outage in Leeds?", T0)
    email = other_channel(session, "email", "e1", "broadband down since this morning", T0 + timedelta(hours=5))  # lower case: the detector takes a sentence-initial "Broadband" for a place (a known false positive)
    other_channel(session, "chat", "ch2", "I want to change my address", T0)
    other_channel(session, "call", "old", "broadband down in Leeds no internet", T0 - timedelta(days=30))
    social = thread(session, "bb2", ("customer", 3, "@brand no internet in Leeds, broadband down"))
    result = similar_complaints(session=session, interaction_id=tweet, window_days=7)
    found = {m.interaction_id for m in result.matches}
    assert found == {call, call2, chat, email, social}
    assert result.counts == {"call": 2, "chat": 1, "email": 1, "social": 1}
    assert result.summary == "The same problem is happening elsewhere: 2 calls, 1 chat, 1 e-mail, 1 social thread."
    best = result.matches[0]
    assert "broadband" in best.shared_terms


def test_sweep_job_and_periodic_task(session, queue, runtime):
    from huey import MemoryHuey

    from app.social.tasks import register_periodic

    thread(session, "jobbed", ("customer", 0, "Anyone?"))
    job = queue.enqueue(session=session, kind="social.sweep", payload={})
    session.refresh(job)
    assert job.status == "done" and job.result["unattended_alerts"] == 1  # long past due: the breach alone
    periodic = register_periodic(MemoryHuey("periodic-test", immediate=True), runtime)
    assert periodic.call_local()["unattended_alerts"] == 0  # deduplicated: nothing new


def test_daily_negative_share_spike_alert(session):
    for day in range(28):
        thread(session, f"d{day}a", ("customer", day * 24, "Terrible, awful service"))
        thread(session, f"d{day}b", ("customer", day * 24 + 2, "What time does the shop open?"))
        thread(session, f"d{day}c", ("customer", day * 24 + 4, "Can I change my plan?"))
    for n in range(12):
        text = "Awful, I hate this outage" if n else "Is there a store in Leeds?"
        thread(session, f"bad{n}", ("customer", 28 * 24 + n, text))
    raised = alerts.detect_negativity_spikes(session=session, since=T0 + timedelta(days=28),
                                             until=T0 + timedelta(days=29))
    share = [a for a in raised if a.kind == "negative_share_spike"]
    assert len(share) == 1
    assert share[0].details["negatives"] == 11 and share[0].details["total"] == 12
    assert round(share[0].details["baseline_share"], 3) == round(28 / 84, 3)
    assert "two-proportion z-test" in share[0].details["test"]
