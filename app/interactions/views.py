"""Pages: search, customers and their timeline, and one interaction (player + transcript, or the thread)."""

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup, escape
from sqlmodel import Session, col, select

from app.auth.deps import SessionDep, SettingsDep, WebPrincipal, WebStaff
from app.auth.models import Team, User
from app.auth.service import user_names, visible_agent_ids
from app.core.export import Column, page_window, table_csv, wants_csv
from app.core.listing import parse_sort
from app.core.security import Principal, Role
from app.core.web import NavItem, render
from app.interactions import content, customers, service, timeline
from app.interactions import search as search_service
from app.interactions.models import Channel, Customer, CustomerIdentity, Interaction

router = APIRouter()

NAV = [
    NavItem("Search", "/search", tuple(Role), order=20),
    NavItem("Customers", "/customers", (Role.ADMIN, Role.EVALUATOR, Role.COACH, Role.EXECUTIVE), order=25),
]

# template filters this feature contributes (app.main installs them): `{{ interaction|subject }}`
TEMPLATE_FILTERS = {"subject": content.shown_subject, "title": content.shown_title}

CHANNEL_ICONS = {channel.value: channel.icon for channel in Channel}


def search_columns(names: dict[int, str],
                   participants: dict[int, list[int]]) -> list[Column[search_service.SearchHit]]:
    """The search results, on screen as cards (these fields in each card's header line, the snippet as its text;
    the page draws the channel with its icon, cell "channel") and in the export."""
    return [
        Column("Interaction", lambda h: h.interaction.id, name="interaction_id", screen=False),
        Column("Channel", lambda h: h.interaction.channel),
        Column("Subject", lambda h: content.REDACTED.subject(h.interaction) or h.interaction.external_id,
               screen=False),
        Column("Title", lambda h: content.shown_title(h.interaction), csv=False,
               link=lambda h: f"/interactions/{h.interaction.id}"),
        Column("Started", lambda h: h.interaction.started_at, name="started_at"),
        Column("Agents", lambda h: ", ".join(names.get(a, f"#{a}") for a in participants.get(h.interaction.id or 0, []))),
        Column("Queue", lambda h: h.interaction.queue, format=lambda queue: f"queue {queue}" if queue else ""),
        Column("Customer", lambda h: h.interaction.customer_id, name="customer_id",
               format=lambda customer: "customer" if customer else "",
               link=lambda h: f"/customers/{h.interaction.customer_id}" if h.interaction.customer_id else None),
        Column("Snippet", lambda h: h.snippet.striptags(), html=lambda h: h.snippet)]


def _identity_label(identity: CustomerIdentity) -> str:
    return f"{identity.kind}{'/' + identity.platform if identity.platform else ''}: {identity.value}"


def customer_columns(identities: dict[int, list[CustomerIdentity]]) -> list[Column[Customer]]:
    """The customers table, on screen and in its export."""
    def badges(customer: Customer) -> Markup:
        return Markup(" ").join(Markup('<span class="badge">{}</span>').format(_identity_label(i))
                                for i in identities.get(customer.id or 0, []))

    return [
        Column("Id", lambda c: c.id, screen=False),
        Column("Customer", lambda c: c.display_name, name="name", sort="name", link=lambda c: f"/customers/{c.id}",
               html=lambda c: escape(c.display_name or f"Customer #{c.id}")),
        Column("Identities", lambda c: "; ".join(_identity_label(i) for i in identities.get(c.id or 0, [])),
               html=badges),
        Column("Since", lambda c: c.created_at, sort="since", time_format="%Y-%m-%d")]


def _visible_agents(session: Session, principal: Principal) -> list[User]:
    visible = visible_agent_ids(session=session, principal=principal)
    query = select(User).where(col(User.roles).contains("agent")).order_by(col(User.username))
    if visible is not None:
        query = query.where(col(User.id).in_(visible))
    return list(session.exec(query).all())


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.strip().isdigit() else None


def _date_or_none(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, principal: WebPrincipal, session: SessionDep, q: str = "",
                channel: str = "", date_from: str = "", date_to: str = "", agent_id: str = "", team_id: str = "",
                queue: str = "", customer_id: str = "", order: str = "relevance",
                page: Annotated[int, Query(ge=1, le=1000)] = 1) -> Response:
    filters = {"q": q, "channel": channel if channel in set(Channel) else "", "date_from": date_from,
               "date_to": date_to, "agent_id": agent_id, "team_id": team_id, "queue": queue,
               "customer_id": customer_id, "order": "newest" if order == "newest" else "relevance"}
    results = None
    names: dict[int, str] = {}
    participants: dict[int, list[int]] = {}

    def run(page: int, per_page: int) -> search_service.SearchResults:
        return search_service.search(
            session=session, principal=principal, q=q, channel=filters["channel"] or None,
            date_from=_date_or_none(date_from), date_to=_date_or_none(date_to), agent_id=_int_or_none(agent_id),
            team_id=_int_or_none(team_id), queue=queue.strip() or None, customer_id=_int_or_none(customer_id),
            page=page, per_page=per_page, order="newest" if filters["order"] == "newest" else "relevance")

    hits: list[search_service.SearchHit] = []
    by_reference: list[Interaction] = []
    if q.strip():
        by_reference = service.find_by_reference(session=session, principal=principal, reference=q)
        results = run(page, 20)
        hits = results.items
        if wants_csv(request):  # every page the pager can reach, in the page's order
            pages = [run(1, search_service.MAX_PER_PAGE)]
            while pages[-1].page < min(pages[-1].pages, 1000):
                pages.append(run(pages[-1].page + 1, search_service.MAX_PER_PAGE))
            hits = [hit for p in pages for hit in p.items]
        ids = [h.interaction.id for h in hits if h.interaction.id is not None]
        participants = service.interaction_agents(session=session, interaction_ids=ids)
        names = user_names(session=session, ids={a for agents in participants.values() for a in agents})
    if wants_csv(request):
        return table_csv("search.csv", hits, search_columns(names, participants))
    return render(request, "interactions/search.html", {
        "filters": filters, "results": results, "columns": search_columns(names, participants),
        "icons": CHANNEL_ICONS, "by_reference": by_reference,
        "agents": _visible_agents(session, principal),
        "teams": list(session.exec(select(Team).order_by(col(Team.name)))) if principal.sees_all_agents else []},
        principal=principal)


@router.get("/customers", response_class=HTMLResponse)
def customers_page(request: Request, principal: WebStaff, session: SessionDep, q: str = "", sort: str = "",
                   page: Annotated[int, Query(ge=1)] = 1) -> Response:
    order = parse_sort(sort, customers.CUSTOMER_SORTS, "-since")
    page, per_page = page_window(request, page, 50)
    result = customers.list_customers(session=session, q=q or None, page=page, per_page=per_page, sort=order,
                                      visible=service.visible_customer_clause(session=session, principal=principal))
    identities = customers.identities_by_customer(session=session,
                                                customer_ids=[c.id for c in result.items if c.id is not None])
    columns = customer_columns(identities)
    if wants_csv(request):
        return table_csv("customers.csv", result.items, columns)
    return render(request, "interactions/customers.html", {
        "columns": columns, "q": q, "result": result, "sort": order}, principal=principal)


@router.get("/customers/{customer_id}", response_class=HTMLResponse)
def customer_page(request: Request, customer_id: int, principal: WebPrincipal, session: SessionDep) -> Response:
    customer = customers.get_customer(session=session, customer_id=customer_id)
    if customer.merged_into_id is not None:
        return RedirectResponse(f"/customers/{customer.merged_into_id}", status_code=303)
    entries = service.require_visible_customer(session=session, principal=principal, customer_id=customer_id)
    names = user_names(session=session, ids={a for e in entries for a in e.agent_ids})
    if wants_csv(request):
        return table_csv(f"customer-{customer_id}-timeline.csv", entries, [
            Column("Interaction", lambda e: e.interaction.id, name="interaction_id"),
            Column("Started", lambda e: e.interaction.started_at, name="started_at"),
            Column("Channel", lambda e: e.interaction.channel), Column("Direction", lambda e: e.interaction.direction),
            Column("Subject", lambda e: content.REDACTED.subject(e.interaction) or e.interaction.external_id),
            Column("Agents", lambda e: " → ".join(names.get(a, f"#{a}") for a in e.agent_ids)),
            Column("Queue", lambda e: e.interaction.queue), Column("Length", lambda e: e.length_label)])
    merged = list(session.exec(select(Customer).where(Customer.merged_into_id == customer_id)))
    return render(request, "interactions/customer.html", {
        "customer": customer, "entries": entries, "names": names, "icons": CHANNEL_ICONS, "merged": merged,
        "identities": customers.customer_identities(session=session, customer_id=customer_id)}, principal=principal)


@router.get("/interactions/{interaction_id}", response_class=HTMLResponse)
def interaction_page(request: Request, interaction_id: int, principal: WebPrincipal, session: SessionDep,
                     settings: SettingsDep, view: Literal["redacted", "original"] = "redacted") -> Response:
    """One interaction. A call shows its player (redacted audio), timeline and redacted transcript; roles in
    EARSHOT_UNREDACTED_ROLES may switch to `?view=original`, which is audited (the content gate)."""
    interaction = service.get_interaction(session=session, interaction_id=interaction_id, principal=principal)
    assert interaction.id is not None
    original = view == "original"
    gate = content.open_gate(session=session, principal=principal, settings=settings, record_id=interaction.id,
                             original=original)
    legs = service.interaction_legs(session=session, interaction_id=interaction.id)
    messages = gate.messages(service.interaction_messages(session=session, interaction_id=interaction.id))
    segments = gate.segments(service.interaction_segments(session=session, interaction_id=interaction.id))
    participants = service.interaction_agents(session=session, interaction_ids=[interaction.id])[interaction.id]
    names = user_names(session=session, ids=set(participants) | {leg.agent_id for leg in legs if leg.agent_id})
    customer = session.get(Customer, interaction.customer_id) if interaction.customer_id else None
    context: dict[str, Any] = {
        "interaction": interaction, "gate": gate, "legs": legs, "messages": messages, "segments": segments,
        "names": names,
        "participants": participants, "customer": customer, "icons": CHANNEL_ICONS, "original": original,
        "may_see_original": content.may_see_original(principal, settings),
        **timeline.player_context(session=session, principal=principal, settings=settings, interaction=interaction,
                                  segments=segments, original=original)}
    return render(request, "interactions/interaction.html", context, principal=principal)
