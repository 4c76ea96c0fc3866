"""Builders of social threads and other-channel interactions for the social care tests."""

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from app.interactions.content import redact_text
from app.interactions.models import Interaction, Message, Segment
from app.social.threads import Post, record_thread

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # a Monday


def thread(session: Session, name: str, *events: tuple[str, float, str], platform: str = "twitter",
           followers: int | None = 500, handle: str | None = None, start: datetime = T0,
           public: bool = True) -> int:
    """events: (author_role, hours after `start`, text). Returns the interaction id."""
    posts = [Post(post_id=f"{name}-{role}-{hours:g}", author_role=role, text=text, sent_at=start + timedelta(hours=hours),
                  author_handle=(handle or f"@{name}") if role == "customer" else "@brand",
                  follower_count=followers if role == "customer" else None, is_public=public,
                  parent_id=None if i == 0 else name, url=f"https://x.example/{name}/{i}")
             for i, (role, hours, text) in enumerate(events)]
    interaction = record_thread(session=session, platform=platform, posts=posts, source="test",
                                root_post_id=name)
    session.commit()
    assert interaction.id is not None
    return interaction.id


def other_channel(session: Session, channel: str, external_id: str, text: str, started_at: datetime) -> int:
    interaction = Interaction(channel=channel, source="test", external_id=external_id, started_at=started_at)
    session.add(interaction)
    session.flush()
    assert interaction.id is not None
    if channel == "call":
        session.add(Segment(interaction_id=interaction.id, seq=0, speaker="agent", start=0, end=2,
                            text="Thanks for calling, how can I help?",
                            redacted_text="Thanks for calling, how can I help?"))
        # the speech pipeline stores each line with its redaction
        session.add(Segment(interaction_id=interaction.id, seq=1, speaker="customer", start=2, end=9, text=text,
                            redacted_text=redact_text(text)))
    else:
        session.add(Message(interaction_id=interaction.id, external_id=f"{external_id}-m", author_role="customer",
                            sent_at=started_at, text=text, redacted_text=redact_text(text)))
    session.commit()
    return interaction.id
