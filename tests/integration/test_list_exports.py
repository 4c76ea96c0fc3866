"""Every list page exports what it shows as CSV (`?format=csv`, app/core/export.py): the same filters and
scope as the page, every row rather than one page, and cells a spreadsheet would run as formulas neutralised."""

import csv
import io
import re
from datetime import timedelta

import pytest

from app.auth.service import principal_of
from app.core import audit
from app.core.models import Job
from app.evaluations import service as evaluations
from app.evaluations.models import AnswerIn
from app.interactions import service as interactions
from app.interactions.models import Customer
from app.interactions.service import InteractionData, MessageData
from app.social.sweep import sweep
from tests.conftest import sign_in
from tests.integration.evaluations_support import load_small_form, make_interaction
from tests.integration.social_helpers import T0, thread

PASS = [AnswerIn(question_id="greeted", value=True), AnswerIn(question_id="tone", value=5),
        AnswerIn(question_id="resolved", value=True), AnswerIn(question_id="verified", value=True)]


def _csv(client, url: str, **params: str) -> list[list[str]]:
    response = client.get(url, params={**params, "format": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    return list(csv.reader(io.StringIO(response.text)))


@pytest.fixture
def scored(session, make_user):
    """Two agents of two teams with evaluations: ada two submitted and one draft, ben one submitted."""
    eva = principal_of(make_user("evaluator", username="eva"))
    ada = make_user("agent", username="ada", team="Billing")
    ben = make_user("agent", username="ben", team="Sales")
    make_user("coach", username="colin", team="Billing")
    scorecard_id = load_small_form(session)
    made = []
    for agent, submit in ((ada, True), (ada, True), (ada, False), (ben, True)):
        interaction = make_interaction(session, agent_id=agent.id, messages=2)
        evaluation = evaluations.create(session=session, principal=eva, interaction_id=interaction.id,
                                        scorecard_id=scorecard_id)
        if submit:
            evaluations.submit(session=session, principal=eva, evaluation_id=evaluation.id, answers=PASS)
        made.append(evaluation.id)
    return {"ada": ada, "ben": ben, "ids": made}


@pytest.mark.parametrize(("username", "params", "expected"), [
    ("eva", {}, [0, 1, 2, 3]),  # evaluators see every evaluation, drafts included
    ("eva", {"state": "draft"}, [2]),  # the page's filter applies to its export
    ("colin", {}, [0, 1]),  # a coach: their team's agents, no drafts
    ("ada", {}, [0, 1]),  # an agent: only their own rows
    ("ben", {}, [3]),
])
def test_evaluations_export_has_the_rows_of_the_page(client, scored, username, params, expected):
    sign_in(client, username)
    page = client.get("/evaluations", params=params)
    shown = {int(i) for i in re.findall(r'<a href="/evaluations/(\d+)">', page.text)}
    rows = _csv(client, "/evaluations", **params)
    assert rows[0][:4] == ["id", "interaction_id", "channel", "agent"]
    exported = {int(r[0]) for r in rows[1:]}
    assert exported == shown == {scored["ids"][i] for i in expected}
    assert 'href="/evaluations?' in page.text and "format=csv" in page.text  # the page links its export


def test_export_holds_every_row_not_one_page_and_is_itself_audited(client, session, make_user):
    admin = make_user("admin", username="root")
    for n in range(55):
        audit.record(session=session, actor=None, action="test.thing", record_type="thing", record_id=n)
    session.commit()
    sign_in(client, "root")
    page = client.get("/admin/audit", params={"action": "test."})
    assert page.text.count("<td>test · thing</td>") == 50 and "Page 1 of 2" in page.text
    link = re.search(r'href="(/admin/audit\?[^"]*format=csv[^"]*)"', page.text)
    assert link and "page=" not in link.group(1) and "action=test." in link.group(1)
    rows = _csv(client, "/admin/audit", action="test.", page="2")
    assert rows[0] == ["at", "actor", "action", "record_type", "record_id", "before", "after", "reason"]
    assert len(rows) == 56 and {r[4] for r in rows[1:]} == {str(n) for n in range(55)}
    exports = _csv(client, "/admin/audit", action="audit.export")
    assert len(exports) >= 2 and exports[1][1] == admin.name and '"rows": 55' in exports[1][6]


def test_cells_that_start_a_formula_are_neutralised(client, session, make_user):
    make_user("admin", username="root")
    make_user("agent", username="mallory", display_name='=HYPERLINK("http://evil.example","x")')
    session.add(Customer(display_name="+1 cmd|' /C calc'!A0"))
    session.commit()
    sign_in(client, "root")
    users = {r[1]: r for r in _csv(client, "/admin/users")[1:]}
    assert users["mallory"][2] == "'=HYPERLINK(\"http://evil.example\",\"x\")"
    customers = _csv(client, "/customers")
    assert customers[1][1] == "'+1 cmd|' /C calc'!A0"


def test_customers_export_follows_the_search_box(client, session, make_user):
    make_user("evaluator", username="eva")
    session.add_all([Customer(display_name="Alice Archer"), Customer(display_name="Bob Baker"),
                     Customer(display_name="Alicia Keys")])
    session.commit()
    sign_in(client, "eva")
    page = client.get("/customers", params={"q": "ali"})
    rows = _csv(client, "/customers", q="ali")
    assert [r[1] for r in rows[1:]] == ["Alicia Keys", "Alice Archer"]  # newest first
    by_name = client.get("/customers", params={"q": "ali", "sort": "name"})
    assert by_name.text.index("Alice Archer") < by_name.text.index("Alicia Keys")
    assert [r[1] for r in _csv(client, "/customers", q="ali", sort="name")[1:]] == ["Alice Archer", "Alicia Keys"]
    assert all(name in page.text for name in ("Alicia Keys", "Alice Archer")) and "Bob Baker" not in page.text


def test_an_agent_cannot_export_a_page_they_cannot_open(client, scored):
    sign_in(client, "ada")
    assert client.get("/admin/audit", params={"format": "csv"}).status_code == 403
    assert client.get("/customers", params={"format": "csv"}).status_code == 403


def test_evaluations_sort_and_filter_live_in_the_url_and_the_export_follows_them(client, session, scored):
    sign_in(client, "eva")
    ids = scored["ids"]
    page = client.get("/evaluations", params={"state": "submitted", "sort": "-id"})
    shown = [int(i) for i in re.findall(r'<a href="/evaluations/(\d+)">', page.text)]
    assert shown == [ids[3], ids[1], ids[0]]  # the draft filtered out, newest first
    link = re.search(r'<a href="(/evaluations\?[^"]*)">#', page.text).group(1).replace("&amp;", "&")
    assert "state=submitted" in link and "sort=id" in link  # the header toggles the direction, keeps the filter
    ascending = client.get(link)
    assert [int(i) for i in re.findall(r'<a href="/evaluations/(\d+)">', ascending.text)] == [ids[0], ids[1], ids[3]]
    exported = _csv(client, "/evaluations", state="submitted", sort="id")
    assert [int(r[0]) for r in exported[1:]] == [ids[0], ids[1], ids[3]]


def test_users_page_filters_sorts_and_pages_from_its_url(client, make_user):
    make_user("admin", username="root")
    for n in range(52):
        make_user("agent", username=f"agent{n:02d}", display_name=f"Agent {n:02d}")
    make_user("coach", username="zed", display_name="Aaron Coach")
    sign_in(client, "root")
    first = client.get("/admin/users", params={"role": "agent", "sort": "-username"})
    assert "Page 1 of 2 (52)" in first.text and "agent51" in first.text and "agent00" not in first.text
    second = re.search(r'href="(/admin/users\?[^"]*page=2[^"]*)" rel="next"', first.text).group(1)
    assert "role=agent" in second and "sort=-username" in second
    assert "agent00" in client.get(second.replace("&amp;", "&")).text
    by_name = _csv(client, "/admin/users", sort="name", q="a")
    assert by_name[1][1] == "zed" and len(by_name) == 1 + 1 + 52  # the header, Aaron Coach, 52 agents: every row


def test_social_queue_pages_in_deadline_order_and_exports_every_thread(client, session, make_user):
    ids = [thread(session, f"q{n:02d}", ("customer", 0, f"=cmd post {n}"), start=T0 + timedelta(minutes=n))
           for n in range(52)]
    sweep(session=session, now=T0 + timedelta(hours=2), post=lambda url, body: None)
    make_user("evaluator", username="eva")
    sign_in(client, "eva")
    first = client.get("/social")
    assert "Page 1 of 2 (52)" in first.text and f'data-interaction-id="{ids[0]}"' in first.text
    second = client.get("/social", params={"page": 2})
    assert f'data-interaction-id="{ids[51]}"' in second.text and f'data-interaction-id="{ids[0]}"' not in second.text
    rows = _csv(client, "/social", page="2")
    assert [int(r[0]) for r in rows[1:]] == ids  # every thread, earliest deadline first
    assert rows[1][6] == "'=cmd post 0"


def test_search_export_holds_every_match_the_searcher_may_see_and_no_other(client, session, make_user):
    ada = make_user("agent", username="ada")
    ben = make_user("agent", username="ben")
    make_user("evaluator", username="eva")
    for n in range(25):  # more than one page of 20 results
        agent = ada if n % 5 else ben
        at = T0 + timedelta(hours=n)
        interactions.upsert_interaction(session=session, data=InteractionData(
            source="test", external_id=f"s{n}", channel="chat", started_at=at, agent_id=agent.id,
            messages=[MessageData(external_id="m1", author_role="customer", sent_at=at,
                                  text=f"my router keeps dropping, case {n}")]))
    session.commit()
    sign_in(client, "eva")
    assert len(_csv(client, "/search", q="router", order="newest")) == 1 + 25
    sign_in(client, "ada")
    rows = _csv(client, "/search", q="router", order="newest", page="2")
    assert len(rows) == 1 + 20 and all(r[4] == "Ada" for r in rows[1:])  # ben's five are not hers to see


def _headings(page: str) -> list[str]:
    return re.findall(r'<th scope="col">([^<]*)</th>', page)


def test_jobs_scores_and_social_tables_show_in_words_and_export_the_stored_values(client, session, make_user, scored):
    """Each of these tables is declared once: the page reads it in words, its CSV keeps the values a spreadsheet
    can use, and a row the page shows is a row of the file."""
    admin = make_user("admin", username="root")
    session.add(Job(kind="speech.transcribe", status="failed", progress=0.5, error="no <audio>", attempts=2,
                    created_by=admin.id))
    session.commit()
    thread(session, "loud", ("customer", 0, "Broadband down"), followers=250_000)
    sweep(session=session, now=T0 + timedelta(hours=2), post=lambda url, body: None)
    sign_in(client, "root")
    jobs = client.get("/jobs").text
    assert _headings(jobs) == ["#", "Job", "Status", "Progress", "Attempts", "Created", "Finished", "Outcome"]
    assert "<td>Transcribe a recording</td>" in jobs and '<span class="error">no &lt;audio&gt;</span>' in jobs
    job_rows = _csv(client, "/jobs")
    assert job_rows[0] == ["id", "kind", "status", "progress", "progress_message", "attempts", "created_at",
                           "finished_at", "error", "result"]
    assert job_rows[1][1:4] == ["speech.transcribe", "failed", "0.5"] and job_rows[1][8] == "no <audio>"
    scores = client.get("/scores", params={"target": "80"}).text
    assert _headings(scores)[:6] == ["Agent", "Evaluations", "Average", "95 % interval", "Against 80", "Summary"]  # then the trend
    score_rows = _csv(client, "/scores", target="80")
    assert score_rows[0] == ["agent", "evaluations", "average", "ci_low", "ci_high", "conclusive", "against_80",
                             "critical_failures"]
    assert {r[0] for r in score_rows[1:]} == {"Ada", "Ben"} and all(r[0] in scores for r in score_rows[1:])
    queue = client.get("/social").text
    assert _headings(queue) == ["Due", "Platform", "Author", "Followers", "First post", "First response",
                                "Follow-up", "Waiting"]
    assert '<td class="num">250,000</td>' in queue
    queue_rows = _csv(client, "/social")
    assert queue_rows[0][:6] == ["interaction_id", "due_at", "seconds_to_due", "platform", "author", "followers"]
    assert queue_rows[1][5] == "250000"
