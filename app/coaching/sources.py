"""Where coaching reads evaluations and review actions from: the glue to those features.

Coaching's tables and service need neither feature: these functions are the only places that read them,
through their service functions, imported when called (so coaching imports and migrates on its own).
Routes, jobs and pages call them through this module (tests monkeypatch them here).
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session

from app.auth.service import list_users
from app.coaching import service
from app.coaching.effectiveness import ScoreObservation
from app.coaching.models import CoachingAssignment
from app.coaching.service import EvaluationOutcome, FailedAnswer, RetrainingAction
from app.core.errors import NotFound
from app.core.security import Role


def _answer_score(earned: float | None, possible: float | None, critical_failed: bool) -> float | None:
    """A question's result on 0-100: earned/possible, 0 for a failed critical question, None when N/A."""
    if critical_failed:
        return 0.0
    if earned is None or not possible:
        return None
    return 100.0 * earned / possible


def load_score_observations(session: Session, agent_id: int) -> Sequence[ScoreObservation]:
    """Every scored (submitted or later, not calibration) evaluation of the agent: one observation for its
    total score (question_id None) and one per scored question (0-100; N/A answers left out), at its
    submission time, with its evaluation id."""
    from app.evaluations import readings
    from app.evaluations import service as evaluations

    observations: list[ScoreObservation] = []
    scored = readings.scored_points(session=session, agent_id=agent_id)
    answers = evaluations.answer_scores_of(session=session, evaluation_ids=[i for i, _, _ in scored])
    for evaluation_id, at, total in scored:
        observations.append(ScoreObservation(at=at, score=total, evaluation_id=evaluation_id))
        for answer in answers[evaluation_id]:
            score = None if answer.na else _answer_score(answer.earned, answer.possible, answer.critical_failed)
            if score is not None:
                observations.append(ScoreObservation(at=at, score=score, question_id=answer.question_id,
                                                     evaluation_id=evaluation_id))
    return observations


def observations_for(session: Session, agent_id: int) -> list[ScoreObservation]:
    """The loader the coaching pages pass to the service: looks `load_score_observations` up at call time,
    so replacing it here (a test) takes effect everywhere."""
    return list(load_score_observations(session, agent_id))


def _evidence(item: dict[str, Any]) -> dict[str, Any] | None:
    """An evaluation answer's evidence ({start, end} or {message_id}, with a note) as coaching evidence."""
    if item.get("start") is not None:
        return {"kind": "transcript_excerpt", "start": item["start"], "end": item.get("end"), "text": item.get("note")}
    if item.get("message_id") is not None:
        return {"kind": "message", "message_id": item["message_id"], "text": item.get("note")}
    return None


def _outcome(session: Session, evaluation: Any) -> EvaluationOutcome | None:
    from app.evaluations import readings
    from app.evaluations import service as evaluations

    if evaluation.agent_id is None or evaluation.submitted_at is None or evaluation.score is None:
        return None
    answers = {a.question_id: a for a in evaluations.answers_of(session=session, evaluation_id=evaluation.id)}
    failed = []
    for lost in readings.failed_answers(session=session, evaluation_id=evaluation.id):
        raw = answers[lost.question_id].evidence if lost.question_id in answers else []
        evidence = [e for e in (_evidence(item) for item in raw) if e is not None]
        failed.append(FailedAnswer(question_id=lost.question_id, question_text=lost.question_text,
                                   critical=lost.critical_failed, comment=lost.comment or "", evidence=evidence))
    return EvaluationOutcome(evaluation_id=evaluation.id, agent_id=evaluation.agent_id,
                             interaction_id=evaluation.interaction_id, submitted_at=evaluation.submitted_at,
                             score=evaluation.score, failed=failed)


def load_evaluation_outcome(session: Session, evaluation_id: int) -> EvaluationOutcome:
    """One scored evaluation as an EvaluationOutcome (its failed answers with comment and evidence).
    Raises NotFound for a draft, a calibration evaluation or no evaluation (the coaching service then
    checks that the caller coaches the evaluated agent)."""
    from app.evaluations import service as evaluations
    from app.evaluations.models import Evaluation

    evaluation = session.get(Evaluation, evaluation_id)
    outcome = None
    if (evaluation is not None and evaluation.state in evaluations.SCORED_STATES
            and evaluation.calibration_session_id is None):
        outcome = _outcome(session, evaluation)
    if outcome is None:
        raise NotFound(f"evaluation {evaluation_id} not found")
    return outcome


def load_recent_outcomes(session: Session, since: datetime, agent_id: int | None = None
                         ) -> Sequence[EvaluationOutcome]:
    """Outcomes of the scored evaluations submitted since `since`, of one agent or of every agent."""
    from app.evaluations import readings

    agent_ids = [agent_id] if agent_id is not None else [
        u.id for u in list_users(session=session, role=Role.AGENT) if u.id is not None]
    outcomes = []
    for agent in agent_ids:
        for evaluation in readings.agent_evaluations(session=session, agent_id=agent, since=since):
            outcome = _outcome(session, evaluation)
            if outcome is not None:
                outcomes.append(outcome)
    return outcomes


def pick_up_retraining(session: Session) -> list[CoachingAssignment]:
    """Turn the review meetings' retraining actions into coaching assignments (the reviews feature's pull
    hook): one per action, idempotent; the action is then marked as assigned. Commits."""
    from app.reviews import service as reviews
    from app.reviews.actions import mark_retraining_assigned, retraining_actions_without_assignment
    from app.reviews.models import ReviewCase

    made = []
    for action in retraining_actions_without_assignment(session=session):
        if action.agent_id is None or action.id is None:
            continue
        case = session.get(ReviewCase, action.case_id)
        interaction_ids = [i.interaction_id for i in reviews.case_story(session=session, case=case).items] if case else []
        assignment = service.create_from_review_action(session=session, action=RetrainingAction(
            action_id=action.id, agent_id=action.agent_id, topic=action.topic or "Retraining from a review case",
            case_id=action.case_id, due_date=action.due_date, interaction_ids=interaction_ids,
            notes=action.description))
        assert assignment.id is not None
        mark_retraining_assigned(session=session, action_id=action.id, coaching_assignment_id=assignment.id,
                                 actor=None)
        session.commit()
        made.append(assignment)
    return made
