"""Writing a social thread (one Interaction, its Messages) straight into the interaction store.

The generic importer in app/ingest does this for real data; this small writer serves tests, the demo's
fall-back and API clients of this feature. Idempotent: (source, root post id) and (thread, post id) are unique.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from app.core.timeutil import as_utc
from app.interactions import service as interactions
from app.interactions.models import Channel, Interaction, Message


def without_nul(text: str) -> str:
    """PostgreSQL text cannot hold NUL: it becomes U+FFFD (everything else is kept exactly as posted)."""
    return text.replace("\x00", "\ufffd")


@dataclass
class Post:
    post_id: str
    author_role: str  # customer | agent
    text: str
    sent_at: datetime
    author_handle: str | None = None
    is_public: bool = True
    follower_count: int | None = None
    parent_id: str | None = None
    url: str | None = None
    agent_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def record_thread(*, session: Session, platform: str, posts: list[Post], source: str = "earshot",
                  root_post_id: str | None = None, customer_id: int | None = None) -> Interaction:
    """Store the thread whose root is `root_post_id` (default: the earliest post), creating or extending it."""
    if not posts:
        raise ValueError("a thread needs at least one post")
    ordered = sorted(posts, key=lambda p: as_utc(p.sent_at))
    root = ordered[0]
    root_id = root_post_id or root.post_id
    interaction = session.exec(select(Interaction).where(
        Interaction.source == source, Interaction.external_id == root_id)).first()
    if interaction is None:
        interaction = Interaction(channel=Channel.SOCIAL, platform=platform, source=source,
                                  external_id=root_id, started_at=as_utc(root.sent_at),
                                  customer_id=customer_id, extra={"url": root.url} if root.url else {})
        session.add(interaction)
        session.flush()
    assert interaction.id is not None
    known = set(session.exec(select(Message.external_id).where(Message.interaction_id == interaction.id)).all())
    for post in ordered:
        if post.post_id in known:
            continue
        extra = {**post.extra, "follower_count": post.follower_count, "url": post.url, "parent_id": post.parent_id}
        session.add(Message(interaction_id=interaction.id, external_id=post.post_id, author_role=post.author_role,
                            author_handle=post.author_handle, agent_id=post.agent_id, sent_at=as_utc(post.sent_at),
                            text=without_nul(post.text), is_public=post.is_public, parent_external_id=post.parent_id,
                            extra={k: v for k, v in extra.items() if v is not None}))
    interaction.ended_at = as_utc(ordered[-1].sent_at)
    session.add(interaction)
    session.flush()
    interactions.sync_interaction(session=session, interaction_id=interaction.id)  # redacts and indexes the posts
    return interaction
