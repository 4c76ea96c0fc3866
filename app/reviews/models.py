"""Review cases (one per bad survey response), their actions, the review configuration, and meetings."""

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON, Column, Date, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.models import now_column, tz_column


class CaseStatus(StrEnum):
    OPEN = "open"
    INVESTIGATING = "investigating"
    READY = "ready_for_meeting"
    DECIDED = "decided"
    CLOSED = "closed"


# The allowed moves; anything else is a Conflict (409). Going back one step is allowed before a decision.
TRANSITIONS: dict[str, set[str]] = {
    CaseStatus.OPEN: {CaseStatus.INVESTIGATING},
    CaseStatus.INVESTIGATING: {CaseStatus.READY, CaseStatus.OPEN},
    CaseStatus.READY: {CaseStatus.DECIDED, CaseStatus.INVESTIGATING},
    CaseStatus.DECIDED: {CaseStatus.CLOSED, CaseStatus.READY},
    CaseStatus.CLOSED: set(),
}
# Moves into these states are decisions: executives and admins only.
DECISION_STATES = {CaseStatus.DECIDED, CaseStatus.CLOSED}


class ActionKind(StrEnum):
    RETRAIN_STAFF = "retrain_staff"
    CHANGE_SHOP_PROCESS = "change_shop_process"
    CHANGE_BUSINESS_FLOW = "change_business_flow"
    OTHER = "other"


class ActionStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"


DEFAULT_ROOT_CAUSES = ["staff knowledge", "staff behaviour", "shop process", "business flow",
                       "product/network fault", "billing", "other"]


class ReviewConfig(SQLModel, table=True):
    """One row (id 1): the root-cause list, which bands (and which agents' surveys) open cases, the story
    window, the case deadline."""

    __tablename__ = "review_config"
    id: int | None = Field(default=None, primary_key=True)
    root_causes: list[str] = Field(default_factory=lambda: list(DEFAULT_ROOT_CAUSES),
                                   sa_column=Column(JSON, nullable=False))
    open_for_bands: list[str] = Field(default_factory=lambda: ["bad"], sa_column=Column(JSON, nullable=False))
    open_for_agent_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False),
                                          description="Every answered survey about these agents opens a case.")
    story_window_hours: int = 72
    case_due_days: int = 21


class ReviewCase(SQLModel, table=True):
    __tablename__ = "review_case"
    id: int | None = Field(default=None, primary_key=True)
    survey_response_id: int = Field(foreign_key="survey_response.id", unique=True,
                                    description="Exactly one case per response.")
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    agent_id: int | None = Field(default=None, foreign_key="user_account.id", index=True,
                                 description="The agent the survey is about (scope rules use it).")
    period: str = Field(max_length=7, index=True, description="YYYY-MM of the survey answer.")
    status: str = Field(default=CaseStatus.OPEN, max_length=30, index=True)
    owner_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    staff_notes: str = Field(default="", sa_column=Column(Text, nullable=False))
    customer_notes: str = Field(default="", sa_column=Column(Text, nullable=False))
    root_cause: str | None = Field(default=None, max_length=100)
    secondary_causes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    decision: str = Field(default="", sa_column=Column(Text, nullable=False))
    opened_at: datetime = now_column()
    due_at: datetime | None = tz_column()
    decided_at: datetime | None = tz_column()
    closed_at: datetime | None = tz_column()
    updated_at: datetime = now_column()


class ReviewCaseInteraction(SQLModel, table=True):
    """The interactions of a case's story: the survey's own and the customer's others around it."""

    __tablename__ = "review_case_interaction"
    __table_args__ = (UniqueConstraint("case_id", "interaction_id", name="uq_review_case_interaction"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="review_case.id", index=True)
    interaction_id: int = Field(foreign_key="interaction.id", index=True)
    reason: str = Field(max_length=20, description="survey | window | manual")


class ReviewAction(SQLModel, table=True):
    """A decided action. retrain_staff names the agent and topic; `coaching_assignment_id` is filled by the
    coaching feature when it picks the action up (see service.retraining_actions_without_assignment)."""

    __tablename__ = "review_action"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="review_case.id", index=True)
    kind: str = Field(max_length=30, index=True)
    agent_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    topic: str = Field(default="", max_length=300)
    site_id: int | None = Field(default=None, foreign_key="site.id")
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    owner_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    due_date: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    status: str = Field(default=ActionStatus.OPEN, max_length=20, index=True)
    outcome: str = Field(default="", sa_column=Column(Text, nullable=False))
    coaching_assignment_id: int | None = Field(default=None, index=True)
    created_at: datetime = now_column()
    updated_at: datetime = now_column()


class ReviewMeeting(SQLModel, table=True):
    __tablename__ = "review_meeting"
    id: int | None = Field(default=None, primary_key=True)
    period: str = Field(max_length=7, index=True)
    held_on: date = Field(sa_column=Column(Date, nullable=False))
    title: str = Field(default="", max_length=300)
    attendees: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    minutes: str = Field(default="", sa_column=Column(Text, nullable=False))
    position: int = Field(default=0, description="The case on screen: the walk resumes here.")
    pack_sha256: str | None = Field(default=None, max_length=64)
    pack_size: int | None = None
    pack_rendered_at: datetime | None = tz_column()
    created_by: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = now_column()


class ReviewMeetingCase(SQLModel, table=True):
    __tablename__ = "review_meeting_case"
    __table_args__ = (UniqueConstraint("meeting_id", "case_id", name="uq_review_meeting_case"),)
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="review_meeting.id", index=True)
    case_id: int = Field(foreign_key="review_case.id", index=True)
    position: int


# ---------------------------------------------------------------- API schemas


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: CaseStatus
    reason: str = ""


class FindingsUpdate(StrictModel):
    staff_notes: str | None = None
    customer_notes: str | None = None
    owner_id: int | None = None


class DecisionInput(StrictModel):
    root_cause: str
    secondary_causes: list[str] = []
    decision: str = ""
    mark_decided: bool = True


class ActionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: ActionKind
    agent_id: int | None = None
    topic: str = ""
    site_id: int | None = None
    description: str = ""
    owner_id: int | None = None
    due_date: date | None = None


class ActionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: ActionStatus | None = None
    outcome: str | None = None
    owner_id: int | None = None
    due_date: date | None = None


class MeetingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    period: str
    held_on: date
    title: str = ""
    attendees: list[str] = []
    case_ids: list[int] | None = None
    additional: bool = False  # one meeting per month unless this says it is an extra one


class MinutesUpdate(StrictModel):
    minutes: str


class ConfigUpdate(StrictModel):
    root_causes: list[str] | None = None
    open_for_bands: list[str] | None = None
    open_for_agent_ids: list[int] | None = None
    story_window_hours: int | None = None
    case_due_days: int | None = None


class CasePublic(BaseModel):
    id: int
    survey_response_id: int
    customer_id: int | None
    agent_id: int | None
    period: str
    status: str
    owner_id: int | None
    staff_notes: str
    customer_notes: str
    root_cause: str | None
    secondary_causes: list[str]
    decision: str
    opened_at: datetime
    due_at: datetime | None
    decided_at: datetime | None
    closed_at: datetime | None
    overdue: bool = False


class ActionPublic(BaseModel):
    id: int
    case_id: int
    kind: str
    agent_id: int | None
    topic: str
    site_id: int | None
    description: str
    owner_id: int | None
    due_date: date | None
    status: str
    outcome: str
    coaching_assignment_id: int | None
    overdue: bool = False


class MeetingPublic(BaseModel):
    id: int
    period: str
    held_on: date
    title: str
    attendees: list[str]
    minutes: str
    position: int
    case_ids: list[int] = []
    pack_ready: bool = False
