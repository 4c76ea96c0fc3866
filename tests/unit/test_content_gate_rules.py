"""The content gate's pure rules: which text a response shows, and how a quote of the original is placed in the
redacted text without ever showing part of what was redacted."""

from datetime import UTC, datetime

from app.core.security import Principal, Role
from app.core.settings import Settings
from app.interactions import content
from app.interactions.models import Message, Segment

ORIGINAL = "my card is 4111 1111 1111 1111 and I am angry"
REDACTED = "my card is [CARD] and I am angry"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def message(redacted: str | None = REDACTED) -> Message:
    return Message(id=1, interaction_id=1, external_id="m1", author_role="customer", sent_at=T0, text=ORIGINAL,
                   redacted_text=redacted)


def test_redacted_unless_opened_and_never_clear_while_not_redacted() -> None:
    assert content.REDACTED.message_text(message()) == REDACTED
    assert content.ContentGate(original=True).message_text(message()) == ORIGINAL
    assert content.REDACTED.message_text(message(None)) == content.BEING_REDACTED
    line = Segment(interaction_id=1, seq=0, speaker="customer", start=0, end=1, text=ORIGINAL,
                   words=[{"word": "4111"}])
    assert content.REDACTED.segment_text(line) == content.BEING_REDACTED


def test_shown_copies_hold_only_the_gated_text() -> None:
    row = message()
    row.subject = "Refund to 4111 1111 1111 1111"
    [not_yet] = content.REDACTED.messages([row])
    assert not_yet.subject == content.BEING_REDACTED  # a subject is never shown before it is redacted
    row.redacted_subject = "Refund to [CARD]"
    [shown] = content.REDACTED.messages([row])
    assert shown.text == REDACTED and shown.redacted_text == REDACTED and shown.id == 1
    assert shown.subject == shown.redacted_subject == "Refund to [CARD]" and row.subject.endswith("1111")
    [opened] = content.ContentGate(original=True).messages([row])
    assert opened.subject == opened.redacted_subject == row.subject
    line = Segment(interaction_id=1, seq=0, speaker="agent", start=0, end=1, text=ORIGINAL, redacted_text=REDACTED,
                   words=[{"word": "4111", "start": 0.1, "end": 0.2}])
    [shown_line] = content.REDACTED.segments([line])
    assert shown_line.text == REDACTED and shown_line.words == []  # word timings carry the original words
    assert line.text == ORIGINAL  # the stored row is untouched


def test_excerpt_widens_to_the_whole_label_and_keeps_context() -> None:
    row = message()
    card_at = ORIGINAL.index("4111")
    assert content.REDACTED.excerpt(row, card_at + 5, card_at + 9).text == "[CARD]"  # half a card → the label
    angry = ORIGINAL.index("angry")
    quote = content.REDACTED.excerpt(row, angry, angry + 5, context=12)
    assert (quote.before, quote.text, quote.after) == ("…D] and I am ", "angry", "")
    assert content.ContentGate(original=True).excerpt(row, card_at, card_at + 19).text == "4111 1111 1111 1111"
    assert content.REDACTED.excerpt(message(None), 0, 5).text == content.BEING_REDACTED


def test_evidence_quotes_are_mapped_through_the_gate() -> None:
    row = message()
    card_at = ORIGINAL.index("4111")
    evidence = [{"kind": "span", "source_type": "message", "source_id": 1, "start_char": 0,
                 "end_char": card_at + 19, "text": ORIGINAL[:card_at + 19]},
                {"kind": "metric", "metric": "hold_seconds", "value": 3.0}]
    shown = content.REDACTED.evidence(evidence, {("message", 1): row})
    assert shown[0]["text"] == "my card is [CARD]" and shown[1] == evidence[1]
    assert evidence[0]["text"].endswith("1111")  # the stored evidence is untouched


def test_only_configured_roles_may_see_the_original() -> None:
    settings = Settings(unredacted_roles=["admin"])
    admin = Principal(user_id=1, username="a", display_name="A", roles=frozenset({Role.ADMIN}))
    agent = Principal(user_id=2, username="b", display_name="B", roles=frozenset({Role.AGENT}))
    assert content.may_see_original(admin, settings) and not content.may_see_original(agent, settings)
    assert not content.may_see_original(None, settings)
