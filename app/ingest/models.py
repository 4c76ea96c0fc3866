"""API schemas of ingest: what sources send (recording metadata, chat lines, social posts, webhook
interactions) and the report every import returns. No tables: ingest writes the interactions tables."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from app.core.inputs import clean_json
from app.interactions.models import AuthorRole, Channel, Direction, IdentityIn


class Rejected(BaseModel):
    line: int = Field(description="Line (CSV/JSONL), message number (e-mail), or item number (JSON lists).")
    reason: str
    item: str | None = Field(default=None, description="File or record the line belongs to, when useful.")


class ImportReport(BaseModel):
    """Counts are of interactions (a conversation, a thread, a call); rejections are per input line."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejected] = []

    def count(self, status: str) -> None:
        setattr(self, status, getattr(self, status) + 1)

    def reject(self, line: int, reason: str, item: str | None = None) -> None:
        self.rejected.append(Rejected(line=line, reason=reason, item=item))

    def mark(self) -> tuple[int, int, int, int]:
        """Where the report stands (rejections are only ever appended), to `restore` after a rollback."""
        return self.created, self.updated, self.unchanged, len(self.rejected)

    def restore(self, mark: tuple[int, int, int, int]) -> None:
        self.created, self.updated, self.unchanged, rejected = mark
        del self.rejected[rejected:]


# A message longer than this is refused (its line is reported): no chat, post or note is this long, and
# search, analytics and pages would all pay for one that was. It is also the CSV module's field limit.
MAX_MESSAGE_CHARS = 131_072



def _needs_offset(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("needs a UTC offset, e.g. 2026-09-14T09:31:00+00:00")
    return value


# a time a file or upload must give with its offset: a naive one would be read in nobody's time zone
OffsetDatetime = Annotated[datetime, AfterValidator(_needs_offset)]


class Lenient(BaseModel):
    """What a source sends: unknown keys ignored, strings stripped and cleaned of what no database column
    can store (NUL, control characters, lone surrogates; app.core.inputs.clean_text). Numbers are accepted
    where text is due (many systems number their conversations and posts)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, coerce_numbers_to_str=True)

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        return clean_json(data)


class TransferIn(Lenient):
    agent: str | None = None
    queue: str | None = None
    offset_seconds: float = Field(default=0, ge=0)


class CustomerIn(Lenient):
    name: str | None = Field(default=None, max_length=300)
    identities: list[IdentityIn] = []
    phone: str | None = None
    email: str | None = None


class RecordingMetadata(Lenient):
    """The JSON `metadata` form field of POST /api/recordings."""

    external_id: str = Field(min_length=1, max_length=300)
    source: str = Field(default="api", min_length=1, max_length=100)
    started_at: OffsetDatetime
    direction: Direction = Direction.INBOUND
    agent: str | None = Field(default=None, description="The agent's username.")
    queue: str | None = Field(default=None, max_length=200)
    customer: CustomerIn = CustomerIn()
    channel_map: str | dict[str, str] = Field(
        default="agent,customer", description='"agent,customer" (stereo, agent left), "mixed" (mono), or '
                                              'a mapping like {"0": "agent", "1": "customer"}.')
    transfers: list[TransferIn] = []


class ChatLine(Lenient):
    """One chat message (DEMO_FORMATS chats.jsonl line / CSV row)."""

    conversation_id: str = Field(min_length=1, max_length=300)
    message_id: str = Field(min_length=1, max_length=300)
    sent_at: OffsetDatetime
    author_role: AuthorRole
    author_name: str | None = Field(default=None, max_length=300)
    agent: str | None = None
    customer_email: str | None = None
    customer_phone: str | None = None
    customer_name: str | None = None
    queue: str | None = Field(default=None, max_length=200)
    text: str = Field(max_length=MAX_MESSAGE_CHARS)

    @field_validator("agent", "customer_email", "customer_phone", "customer_name", "queue", "author_name",
                     mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if value == "" else value


class SocialPost(Lenient):
    """One post, comment or reply (DEMO_FORMATS social.json `posts` item)."""

    platform: str = Field(min_length=1, max_length=50)
    post_id: str = Field(min_length=1, max_length=300)
    parent_id: str | None = None
    author_handle: str = Field(min_length=1, max_length=300)
    display_name: str | None = Field(default=None, max_length=300)
    follower_count: int | None = Field(default=None, ge=0)
    is_public: bool = True
    author_role: Literal["customer", "agent"] = "customer"
    agent: str | None = None
    text: str = Field(max_length=MAX_MESSAGE_CHARS)
    created_at: OffsetDatetime
    url: str | None = Field(default=None, max_length=2000)
    engagement: dict[str, int] | None = Field(default=None, description=(
        "Counts the source reports on the post: like_count, share_count, retweet_count, reply_count, ..."))


class WebhookMessage(Lenient):
    external_id: str = Field(min_length=1, max_length=300)
    author_role: AuthorRole
    author_name: str | None = None
    author_handle: str | None = None
    agent: str | None = None
    sent_at: datetime
    text: str = Field(max_length=MAX_MESSAGE_CHARS)
    subject: str | None = Field(default=None, max_length=1000)
    is_public: bool = True
    parent_external_id: str | None = None
    attachments: list[dict[str, Any]] = []
    extra: dict[str, Any] = {}


class WebhookInteraction(Lenient):
    """Any interaction pushed by a CRM or CCaaS; idempotent by (source, external_id)."""

    source: str = Field(min_length=1, max_length=100)
    external_id: str = Field(min_length=1, max_length=300)
    channel: Channel
    direction: Direction = Direction.INBOUND
    started_at: datetime
    ended_at: datetime | None = None
    duration_seconds: float | None = Field(default=None, ge=0)
    agent: str | None = None
    queue: str | None = Field(default=None, max_length=200)
    subject: str | None = Field(default=None, max_length=1000)
    platform: str | None = Field(default=None, max_length=50)
    customer: CustomerIn = CustomerIn()
    transfers: list[TransferIn] = []
    messages: list[WebhookMessage] = []
    extra: dict[str, Any] = {}


class WebhookResult(BaseModel):
    interaction_id: int
    status: str


class ImportJobStarted(BaseModel):
    job_id: int
    status: str
