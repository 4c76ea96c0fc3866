"""Getting interactions into Earshot: the entry points that are not one format's own — a pushed webhook
interaction (ingest_webhook) and an uploaded file of any kind (import_file, which hands it to chats,
email_threads or social). Every path writes through app.interactions.service, so it is idempotent by
(source, external_id) and resolves customers the same way; calls.py holds recordings, writing.py what
every import shares.

Imports never stop at a bad line: each line is validated on its own, bad ones are reported with their line
number and reason, and each interaction is written inside its own SAVEPOINT, so one failure loses nothing
else. Counts in the report are of interactions (a conversation, a thread, a call).
"""

from collections.abc import Iterable
from pathlib import Path

from sqlmodel import Session

from app.core.audit import Actor
from app.core.db import written_once
from app.core.errors import InvalidInput
from app.core.inputs import json_document, refuse_binary
from app.core.settings import Settings
from app.ingest import writing
from app.ingest.chats import chat_records, import_chats
from app.ingest.email_threads import import_emails
from app.ingest.emails import looks_like_mbox, mbox_messages
from app.ingest.models import ImportReport, WebhookInteraction
from app.ingest.social import import_social, social_records
from app.interactions import service as interactions
from app.interactions.models import Interaction
from app.interactions.service import InteractionData, MessageData, UpsertStatus

# ---------------------------------------------------------------- webhook


def ingest_webhook(*, session: Session, data: WebhookInteraction, actor: Actor | None,
                   settings: Settings | None = None) -> tuple[Interaction, UpsertStatus]:
    """One pushed interaction; a replayed delivery (same source + external_id, same content) changes nothing.
    A field the delivery does not carry (absent from the JSON) leaves the stored value as it is: a later
    delivery with only new messages blanks neither the agent, the queue, the transfers nor the details. A
    field sent as null (transfers as []) clears it (the import rule of app/core/merge.py).
    Raises InvalidInput for unknown agents or malformed identities. Commits."""
    resolver = writing.Resolver(session=session, region=writing.phone_region(settings), actor=actor)

    def write() -> tuple[Interaction, UpsertStatus]:
        existing = interactions.get_by_external_id(session=session, source=data.source,
                                                   external_id=data.external_id)
        sent = data.model_fields_set
        legs = writing.transfer_legs(resolver, first_agent=data.agent, first_queue=data.queue,
                                     started_at=data.started_at, transfers=data.transfers,
                                     duration=data.duration_seconds)
        messages = [MessageData(
            external_id=m.external_id, author_role=m.author_role, sent_at=m.sent_at, text=m.text,
            author_name=m.author_name, author_handle=m.author_handle, agent_id=resolver.agent_id(m.agent),
            subject=m.subject, is_public=m.is_public, parent_external_id=m.parent_external_id,
            attachments=m.attachments, extra=m.extra) for m in data.messages]
        identities = resolver.identities(data.customer)
        customer_id = resolver.customer_id(identities, data.customer.name)
        clear: set[str] = {name for name in ("ended_at", "duration_seconds", "queue", "subject", "platform",
                                             "extra") if name in sent and getattr(data, name) is None}
        if "agent" in sent and data.agent is None:
            clear.add("agent_id")
        if "transfers" in sent and not legs:
            clear.add("legs")
        return interactions.upsert_interaction(session=session, data=InteractionData(
            source=data.source, external_id=data.external_id, channel=data.channel, started_at=data.started_at,
            # the direction has a default: only a delivery that names it changes the stored one
            direction=data.direction if existing is None or "direction" in sent else existing.direction,
            ended_at=data.ended_at, duration_seconds=data.duration_seconds, queue=data.queue, subject=data.subject,
            platform=data.platform, extra=data.extra, customer_id=customer_id,
            agent_id=legs[-1].agent_id if legs else resolver.agent_id(data.agent), legs=legs, messages=messages,
            clear=frozenset(clear)), stored=existing)

    # a redelivery arriving while the first delivery is being written (a platform's retry) merges into it
    interaction, status = written_once(session, write, alone=True)
    session.commit()
    return interaction, status


# ---------------------------------------------------------------- files uploaded through the web

IMPORT_KINDS = ("chats", "emails", "social")


def import_file(*, session: Session, settings: Settings, kind: str, path: Path, filename: str,
                source: str = "import", actor: Actor | None = None,
                progress: writing.Progress = writing.no_progress, background: bool = False) -> ImportReport:
    """Import an uploaded file of one kind: chats (.jsonl or .csv), emails (.eml or .mbox), social (.json).
    `background` (the import job): commit in short chunks with pauses (see Commits)."""
    suffix = Path(filename).suffix.lower()
    with path.open("rb") as handle:
        refuse_binary(handle.read(16), what=filename or "the file", expected=f"a {kind} file")
    if kind == "chats":
        records = chat_records(path.read_bytes(), csv_format=suffix == ".csv", what=filename or "the file")
        return import_chats(session=session, records=records, source=source, actor=actor, settings=settings,
                            progress=progress, background=background)
    if kind == "emails":
        if suffix == ".mbox" or (suffix != ".eml" and looks_like_mbox(path)):
            sources: Iterable[tuple[str, bytes]] = mbox_messages(path, filename)
        else:
            sources = [(filename, path.read_bytes())]
        return import_emails(session=session, sources=sources, source=source, actor=actor, settings=settings,
                             progress=progress, background=background)
    if kind == "social":
        posts = social_records(json_document(path.read_bytes(), what=filename or "the file"))
        return import_social(session=session, records=posts, source=source, actor=actor, settings=settings,
                             progress=progress, background=background)
    raise InvalidInput(f"unknown import kind {kind!r}; one of {', '.join(IMPORT_KINDS)}")
