"""Shared helpers for the scorecards/evaluations integration tests: interactions made with the model
directly, the shipped forms loaded, and a small form for precise checks."""

from datetime import UTC, datetime, timedelta
from itertools import count

from sqlmodel import Session

from app.interactions.models import Interaction, Message, Segment
from app.scorecards import service as scorecards
from app.scorecards.schema import parse_form

_ids = count(1)

SMALL_FORM = {
    "key": "small_chat", "name": "Small chat form", "channels": ["chat", "call"], "dispute_window_days": 3,
    "sections": [
        {"id": "manner", "title": "Manner", "questions": [
            {"id": "greeted", "text": "Greeted", "type": "yes_no", "points": 1},
            {"id": "tone", "text": "Tone", "type": "scale", "min": 1, "max": 5, "points": 4}]},
        {"id": "outcome", "title": "Outcome", "questions": [
            {"id": "resolved", "text": "Resolved", "type": "yes_no", "points": 5, "na_allowed": True},
            {"id": "verified", "text": "Verified identity", "type": "yes_no", "critical": True},
            {"id": "note", "text": "Note", "type": "comment"}]},
    ],
}


def make_interaction(session: Session, *, agent_id: int | None, channel: str = "chat",
                     started_at: datetime | None = None, queue: str | None = None,
                     messages: int = 0, segments: int = 0, duration: float | None = 60.0) -> Interaction:
    n = next(_ids)
    interaction = Interaction(channel=channel, started_at=started_at or datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
                              agent_id=agent_id, queue=queue, external_id=f"ev-test-{n}", source="test",
                              duration_seconds=duration, subject=f"Interaction {n}")
    session.add(interaction)
    session.flush()
    assert interaction.id is not None
    for i in range(messages):
        session.add(Message(interaction_id=interaction.id, external_id=f"m{i}", author_role="agent" if i % 2 else "customer",
                            sent_at=interaction.started_at + timedelta(seconds=i * 30), text=f"message {i}",
                            redacted_text=f"message {i}"))  # as ingest stores it (nothing personal to redact)
    for i in range(segments):
        session.add(Segment(interaction_id=interaction.id, seq=i, speaker="agent" if i % 2 else "customer",
                            start=i * 5.0, end=i * 5.0 + 4.5, text=f"segment {i}", redacted_text=f"segment {i}"))
    session.commit()
    return interaction


def load_small_form(session: Session) -> int:
    scorecard, _, _ = scorecards.save_form(session=session, form=parse_form(SMALL_FORM), actor=None, publish=True)
    assert scorecard.id is not None
    return scorecard.id


FULL_MARKS = [
    {"question_id": "greeted", "value": True},
    {"question_id": "tone", "value": 5},
    {"question_id": "resolved", "value": True},
    {"question_id": "verified", "value": True},
]


def load_questions(session: Session, *question_ids: str) -> int:
    """A published form with a yes/no question for each id (coaching refuses questions on no form)."""
    form = {"key": "coaching_topics", "name": "Coaching topics", "channels": ["call", "chat"], "sections": [
        {"id": "topics", "title": "Topics", "questions": [
            {"id": q, "text": q.replace("_", " ").capitalize(), "type": "yes_no", "points": 1} for q in question_ids]}]}
    scorecard, _, _ = scorecards.save_form(session=session, form=parse_form(form), actor=None, publish=True)
    assert scorecard.id is not None
    return scorecard.id
