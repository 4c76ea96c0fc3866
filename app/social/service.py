"""Social care of each thread: its state (SLA clocks, follow-ups, the non-genuine flag, replies logged by
hand, public resolution), the care queue ordered by due time, and the thread's story.

Elsewhere in social: `channels` (each platform's standards and their wording), `reports` (fairness,
attainment, processes), `alerts` and `sweep`."""

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlmodel import Session, col, select

from app.core import audit
from app.core.audit import Actor
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.listing import Page, paginate
from app.core.timeutil import as_utc, utcnow
from app.interactions import content
from app.interactions import service as interactions
from app.interactions.models import AuthorRole, Channel, Interaction, Message
from app.social import listening
from app.social.channels import business_hours_of, ensure_config, get_config
from app.social.clock import (
    BusinessHours,
    ClockStatus,
    add_business_seconds,
    business_seconds_between,
    read_clock,
)
from app.social.models import SocialChannelConfig, SocialThreadState
from app.social.processes import PROCESSES, classify
from app.social.rules import NonGenuineRule, is_closing_remark, needs_site_visit
from app.social.rules import non_genuine_evidence as _rule_evidence
from app.social.threads import without_nul

# ---------------------------------------------------------------- thread state

def _thread(session: Session, interaction_id: int) -> Interaction:
    interaction = session.get(Interaction, interaction_id)
    if interaction is None or interaction.channel != Channel.SOCIAL:
        raise NotFound(f"social thread {interaction_id} not found")
    return interaction


def thread_messages(*, session: Session, interaction_id: int) -> list[Message]:
    return list(session.exec(select(Message).where(Message.interaction_id == interaction_id)
                             .order_by(col(Message.sent_at), col(Message.id))).all())


def get_state(*, session: Session, interaction_id: int) -> SocialThreadState:
    state = session.get(SocialThreadState, interaction_id)
    if state is None:
        state = refresh_thread(session=session, interaction_id=interaction_id)
    return state


def refresh_thread(*, session: Session, interaction_id: int, now: datetime | None = None) -> SocialThreadState:
    """Recompute the thread's care state from its messages and its platform's standards (flushes, no commit).

    Keeps the people's decisions (resolution, genuine override). When a customer flagged non-genuine writes
    again, the flag is lifted ("welcome back", audited). Raises NotFound for a missing or non-social interaction.
    """
    now = as_utc(now or utcnow())
    interaction = _thread(session, interaction_id)
    platform = interaction.platform or interaction.source
    config = ensure_config(session=session, platform=platform)
    hours = business_hours_of(config)
    messages = thread_messages(session=session, interaction_id=interaction_id)
    state = session.get(SocialThreadState, interaction_id) or SocialThreadState(interaction_id=interaction_id)
    state.platform = platform
    customer = [m for m in messages if m.author_role == AuthorRole.CUSTOMER]
    agent = [m for m in messages if m.author_role == AuthorRole.AGENT]
    followers = [int(m.extra["follower_count"]) for m in customer
                 if isinstance(m.extra.get("follower_count"), int | float)]
    state.follower_count = max(followers) if followers else None
    state.author_handle = customer[0].author_handle if customer else None
    state.first_customer_post_at = as_utc(customer[0].sent_at) if customer else None
    state.last_customer_post_at = as_utc(customer[-1].sent_at) if customer else None
    state.last_agent_reply_at = as_utc(agent[-1].sent_at) if agent else None
    _compute_clocks(state, messages, config, hours, now)
    state.engagement = engagement_of(messages)
    answered_at = state.first_response_at
    # a closing "thanks" is not the customer having to come back
    state.customer_posted_again = answered_at is not None and any(
        as_utc(m.sent_at) > answered_at and not is_closing_remark(m.text) for m in customer)
    if state.process_set_by_id is None:
        state.process = classify(" ".join(m.text for m in customer))
    state.watched = state.follower_count is not None and state.follower_count >= config.influencer_followers
    rules = listening.list_rules(session=session, active_only=True)
    state.mentions = sorted({name for m in customer for name in listening.matching_rules(m.text, rules)})
    _lift_flag_on_return(session, state)
    state.resolved_privately = state.resolved_at is None and (
        state.private_resolution_at is not None or (bool(messages) and not messages[-1].is_public
                                                   and messages[-1].author_role == AuthorRole.AGENT))
    state.next_due_at = _next_due(state)
    state.updated_at = utcnow()
    session.add(state)
    session.flush()
    return state


def _compute_clocks(state: SocialThreadState, messages: list[Message], config: SocialChannelConfig,
                    hours: BusinessHours | None, now: datetime) -> None:
    """Every clock of the thread, from its messages and the platform's standards (see `thread_clocks`)."""
    first_post = state.first_customer_post_at
    if first_post is None:  # the brand's own post with no customer in it yet: no clock runs
        state.first_response_due_at = state.follow_up_due_at = state.reply_due_at = None
        state.awaiting_reply_since = state.first_response_at = state.follow_up_at = None
        state.follow_up_attempts, state.follow_up_times = 0, []
        state.problem_open, state.site_visit, state.resolution_due_at = False, False, None
        state.resolution_status = NOT_NEEDED
        return
    customer = [m for m in messages if m.author_role == AuthorRole.CUSTOMER]
    closed_by_customer = is_closing_remark(customer[-1].text) if customer else False
    state.problem_open = (not closed_by_customer and state.resolved_at is None
                          and state.private_resolution_at is None)
    replies = [as_utc(m.sent_at) for m in messages
               if m.author_role == AuthorRole.AGENT and as_utc(m.sent_at) >= first_post]
    state.first_response_due_at = add_business_seconds(first_post, config.first_response_seconds, hours)
    state.first_response_at = replies[0] if replies else None
    first = read_clock(due_at=state.first_response_due_at, met_at=state.first_response_at, now=now)
    state.first_response_status, state.first_response_breached_at = first.status, first.breached_at
    state.first_response_business_seconds = (
        business_seconds_between(first_post, replies[0], hours) if replies else None)
    # the follow-up: runs only while a problem is open; a customer's "thanks" means none is needed
    state.follow_up_due_at = add_business_seconds(first_post, config.follow_up_seconds, hours)
    later = [t for t in replies[1:] if state.first_response_at and t > state.first_response_at]
    candidates = later[:1] + ([as_utc(state.resolved_at)] if state.resolved_at else [])
    state.follow_up_at = min(candidates) if candidates else None
    if state.follow_up_at is None and closed_by_customer:
        state.follow_up_status, state.follow_up_breached_at = NOT_NEEDED, None
    else:
        follow = read_clock(due_at=state.follow_up_due_at, met_at=state.follow_up_at, now=now)
        state.follow_up_status, state.follow_up_breached_at = follow.status, follow.breached_at
    # a problem needing a site visit has a resolution target
    state.site_visit = any(needs_site_visit(m.text) for m in customer)
    state.resolution_due_at = (add_business_seconds(first_post, config.site_visit_resolution_seconds, hours)
                               if state.site_visit else None)
    if state.site_visit:
        done = [as_utc(t) for t in (state.resolved_at, state.private_resolution_at) if t is not None]
        if closed_by_customer and customer:
            done.append(as_utc(customer[-1].sent_at))
        state.resolution_status = read_clock(due_at=state.resolution_due_at, met_at=min(done) if done else None,
                                             now=now).status
    else:
        state.resolution_status = NOT_NEEDED
    # the customer's latest unanswered post(s) (a closing "thanks" awaits no reply), and the brand's messages
    # since the customer last wrote (its first reply, then the follow-ups): the non-genuine rule counts these
    waiting_since: datetime | None = None
    unanswered: list[datetime] = []
    for message in messages:
        sent = as_utc(message.sent_at)
        if message.author_role == AuthorRole.CUSTOMER:
            unanswered = []
            if not (is_closing_remark(message.text) and message is not customer[0]):
                waiting_since = waiting_since or sent
        elif message.author_role == AuthorRole.AGENT:
            waiting_since = None
            if sent >= first_post:
                unanswered.append(sent)
    state.awaiting_reply_since = waiting_since
    state.reply_due_at = (add_business_seconds(waiting_since, config.first_response_seconds, hours)
                          if waiting_since else None)
    state.follow_up_attempts = max(0, len(unanswered) - 1)  # the first reply is an answer, not a follow-up
    state.follow_up_times = [t.isoformat() for t in unanswered]


def _lift_flag_on_return(session: Session, state: SocialThreadState) -> None:
    if (state.non_genuine and state.non_genuine_at and state.last_customer_post_at
            and state.last_customer_post_at > as_utc(state.non_genuine_at)):
        audit.record(session=session, actor=None, action="social.non_genuine.welcome_back",
                     record_type="social_thread", record_id=state.interaction_id,
                     before={"non_genuine": True, "reason": state.non_genuine_reason},
                     after={"non_genuine": False, "customer_returned_at": state.last_customer_post_at},
                     reason="The customer wrote again: served again.")
        state.non_genuine, state.welcome_back_at = False, state.last_customer_post_at
        state.non_genuine_confirmed_by_id = state.non_genuine_confirmed_at = None


NOT_NEEDED = "not_needed"


@dataclass(frozen=True)
class Clock:
    """One clock of a thread. `running`: the team owes the customer something on it now."""

    name: str  # first_response | reply | follow_up | resolution
    label: str
    due_at: datetime | None
    done_at: datetime | None
    status: str  # pending | met | breached | not_needed
    running: bool

    def seconds_to_due(self, now: datetime) -> float | None:
        return (as_utc(self.due_at) - as_utc(now)).total_seconds() if self.due_at else None


def thread_clocks(state: SocialThreadState, *, now: datetime | None = None) -> list[Clock]:
    """THE clock computation: the queue, the thread page, the dashboard and the alerts all read these.

    Statuses are read at `now`; due times do not depend on `now`. Flagged (non-genuine) and resolved threads
    have no running clock.
    """
    now = as_utc(now or utcnow())
    idle = state.non_genuine or state.resolved_at is not None or state.first_customer_post_at is None
    first = read_clock(due_at=state.first_response_due_at, met_at=state.first_response_at, now=now)
    clocks = [Clock("first_response", "first response", first.due_at, first.met_at, first.status,
                    not idle and first.met_at is None and first.due_at is not None)]
    if state.awaiting_reply_since is not None and state.reply_due_at is not None and state.first_response_at:
        reply = read_clock(due_at=state.reply_due_at, met_at=None, now=now)
        clocks.append(Clock("reply", "reply to the customer's latest post", reply.due_at, None, reply.status,
                            not idle))
    if state.follow_up_status == NOT_NEEDED:
        clocks.append(Clock("follow_up", "follow-up", state.follow_up_due_at, None, NOT_NEEDED, False))
    else:
        follow = read_clock(due_at=state.follow_up_due_at, met_at=state.follow_up_at, now=now)
        clocks.append(Clock("follow_up", "follow-up", follow.due_at, follow.met_at, follow.status,
                            not idle and state.problem_open and follow.met_at is None
                            and state.first_response_at is not None and follow.due_at is not None))
    if state.site_visit:
        done = state.resolved_at or state.private_resolution_at
        if state.resolution_status == NOT_NEEDED:
            status = NOT_NEEDED
        elif done is None and state.problem_open and state.resolution_due_at is not None:
            status = read_clock(due_at=state.resolution_due_at, met_at=None, now=now).status
        else:
            status = state.resolution_status
        clocks.append(Clock("resolution", "site-visit resolution", state.resolution_due_at, done, status,
                            not idle and done is None and state.problem_open and state.resolution_due_at is not None))
    return clocks


def current_clock(state: SocialThreadState, *, now: datetime | None = None) -> Clock | None:
    """The running clock with the earliest due time (the queue's order and every page's 'next due')."""
    running = [c for c in thread_clocks(state, now=now) if c.running and c.due_at is not None]
    return min(running, key=lambda c: as_utc(c.due_at)) if running else None  # type: ignore[arg-type]


def _next_due(state: SocialThreadState) -> datetime | None:
    """The queue's sort key: the due time of the current clock. Follower count never enters it."""
    clock = current_clock(state)
    return as_utc(clock.due_at) if clock and clock.due_at else None


# ---------------------------------------------------------------- non-genuine complaints

def non_genuine_rule(config: SocialChannelConfig) -> NonGenuineRule:
    return NonGenuineRule(follow_ups=config.non_genuine_follow_ups, window_hours=config.non_genuine_window_hours,
                          grace_hours=config.non_genuine_grace_hours)


def mark_non_genuine_where_due(*, session: Session, now: datetime | None = None) -> list[int]:
    """Flag every open thread whose complainer stayed silent through the follow-ups (app/social/rules.py;
    audited, evidence kept; a person reverses it with `mark_genuine`); returns the ids flagged."""
    now = as_utc(now or utcnow())
    flagged = []
    states = session.exec(select(SocialThreadState).where(
        col(SocialThreadState.non_genuine).is_(False), col(SocialThreadState.resolved_at).is_(None),
        SocialThreadState.follow_up_attempts > 0)).all()
    for state in states:
        config = get_config(session=session, platform=state.platform)
        times = [datetime.fromisoformat(t) for t in state.follow_up_times]
        if state.genuine_override_at is not None:  # a person said genuine: only later messages count again
            times = [t for t in times if t > as_utc(state.genuine_override_at)]
        rule = non_genuine_rule(config)
        evidence = _rule_evidence(brand_messages=times, rule=rule, now=now)
        if evidence is None:
            continue
        state.non_genuine, state.non_genuine_at = True, now
        state.non_genuine_evidence = [t.isoformat() for t in evidence]
        silent = (now - evidence[0]).total_seconds() / 3600
        state.non_genuine_reason = (f"No reply from the author to {len(evidence) - 1} follow-ups after the first "
                                    f"reply, silent for {silent:.0f} h (rule: {rule.follow_ups} follow-ups over "
                                    f"{rule.window_hours:g} h).")
        state.next_due_at = None
        session.add(state)
        audit.record(session=session, actor=None, action="social.non_genuine.marked", record_type="social_thread",
                     record_id=state.interaction_id, before={"non_genuine": False},
                     after={"non_genuine": True, "evidence": state.non_genuine_evidence},
                     reason=state.non_genuine_reason)
        flagged.append(state.interaction_id)
    session.flush()
    return flagged


def confirm_non_genuine(*, session: Session, interaction_id: int, actor: Actor) -> SocialThreadState:
    """A person confirms the sweep's non-genuine proposal (audited). Raises Conflict when it is not flagged."""
    state = get_state(session=session, interaction_id=interaction_id)
    if not state.non_genuine:
        raise Conflict("this thread is not flagged non-genuine")
    state.non_genuine_confirmed_by_id, state.non_genuine_confirmed_at = actor.user_id, utcnow()
    session.add(state)
    audit.record(session=session, actor=actor, action="social.non_genuine.confirmed", record_type="social_thread",
                 record_id=interaction_id, before={"confirmed": False},
                 after={"confirmed": True, "evidence": state.non_genuine_evidence})
    session.commit()
    return state


def mark_genuine(*, session: Session, interaction_id: int, actor: Actor, reason: str) -> SocialThreadState:
    """A person reverses the non-genuine flag (audited with their reason); the thread returns to the queue."""
    if not reason.strip():
        raise InvalidInput("say why the complaint is genuine", details=[{"loc": "reason", "msg": "required"}])
    state = get_state(session=session, interaction_id=interaction_id)
    before = {"non_genuine": state.non_genuine, "reason": state.non_genuine_reason,
              "evidence": state.non_genuine_evidence}
    state.non_genuine, state.genuine_override = False, True
    state.non_genuine_confirmed_by_id = state.non_genuine_confirmed_at = None
    state.genuine_override_by_id, state.genuine_override_at = actor.user_id, utcnow()
    state.next_due_at = _next_due(state)
    session.add(state)
    audit.record(session=session, actor=actor, action="social.non_genuine.reversed", record_type="social_thread",
                 record_id=interaction_id, before=before, after={"non_genuine": False, "genuine_override": True},
                 reason=reason.strip())
    session.commit()
    return state


# ---------------------------------------------------------------- replies logged by hand

REPLY_MAX_CHARS = 4000


def record_reply(*, session: Session, interaction_id: int, actor: Actor, text: str, url: str | None = None,
                 public: bool = True, now: datetime | None = None) -> Message:
    """Log the brand's reply that an agent posted on the platform itself (where no connector brings the
    replies in): it becomes the agent's message in the thread, the clocks are recomputed from it (so a reply in
    time meets the first-response clock), the interaction's participants and search text follow; audited.

    Raises NotFound for a missing or non-social thread, InvalidInput for an empty or too long text or a link
    that is not http(s).
    """
    interaction = _thread(session, interaction_id)
    text, url = text.strip(), (url or "").strip() or None
    if not text or len(text) > REPLY_MAX_CHARS:
        raise InvalidInput(f"the reply needs its text (1 to {REPLY_MAX_CHARS} characters)",
                           details=[{"loc": "text", "msg": "empty" if not text else "too long"}])
    if url and not url.startswith(("http://", "https://")):
        raise InvalidInput("the link must start with http:// or https://", details=[{"loc": "url", "msg": "bad"}])
    at = as_utc(now or utcnow())
    customer_posts = [m for m in thread_messages(session=session, interaction_id=interaction_id)
                      if m.author_role == AuthorRole.CUSTOMER]
    message = Message(interaction_id=interaction_id, external_id=f"earshot-reply-{uuid4().hex}",
                      author_role=AuthorRole.AGENT, agent_id=actor.user_id, sent_at=at,
                      text=without_nul(text), is_public=public,
                      parent_external_id=customer_posts[-1].external_id if customer_posts else None,
                      extra={"url": url, "logged_in_earshot": True} if url else {"logged_in_earshot": True})
    session.add(message)
    if interaction.ended_at is None or as_utc(interaction.ended_at) < at:
        interaction.ended_at = at
        session.add(interaction)
    session.flush()
    interactions.sync_interaction(session=session, interaction_id=interaction_id)
    state = refresh_thread(session=session, interaction_id=interaction_id, now=at)
    audit.record(session=session, actor=actor, action="social.reply.logged", record_type="social_thread",
                 record_id=interaction_id, after={"message_id": message.id, "public": public, "url": url,
                                                  "first_response_at": state.first_response_at})
    session.commit()
    return message


# ---------------------------------------------------------------- public resolution

def record_resolution(*, session: Session, interaction_id: int, actor: Actor, public: bool = True,
                      message_id: int | None = None, url: str | None = None, text: str | None = None,
                      now: datetime | None = None) -> SocialThreadState:
    """Record how the thread was resolved: in public (a reply message, a link or the text) or only privately.

    Raises InvalidInput when a public resolution names nothing, or names a message of another thread.
    """
    state = get_state(session=session, interaction_id=interaction_id)
    url, text = (url or "").strip() or None, (text or "").strip() or None
    at = as_utc(now or utcnow())
    if public:
        if message_id is None and url is None and text is None:
            raise InvalidInput("a public resolution needs the reply, its link or its text",
                               details=[{"loc": "url", "msg": "give a link, a text or a message"}])
        if url and not url.startswith(("http://", "https://")):
            raise InvalidInput("the link must start with http:// or https://", details=[{"loc": "url", "msg": "bad"}])
        if message_id is not None:
            message = session.get(Message, message_id)
            if message is None or message.interaction_id != interaction_id:
                raise InvalidInput("that message is not part of this thread",
                                   details=[{"loc": "message_id", "msg": "not in thread"}])
            url = url or (str(message.extra.get("url")) if message.extra.get("url") else None)
            text = text or content.REDACTED.message_text(message)[:4000]
            at = as_utc(message.sent_at)
        before = {"resolved_at": state.resolved_at, "resolution_url": state.resolution_url}
        state.resolution_message_id, state.resolution_url, state.resolution_text = message_id, url, text
        state.resolved_at, state.resolved_by_id = at, actor.user_id
        action = "social.resolution.public"
    else:
        before = {"private_resolution_at": state.private_resolution_at}
        state.private_resolution_at = at
        action = "social.resolution.private"
    session.add(state)
    session.flush()
    refresh_thread(session=session, interaction_id=interaction_id)
    audit.record(session=session, actor=actor, action=action, record_type="social_thread",
                 record_id=interaction_id, before=before,
                 after={"public": public, "url": url, "message_id": message_id, "at": at})
    session.commit()
    return state


# ---------------------------------------------------------------- the care queue

@dataclass
class QueueRow:
    state: SocialThreadState
    interaction: Interaction
    first_post: str
    due_at: datetime | None
    seconds_to_due: float | None  # negative: breached by that much
    clock: "Clock | None" = None  # the clock the due time belongs to (the same the thread page shows)


def care_queue(*, session: Session, now: datetime | None = None, platform: str | None = None,
               page: int = 1, per_page: int = 200) -> Page[QueueRow]:
    """One page of the open threads ordered by their earliest deadline ONLY (then by id): followers never change
    the order."""
    now = as_utc(now or utcnow())
    query = (select(SocialThreadState, Interaction)
             .join(Interaction, col(Interaction.id) == SocialThreadState.interaction_id)
             .where(col(SocialThreadState.next_due_at).is_not(None))
             .order_by(col(SocialThreadState.next_due_at), col(SocialThreadState.interaction_id)))
    if platform:
        query = query.where(SocialThreadState.platform == platform)
    rows = paginate(query, page=page, per_page=per_page, session=session)
    firsts = _first_customer_texts(session, [s.interaction_id for s, _ in rows.items])
    out = []
    for state, interaction in rows.items:
        clock = current_clock(state, now=now)
        due = as_utc(clock.due_at) if clock and clock.due_at else None
        out.append(QueueRow(state=state, interaction=interaction, first_post=firsts.get(state.interaction_id, ""),
                            due_at=due, seconds_to_due=(due - now).total_seconds() if due else None, clock=clock))
    return Page(items=out, total=rows.total, page=rows.page, per_page=rows.per_page)


def _first_customer_texts(session: Session, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    out: dict[int, str] = {}
    for message in session.exec(select(Message).where(col(Message.interaction_id).in_(ids),
                                                      Message.author_role == AuthorRole.CUSTOMER)
                                .order_by(col(Message.sent_at))).all():
        out.setdefault(message.interaction_id, content.REDACTED.message_text(message))
    return out


def live_clocks(state: SocialThreadState, *, now: datetime | None = None) -> dict[str, Any]:
    """Clock readings at `now` by name (API answers); pages and the queue read `thread_clocks`."""
    now = as_utc(now or utcnow())
    first = read_clock(due_at=state.first_response_due_at, met_at=state.first_response_at, now=now)
    follow = read_clock(due_at=state.follow_up_due_at, met_at=state.follow_up_at, now=now)
    reply = (read_clock(due_at=state.reply_due_at, met_at=None, now=now)
             if state.awaiting_reply_since and state.reply_due_at else None)
    return {"first_response": first, "follow_up": follow, "reply": reply}


def social_thread_ids(*, session: Session) -> list[int]:
    return [i for i in session.exec(select(Interaction.id).where(Interaction.channel == Channel.SOCIAL)
                                    .order_by(col(Interaction.id))).all() if i is not None]


def open_thread_ids(*, session: Session) -> list[int]:
    """Threads whose clocks can still change with time alone: something due or pending, or never refreshed.

    Settled threads (every clock met or breached, nobody waiting) change only when a message arrives, and the
    importer refreshes those itself.
    """
    moving = session.exec(select(SocialThreadState.interaction_id).where(
        col(SocialThreadState.next_due_at).is_not(None)
        | (col(SocialThreadState.first_response_status) == ClockStatus.PENDING)
        | (col(SocialThreadState.follow_up_status) == ClockStatus.PENDING)
        | col(SocialThreadState.awaiting_reply_since).is_not(None))).all()
    known = set(session.exec(select(SocialThreadState.interaction_id)).all())
    return sorted(set(moving) | (set(social_thread_ids(session=session)) - known))


@dataclass
class StoryEvent:
    at: datetime
    kind: str  # post | reply | private | clock | flag | resolution
    label: str
    message: Message | None = None


def thread_story(*, state: SocialThreadState, messages: list[Message]) -> list[StoryEvent]:
    """The thread from the first post to its public resolution: posts and replies with the care milestones."""
    events: list[StoryEvent] = []
    for message in messages:
        role = "Customer" if message.author_role == AuthorRole.CUSTOMER else message.author_role.title()
        kind = ("post" if message.author_role == AuthorRole.CUSTOMER else "reply") if message.is_public else "private"
        events.append(StoryEvent(as_utc(message.sent_at), kind, f"{role}{'' if message.is_public else ' (private)'}",
                                 message))
    for at, kind, label in (
        (state.first_response_breached_at, "clock", "First-response target breached"),
        (state.follow_up_breached_at, "clock", "Follow-up target breached"),
        (state.non_genuine_at if state.non_genuine else None, "flag", "Marked non-genuine"),
        (state.non_genuine_confirmed_at if state.non_genuine else None, "flag", "Non-genuine confirmed by a person"),
        (state.genuine_override_at, "flag", "Confirmed genuine by a person"),
        (state.welcome_back_at, "flag", "Customer came back: welcome back"),
        (state.private_resolution_at, "resolution", "Resolved privately"),
        (state.resolved_at, "resolution", "Resolution published"),
    ):
        if at is not None:
            events.append(StoryEvent(as_utc(at), kind, label))
    return sorted(events, key=lambda e: (e.at, e.kind != "post"))


def influence_score(*, followers: int | None, engagement: int | None = None) -> float:
    """0-100: how far a post can travel — log-scaled followers (1M ≈ 75) plus engagement on the post (≤ 25).

    Shown on the thread for context only; no target and no ordering uses it.
    """
    reach = min(75.0, 12.5 * math.log10(1 + max(0, followers or 0)))
    buzz = min(25.0, 6.25 * math.log10(1 + max(0, engagement or 0)))
    return round(reach + buzz, 1)


def engagement_of(messages: list[Message]) -> int | None:
    """Likes, shares, replies and retweets the source reported on the thread's posts (None when it reports none)."""
    total: int | None = None
    for message in messages:
        for key in ("likes", "like_count", "shares", "share_count", "retweets", "retweet_count", "reply_count",
                    "quote_count"):
            value = message.extra.get(key)
            if isinstance(value, int):
                total = (total or 0) + value
    return total


def set_process(*, session: Session, interaction_id: int, process: str, actor: Actor) -> SocialThreadState:
    """A person tags the thread with its customer-facing process (audited); rules stop re-tagging it."""
    if process not in PROCESSES:
        raise InvalidInput(f"unknown process {process!r}", details=[{"loc": "process", "msg": "unknown"}])
    state = get_state(session=session, interaction_id=interaction_id)
    before = {"process": state.process, "set_by_person": state.process_set_by_id is not None}
    state.process, state.process_set_by_id = process, actor.user_id
    session.add(state)
    audit.record(session=session, actor=actor, action="social.process.set", record_type="social_thread",
                 record_id=interaction_id, before=before, after={"process": process})
    session.commit()
    return state
