"""Linking a survey response to the customer's interactions.

1. The survey names its interaction (external id, with the source the row or the mapping's fixed value gives;
   without a source, the one interaction of any source holding that id): link to exactly that interaction.
   A named interaction that matches nothing (or several) leaves the response unlinked, with what was looked
   up — never linked by the window instead: a rating of one agent's call must not land on another's ticket.
2. Only a survey naming no interaction: find the customer by e-mail (case-folded) or phone (E.164, parsed
   with EARSHOT_PHONE_DEFAULT_REGION at import) in CustomerIdentity and link to the customer's
   interactions in the window before the survey (default 72 h).
3. Otherwise keep the response as unlinked, with the reason; it can be linked by hand (audited).

Every link records how it was made (`SurveyResponse.link_method`); the review case shows it.

The customer look-up is the interactions feature's shared identity resolver.
"""

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from app.auth.models import User
from app.core import audit
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.security import Principal
from app.core.timeutil import as_utc
from app.interactions import customers
from app.interactions.models import Interaction
from app.surveys.models import LinkMethod, LinkStatus, SurveyResponse, SurveyResponseInteraction


def normalise_phone(value: str | None, *, region: str | None = None) -> str | None:
    """E.164 for a parseable number (the shared normaliser), else None."""
    if not value or not value.strip():
        return None
    try:
        return customers.normalise_phone(value.strip(), region=region)
    except InvalidInput:
        return None


def normalise_email(value: str | None) -> str | None:
    value = (value or "").strip().lower()
    return value if "@" in value else None


def find_customer(*, session: Session, phone: str | None, email: str | None) -> tuple[int, str] | None:
    """(customer id, "email" | "phone") of the customer holding this e-mail or phone (the shared identity
    resolver, following merges). E-mail wins over phone."""
    for kind, value in (("email", email), ("phone", phone)):
        if not value:
            continue
        customer = customers.find_customer_by_identity(session=session, kind=kind, value=value)
        if customer is not None and customer.id is not None:
            return customer.id, kind
    return None


def customer_interactions_before(*, session: Session, customer_id: int, anchor_hours: float,
                                 response: SurveyResponse) -> list[Interaction]:
    """The customer's interactions (every channel) in the `anchor_hours` before the survey, oldest first."""
    anchor = survey_anchor(response)
    if anchor is None:
        return []
    start = anchor - timedelta(hours=anchor_hours)
    return list(session.exec(select(Interaction).where(
        Interaction.customer_id == customer_id, col(Interaction.started_at) >= start,
        col(Interaction.started_at) <= anchor).order_by(col(Interaction.started_at))).all())


def survey_anchor(response: SurveyResponse) -> datetime | None:
    """The moment the window ends: the invitation (sent after the contact), else the answer."""
    moment = response.invited_at or response.responded_at
    return as_utc(moment) if moment is not None else None


def link_response(*, session: Session, response: SurveyResponse, window_hours: int,
                  cache: dict[str, Any] | None = None) -> None:
    """Link an answered response (see the module docstring). Manual links are left alone. `cache` keeps the
    customer look-ups of one import."""
    if response.link_status == LinkStatus.MANUAL:
        return
    if response.responded_at is None:
        response.link_status, response.link_reason, response.link_method = LinkStatus.NOT_ANSWERED, None, None
        return
    assert response.id is not None
    if response.link_status == LinkStatus.LINKED:  # only a linked response has links to take back
        _clear_links(session=session, response_id=response.id, keep_manual=True)
    key = f"customer:{response.customer_email}:{response.customer_phone}"
    if cache is None or key not in cache:
        found_customer = find_customer(session=session, phone=response.customer_phone,
                                       email=response.customer_email)
        if cache is not None:
            cache[key] = found_customer
    else:
        found_customer = cache[key]
    response.customer_id = found_customer[0] if found_customer else None
    if response.interaction_external_id:
        named, looked_up = named_interaction(session=session, external_id=response.interaction_external_id,
                                             source=response.interaction_source)
        if named is None:
            _unlink(response, [looked_up])
        else:
            _apply_links(session=session, response=response, interactions=[named], how="named")
            response.link_method = LinkMethod.NAMED_ID
        return
    if found_customer is None:
        _unlink(response, ["the survey names no customer phone or e-mail"
                           if not (response.customer_phone or response.customer_email)
                           else "no customer with this phone or e-mail"])
        return
    customer_id, kind = found_customer
    found = customer_interactions_before(session=session, customer_id=customer_id, anchor_hours=window_hours,
                                         response=response)
    if not found:
        _unlink(response, [f"the customer (found by {'e-mail' if kind == 'email' else 'phone'}) has no "
                           f"interaction in the {window_hours} h before the survey"])
        return
    _apply_links(session=session, response=response, interactions=found, how="window")
    response.link_method = LinkMethod.EMAIL_WINDOW if kind == "email" else LinkMethod.PHONE_WINDOW


def named_interaction(*, session: Session, external_id: str, source: str | None) -> tuple[Interaction | None, str]:
    """(the interaction a survey names, "" ) or (None, what was looked up and why it did not link).
    With a source: exactly (source, external id). Without: the one interaction holding that external id in
    any source; none, or several (ids are unique per source only), links nothing."""
    query = select(Interaction).where(Interaction.external_id == external_id)
    if source:
        found = session.exec(query.where(Interaction.source == source)).first()
        return (found, "") if found else (None, f"named interaction {source}:{external_id} not found")
    matches = list(session.exec(query.order_by(col(Interaction.source)).limit(5)).all())
    if len(matches) == 1:
        return matches[0], ""
    if not matches:
        return None, f"named interaction {external_id} not found in any source"
    sources = ", ".join(sorted({m.source for m in matches}))
    return None, (f"named interaction {external_id} exists in several sources ({sources}); the survey must "
                  "name its source (interaction_source, or a fixed value in the source's mapping)")


def _unlink(response: SurveyResponse, reasons: list[str]) -> None:
    response.link_status, response.link_method = LinkStatus.UNLINKED, None
    response.link_reason = "; ".join(reasons)[:500]
    response.interaction_id = None


def _clear_links(*, session: Session, response_id: int, keep_manual: bool) -> None:
    for link in session.exec(select(SurveyResponseInteraction).where(
            SurveyResponseInteraction.response_id == response_id)).all():
        if keep_manual and link.how == "manual":
            continue
        session.delete(link)
    session.flush()


def _apply_links(*, session: Session, response: SurveyResponse, interactions: list[Interaction], how: str) -> None:
    assert response.id is not None
    existing = set(session.exec(select(SurveyResponseInteraction.interaction_id).where(
        SurveyResponseInteraction.response_id == response.id)).all())
    for interaction in interactions:
        assert interaction.id is not None
        if interaction.id not in existing:
            session.add(SurveyResponseInteraction(response_id=response.id, interaction_id=interaction.id, how=how))
            existing.add(interaction.id)
    primary = interactions[-1]  # the named one, or the latest contact before the survey
    response.interaction_id = primary.id
    response.link_status = LinkStatus.MANUAL if how == "manual" else LinkStatus.LINKED
    response.link_reason = None
    if primary.customer_id is not None and response.customer_id is None:
        response.customer_id = primary.customer_id
    if not response.channel:
        response.channel = primary.channel
    if response.agent_id is None and primary.agent_id is not None:
        agent = session.get(User, primary.agent_id)
        if agent is not None:
            response.agent_id, response.team_id = agent.id, agent.team_id
            response.site_id = response.site_id or agent.site_id
    session.add(response)


def link_manually(*, session: Session, response_id: int, interaction_id: int, actor: Principal,
                  reason: str = "") -> SurveyResponse:
    """Link a response to an interaction by hand; audited. Raises NotFound, Conflict (not answered)."""
    response = session.get(SurveyResponse, response_id)
    if response is None:
        raise NotFound(f"survey response {response_id} not found")
    interaction = session.get(Interaction, interaction_id)
    if interaction is None:
        raise NotFound(f"interaction {interaction_id} not found")
    if response.responded_at is None:
        raise Conflict("an invitation without an answer cannot be linked")
    before = {"link_status": response.link_status, "interaction_id": response.interaction_id,
              "link_reason": response.link_reason}
    _apply_links(session=session, response=response, interactions=[interaction], how="manual")
    response.link_method = LinkMethod.MANUAL
    if response.customer_id is None:
        response.customer_id = interaction.customer_id
    audit.record(session=session, actor=actor, action="survey_response.link", record_type="survey_response",
                 record_id=response_id, before=before,
                 after={"link_status": response.link_status, "interaction_id": interaction_id},
                 reason=reason or None)
    session.flush()
    return response


def linked_interaction_ids(*, session: Session, response_id: int) -> list[int]:
    return list(session.exec(select(SurveyResponseInteraction.interaction_id).where(
        SurveyResponseInteraction.response_id == response_id)).all())
