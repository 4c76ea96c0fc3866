"""Coaching through the JSON API and the pages: scope (agents their own, coaches their team), read-only
roles, 409s, acknowledgement, effectiveness figures and the glue points (monkeypatched sources)."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from app.coaching import results, rules, sources
from app.coaching.effectiveness import ScoreObservation
from app.coaching.service import EvaluationOutcome, FailedAnswer
from app.core.models import AuditEvent
from tests.conftest import sign_in
from tests.integration.evaluations_support import load_questions


@pytest.fixture
def team(make_user, session):
    load_questions(session, "hold_etiquette", "verify_identity", "closing", "recap")
    return {
        "coach": make_user("coach", username="colin", team="Billing"),
        "ada": make_user("agent", username="ada", team="Billing", display_name="Ada Agent"),
        "ben": make_user("agent", username="ben", team="Billing"),
        "cara": make_user("agent", username="cara", team="Technical"),
        "cleo": make_user("coach", username="cleo", team="Technical"),
        "eva": make_user("evaluator", username="eva"),
        "erin": make_user("executive", username="erin"),
        "root": make_user("admin", username="root"),
    }


IN_A_MONTH = (date.today() + timedelta(days=30)).isoformat()  # not overdue whenever the suite runs


def create(client, agent_id, title="Hold etiquette", **extra):
    response = client.post("/api/coaching/assignments", json={
        "agent_id": agent_id, "topic_title": title, "goal": "Ask before holding", "due_date": IN_A_MONTH,
        "evidence": [{"kind": "transcript_excerpt", "interaction_id": 41, "start": 75.5, "end": 80,
                      "text": "<b>hold on</b>"}], **extra})
    assert response.status_code == 201, response.text
    return response.json()


def test_scope_and_read_only_roles(client, team):
    sign_in(client, "colin")
    made = create(client, team["ada"].id)
    assert made["coach_id"] == team["coach"].id and made["status"] == "assigned" and made["sessions"] == []
    url = f"/api/coaching/assignments/{made['id']}"
    for username in ("ben", "cleo", "cara"):  # another agent, another team's coach, another team's agent
        sign_in(client, username)
        assert client.get(url).status_code == 404
        assert client.get(f"{url}/effectiveness").status_code == 404
        assert client.get("/api/coaching/assignments").json()["total"] == 0
    sign_in(client, "cleo")
    assert client.post(f"{url}/status", json={"status": "in_progress"}).status_code == 404
    refused = client.post("/api/coaching/assignments", json={"agent_id": team["ada"].id, "topic_title": "x"})
    assert refused.status_code == 404
    for username in ("eva", "erin"):  # read everything, change nothing
        sign_in(client, username)
        assert client.get(url).status_code == 200
        assert client.post(f"{url}/status", json={"status": "in_progress"}).status_code == 403
    sign_in(client, "colin")
    create(client, team["ben"].id, title="=HYPERLINK(\"http://x\")")
    exported = client.get("/api/coaching/assignments.csv?topic=hold").text.splitlines()
    assert len(exported) == 2 and "Ada Agent" in exported[1] and "Hold etiquette" in exported[1]
    assert "'=HYPERLINK" in client.get("/api/coaching/assignments.csv").text
    sign_in(client, "ben")
    assert "Hold etiquette" not in client.get("/api/coaching/assignments.csv").text
    sign_in(client, "ada")
    assert client.get(url).json()["topic_title"] == "Hold etiquette"
    assert client.get("/api/coaching/assignments").json()["total"] == 1
    assert client.post(f"{url}/status", json={"status": "in_progress"}).status_code == 403


def test_transitions_duplicates_and_acknowledgement_over_http(client, team):
    sign_in(client, "colin")
    made = create(client, team["ada"].id)
    url = f"/api/coaching/assignments/{made['id']}"
    page = client.get(f"/coaching/{made['id']}").text
    assert 'href="/interactions/41?t=75.5"' in page and "&lt;b&gt;hold on&lt;/b&gt;" in page  # escaped
    illegal = client.post(f"{url}/status", json={"status": "verified"})
    assert illegal.status_code == 409 and illegal.json()["error"]["code"] == "illegal_transition"
    duplicate = client.post("/api/coaching/assignments", json={"agent_id": team["ada"].id,
                                                              "topic_title": "HOLD etiquette"})
    assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "duplicate_assignment"
    bad = client.post(f"{url}/status", json={"status": "finished"})
    assert bad.status_code == 422 and "status" in bad.json()["error"]["details"][0]["loc"]
    sess = client.post(f"{url}/sessions", json={"scheduled_at": "2026-11-25T10:00:00Z"})
    assert sess.status_code == 201
    for future in (client.post(f"{url}/sessions", json={"held_at": "2030-01-01T10:00:00Z"}),
                   client.patch(f"/api/coaching/sessions/{sess.json()['id']}", json={"held_at": "2030-01-01T10:00:00Z"})):
        assert future.status_code == 422 and "held_at is in the future" in future.json()["error"]["message"]
    held = client.patch(f"/api/coaching/sessions/{sess.json()['id']}",
                        json={"held_at": "2026-11-25T10:30:00Z", "notes": "Role play", "outcome": "Better"})
    assert held.status_code == 200
    assert client.get(url).json()["status"] == "in_progress"
    assert client.post(f"{url}/status", json={"status": "completed"}).status_code == 200
    patched = client.patch(url, json={"goal": "Ask, then thank"})
    assert patched.json()["goal"] == "Ask, then thank"
    sign_in(client, "ben")
    assert client.post(f"{url}/acknowledge", json={"comment": "me?"}).status_code == 404
    sign_in(client, "ada")
    ack = client.post(f"{url}/acknowledge", json={"comment": "Understood"})
    assert ack.status_code == 200 and ack.json()["acknowledgement_comment"] == "Understood"
    assert client.post(f"{url}/acknowledge", json={}).status_code == 409
    sign_in(client, "colin")
    verified = client.post(f"{url}/status", json={"status": "verified", "note": "Checked on 3 calls"})
    assert verified.json()["status"] == "verified" and verified.json()["verified_by"] == team["coach"].id
    assert client.patch(url, json={"goal": "late edit"}).status_code == 409


def _observations(before, after):
    now = datetime.now(UTC)
    obs = []
    for i, score in enumerate(before):
        at = now - timedelta(days=10 + i)
        obs += [ScoreObservation(at=at, score=score, evaluation_id=i + 1),
                ScoreObservation(at=at, score=score, question_id="hold_etiquette", evaluation_id=i + 1)]
    for i, score in enumerate(after):
        at = now + timedelta(days=1 + i)
        obs += [ScoreObservation(at=at, score=score, evaluation_id=100 + i),
                ScoreObservation(at=at, score=score, question_id="hold_etiquette", evaluation_id=100 + i)]
    return obs


def test_effectiveness_endpoints(client, team, monkeypatch):
    by_agent = {team["ada"].id: _observations([50, 60, 70], [90, 100, 90, 100]),
                team["ben"].id: _observations([80, 80, 80], [70, 60])}
    monkeypatch.setattr(sources, "load_score_observations", lambda session, agent_id: by_agent.get(agent_id, []))
    sign_in(client, "colin")
    ids = []
    for agent in ("ada", "ben"):
        made = create(client, team[agent].id, title="Hold", question_ids=["hold_etiquette"])
        for to in ("in_progress", "completed"):
            client.post(f"/api/coaching/assignments/{made['id']}/status", json={"status": to})
        ids.append(made["id"])
    ada = client.get(f"/api/coaching/assignments/{ids[0]}/effectiveness").json()
    assert ada["topic"]["before_mean"] == 60 and ada["topic"]["after_mean"] == 95 and ada["topic"]["change"] == 35
    assert ada["topic"]["p_value"] == pytest.approx(0.0123, abs=0.0005) and ada["topic"]["verdict"] == "improved"
    assert ada["improved"] is True
    ben = client.get(f"/api/coaching/assignments/{ids[1]}/effectiveness").json()
    assert ben["topic"]["verdict"] == "not enough evaluations to say" and ben["topic"]["change"] is None
    limited = client.get(f"/api/coaching/assignments/{ids[0]}/effectiveness?evaluations=2").json()
    assert limited["topic"]["before_n"] == 2 and limited["topic"]["verdict"] == "not enough evaluations to say"
    report = client.get("/api/coaching/effectiveness").json()
    assert report["overall"]["assignments"] == 2 and report["overall"]["measured"] == 1
    assert report["overall"]["share_improved"] == 1.0
    assert report["by_coach"][0]["label"] == "Colin" and report["by_team"][0]["label"] == "Billing"
    exported = client.get("/api/coaching/effectiveness.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    lines = exported.text.splitlines()
    assert lines[0].startswith("assignment_id,agent,coach,topic,status,improved,topic_before_n,topic_before_mean")
    assert any(line.startswith(f"{ids[0]},Ada Agent,Colin,Hold,completed,yes,3,60.0,4,95.0,35.0,0.0123,improved")
               for line in lines)
    sign_in(client, "cleo")  # another team's coach sees none of it
    assert client.get("/api/coaching/effectiveness").json()["overall"]["assignments"] == 0
    assert len(client.get("/api/coaching/effectiveness.csv").text.splitlines()) == 1
    sign_in(client, "colin")
    page = client.get(f"/coaching/{ids[0]}")
    assert "+35.0" in page.text and "improved" in page.text
    assert "<dt>Questions</dt><dd>Hold etiquette</dd>" in page.text  # the question as the form words it
    summary = client.get("/coaching/effectiveness")
    assert summary.status_code == 200 and "1</strong> of <strong>1" in summary.text


def test_from_evaluation_and_rules_glue_points(client, team, monkeypatch, session):
    ada = team["ada"].id
    answer = FailedAnswer(question_id="verify_identity", question_text="Verified identity", critical=True,
                          comment="skipped", evidence=({"kind": "message", "message_id": 9},))
    now = datetime.now(UTC)
    outcomes = {e: EvaluationOutcome(evaluation_id=e, agent_id=ada if e < 3 else team["ben"].id,
                                     interaction_id=70 + e, submitted_at=now - timedelta(days=e), score=40,
                                     failed=(answer,))
                for e in (1, 2, 3, 4)}

    def load_outcome(session, evaluation_id):
        if evaluation_id not in outcomes:
            raise sources.NotFound("no such evaluation")
        return outcomes[evaluation_id]

    monkeypatch.setattr(sources, "load_evaluation_outcome", load_outcome)
    monkeypatch.setattr(sources, "load_recent_outcomes", lambda session, since, agent_id=None: [
        o for o in outcomes.values() if agent_id in (None, o.agent_id)])
    sign_in(client, "colin")
    assert client.post("/api/coaching/assignments/from-evaluation/5", json={}).status_code == 404
    made = client.post("/api/coaching/assignments/from-evaluation/1", json={"goal": "Always verify"}).json()
    assert made["source_kind"] == "evaluation" and made["source_id"] == 1
    assert made["evidence"][1] == {"kind": "message", "message_id": 9, "interaction_id": 71, "evaluation_id": 1,
                                   "question_id": "verify_identity"}
    page = client.get(f"/coaching/{made['id']}").text
    assert 'href="/interactions/71#m-9"' in page and 'href="/evaluations/1#m-9"' in page
    assert 'href="/evaluations/1"' in page  # the failed answer itself
    # the evaluation page's button (a form): the open topic sends the coach to the existing assignment
    again = client.post("/coaching/from-evaluation/2", data={"question_ids": ["verify_identity"]},
                        follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].startswith(f"/coaching/{made['id']}?message=")
    assert "already open for the agent" in client.get(again.headers["location"]).text
    client.post(f"/api/coaching/assignments/{made['id']}/status", json={"status": "cancelled"})
    fresh = client.post("/coaching/from-evaluation/2", data={"goal": "Verify first"}, follow_redirects=False)
    assert fresh.status_code == 303 and "message=Assignment+created" in fresh.headers["location"]
    client.post(fresh.headers["location"].split("?")[0].replace("/coaching/", "/api/coaching/assignments/")
                + "/status", json={"status": "cancelled"})
    sign_in(client, "root")
    rule = client.post("/api/coaching/rules", json={"kind": "repeat_critical_fail", "enabled": True})
    assert rule.status_code == 201 and rule.json()["window_days"] == 30
    run = client.post("/api/coaching/rules/apply").json()
    # ada's two failures were already answered by the (cancelled) assignment made from evaluation 1
    assert [a["agent_id"] for a in run["created"]] == [team["ben"].id]
    assert run["created"][0]["source_kind"] == "rule"
    assert client.post("/api/coaching/rules/apply").json()["created"] == []
    assert client.patch(f"/api/coaching/rules/{rule.json()['id']}", json={"window_days": 0}).status_code == 422


def _csrf(html):
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_pages_coach_creates_agent_acknowledges(client, team):
    sign_in(client, "colin")
    form = client.get("/coaching/new")
    assert form.status_code == 200 and "Ada Agent" in form.text and "cara" not in form.text.lower()
    response = client.post("/coaching/new", data={
        "csrf_token": _csrf(form.text), "agent_id": str(team["ada"].id), "topic_title": "Closing the call",
        "question_ids": ["closing", "recap"], "goal": "Recap <then> close", "due_date": "2020-01-02"},
        follow_redirects=False)
    assert response.status_code == 303
    path = response.headers["location"].split("?")[0]
    page = client.get(path)
    assert "Recap &lt;then&gt; close" in page.text and "overdue" in page.text
    assert "Recap" in form.text and 'value="recap"' in form.text  # picked from the forms, by their text
    repeat = client.post("/coaching/new", data={"csrf_token": _csrf(form.text), "agent_id": str(team["ada"].id),
                                                "topic_title": "closing the call", "question_ids": ["recap", "closing"]})
    assert repeat.status_code == 409 and f'href="{path}"' in repeat.text and "Open the existing assignment" in repeat.text
    made_up = client.post("/coaching/new", data={"csrf_token": _csrf(form.text), "agent_id": str(team["ada"].id),
                                                 "topic_title": "Invented", "question_ids": ["no_such_question"]})
    assert made_up.status_code == 422 and "on no scorecard" in made_up.text
    listing = client.get("/coaching?overdue=1&topic=closing")
    assert "Closing the call" in listing.text and 'value="closing"' in listing.text
    assert "Closing the call" not in client.get("/coaching?status=verified").text
    moved = client.post(f"{path}/status", data={"csrf_token": _csrf(page.text), "status": "completed"},
                        follow_redirects=True)
    assert "cannot become completed" in moved.text
    client.post(f"{path}/sessions", data={"csrf_token": _csrf(page.text), "held_at": "2026-11-20T09:30",
                                          "notes": "Practised recaps"})
    page = client.get(path)
    assert "In progress" in page.text and "Practised recaps" in page.text
    home = client.get("/")
    assert "My agents&#39; coaching" in home.text or "My agents' coaching" in home.text
    assert f'href="/coaching?agent_id={team["ada"].id}">Ada Agent</a></dt><dd>1 open · 1 overdue</dd>' in home.text
    assert "nothing open" in home.text  # ben, in the team, without coaching
    assert "Cara" not in home.text  # another team
    sign_in(client, "ada")
    page = client.get(path)
    assert "Acknowledge" in page.text and "Start coaching" not in page.text
    assert "Closing the call" in client.get("/").text
    done = client.post(f"{path}/acknowledge", data={"csrf_token": _csrf(page.text), "comment": "<script>x</script>"},
                       follow_redirects=True)
    assert "acknowledged on" in done.text and "&lt;script&gt;x&lt;/script&gt;" in done.text
    audit = client.app.state.sessions().exec(select(AuditEvent).where(
        AuditEvent.action == "coaching.assignment.acknowledge")).all()
    assert len(audit) == 1 and audit[0].after == {"comment": "<script>x</script>"}


def test_rules_page(client, team):
    sign_in(client, "root")
    page = client.get("/coaching/rules")
    done = client.post("/coaching/rules", data={"csrf_token": _csrf(page.text), "kind": "low_score",
                                                "enabled": "on", "score_threshold": "65", "last_n": "4"},
                       follow_redirects=True)
    assert "Average of the last 4 evaluations under 65" in done.text
    rule_id = re.search(r'action="/coaching/rules/(\d+)"', done.text).group(1)
    saved = client.post(f"/coaching/rules/{rule_id}", data={"csrf_token": _csrf(page.text), "last_n": "6"},
                        follow_redirects=True)
    assert "last 6 evaluations" in saved.text and 'name="enabled" checked' not in saved.text
    bad = client.post("/coaching/rules", data={"csrf_token": _csrf(page.text), "kind": "nonsense"},
                      follow_redirects=True)
    assert "kind" in bad.text and 'role="alert"' in bad.text
    ran = client.post("/coaching/rules/apply", data={"csrf_token": _csrf(page.text)}, follow_redirects=True)
    assert "0 assignment(s) created; 0 from review" in ran.text
    assert "Rules switched on" in client.get("/").text


def test_rules_job_after_a_submission_and_the_follow_up_sampling_hook(session, queue, team, monkeypatch):
    from app.auth.service import principal_of
    from app.coaching import service
    from app.coaching.models import AssignmentStatus, RuleCreate, RuleKind

    ben = team["ben"].id
    answer = FailedAnswer(question_id="verify_identity", question_text="Verified identity", critical=True)
    now = datetime.now(UTC)
    outcomes = [EvaluationOutcome(evaluation_id=e, agent_id=ben, interaction_id=e, score=50, failed=(answer,),
                                  submitted_at=now - timedelta(days=e)) for e in (1, 2)]
    asked = []

    def load(session, since, agent_id=None):
        asked.append(agent_id)
        return outcomes

    monkeypatch.setattr(sources, "load_recent_outcomes", load)
    admin, coach = principal_of(team["root"]), principal_of(team["coach"])
    rules.create_rule(session=session, principal=admin, data=RuleCreate(kind=RuleKind.REPEAT_CRITICAL_FAIL,
                                                                          enabled=True))
    job = queue.enqueue(session=session, kind=rules.RULES_JOB, payload={"agent_id": ben})
    session.refresh(job)
    assert job.status == "done" and len(job.result["created"]) == 1 and asked == [ben]
    again = queue.enqueue(session=session, kind=rules.RULES_JOB, payload={"agent_id": ben})
    session.refresh(again)
    assert again.result["created"] == [] and asked == [ben, ben]  # a second run opens no second assignment
    assignment_id = job.result["created"][0]
    for to in ("in_progress", "completed"):
        service.change_status(session=session, principal=coach, assignment_id=assignment_id,
                              to=AssignmentStatus(to))
    follow = results.follow_ups(session=session, completed_since=now - timedelta(days=1))
    assert [(f.agent_id, f.assignment_id, f.question_ids) for f in follow] == [
        (ben, assignment_id, ["verify_identity"])]
    assert results.follow_ups(session=session, completed_since=now + timedelta(days=1)) == []


def test_the_evaluation_page_snippet_renders_for_coaches_only(app, team):
    from app.auth.service import principal_of

    template = app.state.templates.env.get_template("coaching/_assign_from_evaluation.html")
    html = template.render(principal=principal_of(team["coach"]), csrf_token="tok", evaluation_id=5,
                           failed=[("verify_identity", "Verified <identity>")])
    assert 'action="/coaching/from-evaluation/5"' in html and 'value="verify_identity" checked' in html
    assert "Verified &lt;identity&gt;" in html and 'value="tok"' in html
    assert "form" not in template.render(principal=principal_of(team["eva"]), csrf_token="t", evaluation_id=5,
                                         failed=[])


def test_invalid_bodies_name_the_field(client, team):
    sign_in(client, "colin")
    bad_range = client.post("/api/coaching/assignments", json={
        "agent_id": team["ada"].id, "topic_title": "x",
        "evidence": [{"kind": "transcript_excerpt", "interaction_id": 1, "start": 9, "end": 3}]})
    assert bad_range.status_code == 422 and "evidence.0" in bad_range.json()["error"]["details"][0]["loc"]
    unknown = client.post("/api/coaching/assignments", json={"agent_id": team["ada"].id, "topic_title": "x",
                                                            "colour": "red"})
    assert unknown.status_code == 422
    not_agent = client.post("/api/coaching/assignments", json={"agent_id": team["coach"].id, "topic_title": "x"})
    assert not_agent.status_code == 422 and not_agent.json()["error"]["details"][0]["loc"] == "agent_id"
    assert client.get("/api/coaching/assignments?topic=100%25").json()["total"] == 0
