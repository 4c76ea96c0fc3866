"""What the public /care page says, generated from the settings the clocks use: every channel the center
answers on (phone, chat, e-mail, social), how fast, when, which issues belong where, and the social rules the
center is public about (follow-ups, not-genuine complaints, site-visit resolution)."""

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, select

from app.core import audit
from app.core.audit import Actor
from app.core.errors import InvalidInput
from app.core.timeutil import utcnow
from app.social.channels import expected_response, list_configs, plain_duration
from app.social.models import DEFAULT_CARE_CHANNELS, CareChannel, SocialChannelConfig


def care_channels(*, session: Session) -> list[CareChannel]:
    """Every channel, stored or (until someone edits it) with the center's defaults, in publishing order."""
    stored = {c.channel: c for c in session.exec(select(CareChannel)).all()}
    channels = [stored.get(d["channel"]) or CareChannel(**d) for d in DEFAULT_CARE_CHANNELS]
    channels += [c for name, c in stored.items() if name not in {d["channel"] for d in DEFAULT_CARE_CHANNELS}]
    return sorted(channels, key=lambda c: (c.position, c.channel))


class CareChannelUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    listed_publicly: bool | None = None
    response_seconds: float | None = Field(default=None, gt=0)
    hours: str | None = Field(default=None, max_length=300)
    issues: list[str] | None = None


def update_care_channel(*, session: Session, channel: str, data: CareChannelUpdate, actor: Actor) -> CareChannel:
    """Change what /care says about one channel (audited). Raises InvalidInput for an unknown channel."""
    current = {c.channel: c for c in care_channels(session=session)}
    if channel not in current:
        raise InvalidInput(f"unknown channel {channel!r}; the channels are {', '.join(current)}",
                           details=[{"loc": "channel", "msg": "unknown"}])
    row = current[channel]
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if "issues" in changes:
        changes["issues"] = [i.strip()[:300] for i in changes["issues"] if i.strip()]
    if channel == "social":
        changes.pop("response_seconds", None)  # social times are the per-platform standards
    before = {k: getattr(row, k) for k in changes}
    for key, value in changes.items():
        setattr(row, key, value)
    row.updated_at = utcnow()
    session.add(row)
    audit.record(session=session, actor=actor, action="social.care_channel.updated", record_type="care_channel",
                 record_id=channel, before=before, after=changes)
    session.commit()
    return row


@dataclass
class CarePage:
    channels: list[CareChannel]
    platforms: list[SocialChannelConfig]
    policies: list[str]


def care_page(*, session: Session) -> CarePage:
    """The public page's content; the social sentences are written from the first listed platform's rules
    (and say so when platforms differ)."""
    platforms = list_configs(session=session, public_only=True)
    policies: list[str] = []
    if platforms:
        rules = {(p.non_genuine_follow_ups, p.non_genuine_window_hours, p.site_visit_resolution_seconds,
                  p.follow_up_seconds) for p in platforms}
        first = platforms[0]
        policies = [
            f"On social media we answer every post {expected_response(first)}, in the same order for everyone "
            "whatever their number of followers.",
            f"While your problem is open we follow up with more information within "
            f"{plain_duration(first.follow_up_seconds)}; once you tell us it is sorted, we stop chasing.",
            f"Problems that need a technician or a visit are resolved within "
            f"{plain_duration(first.site_visit_resolution_seconds)}.",
            f"If, after our first reply, we follow up {first.non_genuine_follow_ups} times and hear nothing from you "
            f"for {first.non_genuine_window_hours:g} hours, we treat the complaint as not genuine and close it. "
            "A person checks it, and the moment you write again we pick it up.",
        ]
        if len(rules) > 1:
            policies.append("Some platforms have their own times: see the table above.")
    channels = [c for c in care_channels(session=session) if c.listed_publicly]
    return CarePage(channels=channels, platforms=platforms, policies=policies)

