"""Survey imports: CSV with column mapping and bad rows by line, idempotent re-import, CSAT/NPS bands,
linking by id, by window, unlinked with the reason and linked by hand, and the signed webhook."""

import json

import pytest
from sqlmodel import select

from app.core.errors import InvalidInput, Unauthorized
from app.core.hooks import SURVEY_ANSWERS_CHANGED, UnhandledHook
from app.core.models import AuditEvent
from app.reviews.models import ReviewCase
from app.surveys import service
from app.surveys.imports import import_csv, ingest_webhook, sign
from app.surveys.models import LinkStatus, SurveyResponse, SurveyResponseInteraction
from tests.fixtures.surveys.support import make_customer, make_interaction, read


@pytest.fixture
def world(session, make_user):
    ada = make_user("agent", username="ada", team="Billing", site="Downtown shop")
    ben = make_user("agent", username="ben", team="Billing", site="Riverside shop")
    maria = make_customer(session, "Maria Lopez", email="maria.lopez@example.com", phone="+447700900123")
    call = make_interaction(session, "call-001", "2026-11-02T09:00:00", customer=maria, agent_id=ada.id)
    chat = make_interaction(session, "chat-007", "2026-11-01T15:00:00", channel="chat", customer=maria,
                            agent_id=ben.id)
    old = make_interaction(session, "call-000", "2026-10-20T09:00:00", customer=maria, agent_id=ada.id)
    source = service.create_source(session=session, name="demo", actor=None)
    return {"ada": ada, "ben": ben, "maria": maria, "call": call, "chat": chat, "old": old, "source": source}


def _by_id(session, source, response_id):
    return session.exec(select(SurveyResponse).where(SurveyResponse.source_id == source.id,
                                                     SurveyResponse.response_id == response_id)).one()


def test_csv_import_reports_bad_rows_by_line_and_keeps_good_ones(session, world):
    report = import_csv(session=session, source=world["source"], text=read("basic.csv"), actor=None)
    assert (report.created, report.updated, report.unchanged) == (6, 0, 0)
    rejected = {(p.line, p.response_id): p.reason for p in report.rejected}
    assert set(rejected) == {(5, "r4"), (8, "r6"), (10, None)}
    assert "unknown rating 'terrible'" in rejected[(5, "r4")]
    assert "outside the CSAT scale" in rejected[(8, "r6")]
    assert "response_id is missing" in rejected[(10, None)]
    r5 = _by_id(session, world["source"], "r5")
    assert (r5.band, r5.raw_score, r5.scale, r5.customer_phone) == ("good", 4.0, "csat", "+447700900999")
    assert r5.comment == "Quick, and\npolite"
    r8 = _by_id(session, world["source"], "r8")
    assert (r8.band, r8.scale) == ("acceptable", "csat")
    r3 = _by_id(session, world["source"], "r3")
    assert r3.responded_at is None and r3.band is None and r3.link_status == LinkStatus.NOT_ANSWERED
    assert report.cases_opened == 2  # r2 and r7 are bad


def test_the_named_agent_gives_team_and_shop_and_a_named_shop_wins(session, world):
    """The agent column sets the response's agent, team and shop; a shop the row names (and Earshot knows)
    replaces the agent's shop; an unknown agent or shop sets nothing."""
    text = ("response_id,responded_at,agent,shop,rating\n"
            "s1,2026-11-02T12:00:00+00:00,ada,,good\n"
            "s2,2026-11-02T12:00:00+00:00,ada,Riverside shop,good\n"
            "s3,2026-11-02T12:00:00+00:00,ada,Nowhere shop,good\n"
            "s4,2026-11-02T12:00:00+00:00,nobody,Riverside shop,good\n"
            "s5,2026-11-02T12:00:00+00:00,nobody,,good\n")
    assert import_csv(session=session, source=world["source"], text=text, actor=None).created == 5
    ada, ben = world["ada"], world["ben"]
    people = {rid: (r.agent_id, r.team_id, r.site_id) for rid in ("s1", "s2", "s3", "s4", "s5")
              for r in [_by_id(session, world["source"], rid)]}
    assert people == {"s1": (ada.id, ada.team_id, ada.site_id), "s2": (ada.id, ada.team_id, ben.site_id),
                      "s3": (ada.id, ada.team_id, ada.site_id), "s4": (None, None, ben.site_id),
                      "s5": (None, None, None)}


def test_reimport_is_idempotent_and_changes_are_updates(session, world):
    text = read("basic.csv")
    import_csv(session=session, source=world["source"], text=text, actor=None)
    again = import_csv(session=session, source=world["source"], text=text, actor=None)
    assert (again.created, again.updated, again.unchanged, again.cases_opened) == (0, 0, 6, 0)
    changed = import_csv(session=session, source=world["source"],
                         text=text.replace("Lovely service", "Lovely service indeed"), actor=None)
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 5)
    assert len(session.exec(select(ReviewCase)).all()) == 2


def test_linking_by_named_interaction_by_window_and_unlinked(session, world):
    import_csv(session=session, source=world["source"], text=read("basic.csv"), actor=None)
    r1 = _by_id(session, world["source"], "r1")
    assert r1.link_status == LinkStatus.LINKED and r1.interaction_id == world["call"].id
    assert r1.customer_id == world["maria"].id
    r2 = _by_id(session, world["source"], "r2")  # Maria by e-mail (mixed case), contacts in the 72 h window
    assert r2.link_status == LinkStatus.LINKED and r2.customer_id == world["maria"].id
    links = set(session.exec(select(SurveyResponseInteraction.interaction_id).where(
        SurveyResponseInteraction.response_id == r2.id)).all())
    assert links == {world["call"].id, world["chat"].id}  # not the call of 20 October
    assert r2.interaction_id == world["call"].id  # the latest before the survey
    assert r2.agent_id == world["ada"].id and r2.channel == "call"
    r7 = _by_id(session, world["source"], "r7")
    assert r7.link_status == LinkStatus.UNLINKED and r7.link_reason == "no customer with this phone or e-mail"
    r5 = _by_id(session, world["source"], "r5")
    assert r5.link_status == LinkStatus.UNLINKED


def test_window_is_configurable(session, world):
    service.update_source(session=session, source_id=world["source"].id, actor=None, link_window_hours=12)
    import_csv(session=session, source=world["source"], text=read("basic.csv"), actor=None)
    r2 = _by_id(session, world["source"], "r2")
    assert r2.link_status == LinkStatus.UNLINKED
    assert "no interaction in the 12 h before the survey" in (r2.link_reason or "")


def test_manual_link_is_audited_and_kept_on_reimport(session, world, make_user):
    admin = make_user("admin")
    from app.auth.service import principal_of

    import_csv(session=session, source=world["source"], text=read("basic.csv"), actor=None)
    r7 = _by_id(session, world["source"], "r7")
    service.link_response_manually(session=session, response_id=r7.id, interaction_id=world["old"].id,
                                   actor=principal_of(admin), reason="customer phoned about it")
    assert r7.link_status == LinkStatus.MANUAL and r7.interaction_id == world["old"].id
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "survey_response.link")).one()
    assert event.record_id == str(r7.id) and event.reason == "customer phoned about it"
    import_csv(session=session, source=world["source"], text=read("basic.csv").replace(
        "Rude agent in the shop", "Rude agent"), actor=None)
    assert r7.link_status == LinkStatus.MANUAL


def test_column_mapping_and_nps_rule(session, world):
    source = service.create_source(session=session, name="pulse", actor=None, column_mapping={
        "response_id": "Survey ID", "invited_at": "Sent", "responded_at": "Answered", "customer_email": "Email",
        "score": "NPS", "comment": "Remarks"}, rating_rule={"default_scale": "nps"})
    text = read("mapped.csv").replace(";", ",")
    report = import_csv(session=session, source=source, text=text, actor=None)
    assert report.created == 3 and not report.rejected
    bands = {r.response_id: r.band for r in session.exec(select(SurveyResponse).where(
        SurveyResponse.source_id == source.id)).all()}
    assert bands == {"m1": "good", "m2": "acceptable", "m3": "bad"}
    with pytest.raises(InvalidInput):
        import_csv(session=session, source=source, text="id,x\n1,2\n", actor=None)


def test_webhook_signature_and_replay(session, world):
    source = world["source"]
    body = json.dumps({"response_id": "w1", "invited_at": "2026-11-02T10:00:00+00:00",
                       "responded_at": "2026-11-02T12:00:00+00:00", "customer_phone": "+44 7700 900123",
                       "score": 1, "comment": "awful"}).encode()
    with pytest.raises(Unauthorized):
        ingest_webhook(session=session, source_name="demo", body=body, signature="sha256=" + "0" * 64)
    with pytest.raises(Unauthorized):
        ingest_webhook(session=session, source_name="nope", body=body, signature="x")
    assert session.exec(select(SurveyResponse)).all() == []
    signature = sign(source.webhook_secret, body)
    first = ingest_webhook(session=session, source_name="demo", body=body, signature=signature)
    assert first.created == 1 and first.cases_opened == 1
    replay = ingest_webhook(session=session, source_name="demo", body=body, signature=signature)
    assert (replay.created, replay.updated, replay.unchanged, replay.cases_opened) == (0, 0, 1, 0)
    stored = session.exec(select(SurveyResponse)).one()
    assert stored.band == "bad" and stored.customer_id == world["maria"].id  # found by phone
    assert len(session.exec(select(ReviewCase)).all()) == 1


def test_relink_after_the_interactions_arrive(session, world):
    import_csv(session=session, source=world["source"], text=read("basic.csv"), actor=None)
    r7 = _by_id(session, world["source"], "r7")
    assert r7.link_status == LinkStatus.UNLINKED
    nobody = make_customer(session, "No Body", email="nobody@example.com")
    call = make_interaction(session, "call-099", "2026-11-06T08:00:00", customer=nobody)
    assert service.relink_unlinked(session=session) == 1
    assert r7.link_status == LinkStatus.LINKED and r7.interaction_id == call.id
    from app.reviews.models import ReviewCaseInteraction

    case = session.exec(select(ReviewCase).where(ReviewCase.survey_response_id == r7.id)).one()
    assert session.exec(select(ReviewCaseInteraction).where(ReviewCaseInteraction.case_id == case.id)).one()
    assert case.customer_id == nobody.id


def test_a_bad_rating_never_skips_its_review_case(session, world):
    """Reviews opens the case through a core hook: with its handler missing the import fails loudly, it does
    not report the answers stored and the cases silently not opened (its transaction is rolled back)."""
    session.commit()
    with SURVEY_ANSWERS_CHANGED.handled_by(), pytest.raises(UnhandledHook, match="survey_answers_changed"):
        import_csv(session=session, source=world["source"], text=read("basic.csv"), actor=None)
    session.rollback()
    assert session.exec(select(ReviewCase)).all() == []
    report = import_csv(session=session, source=world["source"], text=read("basic.csv"), actor=None)
    assert report.cases_opened == 2 and len(session.exec(select(ReviewCase)).all()) == 2
