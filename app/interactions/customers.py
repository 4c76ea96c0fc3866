"""Customers and their identities: normalising an identity, finding and resolving the customer it names,
merging customers whose identities meet (and undoing it), and the customer list.

Identities are normalised before they are stored or looked up: phone numbers to E.164 (numbers without a
country code are read in EARSHOT_PHONE_DEFAULT_REGION: with "HK", "9123 4567" is +85291234567), e-mail
addresses case-folded, social handles lowercased without a leading "@" and kept per platform, CRM ids as
given (trimmed), HKIDs as a digest of their canonical form (app/core/hkid.py).

Identities that meet merge customers: when one contact names identities that belong to two or more
customers, the oldest customer absorbs the others (their identities and interactions move to it, the
absorbed rows stay with `merged_into_id` set) and a `customer.merge` audit event records what moved, so
`undo_merge` can put everything back.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from app.core import audit, hkid, phones
from app.core.audit import Actor
from app.core.db import serialized
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.listing import Page, Sort, paginate
from app.core.models import AuditEvent
from app.interactions.models import (
    Customer,
    CustomerIdentity,
    IdentityKind,
    Interaction,
)


@dataclass(frozen=True)
class Identity:
    kind: str
    value: str
    platform: str = ""


def normalise_phone(raw: str, *, region: str | None = None) -> str:
    """E.164 ("+447700900123"), read in `region` or the configured default region (app.core.phones).
    Raises InvalidInput when the text is not a possible phone number."""
    return phones.normalise_phone(raw, region=region)


def normalise_email(raw: str) -> str:
    value = raw.strip().casefold()
    if value.startswith("mailto:"):
        value = value[7:]
    local, at, domain = value.rpartition("@")
    if not at or not local or "." not in domain or " " in value:
        raise InvalidInput(f"not an e-mail address: {raw!r}")
    return value


def normalise_handle(raw: str) -> str:
    value = raw.strip().lstrip("@").lower()
    if not value or " " in value:
        raise InvalidInput(f"not a social handle: {raw!r}")
    return value


def normalise_identity(kind: str, value: str, platform: str = "", *, region: str | None = None) -> Identity:
    """One identity in its stored form. Raises InvalidInput for an unknown kind or a malformed value."""
    if kind == IdentityKind.PHONE:
        return Identity(IdentityKind.PHONE.value, normalise_phone(value, region=region))
    if kind == IdentityKind.EMAIL:
        return Identity(IdentityKind.EMAIL.value, normalise_email(value))
    if kind == IdentityKind.SOCIAL:
        if not platform.strip():
            raise InvalidInput("a social handle needs its platform")
        return Identity(IdentityKind.SOCIAL.value, normalise_handle(value), platform.strip().lower())
    if kind == IdentityKind.HKID:
        return Identity(IdentityKind.HKID.value, hkid.hkid_digest(value))
    if kind == IdentityKind.CRM:
        if not value.strip():
            raise InvalidInput("empty CRM id")
        return Identity(IdentityKind.CRM.value, value.strip(), platform.strip().lower())
    raise InvalidInput(f"unknown identity kind {kind!r}")


def active_customer(session: Session, customer: Customer) -> Customer:
    """Follow merged_into links to the customer that absorbed this one."""
    seen = set()
    while customer.merged_into_id is not None and customer.id not in seen:
        seen.add(customer.id)
        target = session.get(Customer, customer.merged_into_id)
        if target is None:
            break
        customer = target
    return customer


def find_customer_by_identity(*, session: Session, kind: str, value: str, platform: str = "",
                              region: str | None = None) -> Customer | None:
    """The (active, i.e. not merged away) customer holding this identity, or None. Malformed values → None."""
    try:
        ident = normalise_identity(kind, value, platform, region=region)
    except InvalidInput:
        return None
    row = session.exec(select(CustomerIdentity).where(
        CustomerIdentity.kind == ident.kind, CustomerIdentity.platform == ident.platform,
        CustomerIdentity.value == ident.value)).first()
    if row is None:
        return None
    customer = session.get(Customer, row.customer_id)
    return active_customer(session, customer) if customer else None


def get_customer(*, session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"customer {customer_id} not found")
    return customer


def customer_identities(*, session: Session, customer_id: int) -> list[CustomerIdentity]:
    return list(session.exec(select(CustomerIdentity).where(CustomerIdentity.customer_id == customer_id)
                             .order_by(col(CustomerIdentity.kind), col(CustomerIdentity.value))).all())


RESOLVED_CUSTOMER = "earshot.resolved_customer"  # session.info key (see resolve_customer)
IDENTITY_LOOKUP_CHUNK = 5000  # ids per query: under SQLite's and PostgreSQL's bound-parameter limits


def identities_by_customer(*, session: Session, customer_ids: Sequence[int]) -> dict[int, list[CustomerIdentity]]:
    """The identities of many customers in one query per 5,000 customers (a list page or a CSV export), each
    customer's ordered as `customer_identities` orders them; customers without identities map to []."""
    found: dict[int, list[CustomerIdentity]] = {customer_id: [] for customer_id in customer_ids}
    ids = list(found)
    for start in range(0, len(ids), IDENTITY_LOOKUP_CHUNK):
        chunk = ids[start:start + IDENTITY_LOOKUP_CHUNK]
        for identity in session.exec(select(CustomerIdentity).where(col(CustomerIdentity.customer_id).in_(chunk))
                                     .order_by(col(CustomerIdentity.kind), col(CustomerIdentity.value))):
            found[identity.customer_id].append(identity)
    return found


def resolve_customer(*, session: Session, identities: Sequence[Identity], display_name: str | None = None,
                     actor: Actor | None = None) -> Customer | None:
    """Find or create the customer these (already normalised) identities describe.

    Returns None when no identity is given. Unknown identities are attached to the customer found.
    When the identities belong to different customers, they are merged into the oldest one
    (audit `customer.merge` per absorbed customer; `undo_merge` reverses it). Flushes, does not commit.
    """
    unique = list(dict.fromkeys(identities))
    if not unique:
        return None
    # every identity and its customer in one query (an import resolves one customer per conversation)
    stored: dict[Identity, tuple[CustomerIdentity, Customer]] = {}
    for identity_row, holder in session.exec(
            select(CustomerIdentity, Customer).join(Customer, col(Customer.id) == col(CustomerIdentity.customer_id))
            .where(or_(*(and_(col(CustomerIdentity.kind) == i.kind, col(CustomerIdentity.platform) == i.platform,
                              col(CustomerIdentity.value) == i.value) for i in unique)))):
        stored[Identity(identity_row.kind, identity_row.value, identity_row.platform)] = (identity_row, holder)
    rows = [stored[i][0] if i in stored else None for i in unique]
    found: dict[int, Customer] = {}
    for _identity, holder in stored.values():
        active = active_customer(session, holder)
        assert active.id is not None
        found[active.id] = active
    if len(found) > 1:  # a merge: read who is active again once no other merge runs
        _merges_take_turns(session)
        holders = [holder for _identity, holder in stored.values()]
        found = {active.id: active for active in (active_customer(session, holder) for holder in holders)
                 if active.id is not None}
    if not found:
        customer = Customer(display_name=(display_name or "").strip()[:300])
        session.add(customer)
        session.flush()
    else:
        ordered = sorted(found.values(), key=lambda c: c.id or 0)
        customer = ordered[0]
        for other in ordered[1:]:
            _merge(session=session, survivor=customer, absorbed=other, actor=actor)
    assert customer.id is not None
    for ident, row in zip(unique, rows, strict=True):
        if row is None:
            session.add(CustomerIdentity(customer_id=customer.id, kind=ident.kind, platform=ident.platform,
                                         value=ident.value))
    if display_name and not customer.display_name:
        customer.display_name = display_name.strip()[:300]
        session.add(customer)
    session.flush()
    # the session keeps the last customer resolved referenced (its identity map holds unchanged rows weakly), so
    # the interaction written next for this customer finds it without reading it again
    session.info[RESOLVED_CUSTOMER] = customer
    return customer


def _merge(*, session: Session, survivor: Customer, absorbed: Customer, actor: Actor | None) -> None:
    identity_rows = session.exec(select(CustomerIdentity).where(CustomerIdentity.customer_id == absorbed.id)).all()
    interaction_rows = session.exec(select(Interaction).where(Interaction.customer_id == absorbed.id)).all()
    for identity in identity_rows:
        identity.customer_id = survivor.id  # type: ignore[assignment]
        session.add(identity)
    for interaction in interaction_rows:
        interaction.customer_id = survivor.id
        session.add(interaction)
    absorbed.merged_into_id = survivor.id
    if not survivor.display_name and absorbed.display_name:
        survivor.display_name = absorbed.display_name
    session.add_all([absorbed, survivor])
    audit.record(session=session, actor=actor, action="customer.merge", record_type="customer",
                 record_id=absorbed.id, before={"merged_into_id": None},
                 after={"merged_into_id": survivor.id, "identity_ids": [i.id for i in identity_rows],
                        "interaction_ids": [i.id for i in interaction_rows]})
    session.flush()


def _merges_take_turns(session: Session) -> None:
    """Before a merge or its undo: wait for any other one to end, then read every customer afresh. A merge
    decides from what it reads (who is active, who absorbed whom); two at once could merge two customers into
    each other — both then vanish from every list, their timelines with them. On PostgreSQL merges hold one
    advisory lock in turn (`serialized`); on SQLite the write lock already orders them."""
    session.flush()
    serialized(session, "customer-merge")
    session.expire_all()


def merge_customers(*, session: Session, survivor_id: int, absorbed_id: int, actor: Actor | None) -> Customer:
    """Merge one customer into another by hand (same rules and audit as an automatic merge)."""
    _merges_take_turns(session)
    survivor = active_customer(session, get_customer(session=session, customer_id=survivor_id))
    absorbed = get_customer(session=session, customer_id=absorbed_id)
    if absorbed.merged_into_id is not None or survivor.id == absorbed.id:
        raise Conflict(f"customer {absorbed_id} is already merged")
    _merge(session=session, survivor=survivor, absorbed=absorbed, actor=actor)
    return survivor


def undo_merge(*, session: Session, customer_id: int, actor: Actor | None) -> Customer:
    """Split a merged customer out again: the identities and interactions the merge moved go back.

    Identities or interactions added to the survivor after the merge stay where they are.
    Raises NotFound for an unknown customer and Conflict when it is not merged.
    """
    _merges_take_turns(session)
    customer = get_customer(session=session, customer_id=customer_id)
    if customer.merged_into_id is None:
        raise Conflict(f"customer {customer_id} is not merged into another")
    event = session.exec(select(AuditEvent).where(
        AuditEvent.action == "customer.merge", AuditEvent.record_type == "customer",
        AuditEvent.record_id == str(customer_id)).order_by(col(AuditEvent.id).desc())).first()
    moved: dict[str, Any] = (event.after or {}) if event else {}
    identity_ids = [int(i) for i in moved.get("identity_ids", [])]
    interaction_ids = [int(i) for i in moved.get("interaction_ids", [])]
    survivor_id = customer.merged_into_id
    if identity_ids:
        for identity in session.exec(select(CustomerIdentity).where(col(CustomerIdentity.id).in_(identity_ids))):
            identity.customer_id = customer_id
            session.add(identity)
    if interaction_ids:
        for interaction in session.exec(select(Interaction).where(col(Interaction.id).in_(interaction_ids))):
            interaction.customer_id = customer_id
            session.add(interaction)
    customer.merged_into_id = None
    session.add(customer)
    audit.record(session=session, actor=actor, action="customer.unmerge", record_type="customer",
                 record_id=customer_id, before={"merged_into_id": survivor_id},
                 after={"merged_into_id": None, "identity_ids": identity_ids, "interaction_ids": interaction_ids})
    session.flush()
    return customer



CUSTOMER_SORTS: dict[str, Any] = {"since": Customer.id, "name": Customer.display_name}


def list_customers(*, session: Session, visible: Any, q: str | None = None, page: int = 1, per_page: int = 50,
                   sort: Sort[Any] | None = None) -> Page[Customer]:
    """Active customers the caller may see (`visible`: service.visible_customer_clause, None for everyone),
    optionally whose name or an identity contains `q`; newest first unless `sort` says otherwise (a key of
    CUSTOMER_SORTS)."""
    from sqlalchemy import func

    query = select(Customer).where(col(Customer.merged_into_id).is_(None))
    if visible is not None:
        query = query.where(visible)
    if q:
        pattern = f"%{q.strip().lower()}%"
        query = query.where(or_(func.lower(Customer.display_name).like(pattern),
                                col(Customer.id).in_(select(CustomerIdentity.customer_id).where(
                                    func.lower(CustomerIdentity.value).like(pattern)))))
    column = col(sort.column if sort else Customer.id)
    descending = sort.descending if sort else True
    return paginate(query.order_by(column.desc() if descending else column.asc(), col(Customer.id).desc()),
                    page=page, per_page=per_page, session=session)
