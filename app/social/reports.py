"""Social-care reports over every thread with a customer post: fairness by follower band, SLA attainment per
platform, the influencer watch list, private resolutions, non-genuine threads, and the process report
(leading metrics and maturity per customer-facing process)."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from app.core.timeutil import as_utc, utcnow
from app.evaluations import readings as evaluations
from app.interactions.models import Interaction
from app.social.channels import business_hours_of, get_config
from app.social.clock import (
    BusinessHours,
    ClockStatus,
    business_seconds_between,
    read_clock,
)
from app.social.models import SocialThreadState
from app.social.processes import PROCESSES, ProcessMetrics, ThreadFacts, process_metrics
from app.social.service import thread_clocks
from app.social.stats import FairnessReport, ResponseSample, fairness_report


def fairness(*, session: Session, platform: str | None = None, since: datetime | None = None,
             now: datetime | None = None) -> FairnessReport:
    """First-response times by follower band over every thread with a customer post: answered, late and still
    unanswered ones (their wait so far), flagged non-genuine ones included and counted apart too."""
    now = as_utc(now or utcnow())
    query = select(SocialThreadState).where(col(SocialThreadState.first_customer_post_at).is_not(None))
    if platform:
        query = query.where(SocialThreadState.platform == platform)
    if since:
        query = query.where(col(SocialThreadState.first_customer_post_at) >= since)
    samples = []
    hours: dict[str, BusinessHours | None] = {}
    for state in session.exec(query).all():
        assert state.first_customer_post_at is not None
        if state.platform not in hours:
            hours[state.platform] = business_hours_of(get_config(session=session, platform=state.platform))
        answered = state.first_response_at is not None
        waited = (state.first_response_business_seconds if answered and state.first_response_business_seconds
                  is not None else business_seconds_between(state.first_customer_post_at,
                                                            state.first_response_at or now, hours[state.platform]))
        status = read_clock(due_at=state.first_response_due_at, met_at=state.first_response_at, now=now).status
        samples.append(ResponseSample(followers=state.follower_count, response_seconds=max(0.0, waited),
                                      within_sla=status == ClockStatus.MET or (
                                          not answered and status == ClockStatus.PENDING),
                                      answered=answered, non_genuine=state.non_genuine))
    return fairness_report(samples)


def watch_list(*, session: Session, limit: int = 100) -> list[SocialThreadState]:
    """Threads by authors on the influencer watch list (followers at or above the platform's threshold):
    tracked so the team knows their reach; their clocks and queue place are everyone's."""
    return list(session.exec(select(SocialThreadState).where(col(SocialThreadState.watched).is_(True))
                             .order_by(col(SocialThreadState.first_customer_post_at).desc()).limit(limit)).all())


@dataclass
class Attainment:
    platform: str
    threads: int
    first_met: int
    first_breached: int
    first_pending: int
    follow_met: int
    follow_breached: int
    non_genuine: int

    @property
    def first_rate(self) -> float | None:
        done = self.first_met + self.first_breached
        return self.first_met / done if done else None

    @property
    def follow_rate(self) -> float | None:
        done = self.follow_met + self.follow_breached
        return self.follow_met / done if done else None


def sla_attainment(*, session: Session, now: datetime | None = None) -> list[Attainment]:
    """Per platform: clocks met/breached over every thread with a customer post, flagged non-genuine ones
    included (and counted apart too); a clock that was not needed counts neither way."""
    now = as_utc(now or utcnow())
    table: dict[str, Attainment] = {}
    for state in session.exec(select(SocialThreadState).where(
            col(SocialThreadState.first_customer_post_at).is_not(None))).all():
        row = table.setdefault(state.platform, Attainment(state.platform, 0, 0, 0, 0, 0, 0, 0))
        # flagged threads stay in the figures (a missed response is missed whatever came later) and are
        # counted apart as well
        row.non_genuine += state.non_genuine
        row.threads += 1
        clocks = {c.name: c for c in thread_clocks(state, now=now)}
        first, follow = clocks["first_response"].status, clocks["follow_up"].status
        row.first_met += first == ClockStatus.MET
        row.first_breached += first == ClockStatus.BREACHED
        row.first_pending += first == ClockStatus.PENDING
        row.follow_met += follow == ClockStatus.MET
        row.follow_breached += follow == ClockStatus.BREACHED
    return [table[k] for k in sorted(table)]


def resolved_privately(*, session: Session, limit: int = 100) -> list[tuple[SocialThreadState, Interaction]]:
    query = (select(SocialThreadState, Interaction)
             .join(Interaction, col(Interaction.id) == SocialThreadState.interaction_id)
             .where(col(SocialThreadState.resolved_privately).is_(True))
             .order_by(col(SocialThreadState.last_agent_reply_at).desc()).limit(limit))
    return [(s, i) for s, i in session.exec(query).all()]


def non_genuine_threads(*, session: Session, limit: int = 100) -> list[SocialThreadState]:
    return list(session.exec(select(SocialThreadState).where(col(SocialThreadState.non_genuine).is_(True))
                             .order_by(col(SocialThreadState.non_genuine_at).desc()).limit(limit)).all())


def _facts(state: SocialThreadState, quality: dict[int, float] | None = None) -> ThreadFacts:
    status = state.first_response_status
    return ThreadFacts(
        quality=(quality or {}).get(state.interaction_id),
        process=state.process, answered=state.first_response_at is not None,
        response_seconds=state.first_response_business_seconds,
        within_target=None if status == ClockStatus.PENDING else status == ClockStatus.MET,
        engagement=state.engagement,
        resolved=state.resolved_at is not None or state.private_resolution_at is not None
        or state.resolved_privately or (state.first_response_at is not None and not state.problem_open),
        customer_posted_again=state.customer_posted_again)


@dataclass
class ProcessReport:
    rows: list[ProcessMetrics]
    months: list[str]
    trend: dict[str, dict[str, float | None]]  # process → month → maturity


def process_report(*, session: Session, months: int = 6) -> ProcessReport:
    """Leading metrics and maturity per process over every thread with a customer post (flagged non-genuine
    ones included: a flag never improves the figures), with the maturity per month."""
    states = [s for s in session.exec(select(SocialThreadState).where(
        col(SocialThreadState.first_customer_post_at).is_not(None))).all()]
    # quality of response: the evaluations of the social replies (the evaluations feature owns the scores)
    quality = evaluations.mean_scores_by_interaction(session=session, interaction_ids=[s.interaction_id for s in states])
    rows = [process_metrics(p, [_facts(s, quality) for s in states if s.process == p]) for p in PROCESSES]
    by_month: dict[str, list[SocialThreadState]] = {}
    for state in states:
        assert state.first_customer_post_at is not None
        by_month.setdefault(as_utc(state.first_customer_post_at).strftime("%Y-%m"), []).append(state)
    recent = sorted(by_month)[-months:]
    trend = {p: {m: process_metrics(p, [_facts(s, quality) for s in by_month[m] if s.process == p]).maturity
                 for m in recent} for p in PROCESSES}
    return ProcessReport(rows=rows, months=recent, trend=trend)
