"""Sampling rules (determinism, counts, no duplicates, even spread), the evaluator's queue, and calibration
(blind until closed, results with alpha) — on SQLite and PostgreSQL."""

import re
from collections import Counter
from datetime import UTC, datetime, timedelta

from app.evaluations import sampling
from app.evaluations.models import SamplingRuleCreate
from tests.conftest import sign_in
from tests.integration.evaluations_support import FULL_MARKS, load_small_form, make_interaction

WEEK = datetime(2026, 11, 2, tzinfo=UTC)


def _population(session, make_user, per_agent=5, agents=3):
    evaluators = [make_user("evaluator", username=f"ev{i}") for i in range(3)]
    team_agents = [make_user("agent", username=f"ag{i}", team="Billing") for i in range(agents)]
    outsider = make_user("agent", username="outsider", team="Technical")
    for agent in [*team_agents, outsider]:
        for day in range(per_agent):
            make_interaction(session, agent_id=agent.id, channel="call", queue="billing",
                             started_at=WEEK + timedelta(days=day, hours=agent.id % 5))
        make_interaction(session, agent_id=agent.id, channel="chat", started_at=WEEK + timedelta(days=1))
        make_interaction(session, agent_id=agent.id, channel="call", started_at=WEEK - timedelta(days=3))
    return evaluators, team_agents, outsider


def _rule(session, evaluators, make_user, **overrides):
    admin = make_user("admin", username="root")
    from app.auth.service import principal_of

    data = SamplingRuleCreate(name="2 calls per agent per week", channel="call", per_agent=2, period_days=7,
                              due_days=3, seed=42, evaluator_ids=[e.id for e in evaluators], **overrides)
    return principal_of(admin), sampling.create_rule(session=session, principal=principal_of(admin), data=data)


def test_sampling_counts_filters_spread_and_determinism(session, make_user):
    evaluators, team_agents, outsider = _population(session, make_user)
    billing = team_agents[0].team_id
    admin, rule = _rule(session, evaluators, make_user, team_id=billing)
    created = sampling.run_rule(session=session, principal=admin, rule_id=rule.id, period_start=WEEK)
    assert len(created) == 6  # 3 agents × 2, the outsider's team excluded
    assert Counter(a.agent_id for a in created) == {a.id: 2 for a in team_agents}
    assert Counter(a.evaluator_id for a in created) == {e.id: 2 for e in evaluators}  # even spread
    assert all(a.due_at.date() == (WEEK + timedelta(days=10)).date() for a in created)
    picked = sorted(a.interaction_id for a in created)
    again = sampling.run_rule(session=session, principal=admin, rule_id=rule.id, period_start=WEEK)
    assert again == []  # already at N per agent: nothing twice
    second = sampling.run_rule(session=session, principal=admin, rule_id=rule.id, period_start=WEEK - timedelta(days=7))
    assert {a.interaction_id for a in second}.isdisjoint(picked)
    assert len(second) == 3  # one earlier call per agent exists in that week


def test_same_seed_same_sample_different_seed_differs(session, make_user):
    evaluators, _, _ = _population(session, make_user, per_agent=6, agents=2)
    admin, rule = _rule(session, evaluators, make_user)

    def run_fresh():
        created = sampling.run_rule(session=session, principal=admin, rule_id=rule.id, period_start=WEEK)
        picks = sorted(a.interaction_id for a in created)
        for assignment in created:
            session.delete(assignment)
        session.commit()
        return picks

    first = run_fresh()
    assert len(first) == 6  # 3 agents (the outsider too: no team filter) × 2
    assert run_fresh() == first
    rule.seed = 43
    session.add(rule)
    session.commit()
    assert run_fresh() != first


def test_queue_and_manual_assignment_through_api(client, session, make_user):
    evaluators, team_agents, _ = _population(session, make_user, per_agent=2, agents=1)
    _, rule = _rule(session, evaluators, make_user)
    sign_in(client, "root")
    run = client.post(f"/api/sampling-rules/{rule.id}/run", json={"period_start": WEEK.isoformat()})
    assert run.status_code == 200 and len(run.json()) == 4
    load_small_form(session)
    sign_in(client, "ev0")
    queue = client.get("/api/assignments").json()["items"]
    assert queue and all(a["evaluator_id"] == evaluators[0].id for a in queue)
    assert [a["due_at"] for a in queue] == sorted(a["due_at"] for a in queue)
    interaction = make_interaction(session, agent_id=team_agents[0].id, channel="chat")
    manual = client.post("/api/assignments", json={"interaction_id": interaction.id, "evaluator_id": evaluators[1].id,
                                                   "due_at": (WEEK + timedelta(days=2)).isoformat()})
    assert manual.status_code == 201
    assert client.get("/api/assignments", params={"evaluator_id": evaluators[1].id}).status_code == 403
    # working an assignment closes it
    sign_in(client, "ev1")
    card = client.get("/api/scorecards").json()[0]
    draft = client.post("/api/evaluations", json={"interaction_id": interaction.id, "scorecard_id": card["id"],
                                                  "assignment_id": manual.json()["id"]}).json()
    client.post(f"/api/evaluations/{draft['id']}/submit", json={"answers": FULL_MARKS})
    assert all(a["id"] != manual.json()["id"] for a in client.get("/api/assignments").json()["items"])
    done = client.get("/api/assignments", params={"include_done": True}).json()["items"]
    assert any(a["id"] == manual.json()["id"] and a["evaluation_id"] == draft["id"] for a in done)


def test_calibration_blind_until_closed_then_alpha(client, session, make_user):
    make_user("evaluator", username="lead")
    raters = [make_user("evaluator", username=f"cal{i}") for i in range(3)]
    agent = make_user("agent", username="ada")
    scorecard_id = load_small_form(session)
    interaction = make_interaction(session, agent_id=agent.id, channel="call", segments=4)
    sign_in(client, "lead")
    created = client.post("/api/calibrations", json={"title": "Week 45", "interaction_id": interaction.id,
                                                     "scorecard_id": scorecard_id,
                                                     "evaluator_ids": [r.id for r in raters]})
    assert created.status_code == 201, created.text
    cal_id = created.json()["id"]
    gold = client.post(f"/api/calibrations/{cal_id}/evaluation").json()
    assert gold["is_gold"]
    client.post(f"/api/evaluations/{gold['id']}/submit", json={"answers": FULL_MARKS})
    answers = {
        "cal0": FULL_MARKS,
        "cal1": [*FULL_MARKS[:1], {"question_id": "tone", "value": 3}, *FULL_MARKS[2:]],
        "cal2": [{"question_id": "greeted", "value": False}, {"question_id": "tone", "value": 4},
                 {"question_id": "resolved", "na": True}, {"question_id": "verified", "value": True}],
    }
    ids = {}
    for username, given in answers.items():
        sign_in(client, username)
        mine = client.post(f"/api/calibrations/{cal_id}/evaluation").json()
        ids[username] = mine["id"]
        assert client.post(f"/api/evaluations/{mine['id']}/submit", json={"answers": given}).status_code == 200
        view = client.get(f"/api/calibrations/{cal_id}").json()
        assert [e["id"] for e in view["evaluations"]] == [mine["id"]] and view["results"] is None
    # blind: a participant cannot open another's evaluation, and the agent never sees calibration ones
    assert client.get(f"/api/evaluations/{ids['cal0']}").status_code == 404
    sign_in(client, "ada")
    assert client.get(f"/api/evaluations/{ids['cal0']}").status_code == 404
    assert client.get("/api/evaluations").json()["items"] == []
    sign_in(client, "cal0")
    assert client.post(f"/api/calibrations/{cal_id}/close").status_code == 403
    sign_in(client, "lead")
    closed = client.post(f"/api/calibrations/{cal_id}/close")
    assert closed.status_code == 200, closed.text
    results = closed.json()["results"]
    assert results["reference"] == "gold" and results["reference_score"] == 100.0
    assert len(results["deviations"]) == 3
    by_rater = {d["evaluator_id"]: d for d in results["deviations"]}
    assert by_rater[raters[0].id]["score_deviation"] == 0.0
    assert by_rater[raters[1].id]["score_deviation"] < 0
    tone = next(q for q in results["questions"] if q["question_id"] == "tone")
    assert [a["value"] for a in tone["answers"]] == [5, 3, 4]
    assert tone["like_gold"] == {"same": 1, "of": 3} and tone["agreement"] == round(1 / 3, 4)
    assert results["alpha"]["ordinal"] is not None and results["alpha"]["form_interval"] is not None
    page = client.get(f"/calibrations/{cal_id}").text
    row = re.search(r"<tr><td>Tone</td>(.*?)</tr>", page, re.S).group(1)
    assert "<td>1 of 3</td>" in row and "<td>33.0 %</td>" in row  # like the gold; agreement of the three
    assert "2 of 4 submitted" not in page  # closed: no count before closing
    sign_in(client, "cal1")
    assert client.get(f"/api/evaluations/{ids['cal0']}").status_code == 200  # visible once closed
    from app.evaluations.calibration import evaluator_trend

    trend = evaluator_trend(session=session, evaluator_id=raters[1].id)
    assert [t["calibration_id"] for t in trend] == [cal_id] and trend[0]["score_deviation"] < 0
    assert "My agreement over sessions" in client.get("/calibrations").text
    assert len(client.get(f"/api/calibrations/{cal_id}").json()["evaluations"]) == 4


def test_calibration_needs_two_evaluators_and_outsiders_get_404(client, session, make_user):
    make_user("evaluator", username="lead")
    rater = make_user("evaluator", username="solo")
    make_user("evaluator", username="stranger")
    agent = make_user("agent", username="ada")
    scorecard_id = load_small_form(session)
    interaction = make_interaction(session, agent_id=agent.id)
    sign_in(client, "lead")
    response = client.post("/api/calibrations", json={"title": "x", "interaction_id": interaction.id,
                                                      "scorecard_id": scorecard_id, "evaluator_ids": [rater.id, rater.id]})
    assert response.status_code == 422
    other = make_user("evaluator", username="duo")
    ok = client.post("/api/calibrations", json={"title": "x", "interaction_id": interaction.id,
                                                "scorecard_id": scorecard_id, "evaluator_ids": [rater.id, other.id]})
    sign_in(client, "stranger")
    assert client.get(f"/api/calibrations/{ok.json()['id']}").status_code == 404


def test_question_alpha_across_sessions(session, make_user):
    from app.evaluations.calibration import krippendorff_alpha, question_alpha
    from app.evaluations.models import CalibrationSession

    lead = make_user("evaluator", username="lead")
    agent = make_user("agent", username="ada")
    load_small_form(session)
    interaction = make_interaction(session, agent_id=agent.id)
    from app.scorecards import service as scorecards

    version = scorecards.published_version(session=session, scorecard_id=scorecards.get_by_key(
        session=session, key="small_chat").id)
    # two raters over four sessions: (yes, yes) (no, no) (yes, yes) (no, yes) → hand-worked nominal alpha 0.5333
    pairs = [(True, True), (False, False), (True, True), (False, True)]
    for index, (a, b) in enumerate(pairs):
        session.add(CalibrationSession(
            title=f"s{index}", interaction_id=interaction.id, scorecard_version_id=version.id, lead_id=lead.id,
            evaluator_ids=[101, 102], status="closed", closed_at=WEEK + timedelta(days=index),
            results={"questions": [{"question_id": "greeted", "type": "yes_no", "answers": [
                {"evaluator_id": 101, "value": a}, {"evaluator_id": 102, "value": b}]},
                {"question_id": "tone", "type": "scale", "answers": [
                    {"evaluator_id": 101, "value": 3 + index % 2}, {"evaluator_id": 102, "value": "N/A"}]}]}))
    session.commit()
    greeted = question_alpha(session=session, question_id="greeted", scorecard_id=version.scorecard_id)
    assert greeted["units"] == 4 and greeted["raters"] == 2 and greeted["level"] == "nominal"
    assert greeted["alpha"] == 0.5333 == krippendorff_alpha([[1, 0, 1, 0], [1, 0, 1, 1]], "nominal")
    tone = question_alpha(session=session, question_id="tone")
    assert tone["level"] == "ordinal" and tone["alpha"] is None  # one rater only: undefined
