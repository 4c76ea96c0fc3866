"""Each role's home: the admin's overview, the evaluator's calibration invitations, the executive's bad-rating
trend — figures from the records, links to the pages behind them."""


import re
from datetime import timedelta

import pytest

from app.auth.service import principal_of
from app.core.timeutil import utcnow
from app.evaluations import calibration
from app.evaluations import service as evaluations
from app.evaluations.models import AnswerIn
from app.surveys import service as surveys
from app.surveys.imports import import_csv
from tests.conftest import sign_in
from tests.integration.evaluations_support import FULL_MARKS, load_small_form, make_interaction

pytestmark = pytest.mark.integration
HTML = {"accept": "text/html"}


def test_admin_home_gives_the_overview_with_links(client, make_user):
    make_user("admin", username="root")
    make_user("agent", username="ada")
    sign_in(client, "root")
    home = client.get("/", headers=HTML).text
    assert "Administration" in home
    assert "Active users" in home and "Jobs failed in 24 h" in home
    for link in ("/admin/users", "/scorecards", "/evaluations/sampling", "/imports", "/jobs", "/admin/audit"):
        assert f'href="{link}' in home, link
    assert "none yet" in home  # no import has run


def test_evaluator_sees_calibration_invitations_until_scored(client, session, make_user):
    lead = make_user("admin", username="lead")
    eva, eli = make_user("evaluator", username="eva"), make_user("evaluator", username="eli")
    agent = make_user("agent", username="ada")
    scorecard_id = load_small_form(session)
    interaction = make_interaction(session, agent_id=agent.id)
    created = calibration.create(session=session, principal=principal_of(lead), title="November calibration",
                                 interaction_id=interaction.id, scorecard_id=scorecard_id,
                                 evaluator_ids=[eva.id, eli.id])
    sign_in(client, "eva")
    home = client.get("/", headers=HTML).text
    assert "Calibration invitations" in home and "November calibration" in home and "to score" in home
    draft = calibration.start_evaluation(session=session, principal=principal_of(eva), calibration_id=created.id)
    evaluations.submit(session=session, principal=principal_of(eva), evaluation_id=draft.id,
                       answers=[AnswerIn(**a) for a in FULL_MARKS])
    home = client.get("/", headers=HTML).text
    assert "November calibration" not in home and "No calibration session waiting for you." in home
    sign_in(client, "eli")
    assert "November calibration" in client.get("/", headers=HTML).text


def test_executive_home_shows_the_bad_rating_trend(client, session, make_user):
    make_user("executive", username="exec")
    sign_in(client, "exec")
    assert "No answered surveys in the last 6 months." in client.get("/", headers=HTML).text
    make_user("agent", username="ada")
    now = utcnow()
    last_month = (now.replace(day=1) - timedelta(days=3)).replace(hour=10)
    rows = ["response_id,invited_at,responded_at,channel,agent,rating"]
    for n, (when, rating) in enumerate([(last_month, "bad"), (last_month, "good"), (last_month, "good"),
                                        (last_month, "good"), (now, "good")]):
        rows.append(f"r{n},{when.isoformat()},{when.isoformat()},call,ada,{rating}")
    source = surveys.create_source(session=session, name="pulse", actor=None)
    report = import_csv(session=session, source=source, text="\n".join(rows) + "\n", actor=None)
    assert report.created == 5, report
    home = client.get("/", headers=HTML).text
    assert "Bad ratings, last 6 months" in home
    assert f"{last_month:%Y-%m}" in home and "25.0% bad" in home and "0.0% bad" in home
    # the cases panel: each figure is the length of the list it links to
    case_id = client.get("/api/reviews/cases").json()["items"][0]["id"]
    assert client.post(f"/api/reviews/cases/{case_id}/status", json={"status": "investigating"}).status_code == 200
    home = client.get("/", headers=HTML).text
    figures = re.findall(r'<a href="(/reviews\?status=\w+)">[^<]+</a></dt><dd>(\d+)</dd>', home)
    assert len(figures) == 4 and dict(figures)["/reviews?status=investigating"] == "1"
    for link, figure in figures:
        assert len(client.get(f"{link}&format=csv").text.splitlines()) - 1 == int(figure), link


def test_calibration_invitations_are_the_open_sessions_only_read_in_two_statements(client, session, make_user,
                                                                                  statements):
    """The panel lists open sessions the evaluator is invited to (a started draft says so; closed sessions and
    sessions of others never show), and reads them in two statements however many sessions the history holds."""
    lead = make_user("admin", username="lead")
    eva, eli = make_user("evaluator", username="eva"), make_user("evaluator", username="eli")
    ed = make_user("evaluator", username="ed")
    agent = make_user("agent", username="ada")
    scorecard_id = load_small_form(session)
    interaction = make_interaction(session, agent_id=agent.id)

    def new(title, evaluators):
        return calibration.create(session=session, principal=principal_of(lead), title=title,
                                  interaction_id=interaction.id, scorecard_id=scorecard_id,
                                  evaluator_ids=[e.id for e in evaluators])

    for n in range(6):
        calibration.close(session=session, principal=principal_of(lead),
                          calibration_id=new(f"Old round {n}", [eva, eli]).id)
    new("Without eva", [eli, ed])
    drafted = new("Half done", [eva, eli])
    calibration.start_evaluation(session=session, principal=principal_of(eva), calibration_id=drafted.id)
    new("Fresh round", [eva, ed])
    statements.clear()
    found = calibration.open_invitations(session=session, evaluator_id=eva.id)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 2, statements
    assert [(row.title, len(mine)) for row, mine in found] == [("Fresh round", 0), ("Half done", 1)]
    sign_in(client, "eva")
    home = client.get("/", headers=HTML).text
    assert "Fresh round" in home and "to score" in home and "Half done" in home and "draft started" in home
    assert "Old round" not in home and "Without eva" not in home


def test_disputes_to_resolve_counts_what_this_evaluator_may_resolve_and_links_to_them(client, session, make_user):
    """A dispute of one's own evaluation is resolved by someone else: the panel's figure leaves it out, and the
    list it links to shows the same evaluations."""
    eva, evan = make_user("evaluator", username="eva"), make_user("evaluator", username="evan")
    agent = make_user("agent", username="ada")
    scorecard_id = load_small_form(session)
    disputed = {}
    for evaluator in (eva, evan):
        interaction = make_interaction(session, agent_id=agent.id)
        draft = evaluations.create(session=session, principal=principal_of(evaluator), interaction_id=interaction.id,
                                   scorecard_id=scorecard_id)
        evaluations.submit(session=session, principal=principal_of(evaluator), evaluation_id=draft.id,
                           answers=[AnswerIn(**answer) for answer in FULL_MARKS])
        evaluations.dispute(session=session, principal=principal_of(agent), evaluation_id=draft.id,
                            reason="I did verify", items=[])
        disputed[evaluator.username] = draft.id
    for me, other in (("eva", "evan"), ("evan", "eva")):
        sign_in(client, me)
        home = client.get("/", headers=HTML).text
        assert '<a href="/evaluations?to_resolve=1">Disputes to resolve</a></dt><dd>1</dd>' in home
        listed = client.get("/evaluations?to_resolve=1&format=csv").text.splitlines()[1:]
        assert [int(row.split(",")[0]) for row in listed] == [disputed[other]]
