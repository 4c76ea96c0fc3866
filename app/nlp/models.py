"""What the analytics job stores per interaction: sentiment roll-ups (with the per-turn timeline),
category hits with their spans, PII spans (offsets only, never the PII text), auto-QA answers with
their evidence, and evaluators' reviews of auto answers (kept when the analysis is recomputed)."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.models import now_column, tz_column


class InteractionAnalytics(SQLModel, table=True):
    """One row per analysed interaction (replaced on every re-analysis)."""

    __tablename__ = "nlp_interaction_analytics"
    id: int | None = Field(default=None, primary_key=True)
    interaction_id: int = Field(foreign_key="interaction.id", unique=True)
    channel: str = Field(max_length=20, index=True)
    sentiment_overall: float | None = Field(default=None, index=True)
    sentiment_agent: float | None = None
    sentiment_customer: float | None = Field(default=None, index=True)
    customer_start: float | None = None
    customer_end: float | None = None
    categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False),
                                  description="Names of the categories found (for filters).")
    timeline: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False),
                                           description="Per segment/message: source, speaker, start, end, sentiment.")
    auto_score: float | None = Field(default=None, index=True,
                                     description="Share of 'yes' among the yes/no auto answers (0..1).")
    metrics: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False),
                                      description="Call metrics the rules were given (hold_seconds, overtalk_pct...).")
    unit_count: int = 0
    pii_count: int = 0
    pipeline: str = Field(default="", max_length=100)
    analyzed_at: datetime = now_column()


class CategoryHitRow(SQLModel, table=True):
    __tablename__ = "nlp_category_hit"
    __table_args__ = (Index("ix_nlp_category_hit_category_interaction", "category", "interaction_id"),)
    id: int | None = Field(default=None, primary_key=True)
    interaction_id: int = Field(foreign_key="interaction.id", index=True)
    category: str = Field(max_length=100)
    phrase: str = Field(default="", max_length=200)
    source_type: str = Field(max_length=20)  # "segment" | "message"
    source_id: int
    speaker: str = Field(max_length=20)
    start_char: int
    end_char: int
    text: str = Field(sa_column=Column(Text, nullable=False))
    start_time: float | None = None
    end_time: float | None = None


class PiiSpanRow(SQLModel, table=True):
    __tablename__ = "nlp_pii_span"
    id: int | None = Field(default=None, primary_key=True)
    interaction_id: int = Field(foreign_key="interaction.id", index=True)
    source_type: str = Field(max_length=20)
    source_id: int
    kind: str = Field(max_length=40)
    start_char: int
    end_char: int
    confidence: float
    detector: str = Field(max_length=40)


class AutoAnswerRow(SQLModel, table=True):
    """The auto-QA answer to one scorecard question (by its id) for one interaction."""

    __tablename__ = "nlp_auto_answer"
    __table_args__ = (UniqueConstraint("interaction_id", "question_id", name="uq_nlp_auto_answer"),)
    id: int | None = Field(default=None, primary_key=True)
    interaction_id: int = Field(foreign_key="interaction.id", index=True)
    question_id: str = Field(max_length=100, index=True)
    value: str = Field(max_length=10)  # yes | no | na
    confidence: float
    summary: str = Field(default="", max_length=1000)
    evidence: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    rule: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    computed_at: datetime = now_column()


class AutoAnswerReview(SQLModel, table=True):
    """An evaluator accepted or overrode an auto answer. Not touched by re-analysis, so the agreement
    report keeps its history; `auto_value` is the suggestion as it was when reviewed."""

    __tablename__ = "nlp_auto_answer_review"
    __table_args__ = (UniqueConstraint("interaction_id", "question_id", "reviewer_id", name="uq_nlp_review"),)
    id: int | None = Field(default=None, primary_key=True)
    interaction_id: int = Field(foreign_key="interaction.id", index=True)
    question_id: str = Field(max_length=100, index=True)
    auto_value: str = Field(max_length=10)
    human_value: str = Field(max_length=10)
    status: str = Field(max_length=20)  # accepted | overridden
    reviewer_id: int = Field(foreign_key="user_account.id", index=True)
    evaluation_id: int | None = Field(default=None, description="The evaluation it was recorded from, if any.")
    comment: str | None = Field(default=None, max_length=2000)
    reviewed_at: datetime | None = tz_column()
