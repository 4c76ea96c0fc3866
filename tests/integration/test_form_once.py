"""A page's form acts once however often it is sent (app.auth.forms), against a real server database on SQLite
and PostgreSQL: double clicks at once, Back and send again, a sending refused as invalid then corrected, and
two renderings of the page sent on purpose. The vehicle is the admin's "new coaching rule" form (any page form
goes through the same dependency; tests/unit/test_form_fields.py checks that every page form carries the
token)."""

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import select

from app.auth import forms
from app.auth.models import FormSubmission
from app.core.db import make_engine, session_factory, session_scope
from app.core.settings import Settings
from app.core.timeutil import utcnow
from app.retention.service import apply_retention
from tests.integration.server_support import add_user, at_once, query, sign_in_as


def rule_form(client: TestClient, cookie: str) -> dict[str, str]:
    """The hidden fields of the new-rule form as the page renders them, and a rule to create."""
    page = client.get("/coaching/rules", headers={"cookie": cookie})
    assert page.status_code == 200
    form = re.search(r'<form method="post" action="/coaching/rules"[^>]*>(.*?)</form>', page.text, re.S)
    assert form is not None, "the page has no new-rule form"
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.group(1)))
    assert set(hidden) == {"csrf_token", "form_once"}, hidden
    return {**hidden, "kind": "low_score", "name": "Low scores", "window_days": "30"}


def rules(settings: Settings) -> list[str]:
    return [name for (name,) in query(settings, "SELECT name FROM coaching_rule ORDER BY id")]


def test_a_form_sent_six_times_at_once_acts_once(server, server_settings):
    add_user(server_settings, "root", ["admin"])
    cookie = sign_in_as(server, "root")["cookie"]
    fields = rule_form(server, cookie)

    def send(_n: int) -> tuple[int, str]:
        response = server.post("/coaching/rules", data=fields, headers={"cookie": cookie, "accept": "text/html"},
                               follow_redirects=False)
        return response.status_code, response.text

    answers = at_once(send, 6)
    statuses = sorted(status for status, _ in answers)
    assert statuses == [303, 409, 409, 409, 409, 409], statuses
    assert rules(server_settings) == ["Low scores"]
    assert query(server_settings, "SELECT count(*) FROM audit_event WHERE action = 'coaching.rule.create'") == [(1,)]
    refused = next(text for status, text in answers if status == 409)
    assert "<title>Already sent" in refused and "already sent" in refused  # a page in the site's layout


def test_a_sending_that_changed_nothing_gives_its_token_back(server, server_settings):
    """Refused as invalid (the page says why): the same page corrected and sent again acts; sent a third time
    (Back, send) it is refused and nothing is created twice."""
    add_user(server_settings, "root", ["admin"])
    cookie = sign_in_as(server, "root")["cookie"]
    fields = rule_form(server, cookie)
    headers = {"cookie": cookie, "accept": "text/html"}

    invalid = server.post("/coaching/rules", data={**fields, "window_days": "0"}, headers=headers,
                          follow_redirects=False)
    assert invalid.status_code == 303 and "error=" in invalid.headers["location"]
    assert rules(server_settings) == []
    assert query(server_settings, "SELECT count(*) FROM form_submission") == [(0,)]

    corrected = server.post("/coaching/rules", data=fields, headers=headers, follow_redirects=False)
    assert corrected.status_code == 303 and "message=" in corrected.headers["location"]
    again = server.post("/coaching/rules", data=fields, headers=headers, follow_redirects=False)
    assert again.status_code == 409 and "already sent" in again.text
    assert rules(server_settings) == ["Low scores"]


def test_two_renderings_of_the_page_each_act(server, server_settings):
    """Creating two rules on purpose: each from its own page load."""
    add_user(server_settings, "root", ["admin"])
    cookie = sign_in_as(server, "root")["cookie"]
    first, second = rule_form(server, cookie), rule_form(server, cookie)
    assert first["form_once"] != second["form_once"]
    for fields in (first, {**second, "name": "Second"}):
        response = server.post("/coaching/rules", data=fields, headers={"cookie": cookie}, follow_redirects=False)
        assert response.status_code == 303
    assert rules(server_settings) == ["Low scores", "Second"]


def test_a_token_must_look_like_one(server, server_settings):
    add_user(server_settings, "root", ["admin"])
    cookie = sign_in_as(server, "root")["cookie"]
    fields = {**rule_form(server, cookie), "form_once": "x"}
    response = server.post("/coaching/rules", data=fields, headers={"cookie": cookie}, follow_redirects=False)
    assert response.status_code == 422 and "reload the page" in response.json()["error"]["message"]
    assert rules(server_settings) == []


def test_the_retention_sweep_forgets_old_tokens(server, server_settings):
    add_user(server_settings, "root", ["admin"])
    cookie = sign_in_as(server, "root")["cookie"]
    for _ in range(2):
        fields = rule_form(server, cookie)
        assert server.post("/coaching/rules", data=fields, headers={"cookie": cookie},
                           follow_redirects=False).status_code == 303
    engine = make_engine(server_settings.resolved_database_url)
    try:
        sessions = session_factory(engine)
        with session_scope(sessions) as session:
            old = session.exec(select(FormSubmission)).first()
            assert old is not None
            old.sent_at = utcnow() - timedelta(days=forms.KEPT_DAYS + 1)
            session.add(old)
            session.commit()
        with session_scope(sessions) as session:
            report = apply_retention(session=session, settings=server_settings)
        assert report.form_tokens_purged == 1
        with session_scope(sessions) as session:
            assert len(session.exec(select(FormSubmission)).all()) == 1
    finally:
        engine.dispose()


def test_sendings_at_once_of_a_form_the_route_refuses_are_each_answered(server, server_settings):
    """The route rolls back (a second meeting for the month is refused): nothing to give back, and no sending
    may wait for the database on the server's event loop (an earlier version did: SQLite answered 503 after
    10 s to the sendings queued behind it)."""
    add_user(server_settings, "boss", ["executive"])
    headers = sign_in_as(server, "boss")
    meeting = {"period": "2026-11", "held_on": "2026-12-03", "title": "November", "attendees": ["Boss"]}
    assert server.post("/api/reviews/meetings", json=meeting, headers=headers).status_code == 201
    page = server.get("/reviews/meetings", headers={"cookie": headers["cookie"]})
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    fields = {**hidden, "period": "2026-11", "held_on": "2026-12-05", "title": "Again", "attendees": "Boss"}

    def send(_n: int) -> tuple[int, str]:
        response = server.post("/reviews/meetings", data=fields, headers={"cookie": headers["cookie"]},
                               follow_redirects=False)
        return response.status_code, response.headers.get("location", "")

    answers = at_once(send, 5)
    assert all(status == 303 and "already+has+a+meeting" in location.replace("%20", "+")
               for status, location in answers), answers
    assert query(server_settings, "SELECT count(*) FROM review_meeting") == [(1,)]
    assert query(server_settings, "SELECT count(*) FROM form_submission") == [(0,)]
