"""Review cases: exactly one per bad response, the customer's story, the state machine, decisions and actions
(audited), the retraining hook, meetings in order, and who may see what."""

from datetime import date

import pytest
from sqlmodel import select

from app.auth.service import principal_of
from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.core.models import AuditEvent
from app.reviews import service
from app.reviews.actions import (
    add_action,
    mark_retraining_assigned,
    retraining_actions_without_assignment,
    update_action,
)
from app.reviews.meetings import add_ready_cases, create_meeting, meeting_cases
from app.reviews.models import ActionCreate, ActionUpdate, ConfigUpdate, MeetingCreate, ReviewCase
from app.surveys import service as surveys
from app.surveys.imports import import_csv
from tests.conftest import sign_in
from tests.fixtures.surveys.support import make_customer, make_interaction, read


@pytest.fixture
def world(session, make_user):
    ada = make_user("agent", username="ada", team="Billing", site="Downtown shop")
    ben = make_user("agent", username="ben", team="Billing", site="Riverside shop")
    cara = make_user("agent", username="cara", team="Technical", site="Downtown shop")
    maria = make_customer(session, "Maria Lopez", email="maria.lopez@example.com", phone="+447700900123")
    call = make_interaction(session, "call-001", "2026-11-02T09:00:00", customer=maria, agent_id=cara.id,
                            legs=[ada.id, ben.id, cara.id])
    chat = make_interaction(session, "chat-007", "2026-11-01T15:00:00", channel="chat", customer=maria,
                            agent_id=ben.id)
    tweet = make_interaction(session, "tw-1", "2026-11-03T18:00:00", channel="social", customer=maria)
    source = surveys.create_source(session=session, name="demo", actor=None)
    report = import_csv(session=session, source=source, text=read("basic.csv"), actor=None)
    executive, evaluator = make_user("executive", username="erin"), make_user("evaluator", username="eva")
    cases = {session.get(surveys.SurveyResponse, c.survey_response_id).response_id: c
             for c in session.exec(select(ReviewCase)).all()}
    return {"ada": ada, "ben": ben, "cara": cara, "maria": maria, "call": call, "chat": chat, "tweet": tweet,
            "source": source, "report": report, "exec": principal_of(executive),
            "eva": principal_of(evaluator), "cases": cases}


def test_every_bad_response_opens_exactly_one_case(session, world):
    assert world["report"].cases_opened == 2
    assert set(world["cases"]) == {"r2", "r7"}
    text = read("basic.csv").replace("nobody called back", "nobody ever called back")
    again = import_csv(session=session, source=world["source"], text=text, actor=None)
    assert again.updated == 1 and again.cases_opened == 0
    assert len(session.exec(select(ReviewCase)).all()) == 2
    opened = session.exec(select(AuditEvent).where(AuditEvent.action == "review_case.open")).all()
    assert len(opened) == 2


def test_acceptable_answers_open_cases_when_configured(session, world):
    service.update_config(session=session, data=ConfigUpdate(open_for_bands=["bad", "acceptable"]),
                          actor=world["exec"])
    text = read("basic.csv").replace("r8,", "r9,")
    report = import_csv(session=session, source=world["source"], text=text, actor=None)
    assert report.created == 1 and report.cases_opened == 1


def test_all_answers_of_a_chosen_agent_open_cases(session, world):
    service.update_config(session=session, data=ConfigUpdate(open_for_agent_ids=[world["ben"].id]),
                          actor=world["exec"])
    text = read("basic.csv").replace("r5,", "r10,")  # r5 is a good CSAT 4 about ben
    report = import_csv(session=session, source=world["source"], text=text, actor=None)
    assert report.created == 1 and report.cases_opened == 1


def test_case_story_in_time_order_with_agents(session, world):
    story = service.case_story(session=session, case=world["cases"]["r2"])
    assert story.customer_name == "Maria Lopez"
    assert [i.interaction_id for i in story.items] == [world["chat"].id, world["call"].id, world["tweet"].id]
    assert story.channel_path == "chat → call → social"
    call_item = story.items[1]
    assert call_item.agents == ["Ada", "Ben", "Cara"] and call_item.transferred
    assert story.agents[:3] == ["Cara", "Ben", "Ada"] or set(story.agents) == {"Ada", "Ben", "Cara"}
    assert "broadband is still down" in (story.response.comment or "")
    # the tweet came after the survey: part of the story (window around), not of the survey's own links
    assert {i.reason for i in story.items} == {"survey", "window"}


def test_state_machine_and_decisions_are_audited(session, world):
    case = world["cases"]["r2"]
    with pytest.raises(Conflict):
        service.change_status(session=session, case=case, to="decided", actor=world["exec"])
    service.change_status(session=session, case=case, to="investigating", actor=world["eva"])
    service.update_findings(session=session, case=case, actor=world["eva"], staff_notes="Cara says the line test",
                            customer_notes="Maria: three contacts, no call back")
    service.change_status(session=session, case=case, to="ready_for_meeting", actor=world["eva"])
    with pytest.raises(Forbidden):
        service.record_decision(session=session, case=case, actor=world["eva"], root_cause="business flow")
    with pytest.raises(InvalidInput):
        service.record_decision(session=session, case=case, actor=world["exec"], root_cause="bad luck")
    service.record_decision(session=session, case=case, actor=world["exec"], root_cause="business flow",
                            secondary_causes=["staff knowledge"], decision="Call back within 24 h of a fault")
    assert case.status == "decided" and case.decided_at is not None
    with pytest.raises(Forbidden):
        service.change_status(session=session, case=case, to="closed", actor=world["eva"])
    service.change_status(session=session, case=case, to="closed", actor=world["exec"])
    with pytest.raises(Conflict):
        service.change_status(session=session, case=case, to="open", actor=world["exec"])
    actions = [e.action for e in session.exec(select(AuditEvent).where(
        AuditEvent.record_type == "review_case", AuditEvent.record_id == str(case.id))
        .order_by(AuditEvent.id)).all()]
    assert actions == ["review_case.open", "review_case.status", "review_case.findings", "review_case.status",
                       "review_case.decision", "review_case.status"]
    decision = session.exec(select(AuditEvent).where(AuditEvent.action == "review_case.decision")).one()
    assert decision.after["root_cause"] == "business flow" and decision.actor_name == "Erin"


def test_actions_and_the_retraining_hook(session, world):
    case = world["cases"]["r2"]
    with pytest.raises(InvalidInput):
        add_action(session=session, case=case, actor=world["exec"],
                   data=ActionCreate(kind="retrain_staff", agent_id=world["cara"].id))
    retrain = add_action(session=session, case=case, actor=world["exec"], data=ActionCreate(
        kind="retrain_staff", agent_id=world["cara"].id, topic="broadband fault call-backs",
        due_date=date(2026, 12, 15)))
    shop = add_action(session=session, case=case, actor=world["exec"], data=ActionCreate(
        kind="change_shop_process", site_id=world["ada"].site_id, description="Book engineer from the shop"))
    with pytest.raises(Forbidden):
        add_action(session=session, case=case, actor=world["eva"],
                   data=ActionCreate(kind="change_business_flow", description="x"))
    assert [a.id for a in retraining_actions_without_assignment(session=session)] == [retrain.id]
    mark_retraining_assigned(session=session, action_id=retrain.id, coaching_assignment_id=77, actor=None)
    assert retraining_actions_without_assignment(session=session) == []
    assert retrain.status == "in_progress"
    update_action(session=session, action=shop, actor=world["exec"],
                  data=ActionUpdate(status="done", outcome="Shop staff briefed"))
    events = [e.action for e in session.exec(select(AuditEvent).where(
        AuditEvent.record_type == "review_action")).all()]
    assert events.count("review_action.create") == 2 and "review_action.update" in events
    assert "review_action.assigned" in events


def test_meeting_agenda_in_order(session, world):
    r2, r7 = world["cases"]["r2"], world["cases"]["r7"]
    for case in (r7, r2):
        service.change_status(session=session, case=case, to="investigating", actor=world["eva"])
        service.change_status(session=session, case=case, to="ready_for_meeting", actor=world["eva"])
    default = create_meeting(session=session, actor=world["exec"], data=MeetingCreate(
        period="2026-11", held_on=date(2026, 12, 3), attendees=["Erin", "Alex"]))
    assert [c.id for c in meeting_cases(session=session, meeting_id=default.id)] == [r2.id, r7.id]
    with pytest.raises(Conflict, match="already has a meeting"):  # one meeting a month...
        create_meeting(session=session, actor=world["exec"], data=MeetingCreate(
            period="2026-11", held_on=date(2026, 12, 4)))
    chosen = create_meeting(session=session, actor=world["exec"], data=MeetingCreate(  # ...unless extra
        period="2026-11", held_on=date(2026, 12, 3), case_ids=[r7.id, r2.id], additional=True))
    assert [c.id for c in meeting_cases(session=session, meeting_id=chosen.id)] == [r7.id, r2.id]
    late = create_meeting(session=session, actor=world["exec"], data=MeetingCreate(
        period="2026-11", held_on=date(2026, 12, 3), case_ids=[r7.id], additional=True))
    assert add_ready_cases(session=session, meeting=late, actor=world["exec"]) == 1
    assert add_ready_cases(session=session, meeting=late, actor=world["exec"]) == 0
    assert [c.id for c in meeting_cases(session=session, meeting_id=late.id)] == [r7.id, r2.id]
    with pytest.raises(Forbidden):
        create_meeting(session=session, actor=world["eva"], data=MeetingCreate(
            period="2026-11", held_on=date(2026, 12, 3)))


def test_coach_sees_only_own_team_cases(session, world, make_user):
    coach = principal_of(make_user("coach", team="Technical"))  # cara's team: r2's case is about cara
    visible = {c.id for c in service.list_cases(session=session, principal=coach)}
    assert world["cases"]["r2"].id in visible
    other_coach = principal_of(make_user("coach", team="Social care"))
    with pytest.raises(NotFound):
        service.get_case(session=session, principal=other_coach, case_id=world["cases"]["r2"].id)
    agent = principal_of(world["ada"])
    with pytest.raises(Forbidden):
        service.list_cases(session=session, principal=agent)


def test_agents_get_403_on_review_pages_and_api(client, session, world):
    case_id = world["cases"]["r2"].id
    sign_in(client, "ada")
    assert client.get("/api/reviews/cases").status_code == 403
    assert client.get(f"/api/reviews/cases/{case_id}").status_code == 403
    assert client.get(f"/reviews/cases/{case_id}", headers={"accept": "text/html"}).status_code == 403
    sign_in(client, "eva")
    body = client.get(f"/api/reviews/cases/{case_id}").json()
    assert body["customer"] == "Maria Lopez" and body["interactions"][0]["url"].startswith("/interactions/")
    illegal = client.post(f"/api/reviews/cases/{case_id}/status", json={"status": "closed"})
    assert illegal.status_code == 409


def test_a_page_of_case_stories_costs_the_same_queries_as_one(session, world, db_engine):
    """The case list reads its page's stories together: the statements do not grow with the number of cases
    (it was six per case), and each story is the one the case page shows."""
    from sqlalchemy import event

    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    cases = sorted(world["cases"].values(), key=lambda c: c.id)
    event.listen(db_engine, "before_cursor_execute", count)
    try:
        one = service.case_stories(session=session, cases=cases[:1])
        for_one = len(statements)
        statements.clear()
        both = service.case_stories(session=session, cases=cases)
    finally:
        event.remove(db_engine, "before_cursor_execute", count)
    assert len(statements) == for_one and len(both) == 2 and one[0].case.id == both[0].case.id

    def shape(story):
        return (story.case.id, story.customer_name, story.owner_name, story.agents, [a.id for a in story.actions],
                [(i.interaction_id, i.channel, i.agents, i.reason, i.transferred, i.shown_subject)
                 for i in story.items])

    assert [shape(s) for s in both] == [shape(service.case_story(session=session, case=c)) for c in cases]
    assert [i.interaction_id for i in both[[c.id for c in cases].index(world["cases"]["r2"].id)].items] == [
        world["chat"].id, world["call"].id, world["tweet"].id]


def test_case_forms_save_and_say_so_or_say_why_and_keep_nothing(client, session, world):
    """The case page's small forms (findings, status, decision): a saved change goes back where the form came
    from with a message; a refused one goes back with the reason and leaves the case as it was."""
    case = world["cases"]["r2"]
    url = f"/reviews/cases/{case.id}"
    sign_in(client, "eva")
    moved = client.post(f"{url}/status", data={"status": "investigating"}, follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"] == f"{url}?message=Case%20is%20now%20investigating"
    unknown = client.post(f"{url}/status", data={"status": "finished"}, follow_redirects=False)
    assert unknown.headers["location"] == f"{url}?error=unknown%20status%20%27finished%27"
    illegal = client.post(f"{url}/status", data={"status": "closed"}, follow_redirects=False)
    assert illegal.status_code == 303 and "error=" in illegal.headers["location"]
    saved = client.post(f"{url}/findings", data={"staff_notes": "Line test failed", "next": "/reviews?status=open"},
                        follow_redirects=False)
    assert saved.headers["location"] == "/reviews?status=open&message=Findings%20saved"
    elsewhere = client.post(f"{url}/findings", data={"staff_notes": "x", "next": "//evil.example/reviews"},
                            follow_redirects=False)
    assert elsewhere.headers["location"] == f"{url}?message=Findings%20saved"  # never off the site
    assert client.post(f"{url}/decision", data={"root_cause": "business flow"}, follow_redirects=False,
                       headers={"accept": "text/html"}).status_code == 403  # evaluators do not decide
    sign_in(client, "erin")
    refused = client.post(f"{url}/decision", data={"root_cause": "bad luck"}, follow_redirects=False)
    assert refused.status_code == 303 and "error=" in refused.headers["location"]
    session.expire_all()
    kept = session.get(ReviewCase, case.id)
    assert kept.status == "investigating" and kept.staff_notes == "x" and kept.decided_at is None
