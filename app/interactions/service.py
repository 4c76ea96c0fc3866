"""Interactions: the rules every channel's ingest and every page goes through — writing an interaction with
its legs and messages, keeping its derived rows current, and the one visibility rule for reading it.
Customers and their identities are in app/interactions/customers.py.

Transfers: a transferred call (or chat) is ONE interaction with ordered `InteractionLeg` rows (agent,
queue, start, end); `Interaction.agent_id` is the last leg's agent. We chose legs over linked interactions
because evaluators score, and customers experience, the whole contact: one recording, one transcript,
one place that shows the customer had to re-tell the story to three agents.

Every write keeps two derived tables current: `interaction_agent` (who took part: the scope rules and
agent/team filters read it) and `search_document` (the text search reads it; see app/interactions/search.py).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import and_, delete, func, insert, or_
from sqlmodel import Session, col, select

from app.auth.service import visible_agent_ids
from app.core import phones
from app.core.errors import InvalidInput, NotFound
from app.core.merge import merge_fields
from app.core.security import Principal
from app.interactions import content
from app.interactions import search as search_index
from app.interactions.customers import active_customer, get_customer
from app.interactions.models import (
    Channel,
    Customer,
    Interaction,
    InteractionAgent,
    InteractionLeg,
    Message,
    Recording,
    Segment,
)

DEFAULT_REGION = phones.FALLBACK_REGION  # kept for callers; parsing uses phones.default_region()
UpsertStatus = Literal["created", "updated", "unchanged"]


# ---------------------------------------------------------------- interactions


@dataclass
class LegData:
    agent_id: int | None
    queue: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None


@dataclass
class MessageData:
    external_id: str
    author_role: str
    sent_at: datetime
    text: str
    author_name: str | None = None
    author_handle: str | None = None
    agent_id: int | None = None
    subject: str | None = None
    is_public: bool = True
    parent_external_id: str | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class InteractionData:
    """What a source says about one interaction; agents and customer already resolved to ids."""

    source: str
    external_id: str
    channel: str
    started_at: datetime
    direction: str = "inbound"
    ended_at: datetime | None = None
    duration_seconds: float | None = None
    customer_id: int | None = None
    agent_id: int | None = None
    queue: str | None = None
    subject: str | None = None
    platform: str | None = None
    parent_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    legs: list[LegData] = field(default_factory=list)
    messages: list[MessageData] = field(default_factory=list)
    # fields whose None (or, for "legs", empty list) the source sent on purpose: those are cleared; every
    # other None or empty list means "not in this import" and keeps the stored value (app/core/merge.py)
    clear: frozenset[str] = frozenset()


_SCALARS = ("channel", "direction", "started_at", "ended_at", "duration_seconds", "customer_id", "agent_id",
            "queue", "subject", "platform", "parent_id", "extra")
_MESSAGE_FIELDS = ("author_role", "sent_at", "text", "author_name", "author_handle", "agent_id", "subject",
                   "is_public", "parent_external_id", "attachments", "extra")


def get_by_external_id(*, session: Session, source: str, external_id: str) -> Interaction | None:
    return session.exec(select(Interaction).where(Interaction.source == source,
                                                  Interaction.external_id == external_id)).first()


class NotRead:
    """`upsert_interaction`'s default for `stored`: the caller has not read the interaction."""


NOT_READ = NotRead()


def upsert_interaction(*, session: Session, data: InteractionData,
                       stored: Interaction | None | NotRead = NOT_READ) -> tuple[Interaction, UpsertStatus]:
    """Create or update the interaction identified by (source, external_id), with its legs and messages.
    `stored`: what `get_by_external_id` gave the caller for them in this transaction, if it asked (one read less).

    What an update changes follows the one import rule (app/core/merge.py): a field given as None keeps
    the stored value unless `data.clear` names it, and `extra` merges key by key. Idempotent: the same data
    again returns "unchanged" and writes nothing. Messages are upserted by (interaction, external_id) by the
    same rule and never deleted (a later import may carry only new messages of a thread). Legs: none given
    keeps the stored ones (unless "legs" is in `data.clear`); as many as stored merge leg by leg; another
    number replaces them. Writes inside the caller's transaction (flushed), does not commit.

    Statements (this runs inside the write transaction): a new interaction is one INSERT each for itself, its
    messages (all at once), its participants and its search document, built from what was just written; an
    update reads its legs and messages once and rewrites only what changed.
    """
    if data.channel not in set(Channel):
        raise InvalidInput(f"unknown channel {data.channel!r}")
    if not data.external_id.strip():
        raise InvalidInput("external_id is empty")
    values = {name: getattr(data, name) for name in _SCALARS}
    if data.legs and values["agent_id"] is None:
        values["agent_id"] = data.legs[-1].agent_id
    if data.customer_id is not None:
        values["customer_id"] = active_customer(session, get_customer(session=session, customer_id=data.customer_id)).id
    interaction = (get_by_external_id(session=session, source=data.source, external_id=data.external_id)
                   if isinstance(stored, NotRead) else stored)
    status: UpsertStatus
    legs = list(data.legs)
    created = interaction is None
    stored_legs: list[InteractionLeg] = []
    if interaction is None:
        interaction = Interaction(source=data.source, external_id=data.external_id, **values)
        session.add(interaction)
        session.flush()
        status = "created"
    else:
        stored_legs = _stored_legs(session, interaction)
        first_leg_named = False
        if "legs" not in data.clear:
            legs = _legs_with_known_agents(legs, stored_legs, stored_agent_id=interaction.agent_id)
        if legs:
            values["agent_id"] = legs[-1].agent_id or values["agent_id"]
        elif "legs" not in data.clear and len(stored_legs) > 1:
            # the legs are kept, so the agent stays the last leg's; an agent given without transfers is the
            # first leg's, when that one is not known yet
            first_leg_named = stored_legs[0].agent_id is None and values["agent_id"] is not None
            if first_leg_named:
                stored_legs[0].agent_id = values["agent_id"]
            values["agent_id"] = None
        changed = merge_fields(interaction, values, clear=data.clear - {"customer_id"})
        if "subject" in changed:
            interaction.redacted_subject = None  # the old redaction is of the old subject
        status = "updated" if changed or first_leg_named else "unchanged"
    assert interaction.id is not None
    leg_agents = [leg.agent_id for leg in stored_legs]
    if legs or "legs" in data.clear:
        legs_changed, leg_agents = _merge_legs(session=session, interaction_id=interaction.id, legs=legs,
                                               stored=stored_legs)
        if legs_changed and status == "unchanged":
            status = "updated"
    counts, messages = _write_messages(session=session, interaction=interaction, messages=data.messages,
                                       new_interaction=created)
    if (counts["created"] or counts["updated"]) and status == "unchanged":
        status = "updated"
    if status != "unchanged":
        _sync_written(session=session, interaction=interaction, messages=messages, leg_agents=leg_agents,
                      new_interaction=created)
    else:
        session.flush()
    return interaction, status


def _stored_legs(session: Session, interaction: Interaction) -> list[InteractionLeg]:
    return list(session.exec(select(InteractionLeg).where(InteractionLeg.interaction_id == interaction.id)
                             .order_by(col(InteractionLeg.seq))).all())


def _legs_with_known_agents(legs: list[LegData], stored: list[InteractionLeg], *,
                            stored_agent_id: int | None) -> list[LegData]:
    """Legs whose agent the import does not name take the stored leg's at the same place (or, for the first
    leg of a call stored without legs, the call's agent): a file with transfers but no agent column keeps
    the agent another file gave."""
    known = [leg.agent_id for leg in stored] or [stored_agent_id]
    return [replace(leg, agent_id=known[index]) if leg.agent_id is None and index < len(known) else leg
            for index, leg in enumerate(legs)]


def _merge_legs(*, session: Session, interaction_id: int, legs: Sequence[LegData],
                stored: list[InteractionLeg]) -> tuple[bool, list[int | None]]:
    """Write the legs over the `stored` ones (read by the caller); returns whether anything changed and the
    agents of the legs now stored, in order. Not flushed."""
    if legs and len(legs) == len(stored):
        changed = False
        for row, leg in zip(stored, legs, strict=True):
            if merge_fields(row, {"agent_id": leg.agent_id, "queue": leg.queue, "started_at": leg.started_at,
                                  "ended_at": leg.ended_at}):
                changed = True
        return changed, [row.agent_id for row in stored]
    if not legs and not stored:
        return False, []
    if stored:
        session.execute(delete(InteractionLeg).where(col(InteractionLeg.interaction_id) == interaction_id))
    if legs:
        session.execute(insert(InteractionLeg), [
            {"interaction_id": interaction_id, "seq": seq, "agent_id": leg.agent_id, "queue": leg.queue,
             "started_at": leg.started_at, "ended_at": leg.ended_at} for seq, leg in enumerate(legs, start=1)])
    return True, [leg.agent_id for leg in legs]


def upsert_messages(*, session: Session, interaction: Interaction, messages: Iterable[MessageData],
                    reindex: bool = True) -> dict[str, int]:
    """Add or update messages of an interaction by external id; returns counts created/updated/unchanged.
    New and changed messages are redacted here, in the caller's transaction (see app/interactions/content.py)."""
    assert interaction.id is not None
    counts, _messages = _write_messages(session=session, interaction=interaction, messages=messages,
                                        new_interaction=False)
    session.flush()
    if reindex and (counts["created"] or counts["updated"]):
        sync_interaction(session=session, interaction_id=interaction.id)
    return counts


_MESSAGE_COLUMNS = ("interaction_id", "external_id", *_MESSAGE_FIELDS, "redacted_text", "redacted_subject")


def _write_messages(*, session: Session, interaction: Interaction, messages: Iterable[MessageData],
                    new_interaction: bool) -> tuple[dict[str, int], list[Message]]:
    """Messages upserted by external id (one read of the stored ones, unless the interaction was just created;
    the new ones inserted in one statement), redacted before they are written. Returns the counts and every
    message of the interaction as now stored (the new ones are not in the session: read them back to change
    them). Updates of stored messages are left to the next flush."""
    assert interaction.id is not None
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    existing: dict[str, Message] = {} if new_interaction else {m.external_id: m for m in session.exec(
        select(Message).where(Message.interaction_id == interaction.id)).all()}
    added: list[Message] = []
    for data in messages:
        values = {name: getattr(data, name) for name in _MESSAGE_FIELDS}
        row = existing.get(data.external_id)
        if row is None:
            row = Message(interaction_id=interaction.id, external_id=data.external_id, **values)
            existing[data.external_id] = row
            added.append(row)
            counts["created"] += 1
            continue
        # a message listed again without its attachments keeps them, like any other absent field
        changed = merge_fields(row, {**values, "attachments": values["attachments"] or None})
        if not changed:
            counts["unchanged"] += 1
            continue
        if "text" in changed:
            row.redacted_text = None  # the old redaction is of the old text
        if "subject" in changed:
            row.redacted_subject = None
        counts["updated"] += 1
    # redacted in the same transaction as the import: content is never visible before it is redacted
    content.redact_messages([m for m in existing.values() if content.needs_redaction(m)])
    if added:
        session.execute(insert(Message), [{name: getattr(m, name) for name in _MESSAGE_COLUMNS} for m in added])
    return counts, list(existing.values())


def sync_interaction(*, session: Session, interaction_id: int) -> None:
    """Recompute the derived rows of one interaction: redaction of its subject and messages not redacted yet,
    its participating agents and its search document (which holds redacted text only)."""
    interaction = session.get(Interaction, interaction_id)
    if interaction is None:
        return
    messages = list(session.exec(select(Message).where(Message.interaction_id == interaction_id)).all())
    content.redact_messages([m for m in messages if content.needs_redaction(m)])
    leg_agents = list(session.exec(select(InteractionLeg.agent_id).where(
        InteractionLeg.interaction_id == interaction_id)).all())
    _sync_written(session=session, interaction=interaction, messages=messages, leg_agents=leg_agents,
                  new_interaction=False)


def _sync_written(*, session: Session, interaction: Interaction, messages: Sequence[Message],
                  leg_agents: Sequence[int | None], new_interaction: bool) -> None:
    """`sync_interaction` from what the caller holds: every message of the interaction (redacted) and the agents
    of its legs; a new interaction has no participants, segments or search document yet. Flushes."""
    assert interaction.id is not None
    content.redact_subjects([interaction])
    agents = {a for a in (interaction.agent_id, *leg_agents, *(m.agent_id for m in messages)) if a is not None}
    have: set[int] = set() if new_interaction else set(session.exec(select(InteractionAgent.agent_id).where(
        InteractionAgent.interaction_id == interaction.id)).all())
    if have - agents:
        session.execute(delete(InteractionAgent).where(col(InteractionAgent.interaction_id) == interaction.id,
                                                       col(InteractionAgent.agent_id).in_(have - agents)))
    if agents - have:
        session.execute(insert(InteractionAgent), [{"interaction_id": interaction.id, "agent_id": agent_id}
                                                   for agent_id in sorted(agents - have)])
    session.flush()
    search_index.reindex_interaction(session=session, interaction_id=interaction.id, interaction=interaction,
                                     messages=messages, new=new_interaction)


def _unredacted_message() -> Any:
    """Messages whose text, or e-mail subject, has no redaction yet (`content.needs_redaction` in SQL)."""
    return or_(col(Message.redacted_text).is_(None),
               and_(col(Message.subject).is_not(None), col(Message.subject) != "",
                    col(Message.redacted_subject).is_(None)))


def redact_and_reindex_all(*, session: Session, batch_size: int = 200) -> dict[str, int]:
    """Redact every message and subject stored before redaction happened at ingest, and rebuild every search
    document from redacted text (older indexes were built before redaction and held card numbers and subjects in
    clear). Idempotent; flushes per batch, does not commit. Returns counts {"interactions",
    "messages_redacted", "subjects_redacted"}."""
    counts = {"interactions": 0, "messages_redacted": 0, "subjects_redacted": 0}
    last_id = 0
    while True:
        ids = [i for i in session.exec(select(Interaction.id).where(col(Interaction.id) > last_id)
                                       .order_by(col(Interaction.id)).limit(batch_size)).all() if i is not None]
        if not ids:
            return counts
        subjects = session.exec(select(Interaction).where(col(Interaction.id).in_(ids),
                                                          col(Interaction.subject).is_not(None),
                                                          col(Interaction.redacted_subject).is_(None))).all()
        counts["subjects_redacted"] += content.redact_subjects(subjects)
        session.add_all(subjects)
        pending = session.exec(select(Message).where(col(Message.interaction_id).in_(ids),
                                                     _unredacted_message())).all()
        counts["messages_redacted"] += content.redact_messages(pending)
        session.flush()
        for interaction_id in ids:
            search_index.reindex_interaction(session=session, interaction_id=interaction_id)
        counts["interactions"] += len(ids)
        last_id = ids[-1]


def reindex_interaction(*, session: Session, interaction_id: int) -> None:
    """Rebuild the search text of one interaction; call it after writing or redacting segments/messages."""
    search_index.reindex_interaction(session=session, interaction_id=interaction_id)


# ---------------------------------------------------------------- reading, with scope


# The ONE visibility rule for interactions and everything hanging off them (transcript, audio, analytics,
# evaluation threads): a principal sees an interaction when one of the agents it may see took part in it —
# on any leg of a transferred call or chat, or as the author of a message (`interaction_agent`, kept by
# `sync_interaction`). `visible_clause` is the rule for queries, `can_view_interaction` for one row,
# `get_interaction(principal=...)` raises NotFound otherwise. Other features call these, never their own rule.


def visible_clause(*, session: Session, principal: Principal | None) -> Any:
    """A WHERE clause on Interaction limiting it to what the principal may see (None: everything)."""
    if principal is None:
        return None
    agents = visible_agent_ids(session=session, principal=principal)
    if agents is None:
        return None
    # the same rule as can_view_interaction: the interaction's (last) agent, or any agent of any leg
    return or_(col(Interaction.agent_id).in_(agents),
               col(Interaction.id).in_(select(InteractionAgent.interaction_id)
                                       .where(col(InteractionAgent.agent_id).in_(agents))))


def visible_customer_clause(*, session: Session, principal: Principal | None) -> Any:
    """A WHERE clause on Customer: the customers the principal may see — through an interaction it may see (the
    one rule above); None: everyone. Lists of customers use it, and `require_visible_customer` for one."""
    clause = visible_clause(session=session, principal=principal)
    if clause is None:
        return None
    return col(Customer.id).in_(select(Interaction.customer_id).where(clause))


def can_view_interaction(*, session: Session, principal: Principal | None, interaction: Interaction) -> bool:
    """Whether the principal may see this interaction (the one rule above)."""
    agents = visible_agent_ids(session=session, principal=principal) if principal else None
    if agents is None:
        return True
    if interaction.agent_id in agents:  # the last leg's agent is always a participant
        return True
    return session.exec(select(InteractionAgent.agent_id).where(
        InteractionAgent.interaction_id == interaction.id, col(InteractionAgent.agent_id).in_(agents))).first() \
        is not None


def get_interaction(*, session: Session, interaction_id: int, principal: Principal | None = None) -> Interaction:
    """One interaction, if the principal may see it (agents: ones they handled; coaches: their team's;
    admins, evaluators and executives: all; principal None: internal callers, no scope).
    Raises NotFound otherwise, so an invisible interaction looks like a missing one."""
    interaction = session.get(Interaction, interaction_id)
    if interaction is None or not can_view_interaction(session=session, principal=principal,
                                                       interaction=interaction):
        raise NotFound(f"interaction {interaction_id} not found")
    return interaction


def find_by_reference(*, session: Session, principal: Principal | None, reference: str,
                      limit: int = 5) -> list[Interaction]:
    """Interactions whose source reference is `reference` ("call-013", a ticket or post id), ignoring case and
    surrounding spaces, among those the principal may see; newest first. Nothing for a query of several words."""
    reference = reference.strip()
    if not reference or len(reference) > 200 or any(c.isspace() for c in reference):
        return []
    query = select(Interaction).where(func.lower(Interaction.external_id) == reference.lower())
    clause = visible_clause(session=session, principal=principal)
    if clause is not None:
        query = query.where(clause)
    return list(session.exec(query.order_by(col(Interaction.started_at).desc()).limit(limit)))


def interaction_agents(*, session: Session, interaction_ids: Sequence[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {i: [] for i in interaction_ids}
    if interaction_ids:
        for row in session.exec(select(InteractionAgent).where(
                col(InteractionAgent.interaction_id).in_(interaction_ids))):
            out.setdefault(row.interaction_id, []).append(row.agent_id)
    return out


def interaction_legs(*, session: Session, interaction_id: int) -> list[InteractionLeg]:
    return list(session.exec(select(InteractionLeg).where(InteractionLeg.interaction_id == interaction_id)
                             .order_by(col(InteractionLeg.seq))).all())


def interaction_messages(*, session: Session, interaction_id: int) -> list[Message]:
    return list(session.exec(select(Message).where(Message.interaction_id == interaction_id)
                             .order_by(col(Message.sent_at), col(Message.id))).all())


def interaction_segments(*, session: Session, interaction_id: int) -> list[Segment]:
    return list(session.exec(select(Segment).where(Segment.interaction_id == interaction_id)
                             .order_by(col(Segment.seq))).all())


def interaction_recording(*, session: Session, interaction_id: int) -> Recording | None:
    return session.exec(select(Recording).where(Recording.interaction_id == interaction_id)).first()


def _customer_ids(session: Session, customer_id: int) -> list[int]:
    """The customer and every customer merged into it (their interactions were moved, but be safe)."""
    ids = [customer_id]
    frontier = [customer_id]
    while frontier:
        children = session.exec(select(Customer.id).where(col(Customer.merged_into_id).in_(frontier))).all()
        frontier = [c for c in children if c is not None and c not in ids]
        ids.extend(frontier)
    return ids


def interactions_for_customer(*, session: Session, customer_id: int, since: datetime | None = None,
                              until: datetime | None = None) -> list[Interaction]:
    """All interactions of a customer (following merges), oldest first, optionally within [since, until].
    No scope check: for features that already decided the caller may see the customer's story."""
    query = select(Interaction).where(col(Interaction.customer_id).in_(_customer_ids(session, customer_id)))
    if since is not None:
        query = query.where(col(Interaction.started_at) >= since)
    if until is not None:
        query = query.where(col(Interaction.started_at) <= until)
    return list(session.exec(query.order_by(col(Interaction.started_at), col(Interaction.id))).all())


@dataclass
class TimelineEntry:
    interaction: Interaction
    agent_ids: list[int]
    message_count: int
    length_label: str


def customer_timeline(*, session: Session, customer_id: int, principal: Principal | None = None,
                      newest_first: bool = False) -> list[TimelineEntry]:
    """Every interaction of every channel of a customer in time order, limited to what the principal may see.
    Raises NotFound for an unknown customer."""
    customer = get_customer(session=session, customer_id=customer_id)
    customer = active_customer(session, customer)
    assert customer.id is not None
    interactions = interactions_for_customer(session=session, customer_id=customer.id)
    agents = visible_agent_ids(session=session, principal=principal) if principal else None
    ids = [i.id for i in interactions if i.id is not None]
    participants = interaction_agents(session=session, interaction_ids=ids)
    counts: dict[int, int] = dict.fromkeys(ids, 0)
    if ids:
        for interaction_id in session.exec(select(Message.interaction_id).where(
                col(Message.interaction_id).in_(ids))).all():
            counts[interaction_id] += 1
    entries = []
    for interaction in interactions:
        assert interaction.id is not None
        who = participants.get(interaction.id, [])
        if agents is not None and not set(who) & agents:
            continue
        if interaction.duration_seconds is not None:
            minutes, seconds = divmod(int(round(interaction.duration_seconds)), 60)
            label = f"{minutes}:{seconds:02d}"
        else:
            n = counts.get(interaction.id, 0)
            label = f"{n} message{'s' if n != 1 else ''}"
        entries.append(TimelineEntry(interaction=interaction, agent_ids=who, message_count=counts[interaction.id],
                                     length_label=label))
    if newest_first:
        entries.reverse()
    return entries


def require_visible_customer(*, session: Session, principal: Principal, customer_id: int) -> list[TimelineEntry]:
    """The customer's timeline as the principal may see it; NotFound when it may not see the customer at all
    (no interaction of it visible), so an invisible customer looks like a missing one."""
    entries = customer_timeline(session=session, customer_id=customer_id, principal=principal)
    if not entries and visible_agent_ids(session=session, principal=principal) is not None:
        raise NotFound(f"customer {customer_id} not found")
    return entries
