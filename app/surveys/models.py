"""Survey sources and responses.

One `SurveyResponse` row per invitation: an invitation nobody answered has no `responded_at` and no band;
an answered one carries the band, the raw score and the verbatim. `(source_id, response_id)` is unique, so
imports and webhook deliveries are idempotent.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.models import now_column, tz_column


class Band(StrEnum):
    GOOD = "good"
    ACCEPTABLE = "acceptable"
    BAD = "bad"


class Scale(StrEnum):
    BAND = "band"
    CSAT = "csat"
    NPS = "nps"


class LinkStatus(StrEnum):
    LINKED = "linked"  # by the interaction the survey names, or by the customer's contacts in the window
    MANUAL = "manual"  # linked by hand (audited)
    UNLINKED = "unlinked"  # kept with `link_reason`
    NOT_ANSWERED = "not_answered"  # an invitation without an answer: nothing to link


class LinkMethod(StrEnum):
    """How a linked response found its interaction (shown on its review case)."""

    NAMED_ID = "named_id"  # the survey row named the interaction (external id, + source)
    PHONE_WINDOW = "phone_window"  # the customer's phone number, contacts in the window before the survey
    EMAIL_WINDOW = "email_window"  # the customer's e-mail address, contacts in the window
    MANUAL = "manual"  # linked by hand (audited)


LINK_METHOD_WORDS = {
    LinkMethod.NAMED_ID: "by the interaction id the survey names",
    LinkMethod.PHONE_WINDOW: "by the customer's phone number, to their contacts in the window before the survey",
    LinkMethod.EMAIL_WINDOW: "by the customer's e-mail address, to their contacts in the window before the survey",
    LinkMethod.MANUAL: "by hand",
}


# The canonical fields of a survey row; a source's column mapping maps each to a CSV column name.
CANONICAL_FIELDS = ("response_id", "invited_at", "responded_at", "customer_email", "customer_phone",
                    "interaction_external_id", "interaction_source", "channel", "agent", "shop", "rating",
                    "score", "scale", "comment")
DEFAULT_COLUMN_MAPPING: dict[str, str] = {name: name for name in CANONICAL_FIELDS}
# A mapping value "=text" is a fixed value for every row (e.g. {"interaction_source": "=genesys"}), not a column.
FIXED_VALUE_PREFIX = "="
DEFAULT_RATING_RULE: dict[str, Any] = {
    "default_scale": "csat",  # what a bare `score` means when the row names no scale
    "csat": {"good_min": 4, "acceptable_min": 3},  # 5-4 good, 3 acceptable, 1-2 bad
    "nps": {"good_min": 9, "acceptable_min": 7},  # 9-10 good, 7-8 acceptable, 0-6 bad
}
DEFAULT_LINK_WINDOW_HOURS = 72


class SurveySource(SQLModel, table=True):
    """A survey system sending us responses (by CSV or signed webhook), with its own mapping and rules.

    `webhook_secret` is kept as given (HMAC verification needs the secret itself, not a hash of it); it is
    never returned by the API after creation.
    """

    __tablename__ = "survey_source"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True, index=True)
    column_mapping: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_COLUMN_MAPPING),
                                           sa_column=Column(JSON, nullable=False))
    rating_rule: dict[str, Any] = Field(default_factory=lambda: dict(DEFAULT_RATING_RULE),
                                        sa_column=Column(JSON, nullable=False))
    link_window_hours: int = DEFAULT_LINK_WINDOW_HOURS
    clear_when_empty: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False),
                                        description="Fields an explicitly empty cell clears (else: unchanged).")
    webhook_secret: str = Field(max_length=200)
    created_at: datetime = now_column()


class SurveyResponse(SQLModel, table=True):
    __tablename__ = "survey_response"
    __table_args__ = (UniqueConstraint("source_id", "response_id", name="uq_survey_response_source"),)
    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="survey_source.id", index=True)
    response_id: str = Field(max_length=300)
    invited_at: datetime | None = tz_column(index=True)
    responded_at: datetime | None = tz_column(index=True)
    customer_email: str | None = Field(default=None, max_length=320)
    customer_phone: str | None = Field(default=None, max_length=50, description="E.164 when it parsed.")
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    interaction_source: str | None = Field(default=None, max_length=100)
    interaction_external_id: str | None = Field(default=None, max_length=300)
    interaction_id: int | None = Field(default=None, foreign_key="interaction.id", index=True,
                                       description="The primary linked interaction.")
    channel: str | None = Field(default=None, max_length=20, index=True)
    agent_username: str | None = Field(default=None, max_length=100)
    agent_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    shop: str | None = Field(default=None, max_length=200)
    site_id: int | None = Field(default=None, foreign_key="site.id", index=True)
    band: str | None = Field(default=None, max_length=20, index=True)
    raw_score: float | None = None
    scale: str | None = Field(default=None, max_length=10)
    comment: str | None = Field(default=None, sa_column=Column(Text))
    link_status: str = Field(default=LinkStatus.NOT_ANSWERED, max_length=20, index=True)
    link_reason: str | None = Field(default=None, max_length=500)
    link_method: str | None = Field(default=None, max_length=20, description="A LinkMethod when linked.")
    content_hash: str = Field(max_length=64, description="sha256 of the canonical row: unchanged re-imports.")
    created_at: datetime = now_column()
    updated_at: datetime = now_column()

    @property
    def link_description(self) -> str | None:
        """How this response was linked, in words (None when it is not linked)."""
        return LINK_METHOD_WORDS.get(LinkMethod(self.link_method)) if self.link_method else None


class SurveyResponseInteraction(SQLModel, table=True):
    """Every interaction a response is linked to (the named one, or the customer's contacts in the window)."""

    __tablename__ = "survey_response_interaction"
    __table_args__ = (UniqueConstraint("response_id", "interaction_id", name="uq_survey_response_interaction"),)
    id: int | None = Field(default=None, primary_key=True)
    response_id: int = Field(foreign_key="survey_response.id", index=True)
    interaction_id: int = Field(foreign_key="interaction.id", index=True)
    how: str = Field(max_length=20, description="named | window | manual")


# ---------------------------------------------------------------- API schemas


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class RowProblem(BaseModel):
    line: int
    response_id: str | None = None
    reason: str


class ImportReport(BaseModel):
    """What an import did; `rejected` rows name their line (1 = the header) and why."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RowProblem] = []
    cases_opened: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged + len(self.rejected)


class SurveyImportStarted(BaseModel):
    """A survey import queued as a job: follow it at `url`; its result is the ImportReport."""

    job_id: int
    status: str
    url: str


class SurveySourceCreate(StrictModel):
    name: str
    column_mapping: dict[str, str] | None = None
    rating_rule: dict[str, Any] | None = None
    link_window_hours: int = DEFAULT_LINK_WINDOW_HOURS
    clear_when_empty: list[str] | None = None


class SurveySourceUpdate(StrictModel):
    column_mapping: dict[str, str] | None = None
    rating_rule: dict[str, Any] | None = None
    link_window_hours: int | None = None
    clear_when_empty: list[str] | None = None


class SurveySourcePublic(BaseModel):
    id: int
    name: str
    column_mapping: dict[str, str]
    rating_rule: dict[str, Any]
    link_window_hours: int
    clear_when_empty: list[str]
    created_at: datetime


class SurveySourceCreated(SurveySourcePublic):
    webhook_secret: str


class SurveyResponsePublic(BaseModel):
    id: int
    source_id: int
    response_id: str
    invited_at: datetime | None
    responded_at: datetime | None
    customer_id: int | None
    interaction_id: int | None
    channel: str | None
    agent_id: int | None
    shop: str | None
    band: str | None
    raw_score: float | None
    scale: str | None
    comment: str | None
    link_status: str
    link_reason: str | None
    link_method: str | None


class ManualLink(StrictModel):
    interaction_id: int
    reason: str = ""
