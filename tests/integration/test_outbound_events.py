"""Every documented outbound event fires (README / app/connectors/webhooks.py), once: review_case.opened is
tested with the meeting (test_reviews_meeting_sheet.py); evaluation and dispute events with evaluations."""

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from app.connectors import webhooks
from app.connectors.models import WebhookDelivery
from app.reviews.actions import announce_overdue_actions
from app.reviews.models import ReviewAction
from app.social import alerts
from app.social.sweep import sweep
from tests.integration.social_helpers import T0, thread
from tests.integration.test_reviews_meeting import meeting_world  # noqa: F401


@pytest.fixture
def hook(session):
    return webhooks.create_endpoint(session=session, data=webhooks.EndpointIn(
        url="https://hooks.example.com/earshot", event_types=["*"]), actor=None)


README = Path(__file__).resolve().parents[2] / "README.md"


def documented_keys() -> dict[str, set[str]]:
    """The README's "Webhook events" table: event → the `data` keys it documents (notes in parentheses and
    after a dash are prose)."""
    table = README.read_text().split("### Webhook events", 1)[1].split("\n#", 1)[0]
    keys = {}
    for event, data in re.findall(r"^\| `([a-z_.]+)` \| (.+) \|$", table, flags=re.M):
        data = re.sub(r"\([^)]*\)", "", data.split(" — ")[0])
        keys[event] = {k.strip() for k in data.split(",") if k.strip()}
    return keys


def _events(session, event_type):
    """The payloads sent for this event type; each must carry exactly the keys the README documents."""
    payloads = [d.payload for d in session.exec(select(WebhookDelivery).where(
        WebhookDelivery.event_type == event_type).order_by(WebhookDelivery.id)).all()]
    for payload in payloads:
        assert set(payload) == documented_keys()[event_type], (event_type, sorted(payload))
    return payloads


def test_the_readme_documents_every_event_type():
    assert set(documented_keys()) == {str(event) for event in webhooks.EVENT_TYPES}


def test_unattended_post_then_sla_breached_once_each(session, hook):
    iid = thread(session, "waiting", ("customer", 0, "My router is dead"))
    sweep(session=session, now=T0 + timedelta(minutes=40), post=lambda url, body: None)
    warned = _events(session, "social.unattended_post")
    assert [(e["interaction_id"], e["platform"], e["waiting_minutes"]) for e in warned] == [(iid, "twitter", 40)]
    sweep(session=session, now=T0 + timedelta(minutes=70), post=lambda url, body: None)
    sweep(session=session, now=T0 + timedelta(minutes=95), post=lambda url, body: None)
    breached = _events(session, "sla.breached")
    assert [(e["interaction_id"], e["due_at"]) for e in breached] == [(iid, (T0 + timedelta(hours=1)).isoformat())]
    assert len(_events(session, "social.unattended_post")) == 1


def test_alert_spike_fires(session, hook):
    for day in range(7):
        thread(session, f"calm{day}", ("customer", day * 24 + 5, "This is terrible service"))
    for n in range(6):
        thread(session, f"angry{n}", ("customer", 7 * 24 + 3 + n * 0.1, "Outage again, awful, I hate this"))
    raised = alerts.detect_negativity_spikes(session=session, since=T0 + timedelta(days=7),
                                             until=T0 + timedelta(days=8))
    spikes = _events(session, "alert.spike")
    assert [e["alert_id"] for e in spikes] == [a.id for a in raised] and spikes[0]["value"] == 6
    assert spikes[0]["metric"] == "negativity_spike" and spikes[0]["baseline"] is not None


def test_action_overdue_fires_once(session, hook, meeting_world, make_user):  # noqa: F811
    coach = make_user("coach", username="cora")
    action = ReviewAction(case_id=meeting_world["r2"], kind="retrain_staff", topic="call-backs",
                          owner_id=coach.id, due_date=date(2026, 12, 1))
    done = ReviewAction(case_id=meeting_world["r2"], kind="other", description="done already",
                        due_date=date(2026, 12, 1), status="done")
    session.add_all([action, done])
    session.commit()
    assert announce_overdue_actions(session=session, today=date(2026, 12, 1)) == 0  # due today: not late
    assert announce_overdue_actions(session=session, today=date(2026, 12, 2)) == 1
    assert announce_overdue_actions(session=session, today=date(2026, 12, 3)) == 0
    session.commit()
    assert _events(session, "action.overdue") == [{
        "action_id": action.id, "agent_id": None, "coach_id": coach.id, "title": "call-backs",
        "due_at": "2026-12-01", "case_id": meeting_world["r2"]}]


def test_evaluation_and_dispute_events_fire(session, hook, make_user):
    from app.auth.service import principal_of
    from app.evaluations import service as evaluations
    from app.evaluations.models import AnswerIn
    from tests.integration.evaluations_support import FULL_MARKS, load_small_form, make_interaction

    evaluator, agent = principal_of(make_user("evaluator")), make_user("agent", username="ada")
    interaction = make_interaction(session, agent_id=agent.id)
    draft = evaluations.create(session=session, principal=evaluator, interaction_id=interaction.id,
                               scorecard_id=load_small_form(session))
    evaluations.submit(session=session, principal=evaluator, evaluation_id=draft.id,
                       answers=[AnswerIn(**a) for a in FULL_MARKS])
    evaluations.dispute(session=session, principal=principal_of(agent), evaluation_id=draft.id,
                        reason="I did verify the caller", items=[])
    second = principal_of(make_user("evaluator", username="evan"))  # the scorer may not resolve her own
    evaluations.resolve(session=session, principal=second, evaluation_id=draft.id, outcome="upheld",
                        reason="The recording shows no verification")
    assert [e["evaluation_id"] for e in _events(session, "evaluation.submitted")] == [draft.id]
    assert [(e["evaluation_id"], e["agent_id"]) for e in _events(session, "dispute.opened")] == [(draft.id, agent.id)]
    assert [(e["evaluation_id"], e["outcome"]) for e in _events(session, "dispute.resolved")] == [(draft.id, "upheld")]


def test_unattended_post_names_the_post(session, hook):
    thread(session, "linked", ("customer", 0, "Anyone there?"))
    sweep(session=session, now=T0 + timedelta(minutes=40), post=lambda url, body: None)
    assert _events(session, "social.unattended_post")[0]["post_url"] == "https://x.example/linked/0"
