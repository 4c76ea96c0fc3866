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

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydField
from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from app.core.listing import ListResponse
from app.core.models import now_column, tz_column


class Channel(StrEnum):
    """The one list of channels: forms, filters and pickers read it (templates as the `channels` global)."""

    CALL = "call"
    CHAT = "chat"
    EMAIL = "email"
    SOCIAL = "social"

    @property
    def label(self) -> str:
        """How the channel reads in a sentence ("2 e-mails")."""
        return {"email": "e-mail", "social": "social thread"}.get(self.value, self.value)

    @property
    def icon(self) -> str:
        """A glyph the bundled DejaVu font has (emoji fonts are often missing on servers and in PDF packs)."""
        return {"call": "☎", "chat": "⌨", "email": "✉", "social": "@"}[self.value]


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class IdentityKind(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    SOCIAL = "social"
    CRM = "crm"
    HKID = "hkid"  # stored as a digest (app/core/hkid.py), never in clear


class AuthorRole(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    BOT = "bot"
    SYSTEM = "system"


class SpeakerRole(StrEnum):
    AGENT = "agent"
    CUSTOMER = "customer"
    UNKNOWN = "unknown"


class Customer(SQLModel, table=True):
    __tablename__ = "customer"
    id: int | None = Field(default=None, primary_key=True)
    display_name: str = Field(default="", max_length=300)
    merged_into_id: int | None = Field(default=None, foreign_key="customer.id", index=True,
                                       description="Set when this customer was merged into another.")
    created_at: datetime = now_column()


class CustomerIdentity(SQLModel, table=True):
    """A phone (E.164), e-mail (case-folded), social handle (per platform), CRM id or HKID (as a digest) of one
    customer."""

    __tablename__ = "customer_identity"
    __table_args__ = (UniqueConstraint("kind", "platform", "value", name="uq_identity"),)
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    kind: str = Field(max_length=20)
    platform: str = Field(default="", max_length=50)
    value: str = Field(max_length=320)
    created_at: datetime = now_column()


class Interaction(SQLModel, table=True):
    __tablename__ = "interaction"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_interaction_source_external"),
        Index("ix_interaction_channel_started", "channel", "started_at"),
        Index("ix_interaction_reference", text("lower(external_id)")),  # search by reference
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
    redacted_subject: str | None = Field(default=None, sa_column=Column(Text), description=(
        "The subject with personal data replaced by labels, set at ingest; what everyone but an audited "
        "original view sees (app/interactions/content.py)."))
    parent_id: int | None = Field(default=None, foreign_key="interaction.id", index=True)
    platform: str | None = Field(default=None, max_length=50, description="Social platform, chat widget, ...")
    extra: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = now_column()


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
    created_at: datetime = now_column()


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
    redacted_subject: str | None = Field(default=None, sa_column=Column(Text))
    is_public: bool = True
    parent_external_id: str | None = Field(default=None, max_length=300)
    attachments: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    extra: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False),
                                  description="Source fields kept as given (follower count, URL, headers...).")


class InteractionAgent(SQLModel, table=True):
    """Every agent who took part in an interaction (its agent, a transfer leg's agent, a message's author).

    Maintained by the service on every write; scope rules ("an agent sees what they handled") and the
    agent/team search filters read this one table instead of three.
    """

    __tablename__ = "interaction_agent"
    interaction_id: int = Field(foreign_key="interaction.id", primary_key=True)
    agent_id: int = Field(foreign_key="user_account.id", primary_key=True, index=True)


class SearchDocument(SQLModel, table=True):
    """The one searchable text of an interaction (subject, messages, transcript; redacted text preferred).

    `sort_key` orders documents newest-first by the interaction's start (epoch seconds x 1e6 plus the id
    modulo 1e6, bumped on the rare collision); it is the SQLite FTS5 rowid, so "newest first" and date
    ranges are cheap index walks on both databases. The full-text index itself is dialect-specific DDL in
    migration interactions_0001: an FTS5 external-content table `search_fts` (SQLite, kept in sync by
    triggers) or a generated `tsv` tsvector column with a GIN index (PostgreSQL).

    `terms` is what the index sees when it differs from `body` (Chinese text: folded to Simplified, each
    character and each adjacent pair a token — app.core.language.index_text, migration interactions_0002);
    None otherwise, so English-only documents are not stored twice. Both indexes read `coalesce(terms, body)`.
    """

    __tablename__ = "search_document"
    interaction_id: int = Field(foreign_key="interaction.id", primary_key=True)
    sort_key: int = Field(sa_column=Column(BigInteger, nullable=False, unique=True))
    body: str = Field(sa_column=Column(Text, nullable=False))
    terms: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    updated_at: datetime = now_column()


# ---------------------------------------------------------------- API schemas


class IdentityIn(BaseModel):
    """A customer identity as given by a source; normalised by the service."""

    model_config = ConfigDict(extra="forbid")
    kind: IdentityKind
    value: str = PydField(min_length=1, max_length=320)
    platform: str = PydField(default="", max_length=50)


class IdentityPublic(BaseModel):
    id: int
    kind: str
    platform: str
    value: str


class CustomerPublic(BaseModel):
    id: int
    display_name: str
    merged_into_id: int | None
    identities: list[IdentityPublic] = []


class LegPublic(BaseModel):
    seq: int
    agent_id: int | None
    agent_name: str | None = None
    queue: str | None
    started_at: datetime | None
    ended_at: datetime | None


class MessagePublic(BaseModel):
    id: int
    external_id: str
    author_role: str
    author_name: str | None
    author_handle: str | None
    agent_id: int | None
    sent_at: datetime
    text: str
    subject: str | None
    is_public: bool
    parent_external_id: str | None
    attachments: list[dict[str, Any]]
    extra: dict[str, Any]


class SegmentPublic(BaseModel):
    seq: int
    speaker: str
    start: float
    end: float
    text: str


class RecordingPublic(BaseModel):
    id: int
    sha256: str
    original_filename: str
    format: str
    duration_seconds: float
    channels: int
    sample_rate: int
    size_bytes: int
    channel_map: dict[str, str]
    transcription_status: str


class InteractionPublic(BaseModel):
    id: int
    channel: str
    direction: str
    started_at: datetime
    ended_at: datetime | None
    duration_seconds: float | None
    customer_id: int | None
    agent_id: int | None
    agent_ids: list[int] = []
    queue: str | None
    source: str
    external_id: str
    subject: str | None
    parent_id: int | None
    platform: str | None
    extra: dict[str, Any]


class InteractionDetail(InteractionPublic):
    legs: list[LegPublic] = []
    messages: list[MessagePublic] = []
    segments: list[SegmentPublic] = []
    recording: RecordingPublic | None = None


class SearchHitPublic(BaseModel):
    interaction: InteractionPublic
    snippet: str = PydField(description="HTML: the text is escaped, matches are wrapped in <mark>.")
    score: float | None


class SearchPage(ListResponse[SearchHitPublic]):
    """The list shape, and what a search adds: whether `total` stopped counting, and the ranked window."""

    total_is_lower_bound: bool
    ranked_window: int | None = PydField(
        description="For relevance order: how many of the newest matches were ranked (None for newest order).")
    order: str
