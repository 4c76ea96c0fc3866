"""A survey naming an interaction links to exactly that interaction, or to nothing (with what was looked up);
only a survey naming none is linked by the customer's phone or e-mail in the window. Every link says how it
was made, and the review case shows it. The wrong-agent trap: a rating of one agent's call never lands on
another agent's ticket."""

import pytest
from sqlmodel import select

from app.reviews.models import ReviewCase
from app.surveys import service
from app.surveys.imports import import_csv
from app.surveys.models import LinkMethod, LinkStatus, SurveyResponse, SurveyResponseInteraction
from tests.conftest import sign_in
from tests.fixtures.surveys.support import make_customer, make_interaction

HEADER = "response_id,invited_at,responded_at,customer_email,customer_phone,interaction_external_id,rating,comment\n"


@pytest.fixture
def two_agents(session, make_user):
    ada = make_user("agent", username="ada", team="Billing")
    ben = make_user("agent", username="ben", team="Billing")
    make_user("evaluator", username="eva")
    maria = make_customer(session, "Maria Lopez", email="maria.lopez@example.com", phone="+12025550143")
    ada_call = make_interaction(session, "T-100", "2026-11-02T09:00:00", customer=maria, agent_id=ada.id,
                                source="genesys")
    # ben's ticket comes later, so the window would pick it as the latest contact before the survey
    ben_ticket = make_interaction(session, "T-200", "2026-11-02T10:00:00", channel="email", customer=maria,
                                  agent_id=ben.id, source="zendesk")
    make_interaction(session, "dup-1", "2026-11-02T08:00:00", customer=maria, agent_id=ada.id, source="genesys")
    make_interaction(session, "dup-1", "2026-11-02T08:30:00", customer=maria, agent_id=ben.id, source="zendesk")
    return {"ada": ada, "ben": ben, "maria": maria, "ada_call": ada_call, "ben_ticket": ben_ticket}


def _response(session, source, response_id) -> SurveyResponse:
    return session.exec(select(SurveyResponse).where(SurveyResponse.source_id == source.id,
                                                     SurveyResponse.response_id == response_id)).one()


def _links(session, response) -> set[int]:
    return set(session.exec(select(SurveyResponseInteraction.interaction_id).where(
        SurveyResponseInteraction.response_id == response.id)).all())


def test_a_rating_naming_one_agents_call_never_lands_on_the_other_agents_ticket(session, two_agents):
    mapping = {"response_id": "ResponseId", "invited_at": "StartDate", "responded_at": "RecordedDate",
               "customer_email": "RecipientEmail", "interaction_external_id": "ExternalReference",
               "interaction_source": "=genesys", "rating": "rating", "comment": "comment"}
    source = service.create_source(session=session, name="qualtrics", actor=None, column_mapping=mapping)
    text = ("ResponseId,StartDate,RecordedDate,RecipientEmail,ExternalReference,rating,comment\n"
            "q1,2026-11-02T11:00:00Z,2026-11-02T12:00:00Z,maria.lopez@example.com,T-100,bad,Agent was rude\n"
            "q2,2026-11-02T11:00:00Z,2026-11-02T12:00:00Z,maria.lopez@example.com,T-200,bad,wrong source\n")
    report = import_csv(session=session, source=source, text=text, actor=None)
    assert report.rejected == []
    q1 = _response(session, source, "q1")
    assert q1.interaction_id == two_agents["ada_call"].id and q1.agent_id == two_agents["ada"].id
    assert _links(session, q1) == {two_agents["ada_call"].id}
    assert q1.link_method == LinkMethod.NAMED_ID
    # T-200 is ben's ticket in zendesk, not a genesys call: no genesys:T-200 exists, so nothing is linked
    q2 = _response(session, source, "q2")
    assert q2.link_status == LinkStatus.UNLINKED and q2.interaction_id is None and q2.agent_id is None
    assert q2.link_reason == "named interaction genesys:T-200 not found"
    assert _links(session, q2) == set()


def test_a_named_id_is_found_in_its_own_source_when_unique_and_never_guessed(session, two_agents):
    source = service.create_source(session=session, name="plain", actor=None)
    text = HEADER + ("n1,,2026-11-02T12:00:00Z,maria.lopez@example.com,,T-100,bad,unique id\n"
                     "n2,,2026-11-02T12:00:00Z,maria.lopez@example.com,,dup-1,bad,two sources\n"
                     "n3,,2026-11-02T12:00:00Z,maria.lopez@example.com,,T-999,bad,nothing\n")
    import_csv(session=session, source=source, text=text, actor=None)
    n1 = _response(session, source, "n1")
    assert (n1.interaction_id, n1.link_method) == (two_agents["ada_call"].id, LinkMethod.NAMED_ID)
    n2 = _response(session, source, "n2")
    assert n2.link_status == LinkStatus.UNLINKED and "several sources (genesys, zendesk)" in (n2.link_reason or "")
    n3 = _response(session, source, "n3")
    assert n3.link_status == LinkStatus.UNLINKED
    assert n3.link_reason == "named interaction T-999 not found in any source"
    assert _links(session, n2) == _links(session, n3) == set()


def test_window_links_say_whether_the_phone_or_the_email_found_the_customer(session, two_agents):
    source = service.create_source(session=session, name="window", actor=None)
    text = HEADER + ("w1,,2026-11-02T12:00:00Z,Maria.Lopez@Example.com,,,good,\n"
                     "w2,,2026-11-02T12:00:00Z,,(202) 555-0143,,good,\n")
    report = import_csv(session=session, source=source, text=text, actor=None, region="US")
    assert report.rejected == []
    w1, w2 = _response(session, source, "w1"), _response(session, source, "w2")
    assert w1.link_method == LinkMethod.EMAIL_WINDOW
    assert w2.customer_phone == "+12025550143" and w2.link_method == LinkMethod.PHONE_WINDOW
    assert w2.interaction_id == two_agents["ben_ticket"].id  # the latest contact before the survey


def test_the_review_case_shows_how_its_survey_was_linked(client, session, two_agents):
    source = service.create_source(session=session, name="cases", actor=None)
    text = HEADER + ("c1,,2026-11-02T12:00:00Z,,,T-100,bad,named\n"
                     "c2,,2026-11-02T12:00:00Z,maria.lopez@example.com,,T-999,bad,missing\n")
    import_csv(session=session, source=source, text=text, actor=None)
    session.commit()
    case_of = {session.get(SurveyResponse, c.survey_response_id).response_id: c.id
               for c in session.exec(select(ReviewCase)).all()}
    sign_in(client, "eva")
    named = client.get(f"/reviews/cases/{case_of['c1']}", headers={"accept": "text/html"})
    assert named.status_code == 200 and "Linked by the interaction id the survey names." in named.text
    missing = client.get(f"/reviews/cases/{case_of['c2']}", headers={"accept": "text/html"}).text
    assert "Not linked to an interaction: named interaction T-999 not found in any source." in missing
