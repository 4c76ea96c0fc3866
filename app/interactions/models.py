"""Customers and their identities, and interactions of every channel: calls (recording, segments),
chats, e-mails and social threads (messages).

Transfers: a call transferred to another agent or queue stays ONE interaction with ordered
`InteractionLeg`s (agent, queue, start, end), so the customer's story is read in one place.
Threads (an e-mail reply chain, a social comment under a post) are separate interactions linked by
`parent_id` when the source sends them separately.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.models import tz_column
from app.core.timeutil import utcnow


class Channel(StrEnum):
    CALL = "call"
    CHAT = "chat"
    EMAIL = "email"
    SOCIAL = "social"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class IdentityKind(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    SOCIAL = "social"
    CRM = "crm"


class AuthorRole(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    BOT = "bot"
    SYSTEM = "system"


class SpeakerRole(StrEnum):
    AGENT = "agent"
    CUSTOMER = "customer"
    UNKNOWN = "unknown"


def _created() -> Any:
    return Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


class Customer(SQLModel, table=True):
    __tablename__ = "customer"
    id: int | None = Field(default=None, primary_key=True)
    display_name: str = Field(default="", max_length=300)
    merged_into_id: int | None = Field(default=None, foreign_key="customer.id", index=True,
                                       description="Set when this customer was merged into another.")
    created_at: datetime = _created()


class CustomerIdentity(SQLModel, table=True):
    """A phone (E.164), e-mail (case-folded), social handle (per platform) or CRM id of one customer."""

    __tablename__ = "customer_identity"
    __table_args__ = (UniqueConstraint("kind", "platform", "value", name="uq_identity"),)
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    kind: str = Field(max_length=20)
    platform: str = Field(default="", max_length=50)
    value: str = Field(max_length=320)
    created_at: datetime = _created()


class Interaction(SQLModel, table=True):
    __tablename__ = "interaction"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_interaction_source_external"),
        Index("ix_interaction_channel_started", "channel", "started_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20, index=True)
    direction: str = Field(default="inbound", max_length=20)
    started_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
    ended_at: datetime | None = tz_column()
    duration_seconds: float | None = None
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    agent_id: int | None = Field(default=None, foreign_key="user_account.id", index=True,
                                 description="The agent who handled it (the last leg's agent for transfers).")
    queue: str | None = Field(default=None, max_length=200, index=True)
    source: str = Field(default="earshot", max_length=100)
    external_id: str = Field(max_length=300)
    subject: str | None = Field(default=None, max_length=1000)
    parent_id: int | None = Field(default=None, foreign_key="interaction.id", index=True)
    platform: str | None = Field(default=None, max_length=50, description="Social platform, chat widget, ...")
    extra: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _created()


class InteractionLeg(SQLModel, table=True):
    """One leg of a transferred call or chat, in order."""

    __tablename__ = "interaction_leg"
    __table_args__ = (UniqueConstraint("interaction_id", "seq", name="uq_leg_seq"),)
    id: int | None = Field(default=None, primary_key=True)
    interaction_id: int = Field(foreign_key="interaction.id", index=True)
    seq: int
    agent_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    queue: str | None = Field(default=None, max_length=200)
    started_at: datetime | None = tz_column()
    ended_at: datetime | None = tz_column()


class Recording(SQLModel, table=True):
    """The audio of a call, stored content-addressed by sha256."""

    __tablename__ = "recording"
    id: int | None = Field(default=None, primary_key=True)
    interaction_id: int = Field(foreign_key="interaction.id", unique=True)
    sha256: str = Field(max_length=64, index=True)
    original_filename: str = Field(default="", max_length=500)
    format: str = Field(max_length=50)
    duration_seconds: float
    channels: int
    sample_rate: int
    size_bytes: int
    channel_map: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False),
                                        description='Which party each channel holds, e.g. {"0": "agent", "1": "customer"}.')
    transcription_status: str = Field(default="pending", max_length=20)
    transcription_error: str | None = Field(default=None, max_length=2000)
    audio_deleted_at: datetime | None = tz_column()
    created_at: datetime = _created()


class Segment(SQLModel, table=True):
    """One speaker turn of a transcribed call."""

    __tablename__ = "segment"
    __table_args__ = (UniqueConstraint("interaction_id", "seq", name="uq_segment_seq"),)
    id: int | None = Field(default=None, primary_key=True)
    interaction_id: int = Field(foreign_key="interaction.id", index=True)
    seq: int
    speaker: str = Field(max_length=20)
    channel: int | None = None
    start: float
    end: float
    text: str = Field(sa_column=Column(Text, nullable=False))
    redacted_text: str | None = Field(default=None, sa_column=Column(Text))
    words: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    confidence: float | None = None


class Message(SQLModel, table=True):
    """A chat line, an e-mail, or a social post/comment/reply."""

    __tablename__ = "message"
    __table_args__ = (UniqueConstraint("interaction_id", "external_id", name="uq_message_external"),)
    id: int | None = Field(default=None, primary_key=True)
    interaction_id: int = Field(foreign_key="interaction.id", index=True)
    external_id: str = Field(max_length=300)
    author_role: str = Field(max_length=20)
    author_name: str | None = Field(default=None, max_length=300)
    author_handle: str | None = Field(default=None, max_length=300)
    agent_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    sent_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
    text: str = Field(sa_column=Column(Text, nullable=False))
    redacted_text: str | None = Field(default=None, sa_column=Column(Text))
    subject: str | None = Field(default=None, max_length=1000)
    is_public: bool = True
    parent_external_id: str | None = Field(default=None, max_length=300)
    attachments: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    extra: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False),
                                  description="Source fields kept as given (follower count, URL, headers...).")
