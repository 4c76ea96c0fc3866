"""JSON endpoints: interactions, customers (timeline, merge/undo) and search — all scope-checked."""

from collections.abc import Sequence
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlmodel import Session

from app.auth.deps import AdminPrincipal, CurrentPrincipal, SessionDep, SettingsDep, StaffPrincipal
from app.core.errors import STANDARD_ERRORS, error_responses
from app.core.listing import ListResponse, PageNumber, PerPage
from app.interactions import content, customers, service
from app.interactions import search as search_service
from app.interactions.models import (
    Channel,
    Customer,
    CustomerIdentity,
    CustomerPublic,
    IdentityPublic,
    Interaction,
    InteractionDetail,
    InteractionPublic,
    LegPublic,
    MessagePublic,
    RecordingPublic,
    SearchHitPublic,
    SearchPage,
    SegmentPublic,
)

router = APIRouter(prefix="/api", tags=["interactions"], responses=STANDARD_ERRORS)


def interaction_public(interaction: Interaction, agent_ids: list[int],
                       gate: content.ContentGate = content.REDACTED) -> InteractionPublic:
    """The API shape of an interaction; its subject comes through the content gate."""
    return InteractionPublic.model_validate({**interaction.model_dump(exclude={"redacted_subject"}),
                                             "subject": gate.subject(interaction), "agent_ids": sorted(agent_ids)})


def interaction_detail(*, session: Session, interaction: Interaction,
                       gate: content.ContentGate = content.REDACTED) -> InteractionDetail:
    """The API shape of one interaction; message and transcript text come through the content gate."""
    assert interaction.id is not None
    agents = service.interaction_agents(session=session, interaction_ids=[interaction.id])[interaction.id]
    recording = service.interaction_recording(session=session, interaction_id=interaction.id)
    return InteractionDetail.model_validate({
        **interaction_public(interaction, agents, gate).model_dump(),
        "legs": [LegPublic.model_validate(leg, from_attributes=True)
                 for leg in service.interaction_legs(session=session, interaction_id=interaction.id)],
        "messages": [MessagePublic.model_validate({**m.model_dump(exclude={"redacted_subject"}),
                                                   "text": gate.message_text(m), "subject": gate.subject(m)})
                     for m in service.interaction_messages(session=session, interaction_id=interaction.id)],
        "segments": [SegmentPublic(seq=s.seq, speaker=s.speaker, start=s.start, end=s.end, text=gate.segment_text(s))
                     for s in service.interaction_segments(session=session, interaction_id=interaction.id)],
        "recording": RecordingPublic.model_validate(recording, from_attributes=True) if recording else None})


@router.get("/interactions/{interaction_id}", responses=error_responses(403, 404))
def get_interaction(interaction_id: int, principal: CurrentPrincipal, session: SessionDep, settings: SettingsDep,
                    view: Literal["redacted", "original"] = "redacted") -> InteractionDetail:
    """One interaction with its legs, messages, transcript and recording. Text is redacted; `view=original`
    (roles in EARSHOT_UNREDACTED_ROLES only, else 403) shows the original and is audited."""
    interaction = service.get_interaction(session=session, interaction_id=interaction_id, principal=principal)
    assert interaction.id is not None
    gate = content.open_gate(session=session, principal=principal, settings=settings, record_id=interaction.id,
                             original=view == "original", action="interaction.view_original")
    return interaction_detail(session=session, interaction=interaction, gate=gate)


def customer_public(*, session: Session, customer_id: int) -> CustomerPublic:
    customer = customers.get_customer(session=session, customer_id=customer_id)
    return _customer_public(customer, customers.customer_identities(session=session, customer_id=customer_id))


def _customer_public(customer: Customer, identities: Sequence[CustomerIdentity]) -> CustomerPublic:
    assert customer.id is not None
    return CustomerPublic(id=customer.id, display_name=customer.display_name, merged_into_id=customer.merged_into_id,
                          identities=[IdentityPublic.model_validate(i, from_attributes=True) for i in identities])


@router.get("/customers")
def list_customers(principal: StaffPrincipal, session: SessionDep, q: str | None = None, page: PageNumber = 1,
                   per_page: PerPage = 50) -> ListResponse[CustomerPublic]:
    """Customers (not merged away), optionally matching a name or identity fragment, newest first."""
    result = customers.list_customers(session=session, q=q, page=page, per_page=per_page,
                                      visible=service.visible_customer_clause(session=session, principal=principal))
    identities = customers.identities_by_customer(session=session, customer_ids=[c.id for c in result.items if c.id])
    return ListResponse.of(result.map(lambda c: _customer_public(c, identities[c.id or 0])))


@router.get("/customers/{customer_id}", responses=error_responses(404))
def get_customer(customer_id: int, principal: CurrentPrincipal, session: SessionDep) -> CustomerPublic:
    service.require_visible_customer(session=session, principal=principal, customer_id=customer_id)
    return customer_public(session=session, customer_id=customer_id)


@router.get("/customers/{customer_id}/timeline", responses=error_responses(404))
def customer_timeline(customer_id: int, principal: CurrentPrincipal, session: SessionDep) -> list[InteractionPublic]:
    """Every interaction of every channel of the customer, oldest first, that the caller may see."""
    entries = service.require_visible_customer(session=session, principal=principal, customer_id=customer_id)
    return [interaction_public(e.interaction, e.agent_ids) for e in entries]


class MergeRequest(BaseModel):
    into: int


@router.post("/customers/{customer_id}/merge", responses=error_responses(404, 409))
def merge_customer(customer_id: int, body: MergeRequest, principal: AdminPrincipal,
                   session: SessionDep) -> CustomerPublic:
    """Merge this customer into another (audited; undo with /unmerge)."""
    survivor = customers.merge_customers(session=session, survivor_id=body.into, absorbed_id=customer_id,
                                       actor=principal)
    session.commit()
    assert survivor.id is not None
    return customer_public(session=session, customer_id=survivor.id)


@router.post("/customers/{customer_id}/unmerge", responses=error_responses(404, 409))
def unmerge_customer(customer_id: int, principal: AdminPrincipal, session: SessionDep) -> CustomerPublic:
    """Undo the merge of this customer: the identities and interactions it brought go back to it."""
    customers.undo_merge(session=session, customer_id=customer_id, actor=principal)
    session.commit()
    return customer_public(session=session, customer_id=customer_id)


@router.get("/search")
def search(
    principal: CurrentPrincipal, session: SessionDep, q: str,
    channel: Channel | None = None,
    date_from: date | None = None, date_to: date | None = None, agent_id: int | None = None,
    team_id: int | None = None, queue: str | None = None, customer_id: int | None = None,
    page: Annotated[int, Query(ge=1, le=1000)] = 1, per_page: Annotated[int, Query(ge=1, le=100)] = 20,
    order: Literal["relevance", "newest"] = "relevance",
) -> SearchPage:
    """Full-text search over transcripts and messages of every channel you may see. Words are ANDed,
    "quoted text" is a phrase, word* a prefix. `snippet` is HTML with the text escaped and matches in <mark>.
    Relevance ranks the newest `ranked_window` matches (exact for selective queries); `total` stops
    counting at 1,000 (`total_is_lower_bound`)."""
    results = search_service.search(session=session, principal=principal, q=q, channel=channel,
                                    date_from=date_from, date_to=date_to, agent_id=agent_id, team_id=team_id,
                                    queue=queue, customer_id=customer_id, page=page, per_page=per_page, order=order)
    ids = [hit.interaction.id for hit in results.items if hit.interaction.id is not None]
    agents = service.interaction_agents(session=session, interaction_ids=ids)
    return SearchPage(
        has_next=results.has_next, items=[SearchHitPublic(interaction=interaction_public(h.interaction, agents.get(h.interaction.id or 0, [])),
                               snippet=str(h.snippet), score=h.score) for h in results.items],
        total=results.total, total_is_lower_bound=results.total_is_lower_bound,
        ranked_window=results.ranked_window, page=results.page, per_page=results.per_page, order=results.order)
