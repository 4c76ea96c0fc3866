"""The seams between features: what one feature writes, the next one picks up."""

from datetime import timedelta

from sqlmodel import select

from app.core.timeutil import utcnow
from app.ingest import service as ingest
from app.social.models import SocialThreadState


def test_an_imported_social_post_starts_its_care_clock(session):
    posted = utcnow() - timedelta(minutes=10)
    report = ingest.import_social(session=session, source="twitter", records=[(1, {
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
