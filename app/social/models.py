"""Social care tables: per-platform response standards, the care state of each thread, and alerts."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

import app.auth.models  # noqa: F401 - registers user_account, which the foreign keys below name
import app.interactions.models  # noqa: F401 - registers interaction and message
from app.core.models import now_column, tz_column

DEFAULT_FIRST_RESPONSE_SECONDS = 3600.0
DEFAULT_FOLLOW_UP_SECONDS = 86400.0
DEFAULT_ALERT_BEFORE_BREACH_SECONDS = 1800.0
DEFAULT_WEEKDAY_HOURS: dict[str, list[list[str]]] = {str(d): [["09:00", "17:00"]] for d in range(5)}


class SocialChannelConfig(SQLModel, table=True):
    """The response standards of one platform; also what the public /care page publishes."""

    __tablename__ = "social_channel_config"
    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=50, unique=True)
    display_name: str = Field(default="", max_length=100)
    listed_publicly: bool = True
    first_response_seconds: float = DEFAULT_FIRST_RESPONSE_SECONDS
    follow_up_seconds: float = Field(default=DEFAULT_FOLLOW_UP_SECONDS,
                                     description="A follow-up with more information on a new problem.")
    business_hours_enabled: bool = False
    business_timezone: str = Field(default="UTC", max_length=64)
    business_hours: dict[str, Any] = Field(
        default_factory=lambda: dict(DEFAULT_WEEKDAY_HOURS), sa_column=Column(JSON, nullable=False),
        description='Weekday (0 = Monday) → opening intervals, e.g. {"0": [["09:00", "17:00"]]}.')
    alert_before_breach_seconds: float = DEFAULT_ALERT_BEFORE_BREACH_SECONDS
    non_genuine_follow_ups: int = Field(default=3, description=(
        "Follow-ups (the brand's messages after its first reply) without a word from the customer."))
    non_genuine_days: int = Field(default=3, description="Superseded by non_genuine_window_hours (kept for old rows).")
    non_genuine_window_hours: float = Field(default=72.0, description=(
        "The customer's silence since the brand's first reply must last this long (rolling hours, not days)."))
    non_genuine_grace_hours: float = Field(default=4.0, description=(
        "Time the customer gets to answer the last follow-up before the thread is treated as not genuine."))
    site_visit_resolution_seconds: float = Field(default=172800.0, description=(
        "Problems needing a site visit (technician, engineer, shop) are to be resolved within this time."))
    influencer_followers: int = Field(default=100000, description=(
        "Authors with at least this many followers go on the watch list: tracked, never prioritised."))
    webhook_url: str | None = Field(default=None, max_length=1000)
    updated_at: datetime = now_column()


class SocialThreadState(SQLModel, table=True):
    """The care state of one social thread, recomputed from its messages by `refresh_thread`.

    Human decisions (public resolution, genuine override) live here too and survive recomputation.
    """

    __tablename__ = "social_thread_state"
    interaction_id: int = Field(foreign_key="interaction.id", primary_key=True)
    platform: str = Field(default="", max_length=50, index=True)
    author_handle: str | None = Field(default=None, max_length=300)
    follower_count: int | None = None
    first_customer_post_at: datetime | None = tz_column()
    last_customer_post_at: datetime | None = tz_column()
    last_agent_reply_at: datetime | None = tz_column()
    awaiting_reply_since: datetime | None = tz_column()
    reply_due_at: datetime | None = tz_column()
    first_response_due_at: datetime | None = tz_column()
    first_response_at: datetime | None = tz_column()
    first_response_status: str = Field(default="pending", max_length=20)
    first_response_breached_at: datetime | None = tz_column()
    first_response_business_seconds: float | None = None
    follow_up_due_at: datetime | None = tz_column()
    follow_up_at: datetime | None = tz_column()
    follow_up_status: str = Field(default="pending", max_length=20)
    follow_up_breached_at: datetime | None = tz_column()
    follow_up_attempts: int = Field(default=0, description="Agent messages since the customer last wrote.")
    follow_up_times: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    next_due_at: datetime | None = tz_column(index=True)
    process: str = Field(default="customer_service", max_length=30, index=True,
                         description="brand, lead, sales, order_service, customer_service or billing.")
    process_set_by_id: int | None = Field(default=None, foreign_key="user_account.id",
                                          description="Set when a person chose the process (rules no longer apply).")
    engagement: int | None = Field(default=None, description="Likes, shares and replies the source reported, if any.")
    customer_posted_again: bool = Field(default=False, description="The customer wrote after the first answer.")
    resolution_message_id: int | None = Field(default=None, foreign_key="message.id")
    resolution_url: str | None = Field(default=None, max_length=1000)
    resolution_text: str | None = Field(default=None, max_length=4000)
    resolved_at: datetime | None = tz_column()
    resolved_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    private_resolution_at: datetime | None = tz_column()
    resolved_privately: bool = Field(default=False, description="Solved in private messages, not closed in public.")
    non_genuine: bool = False
    non_genuine_reason: str | None = Field(default=None, max_length=1000)
    non_genuine_at: datetime | None = tz_column()
    non_genuine_evidence: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    non_genuine_confirmed_by_id: int | None = Field(default=None, foreign_key="user_account.id",
                                                    description="The person who confirmed the automatic proposal.")
    non_genuine_confirmed_at: datetime | None = tz_column()
    genuine_override: bool = Field(default=False, description="A person decided the thread is genuine.")
    genuine_override_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    genuine_override_at: datetime | None = tz_column()
    welcome_back_at: datetime | None = tz_column()
    problem_open: bool = Field(default=True, description=(
        "An unresolved problem: the follow-up clock runs only while this holds (a 'thanks' closes it)."))
    site_visit: bool = Field(default=False, description="The problem needs a site visit: the resolution clock runs.")
    resolution_due_at: datetime | None = tz_column()
    resolution_status: str = Field(default="not_needed", max_length=20)
    watched: bool = Field(default=False, description="On the influencer watch list (tracked, never prioritised).")
    mentions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False),
                                description="The listening rules the customer's posts match (brand, competitors).")
    updated_at: datetime = now_column()


class SocialAlert(SQLModel, table=True):
    """An unattended thread or a negativity spike: shown on the dashboard and posted to the webhook."""

    __tablename__ = "social_alert"
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40, index=True)
    platform: str = Field(default="", max_length=50)
    interaction_id: int | None = Field(default=None, foreign_key="interaction.id", index=True)
    dedupe_key: str = Field(max_length=300, unique=True)
    message: str = Field(max_length=2000)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = now_column()
    delivered_at: datetime | None = tz_column()
    delivery_attempts: int = 0
    delivery_error: str | None = Field(default=None, max_length=2000)
    acknowledged_at: datetime | None = tz_column()
    acknowledged_by_id: int | None = Field(default=None, foreign_key="user_account.id")


DEFAULT_CARE_CHANNELS: list[dict[str, Any]] = [
    {"channel": "phone", "display_name": "Phone", "position": 1, "response_seconds": 120.0,
     "hours": "Mon–Fri 08:00–20:00, Sat 09:00–17:00",
     "issues": ["Faults and outages that need fixing now", "Cancelling or changing a contract",
                "Anything urgent, or when you would rather talk it through"]},
    {"channel": "chat", "display_name": "Chat on our website", "position": 2, "response_seconds": 120.0,
     "hours": "Mon–Fri 08:00–20:00",
     "issues": ["Orders, deliveries and account questions", "Quick questions about a bill"]},
    {"channel": "email", "display_name": "E-mail", "position": 3, "response_seconds": 86400.0,
     "hours": "Answered Mon–Fri",
     "issues": ["Bills and refunds where you send documents", "Complaints you want in writing"]},
    {"channel": "social", "display_name": "Social media", "position": 4, "response_seconds": None, "hours": "",
     "issues": ["Public questions and service updates (we move personal details to private messages)"]},
]


class CareChannel(SQLModel, table=True):
    """A channel the center publishes on /care: how fast it answers, when, which issues belong there.
    Social media's times come from the per-platform standards (SocialChannelConfig), not from here."""

    __tablename__ = "care_channel"
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20, unique=True, description="phone, chat, email or social.")
    display_name: str = Field(max_length=100)
    position: int = 0
    listed_publicly: bool = True
    response_seconds: float | None = Field(default=None, description="The answer target (None for social).")
    hours: str = Field(default="", max_length=300)
    issues: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = now_column()


class ListeningRule(SQLModel, table=True):
    """Keywords to listen for in customers' posts: the brand's names (kind brand) or a competitor's. Matching
    threads are tagged in the care queue and counted for mention spikes."""

    __tablename__ = "social_listening_rule"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    kind: str = Field(default="brand", max_length=20, description="brand or competitor")
    terms: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    active: bool = True
    updated_at: datetime = now_column()
