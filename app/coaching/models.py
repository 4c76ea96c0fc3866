"""Coaching: retraining assignments for agents, the sessions held for them, and the rules that create
assignments automatically.

Links to evaluations, review actions and scorecard questions are plain columns (no foreign keys): the
evaluation and review features own those tables, and coaching must not need them to import or migrate.
"""

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator, model_validator
from pydantic import Field as PydanticField
from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from app.core.models import now_column, tz_column
from app.core.timeutil import as_utc, utcnow


class AssignmentStatus(StrEnum):
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    VERIFIED = "verified"
    CANCELLED = "cancelled"


OPEN_STATUSES = frozenset({AssignmentStatus.ASSIGNED, AssignmentStatus.IN_PROGRESS})
"""An assignment is open until its coaching is completed (or it is cancelled): while one is open, no
second assignment on the same agent and topic is created."""


class SourceKind(StrEnum):
    EVALUATION = "evaluation"
    REVIEW_ACTION = "review_action"
    MANUAL = "manual"
    RULE = "rule"


class EvidenceKind(StrEnum):
    INTERACTION = "interaction"
    EVALUATION_ANSWER = "evaluation_answer"
    TRANSCRIPT_EXCERPT = "transcript_excerpt"
    MESSAGE = "message"


class RuleKind(StrEnum):
    REPEAT_CRITICAL_FAIL = "repeat_critical_fail"
    LOW_SCORE = "low_score"


class CoachingAssignment(SQLModel, table=True):
    """Retraining for one agent on one topic, from assigned to verified."""

    __tablename__ = "coaching_assignment"
    __table_args__ = (Index("ix_coaching_assignment_source", "source_kind", "source_id"),)

    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="user_account.id", index=True)
    coach_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    topic_title: str = Field(max_length=300)
    topic_key: str = Field(max_length=400, index=True,
                           description="Normalised topic: the sorted question ids, or the lower-cased title.")
    question_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    goal: str = Field(default="", sa_column=Column(Text, nullable=False))
    evidence: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    due_date: date | None = Field(default=None, index=True)
    status: str = Field(default=AssignmentStatus.ASSIGNED, max_length=20, index=True)
    source_kind: str = Field(default=SourceKind.MANUAL, max_length=20)
    source_id: int | None = Field(default=None, description="evaluation id, review action id or rule id")
    # "<agent_id>:<topic_key>" while open, NULL once closed: the unique index forbids a second open
    # assignment on the same agent and topic even when two requests race (NULLs never collide).
    open_key: str | None = Field(default=None, max_length=420, unique=True)
    acknowledged_at: datetime | None = tz_column()
    acknowledgement_comment: str | None = Field(default=None, max_length=4000)
    created_by: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = now_column()
    updated_at: datetime = now_column()
    started_at: datetime | None = tz_column()
    completed_at: datetime | None = tz_column()
    verified_at: datetime | None = tz_column()
    verified_by: int | None = Field(default=None, foreign_key="user_account.id")


class CoachingSession(SQLModel, table=True):
    """One coaching conversation for an assignment: planned, then held with notes and an outcome."""

    __tablename__ = "coaching_session"

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="coaching_assignment.id", index=True)
    scheduled_at: datetime | None = tz_column()
    held_at: datetime | None = tz_column()
    notes: str = Field(default="", sa_column=Column(Text, nullable=False))
    outcome: str = Field(default="", max_length=2000)
    created_by: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = now_column()
    updated_at: datetime = now_column()


class CoachingRule(SQLModel, table=True):
    """A rule an admin turns on; `apply_rules` turns evaluation outcomes into assignments with it.

    repeat_critical_fail: the same critical question failed `min_failures` times within `window_days`.
    low_score: the mean score of the agent's last `last_n` evaluations under `score_threshold`.
    """

    __tablename__ = "coaching_rule"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)
    name: str = Field(max_length=200)
    enabled: bool = False
    window_days: int = 30
    min_failures: int = 2
    score_threshold: float = 70.0
    last_n: int = 5
    due_in_days: int = 14
    created_at: datetime = now_column()
    updated_at: datetime = now_column()


# ---------------------------------------------------------------- API schemas


class CoachingInput(BaseModel):
    """Request bodies: unknown fields are refused; dates, times and enums are parsed from their JSON text."""

    model_config = ConfigDict(extra="forbid")


class Evidence(CoachingInput):
    """A pointer to what the coaching is about: an interaction, an evaluation answer, a transcript moment
    (start/end in seconds) or a message."""

    kind: EvidenceKind
    interaction_id: int | None = None
    evaluation_id: int | None = None
    question_id: str | None = None
    message_id: int | None = None
    start: float | None = PydanticField(default=None, ge=0)
    end: float | None = PydanticField(default=None, ge=0)
    text: str | None = PydanticField(default=None, max_length=4000)

    @model_validator(mode="after")
    def _range(self) -> "Evidence":
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError("end must not be before start")
        return self


class AssignmentCreate(CoachingInput):
    agent_id: int
    coach_id: int | None = None
    topic_title: str = PydanticField(min_length=1, max_length=300)
    question_ids: list[str] = []
    goal: str = PydanticField(default="", max_length=10_000)
    due_date: date | None = None
    evidence: list[Evidence] = []

    @field_validator("topic_title")
    @classmethod
    def _title(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("topic_title must not be blank")
        return value


class AssignmentUpdate(CoachingInput):
    coach_id: int | None = None
    topic_title: str | None = PydanticField(default=None, min_length=1, max_length=300)
    goal: str | None = PydanticField(default=None, max_length=10_000)
    due_date: date | None = None


class StatusChange(CoachingInput):
    status: AssignmentStatus
    note: str | None = PydanticField(default=None, max_length=2000)


class Acknowledgement(CoachingInput):
    comment: str = PydanticField(default="", max_length=4000)


class FromEvaluationRequest(CoachingInput):
    question_ids: list[str] | None = None
    coach_id: int | None = None
    goal: str = PydanticField(default="", max_length=10_000)
    due_date: date | None = None


def _held_not_in_the_future(value: datetime | None) -> datetime | None:
    if value is not None and as_utc(value) > utcnow() + timedelta(minutes=5):
        raise ValueError("is in the future: a session is held in the past (a coming one has a scheduled time)")
    return value


class SessionCreate(CoachingInput):
    scheduled_at: datetime | None = None
    held_at: datetime | None = None
    notes: str = PydanticField(default="", max_length=20_000)
    outcome: str = PydanticField(default="", max_length=2000)

    _held = field_validator("held_at")(_held_not_in_the_future)


class SessionUpdate(CoachingInput):
    scheduled_at: datetime | None = None
    held_at: datetime | None = None
    notes: str | None = PydanticField(default=None, max_length=20_000)
    outcome: str | None = PydanticField(default=None, max_length=2000)

    _held = field_validator("held_at")(_held_not_in_the_future)


class RuleCreate(CoachingInput):
    kind: RuleKind
    name: str = PydanticField(default="", max_length=200)
    enabled: bool = False
    window_days: int = PydanticField(default=30, ge=1, le=3650)
    min_failures: int = PydanticField(default=2, ge=1, le=100)
    score_threshold: float = PydanticField(default=70.0, ge=0, le=100)
    last_n: int = PydanticField(default=5, ge=1, le=1000)
    due_in_days: int = PydanticField(default=14, ge=0, le=3650)


class RuleUpdate(CoachingInput):
    name: str | None = PydanticField(default=None, max_length=200)
    enabled: bool | None = None
    window_days: int | None = PydanticField(default=None, ge=1, le=3650)
    min_failures: int | None = PydanticField(default=None, ge=1, le=100)
    score_threshold: float | None = PydanticField(default=None, ge=0, le=100)
    last_n: int | None = PydanticField(default=None, ge=1, le=1000)
    due_in_days: int | None = PydanticField(default=None, ge=0, le=3650)


class SessionPublic(BaseModel):
    id: int
    assignment_id: int
    scheduled_at: datetime | None
    held_at: datetime | None
    notes: str
    outcome: str
    created_by: int | None
    created_at: datetime


class AssignmentPublic(BaseModel):
    id: int
    agent_id: int
    coach_id: int | None
    topic_title: str
    question_ids: list[str]
    goal: str
    evidence: list[dict[str, Any]]
    due_date: date | None
    status: str
    overdue: bool
    source_kind: str
    source_id: int | None
    acknowledged_at: datetime | None
    acknowledgement_comment: str | None
    created_by: int | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    verified_at: datetime | None
    verified_by: int | None


class AssignmentDetail(AssignmentPublic):
    sessions: list[SessionPublic]


class RulePublic(BaseModel):
    id: int
    kind: str
    name: str
    enabled: bool
    window_days: int
    min_failures: int
    score_threshold: float
    last_n: int
    due_in_days: int
