"""The canary walk: known personal data (a Luhn-valid card, a date of birth, a UK postcode, a phone number and a
full name) is seeded into a call transcript, a chat, an e-mail (its text and its subject), a help-desk ticket's
subject (imported through the Zendesk connector) and a social thread — with analytics quoting them, an evaluation of the chat and a review case in a meeting with its PDF pack — and then every GET route of
the access matrix (tests/access_matrix) is walked as every role, as HTML, JSON, CSV and PDF (text extracted
with pdftotext). A canary anywhere fails the test; the only place one may appear is the audited original
view of a role in EARSHOT_UNREDACTED_ROLES, which is checked too (so the canaries really are in the data).

The route list IS the access matrix: a new route gets a row there (test_access_matrix fails without one) and is
walked here from then on.
"""

import json
import re
import subprocess
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from app.auth.service import principal_of
from app.connectors import helpdesk, webhooks
from app.connectors.common import import_interactions
from app.connectors.models import WebhookDelivery
from app.core.models import AuditEvent
from app.evaluations import service as evaluations
from app.evaluations.models import AnswerIn, Evidence
from app.interactions import customers
from app.interactions import service as interactions
from app.interactions.models import Interaction, Message, Segment
from app.nlp import service as nlp
from app.reviews import pack
from app.reviews import service as reviews
from app.reviews.meetings import create_meeting
from app.reviews.models import MeetingCreate
from app.social import service as social
from app.social.threads import Post, record_thread
from app.speech.redaction import redact_text as redact_transcript_line
from app.surveys import service as surveys
from app.surveys.models import SurveyResponse
from tests.access_matrix import ROLES
from tests.conftest import sign_in
from tests.integration.evaluations_support import load_small_form
from tests.integration.test_access_matrix import RULES

pytestmark = pytest.mark.integration

CARD, DOB, POSTCODE, PHONE, FIRST, LAST = "4929 1234 5678 9015", "14/03/1988", "SW1A 2AA", "07700 900461", \
    "Philippa", "Quenby"
SAID = (f"Hi, my name is {FIRST} {LAST} and my card number is {CARD}. My date of birth is {DOB}, "
        f"postcode {POSTCODE}, call me on {PHONE}. The router is broken.")
# subjects carry the canaries too: an e-mail's (on the interaction and on its message) and a ticket's. (The
# detector finds names in subjects by the language model or a cue such as "Mrs"; "Refund for Philippa Quenby"
# alone is missed — a limit of the detector, not of the paths walked here.)
EMAIL_SUBJECT = f"Router fault, {FIRST} {LAST}, date of birth {DOB}, call me on {PHONE}"
TICKET_SUBJECT = f"Refund to card {CARD} for Mrs {FIRST} {LAST}, postcode {POSTCODE}"
NEEDLES = [CARD, CARD.replace(" ", ""), DOB, POSTCODE, POSTCODE.replace(" ", ""), PHONE, PHONE.replace(" ", ""),
           FIRST, LAST]
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
ANALYTICS_RULES = {"greeting": {"type": "phrase", "category": "greeting"},
                   "empathy": {"type": "empathy_after_negative", "within_seconds": 600}}


def leaks(text: str) -> list[str]:
    flat = re.sub(r"\s+", " ", text)
    return [needle for needle in NEEDLES if needle in flat or needle in text]


def _body_text(response) -> str:
    if response.headers.get("content-type", "").startswith("application/pdf"):
        done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=response.content, capture_output=True,
                              check=True, timeout=60)
        return done.stdout.decode("utf-8", "replace")
    return response.text


@pytest.fixture
def world(session, make_user, settings, tmp_path):
    """The canaries in every channel, with analytics, an evaluation, a review case and a meeting pack."""
    # an outbound webhook endpoint subscribed to every event: its stored payloads are checked too
    endpoint = webhooks.create_endpoint(session=session, actor=None, data=webhooks.EndpointIn(
        url="https://hooks.example.com/earshot", event_types=["*"]))
    ada = make_user("agent", username="c_agent", team="Billing")
    make_user("coach", username="c_coach", team="Billing")
    evaluator = make_user("evaluator", username="c_evaluator")
    make_user("admin", username="c_admin")
    executive = make_user("executive", username="c_executive")
    customer = customers.resolve_customer(session=session, display_name="Canary Customer", identities=[
        customers.normalise_identity("email", "canary.customer@example.com")])
    assert customer is not None and customer.id is not None
    ids: dict[str, int] = {}
    for channel, count in (("call", 0), ("chat", 2), ("email", 1)):
        interaction, _ = interactions.upsert_interaction(session=session, data=interactions.InteractionData(
            source="canary", external_id=f"canary-{channel}", channel=channel, started_at=T0, agent_id=ada.id,
            customer_id=customer.id, subject=EMAIL_SUBJECT if channel == "email" else None,
            duration_seconds=30.0 if channel == "call" else None,
            messages=[interactions.MessageData(external_id=f"{channel}-{n}", author_role=role, agent_id=agent,
                                               sent_at=T0 + timedelta(seconds=n), text=text,
                                               subject=EMAIL_SUBJECT if channel == "email" else None)
                      for n, (role, agent, text) in enumerate([("customer", None, SAID),
                                                               ("agent", ada.id, "Sorry to hear that, let me help.")])
                      if n < count]))
        assert interaction.id is not None
        ids[channel] = interaction.id
    for seq, (speaker, text) in enumerate([("agent", "Thank you for calling, how can I help?"), ("customer", SAID),
                                           ("agent", f"Thanks, so that is {CARD}, I am sorry about that.")]):
        # stored as the speech pipeline stores a line: the text and its redaction side by side
        session.add(Segment(interaction_id=ids["call"], seq=seq, speaker=speaker, start=seq * 5.0,
                            end=seq * 5.0 + 4.0, text=text, redacted_text=redact_transcript_line(text)))
    ids["ticket"] = _zendesk_ticket(session, settings, tmp_path, agent=ada)
    thread = record_thread(session=session, platform="twitter", source="canary", customer_id=customer.id, posts=[
        Post(post_id="canary-root", author_role="customer", text="The router is broken again", sent_at=T0,
             author_handle="@canary"),
        Post(post_id="canary-dm", author_role="customer", text=SAID, sent_at=T0 + timedelta(minutes=5),
             author_handle="@canary", is_public=False, parent_id="canary-root")])
    assert thread.id is not None
    ids["social"] = thread.id
    social.refresh_thread(session=session, interaction_id=thread.id, now=T0 + timedelta(hours=1))
    session.commit()
    for interaction_id in ids.values():
        interactions.sync_interaction(session=session, interaction_id=interaction_id)
        nlp.analyze_interaction(session=session, interaction_id=interaction_id, rules=ANALYTICS_RULES,
                                metrics={"hold_seconds": 0.0})
    # an evaluation of the chat, its evidence pointing at the canary message
    scorecard_id = load_small_form(session)
    reviewer = principal_of(evaluator)
    evaluation = evaluations.create(session=session, principal=reviewer, interaction_id=ids["chat"],
                                    scorecard_id=scorecard_id)
    canary_message = session.exec(select(Message).where(Message.interaction_id == ids["chat"],
                                                        Message.author_role == "customer")).one()
    evaluations.submit(session=session, principal=reviewer, evaluation_id=evaluation.id, answers=[
        AnswerIn(question_id="greeted", value=True, evidence=[Evidence(message_id=canary_message.id)]),
        AnswerIn(question_id="tone", value=4, evidence=[Evidence(start=5.0, end=9.0)]),
        AnswerIn(question_id="resolved", value=True), AnswerIn(question_id="verified", value=True)])
    # a bad survey answer → a review case whose story is these interactions → a meeting with its PDF pack
    source = surveys.create_source(session=session, name="canary-survey", actor=None)
    response = SurveyResponse(source_id=source.id, response_id="canary-1", responded_at=T0 + timedelta(hours=2),
                              customer_id=customer.id, interaction_id=ids["chat"], channel="chat", agent_id=ada.id,
                              band="bad", raw_score=1, comment="Still broken", content_hash="canary-1",
                              link_status="linked")
    session.add(response)
    session.flush()
    assert reviews.open_cases_for_responses(session=session, response_ids=[response.id]) == 1
    case = reviews.list_cases(session=session, principal=principal_of(executive))[0]
    meeting = create_meeting(session=session, actor=principal_of(executive), data=MeetingCreate(
        period=T0.strftime("%Y-%m"), held_on=date.today(), case_ids=[case.id]))
    session.commit()
    pack.build_and_store(session=session, meeting_id=meeting.id, settings=settings)
    return {"ids": ids, "customer_id": customer.id, "evaluation_id": evaluation.id, "case_id": case.id,
            "meeting_id": meeting.id, "agent_id": ada.id, "endpoint_id": endpoint.id}


def _zendesk_ticket(session, settings, tmp_path, *, agent) -> int:
    """A help-desk ticket with the canaries in its subject only, imported as the Zendesk connector imports one."""
    agent.email = "c_agent@acme.test"
    session.add(agent)
    session.flush()
    export = tmp_path / "tickets.json"
    export.write_text(json.dumps({"tickets": [{
        "id": 4711, "subject": TICKET_SUBJECT, "created_at": T0.isoformat(), "requester_id": 1, "assignee_id": 2,
        "status": "open", "via": {"channel": "email"}, "comments": [
            {"id": 1, "author_id": 1, "body": "The router is broken again.", "public": True,
             "created_at": T0.isoformat()},
            {"id": 2, "author_id": 2, "body": "Sorry to hear that, a refund is on its way.", "public": True,
             "created_at": (T0 + timedelta(minutes=3)).isoformat()}]}],
        "users": [{"id": 1, "name": "Canary Customer", "email": "canary.customer@example.com", "role": "end-user"},
                  {"id": 2, "name": "Ada Agent", "email": "c_agent@acme.test", "role": "agent"}]}))
    report = import_interactions(session=session, settings=settings, source="zendesk",
                                 records=helpdesk.read_zendesk(session, export))
    assert report.created == 1, report
    ticket = session.exec(select(Interaction).where(Interaction.source == "zendesk")).one()
    assert ticket.subject == TICKET_SUBJECT and ticket.agent_id == agent.id
    assert ticket.id is not None
    return ticket.id


QUERIES = {"/search": {"q": "router"}, "/api/search": {"q": "router"}}


def _requests(rule, world):
    """The concrete requests for one GET rule: every seeded interaction for {interaction_id}, the seeded record
    for other ids (999999 when none was seeded), plus the CSV export of every page."""
    known = {"customer_id": world["customer_id"], "evaluation_id": world["evaluation_id"],
             "case_id": world["case_id"], "meeting_id": world["meeting_id"], "agent_id": world["agent_id"],
             "endpoint_id": world["endpoint_id"]}
    interaction_ids = list(world["ids"].values()) if "{interaction_id}" in rule.path else [None]
    for interaction_id in interaction_ids:
        params = {**known, **rule.path_params, "interaction_id": interaction_id}
        path = re.sub(r"\{(\w+)(:\w+)?\}", lambda m: str(params.get(m.group(1)) or 999999), rule.path)
        query = dict(QUERIES.get(rule.path, {}))
        yield path, query, rule.page
        if rule.page:
            yield path, {**query, "format": "csv"}, True


def test_no_canary_on_any_route_for_any_role(client, session, world):
    """One seeded world per backend (seeding runs the language model and renders a PDF): the walk, then the
    positive control."""
    get_rules = [r for r in RULES if r.method == "GET" and not r.path.startswith(("/healthz", "/readyz"))]
    assert len(get_rules) > 60  # the walk really covers the matrix
    failures, walked, pdfs = [], 0, 0
    for role in ROLES:
        sign_in(client, f"c_{role}")
        for rule in get_rules:
            for path, query, page in _requests(rule, world):
                response = client.get(path, params=query, follow_redirects=False,
                                      headers={"accept": "text/html" if page else "application/json"})
                walked += 1
                if response.status_code >= 500:
                    failures.append(f"{role} {path} {query}: HTTP {response.status_code}")
                    continue
                text = _body_text(response)
                pdfs += response.headers.get("content-type", "").startswith("application/pdf")
                found = leaks(text)
                if found:
                    failures.append(f"{role} {path} {query}: {', '.join(found)}")
    assert pdfs >= 2, "the PDFs (agent summary, meeting pack) were not reached"
    assert not failures, f"personal data leaked on {len(failures)} of {walked} responses:\n" + "\n".join(failures)
    deliveries = session.exec(select(WebhookDelivery)).all()
    assert deliveries, "no webhook payload was published (evaluation.submitted, review_case.opened)"
    assert not [d.event_type for d in deliveries if leaks(json.dumps(d.payload))], "a webhook payload leaks"
    _original_view_shows_the_canaries_to_allowed_roles_only(client, session, world)


def _original_view_shows_the_canaries_to_allowed_roles_only(client, session, world) -> None:
    """The positive control: the canaries are in the data, and only the audited original view shows them."""
    chat, call = world["ids"]["chat"], world["ids"]["call"]
    sign_in(client, "c_agent")
    assert client.get(f"/api/interactions/{chat}", params={"view": "original"}).status_code == 403
    sign_in(client, "c_admin")
    before = len(session.exec(select(AuditEvent).where(AuditEvent.record_id == str(chat))).all())
    original = client.get(f"/api/interactions/{chat}", params={"view": "original"})
    assert original.status_code == 200 and set(leaks(original.text)) >= {CARD, DOB, POSTCODE, PHONE, LAST}
    after = session.exec(select(AuditEvent).where(AuditEvent.record_id == str(chat))).all()
    assert len(after) == before + 1 and after[-1].action == "interaction.view_original"
    page = client.get(f"/interactions/{call}", params={"view": "original"}, headers={"accept": "text/html"})
    assert page.status_code == 200 and CARD in page.text
    # the subjects: stored in clear, shown only in the original view
    email, ticket = world["ids"]["email"], world["ids"]["ticket"]
    shown = client.get(f"/api/interactions/{email}", params={"view": "original"}).json()
    assert shown["subject"] == EMAIL_SUBJECT and shown["messages"][0]["subject"] == EMAIL_SUBJECT
    page = client.get(f"/interactions/{ticket}", params={"view": "original"}, headers={"accept": "text/html"})
    assert page.status_code == 200 and CARD in page.text and POSTCODE in page.text
    redacted = client.get(f"/api/interactions/{ticket}").json()["subject"]
    assert "[CARD]" in redacted and not leaks(redacted)
