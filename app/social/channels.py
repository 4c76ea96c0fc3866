"""Each platform's social-care standards: the stored settings (response and follow-up targets, business
hours, the non-genuine rule, the public listing) with their defaults, and the words the pages and the public
/care page use for durations and opening hours."""

from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from app.core import audit
from app.core.audit import Actor
from app.core.db import written_once
from app.core.errors import InvalidInput
from app.core.timeutil import utcnow
from app.social.clock import (
    BusinessHours,
)
from app.social.models import SocialChannelConfig

PLATFORM_NAMES = {"twitter": "X (Twitter)", "facebook": "Facebook", "instagram": "Instagram"}

# ---------------------------------------------------------------- configuration

def default_config(platform: str) -> SocialChannelConfig:
    return SocialChannelConfig(platform=platform, display_name=PLATFORM_NAMES.get(platform, platform.title()))


def get_config(*, session: Session, platform: str) -> SocialChannelConfig:
    """The platform's standards; the defaults (not stored) when nobody configured it yet."""
    found = session.exec(select(SocialChannelConfig).where(SocialChannelConfig.platform == platform)).first()
    return found or default_config(platform)


def ensure_config(*, session: Session, platform: str) -> SocialChannelConfig:
    """The platform's stored standards, created with the defaults when missing (so /care lists the platform);
    one row however many requests create it at once (`written_once`)."""

    def found_or_added() -> SocialChannelConfig:
        found = session.exec(select(SocialChannelConfig).where(SocialChannelConfig.platform == platform)).first()
        if found is None:
            found = default_config(platform)
            session.add(found)
            session.flush()
        return found

    return written_once(session, found_or_added)


def list_configs(*, session: Session, public_only: bool = False) -> list[SocialChannelConfig]:
    query = select(SocialChannelConfig).order_by(col(SocialChannelConfig.platform))
    if public_only:
        query = query.where(col(SocialChannelConfig.listed_publicly).is_(True))
    return list(session.exec(query).all())


class ChannelConfigUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    display_name: str | None = Field(default=None, max_length=100)
    listed_publicly: bool | None = None
    first_response_seconds: float | None = Field(default=None, gt=0)
    follow_up_seconds: float | None = Field(default=None, gt=0)
    business_hours_enabled: bool | None = None
    business_timezone: str | None = Field(default=None, max_length=64)
    business_hours: dict[str, list[list[str]]] | None = None
    alert_before_breach_seconds: float | None = Field(default=None, ge=0)
    non_genuine_follow_ups: int | None = Field(default=None, ge=1, le=20)
    non_genuine_days: int | None = Field(default=None, ge=1, le=30)
    non_genuine_window_hours: float | None = Field(default=None, ge=1, le=24 * 30)
    non_genuine_grace_hours: float | None = Field(default=None, ge=0, le=24 * 7)
    site_visit_resolution_seconds: float | None = Field(default=None, gt=0)
    influencer_followers: int | None = Field(default=None, ge=1)
    webhook_url: str | None = Field(default=None, max_length=1000)


def update_config(*, session: Session, platform: str, data: ChannelConfigUpdate, actor: Actor) -> SocialChannelConfig:
    """Change a platform's standards (audited). Raises InvalidInput on a bad zone or schedule."""
    config = ensure_config(session=session, platform=platform)
    changes = {k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None or k == "webhook_url"}
    before = {k: getattr(config, k) for k in changes}
    for key, value in changes.items():
        setattr(config, key, value)
    try:
        if config.business_hours_enabled or config.business_hours:
            BusinessHours.from_config(timezone=config.business_timezone, schedule=config.business_hours)
        ZoneInfo(config.business_timezone)
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidInput(f"business hours: {exc}", details=[{"loc": "business_hours", "msg": str(exc)}]) from exc
    if config.webhook_url and not config.webhook_url.startswith(("http://", "https://")):
        raise InvalidInput("the webhook URL must start with http:// or https://",
                           details=[{"loc": "webhook_url", "msg": "not an http(s) URL"}])
    config.updated_at = utcnow()
    session.add(config)
    audit.record(session=session, actor=actor, action="social.config.updated", record_type="social_channel_config",
                 record_id=platform, before=before, after=changes)
    session.commit()
    return config


def business_hours_of(config: SocialChannelConfig) -> BusinessHours | None:
    if not config.business_hours_enabled:
        return None
    return BusinessHours.from_config(timezone=config.business_timezone, schedule=config.business_hours)



def human_duration(seconds: float) -> str:
    seconds = abs(int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min" if minutes else f"{seconds} s"


def clock_label(seconds_to_due: float | None) -> str:
    """'due in 25 min' or 'breached by 1 h 5 min' (pages refresh it live in the browser)."""
    if seconds_to_due is None:
        return ""
    if seconds_to_due >= 0:
        return f"due in {human_duration(seconds_to_due)}"
    return f"breached by {human_duration(seconds_to_due)}"


def expected_response(config: SocialChannelConfig) -> str:
    """The promise the public /care page states, e.g. 'within 1 hour (business hours: Mon–Fri 09:00–17:00 UTC)'."""
    text = f"within {plain_duration(config.first_response_seconds)}"
    if config.business_hours_enabled:
        text += f", counted in business hours ({describe_hours(config)})"
    return text


def plain_duration(seconds: float) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return human_duration(seconds)


DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def describe_hours(config: SocialChannelConfig) -> str:
    parts = []
    for day in range(7):
        intervals = config.business_hours.get(str(day)) or []
        if intervals:
            parts.append(f"{DAY_NAMES[day]} " + ", ".join(f"{a}–{b}" for a, b in intervals))
    return "; ".join(parts) + f" ({config.business_timezone})"
