"""Where coaching reads evaluations from: the glue to the evaluations feature.

Coaching is built without importing the evaluation tables (they are written in parallel). These three
functions are the only places that must read them; until they are wired they return nothing, and the
coaching pages say "not enough evaluations to say". Routes call them through this module (tests
monkeypatch them here).
"""

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from app.coaching.effectiveness import ScoreObservation
from app.coaching.service import EvaluationOutcome
from app.core.errors import NotFound


def load_score_observations(session: Session, agent_id: int) -> Sequence[ScoreObservation]:
    """Every submitted (or resolved) evaluation of the agent: one observation for its total score
    (question_id None) and one per scored question (0-100; N/A answers left out), at its submission time,
    with its evaluation id. GLUE: read app.evaluations through its service."""
    return []


def observations_for(session: Session, agent_id: int) -> list[ScoreObservation]:
    """The loader the coaching pages pass to the service: looks `load_score_observations` up at call time,
    so replacing it here (the glue, or a test) takes effect everywhere."""
    return list(load_score_observations(session, agent_id))


def load_evaluation_outcome(session: Session, evaluation_id: int) -> EvaluationOutcome:
    """One submitted evaluation as an EvaluationOutcome (its failed answers with comment and evidence).
    Raises NotFound when there is no such submitted evaluation. GLUE: read app.evaluations."""
    raise NotFound(f"evaluation {evaluation_id} not found")


def load_recent_outcomes(session: Session, since: datetime, agent_id: int | None = None
                         ) -> Sequence[EvaluationOutcome]:
    """Outcomes of the evaluations submitted since `since` (of one agent, or of all agents when None), with
    their failed answers (critical flag, comment, evidence). GLUE: read app.evaluations."""
    return []
