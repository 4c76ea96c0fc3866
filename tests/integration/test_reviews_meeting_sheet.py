# ruff: noqa: F811 - the meeting_world fixture is imported from the meeting tests
"""The meeting page as one document: every button posts every block, a decision needs text, one meeting a
month, the agenda shows every bad rating of the month, action owners report progress, and the review events
reach the webhooks."""

from sqlmodel import select

from app.connectors import webhooks
from app.connectors.models import WebhookDelivery
from app.core.models import AuditEvent
from app.reviews.models import ReviewAction, ReviewCase, ReviewMeeting
from app.surveys import service as surveys
from app.surveys.imports import import_csv
from tests.conftest import sign_in
from tests.fixtures.surveys.support import read
from tests.integration.test_reviews_meeting import _user_id, _walk, meeting_world  # noqa: F401


def _meeting(client, case_ids):
    created = client.post("/api/reviews/meetings", json={"period": "2026-11", "held_on": "2026-12-03",
                                                         "case_ids": case_ids})
    assert created.status_code == 201, created.text
    return created.json()["id"]


def _sheet(client, meeting_id, **fields):
    data = {"csrf_token": client.headers["x-csrf-token"], **fields}
    return client.post(f"/reviews/meetings/{meeting_id}/sheet", data=data, follow_redirects=False)


def _fresh(session, model, key):
    row = session.get(model, key)
    session.refresh(row)
    return row


def test_record_decision_keeps_every_block(client, session, meeting_world):
    sign_in(client, "erin")
    r2 = meeting_world["r2"]
    meeting_id = _meeting(client, [r2])
    answer = _sheet(client, meeting_id, op="decide", minutes="Erin and Alex present; 3 bad ratings",
                    staff_notes="Ada forgot the call-back", customer_notes="Maria wants a technician",
                    root_cause="business flow", decision="Fault call-backs within 24 h")
    assert answer.status_code == 303 and "Decision%20recorded" in answer.headers["location"]
    case = _fresh(session, ReviewCase, r2)
    assert (case.status, case.staff_notes, case.customer_notes, case.decision) == (
        "decided", "Ada forgot the call-back", "Maria wants a technician", "Fault call-backs within 24 h")
    assert _fresh(session, ReviewMeeting, meeting_id).minutes == "Erin and Alex present; 3 bad ratings"


def test_empty_decision_is_refused_and_nothing_typed_is_lost(client, session, meeting_world):
    sign_in(client, "erin")
    r2 = meeting_world["r2"]
    meeting_id = _meeting(client, [r2])
    answer = _sheet(client, meeting_id, op="decide", minutes="Minutes so far", staff_notes="Staff side",
                    root_cause="business flow", decision="   ")
    assert answer.status_code == 200
    assert "write what the meeting decided" in answer.text
    assert "Minutes so far" in answer.text and "Staff side" in answer.text  # the page comes back as typed
    case = _fresh(session, ReviewCase, r2)
    assert case.status == "ready_for_meeting" and case.decided_at is None
    assert case.staff_notes == "Staff side"  # and what was typed is saved all the same
    assert _fresh(session, ReviewMeeting, meeting_id).minutes == "Minutes so far"
    no_cause = _sheet(client, meeting_id, op="decide", decision="Call back", root_cause="")
    assert no_cause.status_code == 200 and "choose the root cause" in no_cause.text


def test_moving_on_with_an_unadded_action_keeps_it(client, session, meeting_world):
    sign_in(client, "erin")
    meeting_id = _meeting(client, [meeting_world["r2"], meeting_world["r7"]])
    answer = _sheet(client, meeting_id, op="goto:1", action_kind="retrain_staff", action_topic="call-backs",
                    decision="Draft decision")
    assert answer.status_code == 200 and "not added" in answer.text
    assert 'value="call-backs"' in answer.text and "Draft decision" in answer.text
    assert _fresh(session, ReviewCase, meeting_world["r2"]).decision == "Draft decision"  # kept as a draft
    added = _sheet(client, meeting_id, op="action", action_kind="retrain_staff", action_topic="call-backs",
                   action_agent_id=str(_user_id(session, "ada")))
    assert added.status_code == 303 and "Action%20added" in added.headers["location"]
    moved = _sheet(client, meeting_id, op="goto:1", minutes="On to the next")
    assert moved.headers["location"].startswith(f"/reviews/meetings/{meeting_id}?pos=1")
    assert "Case 2 of 2" in _walk(client, meeting_id).text


def test_one_meeting_a_month_unless_extra(client, session, meeting_world):
    sign_in(client, "erin")
    _meeting(client, [meeting_world["r2"]])
    again = client.post("/api/reviews/meetings", json={"period": "2026-11", "held_on": "2026-12-04"})
    assert again.status_code == 409 and "already has a meeting" in again.text
    extra = client.post("/api/reviews/meetings", json={"period": "2026-11", "held_on": "2026-12-04",
                                                       "additional": True})
    assert extra.status_code == 201
    page = client.post("/reviews/meetings", data={"csrf_token": client.headers["x-csrf-token"],
                                                   "period": "2026-11"}, follow_redirects=False)
    assert "error=" in page.headers["location"]


def test_agenda_lists_every_bad_rating_and_bulk_mark_ready(client, session, meeting_world):
    r2, r7 = meeting_world["r2"], meeting_world["r7"]
    late = session.get(ReviewCase, r7)
    late.status = "open"
    session.add(late)
    session.commit()
    sign_in(client, "erin")
    meeting_id = _meeting(client, [r2])
    page = _walk(client, meeting_id).text
    assert f'data-case-id="{r7}" class="attention"' in page and "not ready for the meeting" in page
    assert page.index(f'data-case-id="{r2}"') < page.index(f'data-case-id="{r7}"')  # the agenda first
    answer = _sheet(client, meeting_id, op="mark_ready", ready_case_ids=[str(r7)], minutes="kept")
    assert answer.status_code == 303, answer.text
    assert _fresh(session, ReviewCase, r7).status == "ready_for_meeting"
    assert "Case 2 of 2" in _walk(client, meeting_id, pos=1).text
    assert _fresh(session, ReviewMeeting, meeting_id).minutes == "kept"


def test_meetings_page_opens_on_the_latest_month_with_cases(client, meeting_world):
    sign_in(client, "erin")
    assert 'name="period" value="2026-11"' in client.get("/reviews/meetings").text


def test_action_owner_updates_their_action(client, session, meeting_world, make_user):
    coach = make_user("coach", username="cora", team="Social care")  # not the team of the case's agent
    make_user("coach", username="otto", team="Social care")
    sign_in(client, "erin")
    created = client.post(f"/api/reviews/cases/{meeting_world['r2']}/actions", json={
        "kind": "retrain_staff", "agent_id": _user_id(session, "ada"), "topic": "call-backs",
        "owner_id": coach.id})
    assert created.status_code == 201, created.text
    action_id = created.json()["id"]
    sign_in(client, "cora")
    assert f'action="/reviews/actions/{action_id}"' in client.get("/reviews/actions").text
    done = client.patch(f"/api/reviews/actions/{action_id}", json={"status": "done", "outcome": "Session held"})
    assert done.status_code == 200, done.text
    assert _fresh(session, ReviewAction, action_id).status == "done"
    assert client.patch(f"/api/reviews/actions/{action_id}", json={"owner_id": coach.id}).status_code == 403
    sign_in(client, "otto")
    assert client.patch(f"/api/reviews/actions/{action_id}", json={"status": "open"}).status_code in (403, 404)
    audited = session.exec(select(AuditEvent).where(AuditEvent.action == "review_action.update")).all()
    assert any(e.actor_name == coach.name for e in audited)


def test_review_case_opened_reaches_the_webhooks(session, make_user):
    endpoint = webhooks.create_endpoint(session=session, data=webhooks.EndpointIn(
        url="https://hooks.example.com/x", event_types=["review_case.opened"]), actor=None)
    source = surveys.create_source(session=session, name="demo", actor=None)
    import_csv(session=session, source=source, text=read("basic.csv"), actor=None)
    session.commit()
    deliveries = session.exec(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)).all()
    cases = session.exec(select(ReviewCase)).all()
    assert cases and sorted(d.payload["review_case_id"] for d in deliveries) == sorted(c.id for c in cases)
    assert all(d.event_type == "review_case.opened" and d.payload["band"] == "bad" for d in deliveries)
    from tests.integration.test_outbound_events import documented_keys

    assert all(set(d.payload) == documented_keys()["review_case.opened"] for d in deliveries)
    import_csv(session=session, source=source, text=read("basic.csv"), actor=None)  # re-import
    session.commit()
    assert len(session.exec(select(WebhookDelivery)).all()) == len(deliveries)  # no second event


def test_survey_dashboard_opens_on_the_latest_month_with_answers(client, meeting_world):
    sign_in(client, "erin")
    page = client.get("/surveys").text
    assert "<h1>Survey figures 2026-11</h1>" in page  # the answers are from November 2026, whatever month it is now


def test_case_page_is_one_form_for_investigators(client, session, meeting_world, make_user):
    make_user("evaluator", username="eva")
    sign_in(client, "eva")
    r2 = meeting_world["r2"]
    page = client.get(f"/reviews/cases/{r2}").text
    assert f'action="/reviews/cases/{r2}/sheet"' in page and "Record decision" not in page
    moved = client.post(f"/reviews/cases/{r2}/sheet", data={
        "csrf_token": client.headers["x-csrf-token"], "op": "status:investigating",
        "staff_notes": "Talked to Ada", "customer_notes": "Maria called back"}, follow_redirects=False)
    assert moved.status_code == 303 and "error" not in moved.headers["location"]
    case = _fresh(session, ReviewCase, r2)
    assert (case.status, case.staff_notes, case.customer_notes) == ("investigating", "Talked to Ada",
                                                                    "Maria called back")
    refused = client.post(f"/reviews/cases/{r2}/sheet", data={
        "csrf_token": client.headers["x-csrf-token"], "op": "decide", "staff_notes": "More notes",
        "root_cause": "business flow", "decision": "x"}, follow_redirects=False)
    assert refused.status_code == 200 and "only executives and admins decide" in refused.text
    assert _fresh(session, ReviewCase, r2).staff_notes == "More notes" and "More notes" in refused.text


def test_the_sheet_needs_the_csrf_token(client, session, meeting_world):
    sign_in(client, "erin")
    meeting_id = _meeting(client, [meeting_world["r2"]])
    client.headers.pop("x-csrf-token")
    forged = client.post(f"/reviews/meetings/{meeting_id}/sheet", data={"op": "save", "minutes": "forged"},
                         follow_redirects=False)
    assert forged.status_code == 403
    assert _fresh(session, ReviewMeeting, meeting_id).minutes == ""
