"""E-mail imports: messages (.eml, mbox) threaded into one interaction per thread by Message-ID,
In-Reply-To and References, also across imports. Parsing a message is app/ingest/emails.py's job."""

from collections import OrderedDict
from collections.abc import Iterable

from sqlmodel import Session, col, select

from app.core.audit import Actor
from app.core.errors import InvalidInput
from app.core.settings import Settings
from app.core.timeutil import as_utc
from app.ingest import writing
from app.ingest.emails import ParsedEmail, local_part, parse_email
from app.ingest.models import ImportReport
from app.interactions import content, customers
from app.interactions import service as interactions
from app.interactions.customers import Identity
from app.interactions.models import Interaction, Message
from app.interactions.service import InteractionData, MessageData, UpsertStatus


def import_emails(*, session: Session, sources: Iterable[tuple[str, bytes]], source: str = "import",
                  actor: Actor | None = None, settings: Settings | None = None,
                  progress: writing.Progress = writing.no_progress, background: bool = False) -> ImportReport:
    """E-mails threaded into one interaction per thread (Message-ID / In-Reply-To / References, also across
    imports). The thread's external id is the Message-ID of its earliest message. Rejections name the file
    (and the message number inside an mbox); `line` counts messages in this import."""
    report = ImportReport()
    commits = writing.Commits(session, background=background)
    parsed: list[tuple[int, ParsedEmail]] = []
    for number, (label, raw) in enumerate(sources, start=1):
        try:
            parsed.append((number, parse_email(raw)))
        except InvalidInput as exc:
            report.reject(number, exc.message, label)
        except Exception as exc:  # a malformed message must not stop the import
            report.reject(number, f"unreadable message: {type(exc).__name__}", label)
    by_id = {email.message_id: email for _, email in parsed}
    parent: dict[str, str] = {mid: mid for mid in by_id}

    def find(mid: str) -> str:
        while parent[mid] != mid:
            parent[mid] = parent[parent[mid]]
            mid = parent[mid]
        return mid

    for email in by_id.values():
        for related in email.related_ids:
            if related in by_id:
                parent[find(related)] = find(email.message_id)
    threads: OrderedDict[str, list[tuple[int, ParsedEmail]]] = OrderedDict()
    for number, email in sorted(parsed, key=lambda p: (p[1].sent_at, p[0])):
        threads.setdefault(find(email.message_id), []).append((number, email))
    resolver = writing.Resolver(session=session, region=writing.phone_region(settings), actor=actor)
    writing.write_in_batches(
        list(threads.values()), commits=commits, report=report, progress=progress,
        texts=lambda members: [*writing.with_previous([e.text for _, e in members]),
                               *(content.subject_reading(e.subject) for _, e in members if e.subject)],
        write=lambda members: _import_thread(session=session, resolver=resolver, report=report, source=source,
                                             members=members))
    session.commit()
    return report


def _existing_email_thread(session: Session, source: str, emails: list[ParsedEmail]) -> Interaction | None:
    ids = {e.message_id for e in emails} | {r for e in emails for r in e.related_ids}
    query = (select(Interaction).join(Message, col(Message.interaction_id) == col(Interaction.id))
             .where(Interaction.source == source, Interaction.channel == "email",
                    (col(Message.external_id).in_(ids)) | (col(Message.parent_external_id).in_(ids)))
             .order_by(col(Interaction.id)))
    return session.exec(query).first()


def _import_thread(*, session: Session, resolver: writing.Resolver, report: ImportReport, source: str,
                   members: list[tuple[int, ParsedEmail]]) -> None:
    emails = [e for _, e in members]
    messages: list[MessageData] = []
    identities: list[Identity] = []
    customer_name: str | None = None
    agent_id: int | None = None
    for email in emails:
        author_agent = resolver.agent_by_email(email.from_address)
        if author_agent is not None:
            agent_id = author_agent
            customer_addresses = [a for a in email.to_addresses if resolver.agent_by_email(a) is None]
        else:
            customer_addresses = [email.from_address]
            customer_name = customer_name or email.from_name or local_part(email.from_address)
        for address in customer_addresses:
            try:
                identities.append(customers.normalise_identity("email", address))
            except InvalidInput:
                continue
        messages.append(MessageData(
            external_id=email.message_id, author_role="agent" if author_agent else "customer",
            sent_at=email.sent_at, text=email.text, author_name=email.from_name, author_handle=email.from_address,
            agent_id=author_agent, subject=email.subject or None, parent_external_id=email.in_reply_to,
            attachments=email.attachments,
            extra={"from": email.from_address, "to": email.to_addresses, "references": email.references}))
    first = emails[0]

    def write() -> UpsertStatus:
        existing = _existing_email_thread(session, source, emails)
        customer_id = resolver.customer_id(list(dict.fromkeys(identities)), customer_name)
        if existing is None:
            data = InteractionData(
                source=source, external_id=first.message_id, channel="email", started_at=first.sent_at,
                direction="outbound" if messages[0].author_role == "agent" else "inbound",
                ended_at=max(e.sent_at for e in emails), customer_id=customer_id, agent_id=agent_id,
                subject=first.subject or None, messages=messages)
        else:
            ended = writing.latest_end([e.sent_at for e in emails], existing)
            data = InteractionData(
                source=source, external_id=existing.external_id, channel="email", direction=existing.direction,
                started_at=min(as_utc(existing.started_at), first.sent_at), ended_at=ended,
                customer_id=customer_id or existing.customer_id, agent_id=agent_id or existing.agent_id,
                subject=existing.subject or first.subject or None, queue=existing.queue,
                platform=existing.platform, extra=existing.extra, messages=messages)
        return interactions.upsert_interaction(session=session, data=data)[1]

    writing.write_interaction(session, report, [number for number, _ in members], first.message_id, write)
