"""Connector tables: the IMAP high-water marks and the outbound webhook endpoints with their delivery log."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.models import now_column, tz_column
from app.core.timeutil import utcnow


class ImapMark(SQLModel, table=True):
    """How far an IMAP folder has been read: a new UIDVALIDITY means the folder was rebuilt (start over)."""

    __tablename__ = "connector_imap_mark"
    __table_args__ = (UniqueConstraint("account", "folder", name="uq_connector_imap_mark"),)
    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(max_length=300)  # user@host:port
    folder: str = Field(max_length=300)
    uidvalidity: int
    last_uid: int = 0
    updated_at: datetime = now_column()


class WebhookEndpoint(SQLModel, table=True):
    __tablename__ = "webhook_endpoint"
    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=2000)
    secret: str = Field(max_length=200)
    event_types: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    active: bool = True
    description: str = Field(default="", max_length=300)
    created_at: datetime = now_column()


class WebhookDelivery(SQLModel, table=True):
    """One event for one endpoint; its `delivery_id` (a UUID) is sent so receivers can drop repeats."""

    __tablename__ = "webhook_delivery"
    id: int | None = Field(default=None, primary_key=True)
    delivery_id: str = Field(max_length=64, unique=True)
    endpoint_id: int = Field(foreign_key="webhook_endpoint.id", index=True)
    event_type: str = Field(max_length=100)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=20)  # pending | retrying | delivered | failed
    attempts: int = 0
    response_code: int | None = None
    error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False,
                                                                      index=True))
    last_attempt_at: datetime | None = tz_column()
    delivered_at: datetime | None = tz_column()
