"""The content gate: the one place interaction text (messages, transcript lines, subjects, quotes from them) is
read for showing it to anyone.

Every page, JSON endpoint, search index, CSV, PDF, evidence quote and webhook payload gets text through a
`ContentGate`. The gate gives the redacted form ("[CARD]", "[DOB]", ...) unless it was opened with
`open_gate(original=True)`, which needs a role listed in `EARSHOT_UNREDACTED_ROLES` and writes one audit event.
Text that has not been redacted yet is never shown in clear: the gate returns `BEING_REDACTED` instead.

Redaction itself happens when content arrives (`redact_messages` and `redact_subjects`, called by
`service.upsert_messages` and `service.sync_interaction` in the ingest's own transaction), so the hourly sweep is
only a safety net. Subjects (an e-mail's, a ticket's) are redacted like message text and stored beside the
original (`redacted_subject`): "Card 4929 ... for Jane Doe" is personal data as much as a message is. The detector is the shared one in
`app.privacy.pii` (a pure text function: no database, no other feature).

tests/unit/test_content_gate_architecture.py fails when a views/api/export/pack module reads `Message.text`,
`Segment.text`, `redacted_text`, `subject` or `redacted_subject` itself instead of asking the gate; templates print
subjects with the `subject` filter (`{{ interaction|subject }}`, `{{ interaction|subject(gate) }}`).
"""

import difflib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from sqlmodel import Session

from app.core import audit
from app.core.errors import Forbidden
from app.core.security import Principal, Role
from app.core.settings import Settings
from app.core.timeutil import as_utc
from app.interactions.models import Interaction, Message, Segment
from app.privacy import pii

BEING_REDACTED = "[being redacted]"
RowT = TypeVar("RowT", Message, Segment)


def may_see_original(principal: Principal | None, settings: Settings) -> bool:
    """Whether this principal's roles are among the configured `unredacted_roles` (EARSHOT_UNREDACTED_ROLES)."""
    return principal is not None and principal.has(*(Role(r) for r in settings.unredacted_roles))


def require_original(*, session: Session, principal: Principal, settings: Settings, action: str,
                     record_type: str, record_id: int, audit_access: bool = True) -> None:
    """Refuse (Forbidden) unless the principal may see personal data unredacted; record the access in the audit
    log in a short write transaction of its own (`audit.record_read`), so the record stays even if the page fails later (`audit_access=False` for the follow-up
    range requests of one audio playback)."""
    if not may_see_original(principal, settings):
        allowed = ", ".join(settings.unredacted_roles) or "nobody"
        raise Forbidden(f"Unredacted transcripts and audio are only for: {allowed} (setting EARSHOT_UNREDACTED_ROLES).")
    if not audit_access:
        return
    audit.record_read(session=session, actor=principal, action=action, record_type=record_type, record_id=record_id)


@dataclass(frozen=True)
class ContentGate:
    """How one response shows interaction text: redacted (the default) or the audited original."""

    original: bool = False

    def message_text(self, message: Message) -> str:
        if self.original:
            return message.text
        return message.redacted_text if message.redacted_text is not None else BEING_REDACTED

    def segment_text(self, segment: Segment) -> str:
        if self.original:
            return segment.text
        return segment.redacted_text if segment.redacted_text is not None else BEING_REDACTED

    def text_of(self, row: Message | Segment) -> str:
        return self.message_text(row) if isinstance(row, Message) else self.segment_text(row)

    def subject(self, row: Interaction | Message | None) -> str | None:
        """The subject of an interaction or an e-mail as this gate shows it: the redaction stored at ingest, the
        original only when the gate is open, `BEING_REDACTED` for a subject not redacted yet, None when there is
        no subject."""
        if row is None or not row.subject:
            return None
        if self.original:
            return row.subject
        return row.redacted_subject if row.redacted_subject is not None else BEING_REDACTED

    def messages(self, messages: Iterable[Message]) -> list[Message]:
        """Copies of the messages, for showing: both `text` and `redacted_text` hold what this gate shows, and so
        do `subject` and `redacted_subject`. The copies are not in the session (never `session.add` one)."""
        return [_shown(Message, m, self.message_text(m), subject=self.subject(m), redacted_subject=self.subject(m))
                for m in messages]

    def segments(self, segments: Iterable[Segment]) -> list[Segment]:
        """Copies of the transcript lines, for showing (as `messages`); word timings are kept only when the gate
        is open (their words are the original)."""
        return [_shown(Segment, s, self.segment_text(s), words=s.words if self.original else []) for s in segments]

    def excerpt(self, row: Message | Segment, start: int, end: int, *, context: int = 0) -> "Excerpt":
        """Characters `start:end` of the row's ORIGINAL text (where analytics found a phrase), with `context`
        characters either side, as this gate shows them: in the redacted text, the same place (a quote that
        touches redacted data widens to its whole label, e.g. "[CARD]")."""
        shown = self.text_of(row)
        if not self.original:
            if row.redacted_text is None:
                return Excerpt("", shown, "")
            start, end = map_to_redacted(row.text, shown, start, end)
        start, end = max(0, min(start, len(shown))), max(0, min(end, len(shown)))
        low, high = max(0, start - context), min(len(shown), end + context)
        return Excerpt(("…" if low > 0 else "") + shown[low:start], shown[start:end],
                       shown[end:high] + ("…" if high < len(shown) else ""))

    def evidence(self, items: Iterable[dict[str, Any]], rows: dict[tuple[str, int], Message | Segment]
                 ) -> list[dict[str, Any]]:
        """Stored evidence dicts (auto-QA answers) with their quoted `text` as this gate shows it."""
        out = []
        for item in items:
            shown = dict(item)
            if shown.get("text") is not None:
                row = rows.get((str(item.get("source_type")), int(item.get("source_id") or 0)))
                if row is not None and item.get("start_char") is not None and item.get("end_char") is not None:
                    shown["text"] = self.excerpt(row, int(item["start_char"]), int(item["end_char"])).text
                else:
                    shown["text"] = self.quote(str(shown["text"]))
            out.append(shown)
        return out

    def quote(self, text: str | None) -> str | None:
        """A free-text quote taken from interaction content and stored elsewhere (an evidence quote, an alert
        sample): redacted here unless the gate is open."""
        if text is None or self.original:
            return text
        return redact_text(text)


REDACTED = ContentGate()


def shown_subject(row: Interaction | Message | None, gate: ContentGate = REDACTED) -> str | None:
    """The `subject` template filter: `{{ interaction|subject }}` (redacted), `{{ interaction|subject(gate) }}`
    (as the response's gate shows it)."""
    return gate.subject(row)


def shown_title(interaction: Interaction, gate: ContentGate = REDACTED) -> str:
    """The `title` template filter: what a link to an interaction reads — its subject as the gate shows it, else
    "Twitter thread" for a social thread (a post id means nothing to a reader), else the source's reference
    ("call-013")."""
    subject = gate.subject(interaction)
    if subject:
        return subject
    if interaction.channel == "social":
        return f"{(interaction.platform or 'social').capitalize()} thread"
    return interaction.external_id or f"{interaction.channel} {interaction.id}"


@dataclass(frozen=True)
class Excerpt:
    before: str
    text: str
    after: str


def map_to_redacted(original: str, redacted: str, start: int, end: int) -> tuple[int, int]:
    """Where `original[start:end]` is in `redacted` (the same text with findings replaced by labels). A range
    that touches a replaced part takes the whole label, so a quote never shows half of a card number."""
    matcher = difflib.SequenceMatcher(None, original, redacted, autojunk=False)
    new_start, new_end = 0, len(redacted)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            if i1 <= start < i2:
                new_start = j1 + start - i1
            if i1 < end <= i2:
                new_end = j1 + end - i1
        else:
            if i1 <= start < i2:
                new_start = j1
            if i1 < end <= i2 or (i1 == i2 == end):
                new_end = j2
    return new_start, max(new_start, new_end)


def open_gate(*, session: Session, principal: Principal, settings: Settings, record_id: int,
              original: bool = False, record_type: str = "interaction",
              action: str = "transcript.view_original") -> ContentGate:
    """The gate for one response. `original=True` raises Forbidden unless the principal's role is in
    EARSHOT_UNREDACTED_ROLES, and is audited (one event per request)."""
    if not original:
        return REDACTED
    require_original(session=session, principal=principal, settings=settings, action=action,
                     record_type=record_type, record_id=record_id)
    return ContentGate(original=True)


def _shown(model: type[RowT], row: RowT, text: str, **more: Any) -> RowT:
    return model(**{**row.model_dump(), "text": text, "redacted_text": text, **more})


# ---------------------------------------------------------------- redacting at ingest


def redact_text(text: str, *, names: bool = True) -> str:
    """`text` with every personal-data finding of the shared detector replaced by its label. `names=False`
    skips the language model (patterns only: cards, phones, e-mails, postcodes, dates of birth, ids)."""
    return pii.redact(text, pii.find_pii(text, use_ner=names))


# findings computed ahead of an import's transaction (see `redacted_ahead`), by (text, context)
_ahead: ContextVar[dict[tuple[str, str], list[pii.PiiSpan]] | None] = ContextVar("earshot_redacted_ahead",
                                                                                 default=None)


@contextmanager
def redacted_ahead(texts: Sequence[tuple[str, str]],
                   run: Callable[[Callable[[], list[list[pii.PiiSpan]]]], list[list[pii.PiiSpan]]] | None = None,
                   ) -> Iterator[None]:
    """Run the detector over the (text, previous text) pairs an import is about to store before its transaction
    begins, and let `redact_texts` inside the block use those findings. On SQLite a state-changing request holds
    the one write lock from its first statement; the language model (~2 ms a message) then runs while nobody
    waits for it. A text read with another context than the one guessed here is simply read again, so what is
    stored is the same either way. `run` runs the reading (e.g. in a thread of low CPU priority)."""
    pairs = list(dict.fromkeys(pair for pair in texts if pair[0]))

    def read() -> list[list[pii.PiiSpan]]:
        return pii.find_pii_many([t for t, _ in pairs], contexts=[c for _, c in pairs])

    found = (run(read) if run is not None else read()) if pairs else []
    token = _ahead.set(dict(zip(pairs, found, strict=True)))
    try:
        yield
    finally:
        _ahead.reset(token)


def redact_texts(texts: Sequence[str], *, contexts: Sequence[str] | None = None) -> list[str]:
    """`redact_text` over many texts (each read after its previous turn in `contexts`, if given), running the
    language model in batches (only over the texts `redacted_ahead` did not already read)."""
    return [pii.redact(text, spans) for text, spans in zip(texts, _findings(texts, contexts), strict=True)]


def _findings(texts: Sequence[str], contexts: Sequence[str] | None = None) -> list[list[pii.PiiSpan]]:
    """The detector's findings in each text (read after its context), from `redacted_ahead`'s where it made them."""
    if not texts:
        return []
    contexts = list(contexts) if contexts is not None else [""] * len(texts)
    ahead = _ahead.get() or {}
    missing = [i for i, pair in enumerate(zip(texts, contexts, strict=True)) if pair not in ahead]
    found_now = dict(zip(missing, pii.find_pii_many([texts[i] for i in missing], contexts=[contexts[i] for i in missing])
                         if missing else [], strict=True))
    return [found_now[i] if i in found_now else ahead[(text, contexts[i])] for i, text in enumerate(texts)]


def needs_redaction(row: Interaction | Message) -> bool:
    """Whether a message's text, or a subject, has no redaction yet."""
    if isinstance(row, Message) and row.redacted_text is None:
        return True
    return bool(row.subject) and row.redacted_subject is None


# A subject is read by the language model as the line of a message it is ("Subject: Broadband keeps dropping"):
# alone, a subject's first word is often taken for a place or a name ("[LOCATION] keeps dropping").
SUBJECT_FRAME = "Subject: "


def subject_reading(subject: str) -> tuple[str, str]:
    """What the detector reads for a subject, and in which context (for `redacted_ahead`)."""
    return SUBJECT_FRAME + subject, ""


def redact_subject_texts(subjects: Sequence[str]) -> list[str]:
    """Subjects with every personal-data finding of the shared detector (patterns and the language model, as for
    message text) replaced by its label."""
    if not subjects:
        return []
    frame = len(SUBJECT_FRAME)
    found = _findings([subject_reading(subject)[0] for subject in subjects])
    return [pii.redact(subject, [replace(span, start=max(0, span.start - frame), end=span.end - frame)
                                 for span in spans if span.end > frame])
            for subject, spans in zip(subjects, found, strict=True)]


def redact_subjects(rows: Sequence[Interaction | Message]) -> int:
    """Set `redacted_subject` of every row with a subject and no redaction of it yet (new, or the subject changed
    and the caller cleared it), in the caller's transaction. Returns how many were redacted."""
    todo = [row for row in rows if row.subject and row.redacted_subject is None]
    for row, redacted in zip(todo, redact_subject_texts([row.subject or "" for row in todo]), strict=True):
        row.redacted_subject = redacted
    return len(todo)


def previous_texts(conversation_texts: Sequence[tuple[Any, str]]) -> list[str]:
    """For (conversation, text) pairs in time order: the text each is read after (the previous one of its
    conversation, "" for the first) — the context the detector reads a message in."""
    previous: dict[Any, str] = {}
    contexts = []
    for conversation, text in conversation_texts:
        contexts.append(previous.get(conversation, ""))
        previous[conversation] = text
    return contexts


def redact_messages(messages: Sequence[Message]) -> int:
    """Set `redacted_text` of every message that has none yet (new, or its text changed and the caller cleared
    it), and `redacted_subject` of every e-mail subject not redacted yet, in the caller's transaction. Each text
    is read after the message before it in the same conversation among `messages` (a date of birth answered
    after the agent asked for it is redacted as one). Returns how many messages were redacted."""
    subjects = redact_subjects([m for m in messages if m.redacted_text is not None])
    ordered = sorted(messages, key=lambda m: (m.interaction_id or 0, as_utc(m.sent_at), m.id or 0))
    read = [(m, context) for m, context in zip(ordered, previous_texts([(m.interaction_id or 0, m.text) for m in ordered]),
                                               strict=True) if m.redacted_text is None]
    todo = [m for m, _ in read]
    contexts = [context for _, context in read]
    for message, redacted in zip(todo, redact_texts([m.text for m in todo], contexts=contexts), strict=True):
        message.redacted_text = redacted
    redact_subjects(todo)
    return len(todo) + subjects
