"""Evaluations of interactions against a scorecard version, their answers, disputes, assignments from
sampling rules, and calibration sessions.

State machine of an evaluation: draft → submitted → acknowledged | disputed → resolved.
Calibration evaluations (`calibration_session_id` set) are never shown to agents nor counted in their
scores; `is_gold` marks the lead's reference answers of a calibration session.
For statistics (confidence intervals, evaluator bias) each evaluation keeps agent, team, channel,
evaluator, scorecard id + version and per-answer earned/possible, so reports need no joins into forms.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlalchemy import JSON, Column, DateTime, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.models import now_column, tz_column
from app.interactions.models import Channel


class EvaluationState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    ACKNOWLEDGED = "acknowledged"
    DISPUTED = "disputed"
    RESOLVED = "resolved"


class Evaluation(SQLModel, table=True):
    __tablename__ = "evaluation"
    id: int | None = Field(default=None, primary_key=True)
    interaction_id: int = Field(foreign_key="interaction.id", index=True)
    scorecard_id: int = Field(foreign_key="scorecard.id", index=True)
    scorecard_version_id: int = Field(foreign_key="scorecard_version.id", index=True)
    evaluator_id: int = Field(foreign_key="user_account.id", index=True)
    agent_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True,
                                description="The agent's team when the evaluation was created.")
    channel: str = Field(max_length=20, index=True)
    state: str = Field(default=EvaluationState.DRAFT, max_length=20, index=True)
    score: float | None = None
    critical_failed: bool = False
    breakdown: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    revision: int = Field(default=1, description="Optimistic lock: every change increments it.")
    assignment_id: int | None = Field(default=None, foreign_key="evaluation_assignment.id", index=True)
    calibration_session_id: int | None = Field(default=None, foreign_key="calibration_session.id", index=True)
    is_gold: bool = False
    created_at: datetime = now_column()
    updated_at: datetime = now_column()
    submitted_at: datetime | None = tz_column(index=True)
    respond_by: datetime | None = tz_column()
    acknowledged_at: datetime | None = tz_column()


class EvaluationAnswer(SQLModel, table=True):
    __tablename__ = "evaluation_answer"
    __table_args__ = (UniqueConstraint("evaluation_id", "question_id", name="uq_evaluation_answer_question"),)
    id: int | None = Field(default=None, primary_key=True)
    evaluation_id: int = Field(foreign_key="evaluation.id", index=True)
    question_id: str = Field(max_length=80, index=True)
    value: Any = Field(default=None, sa_column=Column(JSON))
    na: bool = False
    comment: str | None = Field(default=None, sa_column=Column(Text))
    evidence: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    earned: float | None = None
    possible: float | None = None
    critical_failed: bool = False


class EvaluationSuggestion(SQLModel, table=True):
    """An auto-QA answer offered to the evaluator when the evaluation started (a snapshot: re-analysis does
    not change it), and what the evaluator finally answered. `outcome`: accepted (same answer), changed,
    or unanswered (the question was hidden or left empty); None until the evaluation is submitted."""

    __tablename__ = "evaluation_suggestion"
    __table_args__ = (UniqueConstraint("evaluation_id", "question_id", name="uq_evaluation_suggestion_question"),)
    id: int | None = Field(default=None, primary_key=True)
    evaluation_id: int = Field(foreign_key="evaluation.id", index=True)
    question_id: str = Field(max_length=80, index=True)
    value: str = Field(max_length=10)  # yes | no | na, as auto-QA answered
    confidence: float
    summary: str = Field(default="", max_length=1000)
    evidence: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    final_value: str | None = Field(default=None, max_length=10)
    outcome: str | None = Field(default=None, max_length=20, index=True)
    created_at: datetime = now_column()


class EvaluationDispute(SQLModel, table=True):
    __tablename__ = "evaluation_dispute"
    id: int | None = Field(default=None, primary_key=True)
    evaluation_id: int = Field(foreign_key="evaluation.id", index=True)
    raised_by: int = Field(foreign_key="user_account.id")
    reason: str = Field(sa_column=Column(Text, nullable=False))
    items: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False),
                                        description='Per question: [{"question_id", "reason"}].')
    raised_at: datetime = now_column()
    resolved_by: int | None = Field(default=None, foreign_key="user_account.id")
    resolved_at: datetime | None = tz_column()
    outcome: str | None = Field(default=None, max_length=20, description="upheld | adjusted")
    resolution_reason: str | None = Field(default=None, sa_column=Column(Text))
    score_before: float | None = None
    score_after: float | None = None


class SamplingRule(SQLModel, table=True):
    """N random interactions per agent per period, matching channel/team/queue filters, spread over evaluators."""

    __tablename__ = "sampling_rule"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    channel: str | None = Field(default=None, max_length=20)
    team_id: int | None = Field(default=None, foreign_key="team.id")
    queue: str | None = Field(default=None, max_length=200)
    per_agent: int = 2
    period_days: int = 7
    due_days: int = 5
    seed: int = 0
    min_duration_seconds: float | None = None
    evaluator_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    scorecard_id: int | None = Field(default=None, foreign_key="scorecard.id")
    filters: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False),
                                    description="Reserved: bad survey, negative sentiment, analytics flags.")
    active: bool = True
    created_by: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = now_column()


class EvaluationAssignment(SQLModel, table=True):
    __tablename__ = "evaluation_assignment"
    __table_args__ = (UniqueConstraint("rule_id", "interaction_id", name="uq_assignment_rule_interaction"),)
    id: int | None = Field(default=None, primary_key=True)
    rule_id: int | None = Field(default=None, foreign_key="sampling_rule.id", index=True)
    interaction_id: int = Field(foreign_key="interaction.id", index=True)
    agent_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    evaluator_id: int = Field(foreign_key="user_account.id", index=True)
    scorecard_id: int | None = Field(default=None, foreign_key="scorecard.id")
    period_start: datetime | None = tz_column()
    due_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
    status: str = Field(default="open", max_length=20, index=True)  # open | done | cancelled
    created_at: datetime = now_column()


class CalibrationSession(SQLModel, table=True):
    __tablename__ = "calibration_session"
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=300)
    interaction_id: int = Field(foreign_key="interaction.id", index=True)
    scorecard_version_id: int = Field(foreign_key="scorecard_version.id")
    lead_id: int = Field(foreign_key="user_account.id", index=True)
    evaluator_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="open", max_length=20, index=True)  # open | closed
    results: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    created_at: datetime = now_column()
    closed_at: datetime | None = tz_column()


# ---------------------------------------------------------------- API schemas

class StrictBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Evidence(StrictBody):
    """A transcript time range (seconds) or a message id, which the UI opens exactly there."""

    start: float | None = PydanticField(default=None, ge=0)
    end: float | None = PydanticField(default=None, ge=0)
    message_id: int | None = None
    note: str | None = PydanticField(default=None, max_length=500)


class AnswerIn(StrictBody):
    question_id: str
    value: bool | int | str | None = None
    na: bool = False
    comment: str | None = PydanticField(default=None, max_length=4000)
    evidence: list[Evidence] = []


class EvaluationCreate(StrictBody):
    interaction_id: int
    scorecard_id: int
    assignment_id: int | None = None
    again: bool = PydanticField(default=False, description="Score an interaction you already evaluated, on purpose.")


class AnswersUpdate(StrictBody):
    revision: int
    answers: list[AnswerIn]


class SubmitBody(StrictBody):
    revision: int | None = None
    answers: list[AnswerIn] = []


class DisputeItem(StrictBody):
    question_id: str
    reason: str = PydanticField(min_length=1, max_length=4000)


class DisputeCreate(StrictBody):
    reason: str = PydanticField(min_length=1, max_length=4000)
    items: list[DisputeItem] = []


class DisputeResolve(StrictBody):
    outcome: Literal["upheld", "adjusted"]
    reason: str = PydanticField(min_length=1, max_length=4000)
    answers: list[AnswerIn] = []
    revision: int | None = None


class AnswerPublic(BaseModel):
    question_id: str
    value: Any
    na: bool
    comment: str | None
    evidence: list[dict[str, Any]]
    earned: float | None
    possible: float | None
    critical_failed: bool


class DisputePublic(BaseModel):
    id: int
    raised_by: int
    reason: str
    items: list[dict[str, Any]]
    raised_at: datetime
    resolved_by: int | None
    resolved_at: datetime | None
    outcome: str | None
    resolution_reason: str | None
    score_before: float | None
    score_after: float | None


class EvaluationPublic(BaseModel):
    id: int
    interaction_id: int
    scorecard_id: int
    scorecard_version_id: int
    scorecard_version: int
    evaluator_id: int
    agent_id: int | None
    team_id: int | None
    channel: str
    state: str
    score: float | None
    critical_failed: bool
    revision: int
    calibration_session_id: int | None
    is_gold: bool
    created_at: datetime
    submitted_at: datetime | None
    respond_by: datetime | None
    acknowledged_at: datetime | None


class EvaluationDetail(EvaluationPublic):
    answers: list[AnswerPublic]
    breakdown: dict[str, Any] | None
    disputes: list[DisputePublic]


class SamplingRuleCreate(StrictBody):
    name: str = PydanticField(min_length=1, max_length=200)
    channel: Channel | None = None
    team_id: int | None = None
    queue: str | None = None
    per_agent: int = PydanticField(default=2, ge=1, le=1000)
    period_days: int = PydanticField(default=7, ge=1, le=366)
    due_days: int = PydanticField(default=5, ge=0, le=366)
    seed: int = 0
    min_duration_seconds: float | None = PydanticField(default=None, ge=0)
    evaluator_ids: list[int] = PydanticField(min_length=1)
    scorecard_id: int | None = None


class SamplingRulePublic(SamplingRuleCreate):
    id: int
    active: bool


class SamplingRun(StrictBody):
    period_start: datetime


class AssignmentCreate(StrictBody):
    interaction_id: int
    evaluator_id: int
    due_at: datetime
    scorecard_id: int | None = None


class AssignmentPublic(BaseModel):
    id: int
    rule_id: int | None
    interaction_id: int
    agent_id: int | None
    evaluator_id: int
    scorecard_id: int | None
    due_at: datetime
    status: str
    evaluation_id: int | None = None


class CalibrationCreate(StrictBody):
    title: str = PydanticField(min_length=1, max_length=300)
    interaction_id: int
    scorecard_id: int
    evaluator_ids: list[int] = PydanticField(min_length=2)


class CalibrationPublic(BaseModel):
    id: int
    title: str
    interaction_id: int
    scorecard_version_id: int
    lead_id: int
    evaluator_ids: list[int]
    status: str
    created_at: datetime
    closed_at: datetime | None
    my_evaluation_id: int | None
    submitted_count: int
    evaluations: list[EvaluationPublic]
    results: dict[str, Any] | None
