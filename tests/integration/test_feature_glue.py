"""The seams between features: what one feature writes, the next one picks up."""

from datetime import timedelta

from sqlmodel import select

from app.core.timeutil import utcnow
from app.ingest.social import import_social
from app.social.models import SocialThreadState


def test_an_imported_social_post_starts_its_care_clock(session):
    posted = utcnow() - timedelta(minutes=10)
    report = import_social(session=session, source="twitter", records=[(1, {
        "platform": "twitter", "post_id": "p-1", "parent_id": None, "author_handle": "@someone",
        "display_name": "Some One", "follower_count": 12, "is_public": True, "author_role": "customer",
        "agent": None, "text": "My broadband is down again", "created_at": posted.isoformat(), "url": None})])
    assert report.created == 1
    state = session.exec(select(SocialThreadState)).one()
    assert state.first_customer_post_at is not None
    assert abs((state.first_response_due_at - posted) - timedelta(hours=1)) < timedelta(seconds=1)


def test_submitting_an_evaluation_publishes_a_signed_webhook_delivery(session, queue, make_user):
    from app.auth.service import principal_of
    from app.connectors import webhooks
    from app.connectors.models import WebhookDelivery
    from app.evaluations import service as evaluations
    from app.evaluations.models import AnswerIn
    from tests.integration.evaluations_support import FULL_MARKS, load_small_form, make_interaction

    endpoint = webhooks.create_endpoint(session=session, actor=None, data=webhooks.EndpointIn(
        url="http://127.0.0.1:9/hook", event_types=["evaluation.submitted"]))
    session.commit()
    evaluator, agent = make_user("evaluator"), make_user("agent")
    interaction = make_interaction(session, agent_id=agent.id)
    draft = evaluations.create(session=session, principal=principal_of(evaluator), interaction_id=interaction.id,
                               scorecard_id=load_small_form(session))
    evaluations.submit(session=session, principal=principal_of(evaluator), evaluation_id=draft.id,
                       answers=[AnswerIn(**a) for a in FULL_MARKS])
    delivery = session.exec(select(WebhookDelivery)).one()
    assert delivery.endpoint_id == endpoint.id and delivery.event_type == "evaluation.submitted"
    assert delivery.payload["evaluation_id"] == draft.id and delivery.payload["agent_id"] == agent.id
    assert webhooks.queue_pending(session=session, queue=queue) == 1  # the worker's minute tick sends it


def test_scores_page_shows_intervals_verdicts_and_the_planner(client, session, make_user):
    from app.auth.service import principal_of
    from app.evaluations import service as evaluations
    from app.evaluations.models import AnswerIn
    from tests.conftest import sign_in
    from tests.integration.evaluations_support import FULL_MARKS, load_small_form, make_interaction

    evaluator = make_user("evaluator", username="eve")
    steady, newcomer = make_user("agent", username="steady"), make_user("agent", username="newcomer")
    scorecard_id = load_small_form(session)
    for agent, count in ((steady, 4), (newcomer, 1)):
        for _ in range(count):
            interaction = make_interaction(session, agent_id=agent.id)
            draft = evaluations.create(session=session, principal=principal_of(evaluator),
                                       interaction_id=interaction.id, scorecard_id=scorecard_id)
            evaluations.submit(session=session, principal=principal_of(evaluator), evaluation_id=draft.id,
                               answers=[AnswerIn(**a) for a in FULL_MARKS])
    sign_in(client, "eve")
    page = client.get("/scores?group_by=agent&target=80").text
    assert "not enough evaluations to say" in page  # the newcomer's single evaluation
    assert "above target" in page  # four full-mark evaluations: the whole interval is above 80
    sign_in(client, "newcomer")
    own = client.get("/scores").text
    assert "Newcomer" in own and "Steady" not in own  # agents see only their own scores


def test_sampling_page_shows_the_planner(client, make_user):
    from tests.conftest import sign_in

    make_user("admin", username="boss")
    sign_in(client, "boss")
    assert "Sample-size planner" in client.get("/evaluations/sampling").text


def test_sampling_rule_is_set_from_the_planner(client, session, make_user):
    from sqlmodel import select

    from app.auth.service import principal_of
    from app.core import stats
    from app.core.models import AuditEvent
    from app.evaluations import sampling
    from app.evaluations import service as evaluations
    from app.evaluations.models import AnswerIn, Evaluation, SamplingRuleCreate
    from tests.conftest import sign_in
    from tests.integration.evaluations_support import FULL_MARKS, load_small_form, make_interaction

    boss, evaluator, agent = make_user("admin", username="boss"), make_user("evaluator"), make_user("agent")
    scorecard_id = load_small_form(session)
    for _ in range(5):
        draft = evaluations.create(session=session, principal=principal_of(evaluator), scorecard_id=scorecard_id,
                                   interaction_id=make_interaction(session, agent_id=agent.id).id)
        evaluations.submit(session=session, principal=principal_of(evaluator), evaluation_id=draft.id,
                           answers=[AnswerIn(**a) for a in FULL_MARKS])
    for row, score in zip(session.exec(select(Evaluation)).all(), (60.0, 80.0, 100.0, 70.0, 90.0), strict=True):
        row.score = score  # sd 15.8 points
    session.commit()
    rule = sampling.create_rule(session=session, principal=principal_of(boss), data=SamplingRuleCreate(
        name="weekly calls", per_agent=2, evaluator_ids=[evaluator.id]))
    wanted = stats.plan_sample_size(sd=15.81, margin=10.0).per_agent
    assert 2 < wanted < stats.plan_sample_size(sd=15.81, margin=5.0).per_agent  # wider margin, fewer needed
    sign_in(client, "boss")
    page = client.get("/evaluations/sampling?margin=10").text
    assert f"<strong>{wanted} evaluations per agent per period</strong> give ±10.0 points" in page
    assert f'name="per_agent" type="number" min="1" value="{wanted}"' in page  # new rules start from it
    assert f"Raise to {wanted}" in page
    raised = client.post(f"/evaluations/sampling/{rule.id}/per-agent", data={"per_agent": str(wanted)},
                         follow_redirects=False)
    assert raised.status_code == 303
    session.expire_all()
    assert sampling.get_rule(session=session, rule_id=rule.id).per_agent == wanted
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "sampling_rule.update")).one()
    assert event.before == {"per_agent": 2} and event.after == {"per_agent": wanted}
    assert "Raise to" not in client.get("/evaluations/sampling?margin=10").text
