"""The glue to the evaluations and reviews features (app/coaching/sources.py) with real evaluations and a
real review case: outcomes, observations, the rules, before/after, and retraining actions picked up."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from app.auth.service import principal_of
from app.coaching import results, rules, service, sources
from app.coaching.models import AssignmentStatus, CoachingAssignment, RuleCreate, RuleKind
from app.core.errors import NotFound
from app.evaluations import service as evaluations
from app.evaluations.models import AnswerIn, Evaluation
from app.interactions.models import Message
from tests.integration.evaluations_support import load_small_form, make_interaction

PASS = [AnswerIn(question_id="greeted", value=True), AnswerIn(question_id="tone", value=5),
        AnswerIn(question_id="resolved", value=True), AnswerIn(question_id="verified", value=True)]


@pytest.fixture
def world(session, make_user):
    return {"eva": principal_of(make_user("evaluator", username="eva")),
            "coach": principal_of(make_user("coach", username="colin", team="Billing")),
            "admin": principal_of(make_user("admin", username="root")),
            "ada": make_user("agent", username="ada", team="Billing"),
            "scorecard_id": load_small_form(session)}


def evaluate(session, world, *, verified=True, tone=5, at=None, draft=False, evidence=()):
    interaction = make_interaction(session, agent_id=world["ada"].id, messages=2)
    first_message = session.exec(select(Message).where(Message.interaction_id == interaction.id)
                                 .order_by(Message.id)).first()
    evidence = [{**e, "message_id": first_message.id} if e.get("message_id") == "first" else e for e in evidence]
    evaluation = evaluations.create(session=session, principal=world["eva"], interaction_id=interaction.id,
                                    scorecard_id=world["scorecard_id"])
    if draft:
        return evaluation
    answers = [*PASS[:1], AnswerIn(question_id="tone", value=tone), PASS[2],
               AnswerIn(question_id="verified", value=verified, comment=None if verified else "No security check",
                        evidence=list(evidence))]
    evaluations.submit(session=session, principal=world["eva"], evaluation_id=evaluation.id, answers=answers)
    if at is not None:
        evaluation.submitted_at = at
        session.add(evaluation)
        session.commit()
    return session.get(Evaluation, evaluation.id)


def test_outcome_of_a_submitted_evaluation(session, world):
    failed = evaluate(session, world, verified=False, tone=3,
                      evidence=[{"start": 12.5, "end": 20.0, "note": "just go ahead"}, {"message_id": "first"}])
    outcome = sources.load_evaluation_outcome(session, failed.id)
    assert outcome.agent_id == world["ada"].id and outcome.score == 0  # a critical failure scores 0
    by_id = {a.question_id: a for a in outcome.failed}
    assert set(by_id) == {"tone", "verified"} and by_id["verified"].critical and not by_id["tone"].critical
    assert by_id["verified"].comment == "No security check"
    assert by_id["verified"].evidence == [
        {"kind": "transcript_excerpt", "start": 12.5, "end": 20.0, "text": "just go ahead"},
        {"kind": "message", "message_id": by_id["verified"].evidence[1]["message_id"], "text": None}]
    with pytest.raises(NotFound):
        sources.load_evaluation_outcome(session, evaluate(session, world, draft=True).id)
    with pytest.raises(NotFound):
        sources.load_evaluation_outcome(session, 999999)
    made = service.create_from_evaluation(session=session, outcome=outcome, actor=world["coach"],
                                          question_ids=["verified"])
    kinds = [e["kind"] for e in made.evidence]
    assert kinds == ["evaluation_answer", "transcript_excerpt", "message"]
    assert made.evidence[1]["interaction_id"] == failed.interaction_id


def test_rules_and_before_after_on_real_evaluations(session, world):
    now = datetime.now(UTC)
    rules.create_rule(session=session, principal=world["admin"],
                        data=RuleCreate(kind=RuleKind.REPEAT_CRITICAL_FAIL, enabled=True))
    evaluate(session, world, verified=False, at=now - timedelta(days=40))
    evaluate(session, world, verified=False, at=now - timedelta(days=3))
    assert rules.run_rules(session=session, load=sources.load_recent_outcomes) == []  # 37 days apart
    evaluate(session, world, verified=False, tone=1, at=now - timedelta(days=2))
    created = rules.run_rules(session=session, load=sources.load_recent_outcomes, agent_id=world["ada"].id)
    assert [a.question_ids for a in created] == [["verified"]] and created[0].topic_title == "Verified identity"
    assignment = created[0]
    for to in ("in_progress", "completed"):
        service.change_status(session=session, principal=world["coach"], assignment_id=assignment.id,
                              to=AssignmentStatus(to))
    for day in (1, 2, 3):  # after coaching: verified every time
        evaluate(session, world, at=now + timedelta(days=day))
    observations = sources.load_score_observations(session, world["ada"].id)
    assert len([o for o in observations if o.question_id is None]) == 6
    assert {o.score for o in observations if o.question_id == "verified"} == {0.0, 100.0}
    effect = results.assignment_effectiveness(session=session, principal=world["coach"],
                                              assignment_id=assignment.id, load=sources.observations_for)
    assert effect.topic.before == [0.0, 0.0, 0.0] and effect.topic.after == [100.0, 100.0, 100.0]
    assert effect.topic.verdict == "improved" and effect.overall.change == 100


def test_review_retraining_actions_are_picked_up_once(session, make_user):
    from app.reviews import service as reviews
    from app.reviews.actions import add_action
    from app.reviews.models import ActionCreate, ReviewCase
    from app.surveys import service as surveys
    from app.surveys.imports import import_csv
    from tests.fixtures.surveys.support import make_customer, read
    from tests.fixtures.surveys.support import make_interaction as make_call

    coach = make_user("coach", username="colin", team="Technical")
    cara = make_user("agent", username="cara", team="Technical")
    maria = make_customer(session, "Maria Lopez", email="maria.lopez@example.com", phone="+447700900123")
    call = make_call(session, "call-001", "2026-11-02T09:00:00", customer=maria, agent_id=cara.id)
    source = surveys.create_source(session=session, name="demo", actor=None)
    import_csv(session=session, source=source, text=read("basic.csv"), actor=None)
    case = next(c for c in session.exec(select(ReviewCase)).all()
                if call.id in [i.interaction_id for i in reviews.case_story(session=session, case=c).items])
    executive = principal_of(make_user("executive", username="erin"))
    action = add_action(session=session, case=case, actor=executive, data=ActionCreate(
        kind="retrain_staff", agent_id=cara.id, topic="Broadband fault call-backs", description="Call back"))
    made = sources.pick_up_retraining(session)
    assert len(made) == 1 and made[0].source_kind == "review_action" and made[0].source_id == action.id
    assert made[0].coach_id == coach.id and call.id in [e["interaction_id"] for e in made[0].evidence]
    assert action.coaching_assignment_id == made[0].id and action.status == "in_progress"
    assert sources.pick_up_retraining(session) == []
    assert len(session.exec(select(CoachingAssignment)).all()) == 1


def test_assign_button_on_an_evaluation_page(app, session, world):
    failed = evaluate(session, world, verified=False, tone=3)
    template = app.state.templates.env.get_template("coaching/_assign_from_evaluation.html")
    html = template.render(principal=world["coach"], csrf_token="tok", evaluation=failed)
    assert 'action="/coaching/from-evaluation/' + str(failed.id) + '"' in html
    assert 'value="verified" checked' in html and 'value="tone" checked' in html and 'value="greeted"' not in html
    draft = evaluate(session, world, draft=True)
    assert "form" not in template.render(principal=world["coach"], csrf_token="tok", evaluation=draft)
    assert "form" not in template.render(principal=world["eva"], csrf_token="tok", evaluation=failed)
