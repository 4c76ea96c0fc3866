"""The evaluation lifecycle through the API, on SQLite and PostgreSQL: evaluate → submit → acknowledge;
dispute → resolve with a changed score and audit events; scope (agents, coaches); optimistic locking."""

from datetime import timedelta

from sqlmodel import select

from app.auth.models import User
from app.core.models import AuditEvent
from app.evaluations.models import Evaluation
from tests.conftest import sign_in
from tests.integration.evaluations_support import FULL_MARKS, load_small_form, make_interaction


def _setup(session, make_user):
    evaluator = make_user("evaluator", username="eva")
    agent = make_user("agent", username="ada", team="Billing")
    other_agent = make_user("agent", username="ben", team="Technical")
    scorecard_id = load_small_form(session)
    interaction = make_interaction(session, agent_id=agent.id, messages=3)
    return evaluator, agent, other_agent, scorecard_id, interaction


def _create(client, interaction_id, scorecard_id):
    response = client.post("/api/evaluations", json={"interaction_id": interaction_id, "scorecard_id": scorecard_id})
    assert response.status_code == 201, response.text
    return response.json()


def _submitted(client, session, make_user):
    evaluator, agent, other, scorecard_id, interaction = _setup(session, make_user)
    sign_in(client, "eva")
    draft = _create(client, interaction.id, scorecard_id)
    answers = [*FULL_MARKS[:2], {"question_id": "resolved", "value": False, "comment": "No fix offered",
                                 "evidence": [{"start": 12.5, "end": 20.0}]},
               {"question_id": "verified", "value": True}]
    response = client.post(f"/api/evaluations/{draft['id']}/submit", json={"revision": draft["revision"],
                                                                           "answers": answers})
    assert response.status_code == 200, response.text
    return response.json(), evaluator, agent, other


def test_full_workflow_submit_then_acknowledge(client, session, make_user):
    evaluation, _, agent, _ = _submitted(client, session, make_user)
    # greeted 1/1 + tone 4/4 + resolved 0/5 + verified 1/1 → 6/11
    assert evaluation["state"] == "submitted" and evaluation["score"] == round(600 / 11, 2)
    assert evaluation["respond_by"] is not None
    resolved = next(a for a in evaluation["answers"] if a["question_id"] == "resolved")
    assert resolved["earned"] == 0 and resolved["possible"] == 5 and resolved["evidence"] == [{"start": 12.5, "end": 20.0}]
    assert evaluation["breakdown"]["sections"][1]["possible"] == 6
    sign_in(client, "ada")
    listed = client.get("/api/evaluations").json()
    assert [e["id"] for e in listed["items"]] == [evaluation["id"]] and listed["total"] == 1
    response = client.post(f"/api/evaluations/{evaluation['id']}/acknowledge")
    assert response.status_code == 200 and response.json()["state"] == "acknowledged"
    again = client.post(f"/api/evaluations/{evaluation['id']}/acknowledge")
    assert again.status_code == 409


def test_dispute_then_resolve_with_changed_score_is_audited(client, session, make_user):
    evaluation, _, _, _ = _submitted(client, session, make_user)
    make_user("evaluator", username="lead")
    sign_in(client, "ada")
    response = client.post(f"/api/evaluations/{evaluation['id']}/dispute", json={
        "reason": "The customer's issue was fixed", "items": [{"question_id": "resolved", "reason": "see 01:40"}]})
    assert response.status_code == 201, response.text
    assert client.get(f"/api/evaluations/{evaluation['id']}").json()["state"] == "disputed"
    sign_in(client, "lead")
    response = client.post(f"/api/evaluations/{evaluation['id']}/resolve", json={
        "outcome": "adjusted", "reason": "Recording shows the refund", "answers": [
            {"question_id": "resolved", "value": True, "comment": "Refund at 01:40"}]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["state"] == "resolved" and body["score"] == 100.0
    assert body["disputes"][0]["outcome"] == "adjusted" and body["disputes"][0]["score_after"] == 100.0
    assert body["disputes"][0]["score_before"] == evaluation["score"]
    events = session.exec(select(AuditEvent).where(AuditEvent.record_type == "evaluation",
                                                   AuditEvent.record_id == str(evaluation["id"]))).all()
    actions = [e.action for e in events]
    assert actions == ["evaluation.create", "evaluation.submit", "evaluation.dispute", "evaluation.resolve"]
    resolve_event = events[-1]
    assert resolve_event.before["score"] == evaluation["score"] and resolve_event.after["score"] == 100.0
    assert resolve_event.before["answers"] == {"resolved": False} and resolve_event.after["answers"] == {"resolved": True}
    assert resolve_event.reason == "Recording shows the refund"
    history = client.get(f"/api/evaluations/{evaluation['id']}/history").json()
    assert [h["action"] for h in history] == actions


def test_dispute_upheld_keeps_score(client, session, make_user):
    evaluation, _, _, _ = _submitted(client, session, make_user)
    sign_in(client, "ada")
    client.post(f"/api/evaluations/{evaluation['id']}/dispute", json={"reason": "unfair"})
    sign_in(client, "eva")  # the evaluator who scored it may not judge the dispute (the form's default)
    own = client.post(f"/api/evaluations/{evaluation['id']}/resolve",
                      json={"outcome": "upheld", "reason": "Correct as scored"})
    assert own.status_code == 403 and own.json()["error"]["code"] == "forbidden"
    make_user("evaluator", username="second")
    sign_in(client, "second")
    body = client.post(f"/api/evaluations/{evaluation['id']}/resolve",
                       json={"outcome": "upheld", "reason": "Correct as scored"}).json()
    assert body["state"] == "resolved" and body["score"] == evaluation["score"]


def test_dispute_after_window_is_refused(client, session, make_user):
    evaluation, _, _, _ = _submitted(client, session, make_user)
    row = session.get(Evaluation, evaluation["id"])
    row.respond_by = row.submitted_at - timedelta(days=1)
    session.add(row)
    session.commit()
    sign_in(client, "ada")
    response = client.post(f"/api/evaluations/{evaluation['id']}/dispute", json={"reason": "late"})
    assert response.status_code == 409 and "window" in response.json()["error"]["message"]


def test_dispute_unknown_question(client, session, make_user):
    evaluation, _, _, _ = _submitted(client, session, make_user)
    sign_in(client, "ada")
    response = client.post(f"/api/evaluations/{evaluation['id']}/dispute",
                           json={"reason": "x", "items": [{"question_id": "nope", "reason": "y"}]})
    assert response.status_code == 422 and response.json()["error"]["details"][0]["loc"] == "items[0].question_id"


def test_agent_sees_only_own_evaluations(client, session, make_user):
    evaluation, _, _, _ = _submitted(client, session, make_user)
    sign_in(client, "ben")
    assert client.get(f"/api/evaluations/{evaluation['id']}").status_code == 404
    assert client.get("/api/evaluations").json()["items"] == []
    assert client.post(f"/api/evaluations/{evaluation['id']}/dispute", json={"reason": "x"}).status_code == 404
    assert client.get(f"/api/evaluations/{evaluation['id']}/history").status_code == 404


def test_agent_does_not_see_a_draft(client, session, make_user):
    _, _, _, scorecard_id, interaction = _setup(session, make_user)
    sign_in(client, "eva")
    draft = _create(client, interaction.id, scorecard_id)
    sign_in(client, "ada")
    assert client.get(f"/api/evaluations/{draft['id']}").status_code == 404


def test_coach_sees_own_team_only(client, session, make_user):
    evaluation, _, _, _ = _submitted(client, session, make_user)
    make_user("coach", username="colin", team="Billing")
    make_user("coach", username="tess", team="Technical")
    sign_in(client, "colin")
    assert client.get(f"/api/evaluations/{evaluation['id']}").status_code == 200
    assert client.get("/api/evaluations").json()["total"] == 1
    sign_in(client, "tess")
    assert client.get(f"/api/evaluations/{evaluation['id']}").status_code == 404
    assert client.get("/api/evaluations").json()["items"] == []
    assert client.post(f"/api/evaluations/{evaluation['id']}/acknowledge").status_code == 403


def test_evaluator_cannot_evaluate_own_interaction(client, session, make_user):
    evaluator = make_user("evaluator,agent", username="dual")
    scorecard_id = load_small_form(session)
    interaction = make_interaction(session, agent_id=evaluator.id)
    sign_in(client, "dual")
    response = client.post("/api/evaluations", json={"interaction_id": interaction.id, "scorecard_id": scorecard_id})
    assert response.status_code == 403


def test_scorecard_must_apply_to_channel(client, session, make_user):
    _, agent, _, scorecard_id, _ = _setup(session, make_user)
    email = make_interaction(session, agent_id=agent.id, channel="email")
    sign_in(client, "eva")
    response = client.post("/api/evaluations", json={"interaction_id": email.id, "scorecard_id": scorecard_id})
    assert response.status_code == 422 and "does not apply" in response.json()["error"]["message"]


def test_submit_with_missing_answers_lists_them(client, session, make_user):
    _, _, _, scorecard_id, interaction = _setup(session, make_user)
    sign_in(client, "eva")
    draft = _create(client, interaction.id, scorecard_id)
    response = client.post(f"/api/evaluations/{draft['id']}/submit", json={"answers": FULL_MARKS[:2]})
    assert response.status_code == 422
    assert [d["loc"] for d in response.json()["error"]["details"]] == ["answers.resolved", "answers.verified"]


def test_draft_save_optimistic_lock_and_no_edit_after_submit(client, session, make_user):
    _, _, _, scorecard_id, interaction = _setup(session, make_user)
    sign_in(client, "eva")
    draft = _create(client, interaction.id, scorecard_id)
    first = client.put(f"/api/evaluations/{draft['id']}/answers",
                       json={"revision": draft["revision"], "answers": FULL_MARKS[:1]})
    assert first.status_code == 200 and first.json()["revision"] == draft["revision"] + 1
    stale = client.put(f"/api/evaluations/{draft['id']}/answers",
                       json={"revision": draft["revision"], "answers": FULL_MARKS[1:2]})
    assert stale.status_code == 409
    done = client.post(f"/api/evaluations/{draft['id']}/submit", json={"answers": FULL_MARKS})
    assert done.status_code == 200 and done.json()["score"] == 100.0
    late = client.put(f"/api/evaluations/{draft['id']}/answers",
                      json={"revision": done.json()["revision"], "answers": FULL_MARKS[:1]})
    assert late.status_code == 409


def test_invalid_answers_have_field_paths(client, session, make_user):
    _, _, _, scorecard_id, interaction = _setup(session, make_user)
    sign_in(client, "eva")
    draft = _create(client, interaction.id, scorecard_id)
    response = client.put(f"/api/evaluations/{draft['id']}/answers", json={"revision": draft["revision"], "answers": [
        {"question_id": "tone", "value": 9}, {"question_id": "greeted", "na": True},
        {"question_id": "resolved", "value": True, "evidence": [{"message_id": 999999}]}]})
    assert response.status_code == 422
    locs = [d["loc"] for d in response.json()["error"]["details"]]
    assert locs == ["answers[0].value", "answers[1].na", "answers[2].evidence[0].message_id"]


def test_critical_failure_scores_zero_and_preview(client, session, make_user):
    _, _, _, scorecard_id, interaction = _setup(session, make_user)
    sign_in(client, "eva")
    draft = _create(client, interaction.id, scorecard_id)
    answers = [*FULL_MARKS[:3], {"question_id": "verified", "value": False}]
    preview = client.post(f"/api/evaluations/{draft['id']}/preview", json=answers).json()
    assert preview["score"] == 0.0 and preview["critical_failures"] == ["verified"]
    done = client.post(f"/api/evaluations/{draft['id']}/submit", json={"answers": answers}).json()
    assert done["score"] == 0.0 and done["critical_failed"]
    failed = client.get(f"/api/evaluations/{draft['id']}/failed-answers").json()
    assert [f["question_id"] for f in failed] == ["verified"]


def test_only_the_evaluations_agent_acknowledges(client, session, make_user):
    evaluation, _, _, _ = _submitted(client, session, make_user)
    sign_in(client, "eva")
    assert client.post(f"/api/evaluations/{evaluation['id']}/acknowledge").status_code == 403


def test_version_is_locked_once_used_and_editing_makes_a_new_version(client, session, make_user):
    evaluation, _, _, _ = _submitted(client, session, make_user)
    make_user("admin", username="root")
    sign_in(client, "root")
    card = client.get(f"/api/scorecards/{evaluation['scorecard_id']}").json()
    form = card["versions"][0]["definition"]
    assert card["versions"][0]["locked"]
    form["name"] = "Small chat form v2"
    response = client.put(f"/api/scorecards/{card['id']}", json=form)
    assert response.status_code == 200 and response.json()["outcome"] == "new_version"
    assert [v["number"] for v in response.json()["versions"]] == [1, 2]
    assert client.get(f"/api/evaluations/{evaluation['id']}").json()["scorecard_version"] == 1


def test_evaluator_cannot_evaluate_a_call_they_handled_before_a_transfer(client, session, make_user):
    from app.interactions.models import InteractionLeg

    make_user("evaluator,agent", username="dual")
    dual = session.exec(select(User).where(User.username == "dual")).one()
    agent = make_user("agent", username="ada")
    scorecard_id = load_small_form(session)
    interaction = make_interaction(session, agent_id=agent.id, channel="call")
    session.add(InteractionLeg(interaction_id=interaction.id, seq=0, agent_id=dual.id))
    session.add(InteractionLeg(interaction_id=interaction.id, seq=1, agent_id=agent.id))
    session.commit()
    sign_in(client, "dual")
    response = client.post("/api/evaluations", json={"interaction_id": interaction.id, "scorecard_id": scorecard_id})
    assert response.status_code == 403


def test_summary_by_agent_question_and_csv_respects_scope(client, session, make_user):
    evaluation, _, agent, _ = _submitted(client, session, make_user)
    make_user("admin", username="root")
    sign_in(client, "root")
    by_agent = client.get("/api/evaluation-summary", params={"group_by": "agent"}).json()
    assert by_agent == [{"key": str(agent.id), "n": 1, "mean": evaluation["score"], "stdev": None,
                         "critical_failures": 0, "critical_rate": 0.0, "ci_low": None, "ci_high": None,
                         "conclusive": False,
                         "interval": f"{evaluation['score']:.1f} (not enough evaluations to say, n=1)",
                         "scores": [evaluation["score"]]}]
    by_question = {g["key"]: g for g in client.get("/api/evaluation-summary", params={"group_by": "question"}).json()}
    assert by_question["resolved"]["mean"] == 0.0 and by_question["tone"]["mean"] == 100.0
    csv_text = client.get("/api/evaluation-summary", params={"group_by": "channel", "format": "csv"}).text
    assert csv_text.splitlines()[0] == "channel,n,mean,ci95_low,ci95_high,stdev,critical_failures,critical_rate"
    sign_in(client, "ben")
    assert client.get("/api/evaluation-summary").json() == []


def test_executive_sees_submitted_but_not_drafts(client, session, make_user):
    _, _, _, scorecard_id, interaction = _setup(session, make_user)
    make_user("executive", username="erin")
    sign_in(client, "eva")
    draft = _create(client, interaction.id, scorecard_id)
    sign_in(client, "erin")
    assert client.get(f"/api/evaluations/{draft['id']}").status_code == 404
    assert client.get("/api/evaluations").json()["items"] == []
    sign_in(client, "eva")
    client.post(f"/api/evaluations/{draft['id']}/submit", json={"answers": FULL_MARKS})
    sign_in(client, "erin")
    assert client.get(f"/api/evaluations/{draft['id']}").status_code == 200
