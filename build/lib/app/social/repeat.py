"""Repeat contact and transfers: customers made to re-tell their story.

A repeat-contact case is one customer contacting at least `min_contacts` times within `within_days` about the
same topic, in any channel: starting from each uncovered contact, later contacts in the window join the chain
when their words are similar (TF-IDF cosine ≥ `min_similarity`) to a contact already in it.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from app.core.timeutil import as_utc
from app.interactions.models import Customer, Interaction, InteractionLeg
from app.social.crosschannel import customer_texts
from app.social.similar import cosine_matrix


@dataclass(frozen=True)
class Contact:
    interaction_id: int
    customer_id: int
    channel: str
    started_at: datetime
    text: str


@dataclass
class RepeatCase:
    customer_id: int
    contacts: list[Contact]
    shared_terms: list[str]
    customer_name: str = ""

    @property
    def span_days(self) -> float:
        return (self.contacts[-1].started_at - self.contacts[0].started_at).total_seconds() / 86400


def find_repeat_contacts(contacts: Sequence[Contact], *, min_contacts: int = 3, within_days: float = 7,
                         min_similarity: float = 0.2) -> list[RepeatCase]:
    """Pure: the repeat-contact cases among `contacts` (any order), oldest first."""
    by_customer: dict[int, list[Contact]] = {}
    for contact in contacts:
        by_customer.setdefault(contact.customer_id, []).append(contact)
    cases = []
    for customer_id, items in sorted(by_customer.items()):
        items.sort(key=lambda c: as_utc(c.started_at))
        if len(items) < min_contacts:
            continue
        similarity, counts = cosine_matrix([c.text for c in items])
        used: set[int] = set()
        for first in range(len(items)):
            if first in used:
                continue
            chain = [first]
            limit = as_utc(items[first].started_at) + timedelta(days=within_days)
            for later in range(first + 1, len(items)):
                if later in used or as_utc(items[later].started_at) > limit:
                    continue
                if max(similarity[later, member] for member in chain) >= min_similarity:
                    chain.append(later)
            if len(chain) >= min_contacts:
                used.update(chain)
                shared = set(counts[chain[0]])
                for member in chain[1:]:
                    shared &= set(counts[member])
                cases.append(RepeatCase(customer_id=customer_id, contacts=[items[i] for i in chain],
                                        shared_terms=sorted(shared)[:8]))
    return sorted(cases, key=lambda c: as_utc(c.contacts[0].started_at))


def repeat_contacts(*, session: Session, since: datetime, until: datetime, min_contacts: int = 3,
                    within_days: float = 7) -> list[RepeatCase]:
    """Repeat-contact cases among interactions with a known customer started in [since, until]."""
    rows = session.exec(select(Interaction).where(col(Interaction.customer_id).is_not(None),
                                                  col(Interaction.started_at) >= since,
                                                  col(Interaction.started_at) <= until)).all()
    texts = customer_texts(session=session, interaction_ids=[r.id for r in rows if r.id is not None])
    contacts = [Contact(interaction_id=r.id, customer_id=r.customer_id, channel=r.channel,
                        started_at=as_utc(r.started_at), text=texts.get(r.id, ""))
                for r in rows if r.id is not None and r.customer_id is not None]
    cases = find_repeat_contacts(contacts, min_contacts=min_contacts, within_days=within_days)
    names = {c.id: c.display_name for c in session.exec(select(Customer).where(
        col(Customer.id).in_({case.customer_id for case in cases}))).all()} if cases else {}
    for case in cases:
        case.customer_name = names.get(case.customer_id, "") or f"customer {case.customer_id}"
    return cases


@dataclass
class TransferredContact:
    interaction: Interaction
    legs: list[InteractionLeg] = field(default_factory=list)

    @property
    def transfers(self) -> int:
        return len(self.legs) - 1


def transferred_contacts(*, session: Session, since: datetime, until: datetime, min_legs: int = 2,
                         limit: int = 200) -> list[TransferredContact]:
    """Calls and chats moved between agents or queues, with their legs in order (most legs first)."""
    counted = (select(InteractionLeg.interaction_id, func.count().label("legs"))
               .group_by(col(InteractionLeg.interaction_id)).having(func.count() >= min_legs).subquery())
    rows = session.exec(select(Interaction).join(counted, col(Interaction.id) == counted.c.interaction_id)
                        .where(col(Interaction.started_at) >= since, col(Interaction.started_at) <= until)
                        .order_by(counted.c.legs.desc(), col(Interaction.started_at)).limit(limit)).all()
    ids = [r.id for r in rows if r.id is not None]
    legs: dict[int, list[InteractionLeg]] = {}
    if ids:
        for leg in session.exec(select(InteractionLeg).where(col(InteractionLeg.interaction_id).in_(ids))
                                .order_by(col(InteractionLeg.seq))).all():
            legs.setdefault(leg.interaction_id, []).append(leg)
    return [TransferredContact(interaction=r, legs=legs.get(r.id or 0, [])) for r in rows]
