"""Scorecards: a stable form (key) with numbered, immutable-once-used versions.

Version status: draft → published → retired. At most one published version per scorecard; publishing a
new one retires the previous. A version used by an evaluation is `locked`: its definition never changes
again (editing makes a new version), so every evaluation keeps exactly the form it was scored with.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.models import now_column, tz_column


class VersionStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


class Scorecard(SQLModel, table=True):
    __tablename__ = "scorecard"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=80, unique=True, index=True)
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=4000)
    channels: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    retired_at: datetime | None = tz_column()
    created_at: datetime = now_column()


class ScorecardVersion(SQLModel, table=True):
    __tablename__ = "scorecard_version"
    __table_args__ = (UniqueConstraint("scorecard_id", "number", name="uq_scorecard_version_number"),)
    id: int | None = Field(default=None, primary_key=True)
    scorecard_id: int = Field(foreign_key="scorecard.id", index=True)
    number: int
    status: str = Field(default=VersionStatus.DRAFT, max_length=20, index=True)
    definition: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    content_hash: str = Field(max_length=64, index=True)
    locked: bool = Field(default=False, description="Used by an evaluation: the definition never changes again.")
    source: str = Field(default="api", max_length=300)
    created_by: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = now_column()
    published_at: datetime | None = tz_column()
    retired_at: datetime | None = tz_column()


class ScorecardVersionPublic(BaseModel):
    id: int
    scorecard_id: int
    number: int
    status: str
    locked: bool
    content_hash: str
    source: str
    created_at: datetime
    published_at: datetime | None
    definition: dict[str, Any]


class ScorecardPublic(BaseModel):
    id: int
    key: str
    name: str
    description: str
    channels: list[str]
    retired: bool
    published_version: int | None
    latest_version: int | None


class ScorecardDetail(ScorecardPublic):
    versions: list[ScorecardVersionPublic]


class YamlImport(BaseModel):
    yaml: str
    publish: bool = True


class LoadReport(BaseModel):
    created: list[str] = []
    new_versions: list[str] = []
    unchanged: list[str] = []
    drafts: list[dict[str, Any]] = []  # {"key", "scorecard_id", "number"}: versions left to review and publish


class ScoreAnswer(BaseModel):
    question_id: str
    value: bool | int | str | None = None
    na: bool = False


class ScorePreview(BaseModel):
    score: float | None
    critical_failed: bool
    critical_failures: list[str]
    missing: list[str]
    sections: list[dict[str, Any]]
    questions: list[dict[str, Any]]
