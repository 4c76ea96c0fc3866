"""Figures per period with the trend, per channel/agent/shop, exact numbers from a fixture; the API, pages and
the webhook over HTTP."""

import json

from sqlmodel import select

from app.surveys import figures, service
from app.surveys.imports import import_csv, sign
from app.surveys.models import SurveyResponse
from tests.conftest import sign_in
from tests.fixtures.surveys.support import at, read


def _load(session, make_user):
    make_user("agent", username="ada", team="Billing", site="Downtown shop")
    make_user("agent", username="ben", team="Technical", site="Riverside shop")
    source = service.create_source(session=session, name="pulse", actor=None)
    report = import_csv(session=session, source=source, text=read("figures.csv"), actor=None)
    assert report.created == 12 and not report.rejected
    return source


def test_figures_per_month_with_trend(session, make_user):
    _load(session, make_user)
    result = figures.survey_figures(session=session, until=at("2026-11-15T00:00:00"), periods=3)
    assert [p.period for p in result] == ["2026-09", "2026-10", "2026-11"]
    sep, oct_, nov = (p.total for p in result)
    assert (sep.invited, sep.completed, sep.response_rate) == (4, 2, 50.0)
    assert sep.counts == {"good": 1, "acceptable": 0, "bad": 1}
    assert (oct_.invited, oct_.completed, oct_.response_rate) == (5, 4, 80.0)
    assert oct_.counts == {"good": 2, "acceptable": 1, "bad": 1}
    assert oct_.percents == {"good": 50.0, "acceptable": 25.0, "bad": 25.0}
    # n1 was invited in October and answered in November: it counts in November
    assert (nov.invited, nov.completed, nov.response_rate) == (3, 3, 100.0)
    assert nov.percents == {"good": 66.7, "acceptable": 33.3, "bad": 0.0}


def test_figures_per_channel_agent_team_shop(session, make_user):
    _load(session, make_user)
    until = at("2026-10-15T00:00:00")
    october = figures.survey_figures(session=session, until=until, periods=1, group_by="channel")[0]
    assert {k: (v.invited, v.completed) for k, v in october.groups.items()} == {
        "call": (2, 2), "chat": (2, 2), "email": (1, 0)}
    by_agent = figures.survey_figures(session=session, until=until, periods=1, group_by="agent")[0]
    assert by_agent.groups["ben"].counts == {"good": 0, "acceptable": 1, "bad": 1}
    by_team = figures.survey_figures(session=session, until=until, periods=1, group_by="team")[0]
    assert set(by_team.groups) == {"Billing", "Technical"}
    by_shop = figures.survey_figures(session=session, until=at("2026-09-10T00:00:00"), periods=1,
                                     group_by="shop")[0]
    assert by_shop.groups["Downtown shop"].invited == 2 and by_shop.groups["Riverside shop"].invited == 2


def test_totals_counted_in_the_database_equal_the_row_by_row_totals(session, make_user):
    """Ungrouped figures (home panel, dashboard) are counted by one aggregate query; grouped ones row by row.
    Both must give every period the same totals, the month boundaries included."""
    _load(session, make_user)
    for until in ("2026-11-15T00:00:00", "2026-10-01T00:00:00", "2026-09-30T23:59:59"):
        counted = figures.survey_figures(session=session, until=at(until), periods=4)
        for group_by in figures.GROUPINGS:
            looped = figures.survey_figures(session=session, until=at(until), periods=4, group_by=group_by)
            assert [(p.period, p.total) for p in counted] == [(p.period, p.total) for p in looped], (until, group_by)
    assert sum(p.total.invited for p in figures.survey_figures(session=session, until=at("2026-11-15T00:00:00"),
                                                               periods=4)) == 12


def test_figures_api_and_dashboard(client, session, make_user):
    _load(session, make_user)
    executive = make_user("executive")
    sign_in(client, executive.username)
    response = client.get("/api/surveys/figures", params={"until": "2026-10", "periods": 2, "group_by": "channel"})
    assert response.status_code == 200
    body = response.json()
    assert [p["period"] for p in body] == ["2026-09", "2026-10"]
    assert body[1]["invited"] == 5 and body[1]["counts"]["bad"] == 1 and body[1]["response_rate"] == 80.0
    assert body[0]["change"]["response_rate"] is None
    assert body[1]["change"] == {"response_rate": 30.0, "good": 0.0, "acceptable": 25.0, "bad": -25.0}
    assert client.get("/api/surveys/figures", params={"until": "October"}).status_code == 422
    page = client.get("/surveys", params={"until": "2026-10"})
    assert page.status_code == 200
    assert 'data-figure="invited">5<' in page.text and "+30.0 pts" in page.text and "<svg" in page.text and page.text.count("<script") == 1  # only earshot.js


def test_coach_figures_cover_their_team_only(client, session, make_user):
    _load(session, make_user)
    coach = make_user("coach", team="Technical")
    sign_in(client, coach.username)
    body = client.get("/api/surveys/figures", params={"until": "2026-10", "periods": 1}).json()
    assert body[0]["invited"] == 3  # ben's o3, o4, o5 only


def test_webhook_over_http(client, session, make_user):
    source = service.create_source(session=session, name="pulse", actor=None)
    body = json.dumps({"responses": [{"response_id": "h1", "responded_at": "2026-11-02T12:00:00Z",
                                      "rating": "good"}, {"response_id": "h2"}]}).encode()
    bad = client.post("/api/surveys/webhook/pulse", content=body,
                      headers={"X-Earshot-Signature": "sha256=deadbeef", "content-type": "application/json"})
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "unauthorized"
    assert session.exec(select(SurveyResponse)).all() == []
    headers = {"X-Earshot-Signature": sign(source.webhook_secret, body),
               "content-type": "application/json"}
    first = client.post("/api/surveys/webhook/pulse", content=body, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["created"] == 1 and first.json()["rejected"][0]["line"] == 2
    replay = client.post("/api/surveys/webhook/pulse", content=body, headers=headers)
    assert replay.json()["created"] == 0 and replay.json()["unchanged"] == 1
    assert len(session.exec(select(SurveyResponse)).all()) == 1


def test_csv_upload_and_unlinked_page(client, session, make_user):
    admin = make_user("admin")
    sign_in(client, admin.username)
    created = client.post("/api/surveys/sources", json={"name": "web"})
    assert created.status_code == 201 and len(created.json()["webhook_secret"]) > 20
    assert "webhook_secret" not in client.get("/api/surveys/sources").json()[0]
    source_id = created.json()["id"]
    upload = client.post(f"/api/surveys/sources/{source_id}/upload",
                         files={"file": ("basic.csv", read("basic.csv").encode(), "text/csv")})
    assert upload.status_code == 202, upload.text
    report = client.get(upload.json()["url"]).json()["result"]  # the import job (run inline in the tests)
    assert report["created"] == 6 and [p["line"] for p in report["rejected"]] == [5, 8, 10]
    page = client.get("/surveys/unlinked")
    assert page.status_code == 200 and "no customer with this phone or e-mail" in page.text


def test_sources_page_mapping_and_upload(client, session, make_user):
    admin = make_user("admin")
    sign_in(client, admin.username)
    token = client.headers["x-csrf-token"]
    created = client.post("/surveys/sources", data={"csrf_token": token, "name": "pulse"})
    assert created.status_code == 200 and "shown only now" in created.text
    source = service.get_source_by_name(session=session, name="pulse")
    mapping = "response_id = Survey ID\ninvited_at = Sent\nresponded_at = Answered\ncustomer_email = Email\n" \
              "score = NPS\ncomment = Remarks\n"
    saved = client.post(f"/surveys/sources/{source.id}", data={
        "csrf_token": token, "mapping": mapping, "default_scale": "nps", "csat_good_min": "4",
        "csat_acceptable_min": "3", "nps_good_min": "9", "nps_acceptable_min": "7", "link_window_hours": "48"})
    assert saved.status_code == 200 and "Source saved" in saved.text
    upload = client.post(f"/surveys/sources/{source.id}/upload", data={"csrf_token": token},
                         files={"file": ("m.csv", read("mapped.csv").replace(";", ",").encode(), "text/csv")})
    assert upload.status_code == 200 and "Created 3," in upload.text
    bands = sorted(r.band for r in session.exec(select(SurveyResponse)).all())
    assert bands == ["acceptable", "bad", "good"]
    wrong = client.post(f"/surveys/sources/{source.id}", data={"csrf_token": token, "mapping": "rating = x"})
    assert wrong.status_code == 422 and "must map response_id" in wrong.text
    for typed, reason in [("not: [valid <b>", "mapping line 1: write field = CSV column"),
                          (mapping, "thresholds and window must be numbers")]:
        refused = client.post(f"/surveys/sources/{source.id}", data={
            "csrf_token": token, "mapping": typed, "link_window_hours": "two days", "nps_good_min": "9"})
        assert refused.status_code == 422 and reason in refused.text
        card = refused.text.split('data-source="pulse"')[1]  # the refused form shows what was typed, escaped
        assert typed.replace("<", "&lt;").replace(">", "&gt;") in card and 'value="two days"' in card
        assert refused.text.count(reason) == 1  # said once, beside the form
