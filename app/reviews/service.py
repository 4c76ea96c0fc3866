"""Review cases: opened for every bad survey response (exactly one per response), investigated (findings),
decided in the monthly meeting (root cause, actions), and closed. Every change is audited.

Who may do what (enforced by the routes' role checks and by `case_scope` here):
- executives and admins: everything, and they alone decide (root cause, decided/closed, actions, meetings);
- evaluators: every case, investigation work (findings, open → investigating → ready_for_meeting);
- coaches: the same work, on cases about agents of their own team;
- agents: no access at all — a case's story holds other agents' calls and the customer's words about them.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.auth.models import User
from app.auth.service import user_names, visible_agent_ids
from app.core import audit
from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.core.hooks import PUBLISH_EVENT, Event, EventType
from app.core.security import Principal, Role
from app.core.timeutil import as_utc, utcnow
from app.interactions import content
from app.interactions.models import Customer, Interaction, InteractionLeg
from app.reviews.models import (
    DECISION_STATES,
    TRANSITIONS,
    CaseStatus,
    ConfigUpdate,
    ReviewAction,
    ReviewCase,
    ReviewCaseInteraction,
    ReviewConfig,
)
from app.surveys.linking import linked_interaction_ids, survey_anchor
from app.surveys.models import SurveyResponse

DECIDERS = (Role.ADMIN, Role.EXECUTIVE)
INVESTIGATORS = (Role.ADMIN, Role.EXECUTIVE, Role.EVALUATOR, Role.COACH)

# ---------------------------------------------------------------- configuration


def get_config(*, session: Session) -> ReviewConfig:
    config = session.get(ReviewConfig, 1)
    if config is None:
        config = ReviewConfig(id=1)
        session.add(config)
        session.flush()
    return config


def update_config(*, session: Session, data: ConfigUpdate, actor: Principal) -> ReviewConfig:
    """Change the root-cause list, the bands that open cases, the story window or the case deadline."""
    config = get_config(session=session)
    before = {"root_causes": config.root_causes, "open_for_bands": config.open_for_bands,
              "open_for_agent_ids": config.open_for_agent_ids,
              "story_window_hours": config.story_window_hours, "case_due_days": config.case_due_days}
    if data.root_causes is not None:
        causes = [c.strip() for c in data.root_causes if c.strip()]
        if not causes:
            raise InvalidInput("the root-cause list needs at least one category")
        config.root_causes = causes
    if data.open_for_bands is not None:
        if not set(data.open_for_bands) <= {"good", "acceptable", "bad"} or not data.open_for_bands:
            raise InvalidInput("open_for_bands: a non-empty list of good, acceptable, bad")
        config.open_for_bands = list(data.open_for_bands)
    if data.open_for_agent_ids is not None:
        for agent_id in data.open_for_agent_ids:
            require_user(session=session, user_id=agent_id, label="open_for_agent_ids")
        config.open_for_agent_ids = sorted(set(data.open_for_agent_ids))
    if data.story_window_hours is not None:
        if not 1 <= data.story_window_hours <= 24 * 60:
            raise InvalidInput("story_window_hours must be between 1 and 1440")
        config.story_window_hours = data.story_window_hours
    if data.case_due_days is not None:
        if not 1 <= data.case_due_days <= 365:
            raise InvalidInput("case_due_days must be between 1 and 365")
        config.case_due_days = data.case_due_days
    session.add(config)
    audit.record(session=session, actor=actor, action="review_config.update", record_type="review_config",
                 record_id=1, before=before, after={
                     "root_causes": config.root_causes, "open_for_bands": config.open_for_bands,
                     "open_for_agent_ids": config.open_for_agent_ids, "story_window_hours": config.story_window_hours, "case_due_days": config.case_due_days})
    return config


# ---------------------------------------------------------------- opening cases


def open_cases_for_responses(*, session: Session, response_ids: list[int]) -> int:
    """Open a case for each answered response whose band opens cases (bad by default) and has none yet;
    refresh the story of existing ones. Idempotent: a re-import never opens a second case. Returns how many
    cases were opened."""
    config = get_config(session=session)
    opened = 0
    for response_id in response_ids:
        response = session.get(SurveyResponse, response_id)
        if response is None or response.responded_at is None or not (
                response.band in config.open_for_bands or response.agent_id in config.open_for_agent_ids):
            continue
        case = session.exec(select(ReviewCase).where(ReviewCase.survey_response_id == response_id)).first()
        if case is None:
            responded = as_utc(response.responded_at)
            case = ReviewCase(survey_response_id=response_id, customer_id=response.customer_id,
                              agent_id=response.agent_id, period=responded.strftime("%Y-%m"),
                              due_at=utcnow() + timedelta(days=config.case_due_days))
            session.add(case)
            session.flush()
            audit.record(session=session, actor=None, action="review_case.open", record_type="review_case",
                         record_id=case.id, after={"survey_response_id": response_id, "band": response.band})
            publish_event(session, EventType.REVIEW_CASE_OPENED, {
                "review_case_id": case.id, "survey_response_id": response_id,
                "interaction_id": response.interaction_id, "agent_id": case.agent_id, "band": response.band})
            opened += 1
        else:
            case.customer_id = case.customer_id or response.customer_id
            case.agent_id = case.agent_id or response.agent_id
            session.add(case)
        gather_story(session=session, case=case, response=response, window_hours=config.story_window_hours)
    session.flush()
    return opened


def publish_event(session: Session, event_type: EventType, payload: dict[str, Any]) -> None:
    """Outbound webhooks: stored in this transaction, delivered by the worker (connectors handles the hook)."""
    PUBLISH_EVENT.emit(Event(session=session, type=event_type, data=payload))


def gather_story(*, session: Session, case: ReviewCase, response: SurveyResponse, window_hours: int) -> None:
    """Attach the survey's linked interactions and the customer's other interactions (every channel) in the
    window around the survey. Adds only: nothing already attached is removed."""
    assert case.id is not None and response.id is not None
    wanted: dict[int, str] = {i: "survey" for i in linked_interaction_ids(session=session, response_id=response.id)}
    anchor = survey_anchor(response)
    if response.customer_id is not None and anchor is not None:
        window = timedelta(hours=window_hours)
        for interaction_id in session.exec(select(Interaction.id).where(
                Interaction.customer_id == response.customer_id,
                col(Interaction.started_at) >= anchor - window,
                col(Interaction.started_at) <= anchor + window)).all():
            if interaction_id is not None:
                wanted.setdefault(interaction_id, "window")
    have = set(session.exec(select(ReviewCaseInteraction.interaction_id).where(
        ReviewCaseInteraction.case_id == case.id)).all())
    for interaction_id, reason in wanted.items():
        if interaction_id not in have:
            session.add(ReviewCaseInteraction(case_id=case.id, interaction_id=interaction_id, reason=reason))
    if case.agent_id is None:
        case.agent_id = _first_agent(session=session, interaction_ids=list(wanted))
        session.add(case)


def _first_agent(*, session: Session, interaction_ids: list[int]) -> int | None:
    if not interaction_ids:
        return None
    return session.exec(select(Interaction.agent_id).where(
        col(Interaction.id).in_(interaction_ids), col(Interaction.agent_id).is_not(None))
        .order_by(col(Interaction.started_at).desc())).first()


# ---------------------------------------------------------------- reading cases


def case_scope(*, session: Session, principal: Principal) -> set[int] | None:
    """The agents whose cases the principal may see (None: all). Raises Forbidden for agents."""
    if not principal.has(*INVESTIGATORS):
        raise Forbidden("Review cases are for executives, admins, evaluators and coaches.")
    if principal.has(Role.ADMIN, Role.EXECUTIVE, Role.EVALUATOR):
        return None
    return visible_agent_ids(session=session, principal=principal)


def list_cases(*, session: Session, principal: Principal, status: str | None = None,
               period: str | None = None) -> list[ReviewCase]:
    scope = case_scope(session=session, principal=principal)
    query = select(ReviewCase)
    if status:
        query = query.where(ReviewCase.status == status)
    if period:
        query = query.where(ReviewCase.period == period)
    if scope is not None:
        query = query.where(col(ReviewCase.agent_id).in_(scope or {-1}))
    return list(session.exec(query.order_by(col(ReviewCase.opened_at).desc(), col(ReviewCase.id).desc())).all())


def get_case(*, session: Session, principal: Principal, case_id: int) -> ReviewCase:
    """The case, if the principal may see it (NotFound otherwise, so nothing is revealed)."""
    scope = case_scope(session=session, principal=principal)
    case = session.get(ReviewCase, case_id)
    if case is None or (scope is not None and case.agent_id not in scope):
        raise NotFound(f"review case {case_id} not found")
    return case


def is_overdue(case: ReviewCase) -> bool:
    return (case.due_at is not None and case.status not in (CaseStatus.DECIDED, CaseStatus.CLOSED)
            and as_utc(case.due_at) < utcnow())


@dataclass
class StoryItem:
    interaction_id: int
    channel: str
    started_at: datetime
    direction: str
    queue: str | None
    shown_subject: str | None  # as the content gate shows it (redacted): meeting pages and PDF packs print it
    agents: list[str]
    reason: str
    transferred: bool


@dataclass
class CaseStory:
    case: ReviewCase
    response: SurveyResponse
    customer_name: str
    items: list[StoryItem] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)
    actions: list[ReviewAction] = field(default_factory=list)
    owner_name: str | None = None

    @property
    def title(self) -> str:
        return f"Case {self.case.id}: {self.customer_name}"

    @property
    def channel_path(self) -> str:
        return " → ".join(item.channel for item in self.items)


def case_story(*, session: Session, case: ReviewCase) -> CaseStory:
    """The customer's story: the interactions in time order with the agents involved, the verbatim, the
    actions decided."""
    return case_stories(session=session, cases=[case])[0]


def case_stories(*, session: Session, cases: Sequence[ReviewCase]) -> list[CaseStory]:
    """`case_story` of each case, in the order given, in a fixed number of queries whatever the number of cases
    (a page of the case list, the meeting pack)."""
    if not cases:
        return []
    case_ids = [c.id for c in cases if c.id is not None]
    responses = {r.id: r for r in session.exec(select(SurveyResponse).where(
        col(SurveyResponse.id).in_({c.survey_response_id for c in cases}))).all()}
    customer_ids = {c.customer_id for c in cases if c.customer_id}
    customers = {c.id: c for c in session.exec(select(Customer).where(col(Customer.id).in_(customer_ids)))
                 .all()} if customer_ids else {}
    links = session.exec(select(ReviewCaseInteraction).where(col(ReviewCaseInteraction.case_id).in_(case_ids))).all()
    reasons: dict[int, dict[int, str]] = {}
    for link in links:
        reasons.setdefault(link.case_id, {})[link.interaction_id] = link.reason
    linked = {i for by_case in reasons.values() for i in by_case}
    interactions = list(session.exec(select(Interaction).where(col(Interaction.id).in_(linked or [-1]))
                                     .order_by(col(Interaction.started_at), col(Interaction.id))).all())
    legs = session.exec(select(InteractionLeg).where(
        col(InteractionLeg.interaction_id).in_(linked or [-1])).order_by(col(InteractionLeg.seq))).all()
    legs_of: dict[int, list[InteractionLeg]] = {}
    for leg in legs:
        legs_of.setdefault(leg.interaction_id, []).append(leg)
    user_ids = ({i.agent_id for i in interactions} | {leg.agent_id for leg in legs}
                | {c.agent_id for c in cases} | {c.owner_id for c in cases})
    names: dict[int | None, str] = {i: name for i, name in user_names(session=session, ids=user_ids).items()}
    actions: dict[int, list[ReviewAction]] = {}
    for action in session.exec(select(ReviewAction).where(col(ReviewAction.case_id).in_(case_ids))
                               .order_by(col(ReviewAction.id))).all():
        actions.setdefault(action.case_id, []).append(action)
    return [_story(case, response=responses[case.survey_response_id],
                   customer=customers.get(case.customer_id) if case.customer_id else None,
                   reasons=reasons.get(case.id or 0, {}), interactions=interactions, legs_of=legs_of, names=names,
                   actions=actions.get(case.id or 0, [])) for case in cases]


def _story(case: ReviewCase, *, response: SurveyResponse, customer: Customer | None, reasons: dict[int, str],
           interactions: Sequence[Interaction], legs_of: dict[int, list[InteractionLeg]],
           names: dict[int | None, str], actions: list[ReviewAction]) -> CaseStory:
    assert case.id is not None
    customer_name = (customer.display_name if customer and customer.display_name else
                     response.customer_email or response.customer_phone or "unknown customer")
    story = CaseStory(case=case, response=response, customer_name=customer_name,
                      owner_name=names.get(case.owner_id) if case.owner_id else None)
    involved: list[str] = []
    for interaction in interactions:  # in time order
        if interaction.id not in reasons:
            continue
        leg_agents = [names[leg.agent_id] for leg in legs_of.get(interaction.id, []) if leg.agent_id in names]
        agents = leg_agents or ([names[interaction.agent_id]] if interaction.agent_id in names else [])
        involved.extend(a for a in agents if a not in involved)
        story.items.append(StoryItem(
            interaction_id=interaction.id, channel=interaction.channel, started_at=interaction.started_at,
            direction=interaction.direction, queue=interaction.queue,
            shown_subject=content.REDACTED.subject(interaction),
            agents=list(dict.fromkeys(agents)), reason=reasons[interaction.id], transferred=len(leg_agents) > 1))
    if case.agent_id in names and names[case.agent_id] not in involved:
        involved.insert(0, names[case.agent_id])
    story.agents = involved
    story.actions = actions
    return story


# ---------------------------------------------------------------- investigation and decisions


def _case_state(case: ReviewCase) -> dict[str, Any]:
    return {"status": case.status, "owner_id": case.owner_id, "root_cause": case.root_cause,
            "secondary_causes": list(case.secondary_causes), "decision": case.decision}


def change_status(*, session: Session, case: ReviewCase, to: str, actor: Principal | None,
                  reason: str = "") -> ReviewCase:
    """Move a case along open → investigating → ready_for_meeting → decided → closed (one step back is
    allowed before closing). `actor` None is the system (the demo loader), which never decides.
    Raises Conflict for an illegal move, Forbidden when a non-decider decides."""
    try:
        target = CaseStatus(to)
    except ValueError as exc:
        raise InvalidInput(f"unknown status {to!r}") from exc
    if target not in TRANSITIONS[CaseStatus(case.status)]:
        raise Conflict(f"a case cannot go from {case.status} to {target}")
    if (target in DECISION_STATES or case.status in DECISION_STATES) and (actor is None or not actor.has(*DECIDERS)):
        raise Forbidden("Only executives and admins decide and close cases.")
    if target == CaseStatus.DECIDED and not case.root_cause:
        raise Conflict("record the root cause before marking the case decided")
    if target == CaseStatus.DECIDED and not case.decision.strip():
        raise Conflict("write what the meeting decided before marking the case decided")
    before = _case_state(case)
    case.status = target
    now = utcnow()
    if target == CaseStatus.DECIDED:
        case.decided_at = now
    if target == CaseStatus.CLOSED:
        case.closed_at = now
    case.updated_at = now
    session.add(case)
    audit.record(session=session, actor=actor, action="review_case.status", record_type="review_case",
                 record_id=case.id, before=before, after=_case_state(case), reason=reason or None)
    return case


def update_findings(*, session: Session, case: ReviewCase, actor: Principal, staff_notes: str | None = None,
                    customer_notes: str | None = None, owner_id: int | None = None) -> ReviewCase:
    """Record the notes of the conversations with the staff member and with the customer, or the owner."""
    if case.status == CaseStatus.CLOSED:
        raise Conflict("a closed case cannot change")
    before = {"staff_notes": case.staff_notes, "customer_notes": case.customer_notes, "owner_id": case.owner_id}
    if staff_notes is not None:
        case.staff_notes = staff_notes.strip()
    if customer_notes is not None:
        case.customer_notes = customer_notes.strip()
    if owner_id is not None:
        require_user(session=session, user_id=owner_id, label="owner")
        case.owner_id = owner_id
    case.updated_at = utcnow()
    session.add(case)
    audit.record(session=session, actor=actor, action="review_case.findings", record_type="review_case",
                 record_id=case.id, before=before,
                 after={"staff_notes": case.staff_notes, "customer_notes": case.customer_notes,
                        "owner_id": case.owner_id})
    return case


def record_decision(*, session: Session, case: ReviewCase, actor: Principal, root_cause: str,
                    secondary_causes: list[str] | None = None, decision: str = "",
                    mark_decided: bool = True) -> ReviewCase:
    """The meeting's decision: primary root cause (from the configured list), optional secondary causes, the
    decision text (required to decide); moves a ready case to decided. Raises Forbidden (not a decider),
    InvalidInput (unknown cause, empty decision), Conflict (closed case, or not ready for the meeting)."""
    if not actor.has(*DECIDERS):
        raise Forbidden("Only executives and admins decide.")
    if case.status == CaseStatus.CLOSED:
        raise Conflict("a closed case cannot change")
    causes = get_config(session=session).root_causes
    secondary = [c for c in (secondary_causes or []) if c and c != root_cause]
    unknown = [c for c in [root_cause, *secondary] if c not in causes]
    if unknown:
        raise InvalidInput(f"unknown root cause {', '.join(unknown)}; the list is: {', '.join(causes)}")
    if mark_decided and case.status not in (CaseStatus.READY, CaseStatus.DECIDED):
        raise Conflict(f"a case in {case.status} is not ready for a decision")
    if mark_decided and not decision.strip():
        raise InvalidInput("decision: write what the meeting decided before recording the decision")
    before = _case_state(case)
    case.root_cause, case.secondary_causes, case.decision = root_cause, secondary, decision.strip()
    case.updated_at = utcnow()
    if mark_decided and case.status != CaseStatus.DECIDED:
        case.status, case.decided_at = CaseStatus.DECIDED, utcnow()
    session.add(case)
    audit.record(session=session, actor=actor, action="review_case.decision", record_type="review_case",
                 record_id=case.id, before=before, after=_case_state(case))
    return case


def save_decision_draft(*, session: Session, case: ReviewCase, actor: Principal, decision: str,
                        root_cause: str = "", secondary_causes: list[str] | None = None) -> bool:
    """Keep what the meeting typed in the decision block without deciding: the text, and the causes when one
    was chosen. The status does not move. Returns whether anything changed (audited when it did). Raises
    Forbidden (not a decider), InvalidInput (unknown cause), Conflict (closed case)."""
    if not actor.has(*DECIDERS):
        raise Forbidden("Only executives and admins decide.")
    text = decision.strip()
    cause = root_cause.strip() or None
    if text == case.decision and (cause is None or cause == case.root_cause):
        return False
    if case.status == CaseStatus.CLOSED:
        raise Conflict("a closed case cannot change")
    if cause is not None and cause not in get_config(session=session).root_causes:
        raise InvalidInput(f"unknown root cause {cause}")
    before = _case_state(case)
    case.decision = text
    if cause is not None:
        case.root_cause = cause
        case.secondary_causes = [c for c in (secondary_causes or []) if c and c != cause]
    case.updated_at = utcnow()
    session.add(case)
    audit.record(session=session, actor=actor, action="review_case.decision_draft", record_type="review_case",
                 record_id=case.id, before=before, after=_case_state(case))
    return True


def mark_ready(*, session: Session, cases: list[ReviewCase], actor: Principal) -> list[ReviewCase]:
    """Bring open or investigating cases to ready_for_meeting (through investigating, each step audited).
    Cases already ready or further along are left alone. Returns the cases that moved."""
    moved = []
    for case in cases:
        if case.status == CaseStatus.OPEN:
            change_status(session=session, case=case, to=CaseStatus.INVESTIGATING, actor=actor,
                          reason="bulk: ready for the meeting")
        if case.status == CaseStatus.INVESTIGATING:
            change_status(session=session, case=case, to=CaseStatus.READY, actor=actor,
                          reason="bulk: ready for the meeting")
            moved.append(case)
    return moved


def require_user(*, session: Session, user_id: int, label: str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise InvalidInput(f"{label}: no user {user_id}")
    return user


def latest_period(*, session: Session) -> str | None:
    """The latest month that has review cases (what executive pages open on, rather than an empty month)."""
    return session.exec(select(func.max(ReviewCase.period))).one()
