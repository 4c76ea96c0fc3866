"""Similar complaints across ALL channels: calls (transcript segments), chats, e-mails and social threads."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from app.auth.service import can_view_agent
from app.core.errors import NotFound
from app.core.security import Principal
from app.core.timeutil import as_utc
from app.interactions import content
from app.interactions.models import AuthorRole, Channel, Interaction, Message, Segment, SpeakerRole
from app.social.similar import cluster_texts, rank_similar

MAX_CANDIDATES = 5000


@dataclass
class SimilarComplaint:
    interaction_id: int
    channel: str
    started_at: datetime
    score: float
    shared_terms: list[str]
    snippet: str
    agent_id: int | None = None
    hidden: bool = False  # the viewer may not read this interaction: counts and terms only


@dataclass
class SimilarResult:
    query_text: str
    window_days: int
    matches: list[SimilarComplaint] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return dict(Counter(m.channel for m in self.matches))

    @property
    def summary(self) -> str:
        if not self.matches:
            return "No similar complaint in the other channels in this window."
        parts = [f"{n} {Channel(c).label if c in set(Channel) else c}{'s' if n != 1 else ''}"
                 for c, n in sorted(self.counts.items())]
        return "The same problem is happening elsewhere: " + ", ".join(parts) + "."


def customer_texts(*, session: Session, interaction_ids: list[int]) -> dict[int, str]:
    """What the customer said in each interaction (whole transcript when no speaker is known)."""
    if not interaction_ids:
        return {}
    parts: dict[int, list[str]] = {}
    everything: dict[int, list[str]] = {}
    for chunk_start in range(0, len(interaction_ids), 500):
        chunk = interaction_ids[chunk_start:chunk_start + 500]
        for message in session.exec(select(Message).where(col(Message.interaction_id).in_(chunk))
                                    .order_by(col(Message.sent_at))).all():
            shown = content.REDACTED.message_text(message)
            everything.setdefault(message.interaction_id, []).append(shown)
            if message.author_role == AuthorRole.CUSTOMER:
                parts.setdefault(message.interaction_id, []).append(shown)
        for segment in session.exec(select(Segment).where(col(Segment.interaction_id).in_(chunk))
                                    .order_by(col(Segment.seq))).all():
            text = content.REDACTED.segment_text(segment)
            everything.setdefault(segment.interaction_id, []).append(text)
            if segment.speaker == SpeakerRole.CUSTOMER:
                parts.setdefault(segment.interaction_id, []).append(text)
    return {i: " ".join(parts.get(i) or everything.get(i) or []) for i in interaction_ids}


def similar_complaints(*, session: Session, interaction_id: int, window_days: int = 7, limit: int = 25,
                       min_score: float = 0.2) -> SimilarResult:
    """Interactions of every channel within ±`window_days` of this one whose customer text is similar.

    Raises NotFound when the interaction does not exist.
    """
    origin = session.get(Interaction, interaction_id)
    if origin is None:
        raise NotFound(f"interaction {interaction_id} not found")
    query_text = customer_texts(session=session, interaction_ids=[interaction_id]).get(interaction_id, "")
    start = as_utc(origin.started_at)
    low, high = start - timedelta(days=window_days), start + timedelta(days=window_days)
    candidates = list(session.exec(select(Interaction).where(
        col(Interaction.started_at) >= low, col(Interaction.started_at) <= high, col(Interaction.id) != interaction_id,
        col(Interaction.channel).in_([c.value for c in Channel])).order_by(col(Interaction.started_at))
        .limit(MAX_CANDIDATES)).all())
    texts = customer_texts(session=session, interaction_ids=[c.id for c in candidates if c.id is not None])
    documents = [texts.get(c.id or 0, "") for c in candidates]
    result = SimilarResult(query_text=query_text, window_days=window_days)
    for match in rank_similar(query_text, documents, min_score=min_score)[:limit]:
        found = candidates[match.index]
        assert found.id is not None
        text = documents[match.index]
        result.matches.append(SimilarComplaint(interaction_id=found.id, channel=found.channel,
                                               started_at=as_utc(found.started_at), score=match.score,
                                               shared_terms=match.shared_terms, agent_id=found.agent_id,
                                               snippet=text[:240] + ("…" if len(text) > 240 else "")))
    return result


def hide_unviewable(*, session: Session, principal: Principal, result: SimilarResult) -> SimilarResult:
    """Blank the text of calls, chats and e-mails the viewer may not read (agents: their own; coaches: their
    team). Public social posts stay readable. The counts and matched terms still say the problem exists."""
    for match in result.matches:
        if match.channel != Channel.SOCIAL and not can_view_agent(session=session, principal=principal,
                                                                   agent_id=match.agent_id):
            match.snippet, match.hidden = "", True
    return result


MAX_CLUSTERED = 3000


@dataclass
class TopicCluster:
    label_terms: list[str]
    interaction_ids: list[int]
    counts: dict[str, int]
    social_examples: list[tuple[int, str]]  # (interaction id, text) of public social posts only


def topic_clusters(*, session: Session, since: datetime, until: datetime, min_size: int = 3) -> list[TopicCluster]:
    """Topic clusters of the period across every channel (the most recent MAX_CLUSTERED interactions)."""
    rows = list(session.exec(select(Interaction).where(col(Interaction.started_at) >= since,
                                                       col(Interaction.started_at) <= until)
                             .order_by(col(Interaction.started_at).desc()).limit(MAX_CLUSTERED)).all())
    rows.reverse()
    texts = customer_texts(session=session, interaction_ids=[r.id for r in rows if r.id is not None])
    documents = [texts.get(r.id or 0, "") for r in rows]
    out = []
    for cluster in cluster_texts(documents, min_size=min_size):
        members = [rows[i] for i in cluster.members]
        examples = [(m.id or 0, documents[i][:200]) for i, m in zip(cluster.members, members, strict=True)
                    if m.channel == Channel.SOCIAL][:3]
        out.append(TopicCluster(label_terms=cluster.label_terms, interaction_ids=[m.id or 0 for m in members],
                                counts=dict(Counter(m.channel for m in members)), social_examples=examples))
    return out
