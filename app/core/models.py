"""Tables every feature shares: the audit log and background jobs."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index
from sqlmodel import Field, SQLModel

from app.core.timeutil import utcnow


def tz_column(*, nullable: bool = True, index: bool = False) -> Any:
    """A timezone-aware timestamp column (UTC)."""
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable, index=index))


def now_column(*, index: bool = False) -> Any:
    """A timezone-aware timestamp column (UTC) that a new row fills with the time it is made; never null."""
    return Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False, index=index))


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_record", "record_type", "record_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = now_column(index=True)
    actor_id: int | None = Field(default=None, index=True)
    actor_name: str = Field(default="system", max_length=200)
    action: str = Field(max_length=100, index=True)
    record_type: str = Field(max_length=100)
    record_id: str = Field(max_length=100)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    reason: str | None = Field(default=None, max_length=2000)


class JobStatus(StrEnum):
    """Where a job is: queued → running → done | failed (a failed job may be queued again)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @classmethod
    def active(cls) -> tuple["JobStatus", ...]:
        """Still to finish: waiting for a worker or being worked on."""
        return (cls.QUEUED, cls.RUNNING)

    @classmethod
    def finished(cls) -> tuple["JobStatus", ...]:
        return (cls.DONE, cls.FAILED)


class Job(SQLModel, table=True):
    """A background job the user can see: queued → running → done | failed."""

    __tablename__ = "job"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=100, index=True)
    dedupe_key: str | None = Field(default=None, max_length=300, unique=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default=JobStatus.QUEUED, max_length=20, index=True)
    progress: float = 0.0
    progress_message: str | None = Field(default=None, max_length=500)
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    error: str | None = Field(default=None, max_length=4000)
    attempts: int = 0
    max_attempts: int = 3
    created_by: int | None = None
    created_at: datetime = now_column()
    started_at: datetime | None = tz_column()
    heartbeat_at: datetime | None = tz_column()
    finished_at: datetime | None = tz_column()
