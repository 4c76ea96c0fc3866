"""Alerts: unattended customer posts (before and at breach) and negativity spikes; shown on the dashboard
and POSTed as JSON to the platform's webhook. Delivery runs in the sweep job, never in a web request, with a
short timeout; a failed delivery is retried on the next sweeps up to MAX_DELIVERY_ATTEMPTS."""

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import httpx
from sqlmodel import Session, col, select
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from app.core.audit import Actor
from app.core.errors import NotFound
from app.core.hooks import PUBLISH_EVENT, Event, EventType
from app.core.listing import Page, paginate
from app.core.timeutil import as_utc, utcnow
from app.interactions import content
from app.interactions.models import AuthorRole, Channel, Interaction, Message
from app.social import listening
from app.social.channels import get_config
from app.social.models import SocialAlert, SocialThreadState
from app.social.service import thread_clocks
from app.social.stats import (
    SHARE_BASELINE_DAYS,
    SHARE_TEST,
    SPIKE_BASELINE_HOURS,
    SPIKE_TEST,
    VOLUME_SPIKE_TEST,
    detect_share_spikes,
    detect_spikes,
)

MAX_DELIVERY_ATTEMPTS = 5
WEBHOOK_TIMEOUT_SECONDS = 5.0
NEGATIVE_COMPOUND = -0.05


class AlertKind:
    MENTION_SPIKE = "mention_spike"
    UNATTENDED_WARNING = "unattended_warning"
    UNATTENDED_BREACH = "unattended_breach"
    NEGATIVITY_SPIKE = "negativity_spike"
    VOLUME_SPIKE = "volume_spike"
    NEGATIVE_SHARE_SPIKE = "negative_share_spike"


def _add_alert(session: Session, *, kind: str, platform: str, dedupe_key: str, message: str,
               details: dict[str, Any], interaction_id: int | None = None,
               created_at: datetime | None = None) -> SocialAlert | None:
    if session.exec(select(SocialAlert.id).where(SocialAlert.dedupe_key == dedupe_key)).first() is not None:
        return None
    alert = SocialAlert(kind=kind, platform=platform, interaction_id=interaction_id, dedupe_key=dedupe_key,
                        message=message, details=details, created_at=created_at or utcnow())
    session.add(alert)
    session.flush()
    _publish_alert(session, alert)
    return alert


def _publish_alert(session: Session, alert: SocialAlert) -> None:
    """The documented outbound events (app/connectors/webhooks.py), once per alert: a warning is
    `social.unattended_post`, a breach `sla.breached`, a spike `alert.spike`."""
    details = alert.details
    if alert.kind == AlertKind.UNATTENDED_WARNING:
        since = datetime.fromisoformat(details["waiting_since"])
        event, payload = EventType.SOCIAL_UNATTENDED_POST, {
            "interaction_id": alert.interaction_id, "platform": alert.platform,
            "post_url": details.get("post_url"), "alert_id": alert.id,
            "waiting_minutes": round((as_utc(alert.created_at) - since).total_seconds() / 60)}
    elif alert.kind == AlertKind.UNATTENDED_BREACH:
        event, payload = EventType.SLA_BREACHED, {
            "interaction_id": alert.interaction_id, "platform": alert.platform, "sla": details.get("sla", "reply"),
            "due_at": details["reply_due_at"], "breached_at": details["reply_due_at"], "alert_id": alert.id}
    else:
        event, payload = EventType.ALERT_SPIKE, {
            "alert_id": alert.id, "platform": alert.platform,
            "metric": f"mentions: {details['rule']}" if alert.kind == AlertKind.MENTION_SPIKE else alert.kind,
            "window": details.get("hour") or details.get("day"),
            "value": details.get("count", details.get("share")),
            "baseline": details.get("baseline_mean", details.get("baseline_share"))}
    PUBLISH_EVENT.emit(Event(session=session, type=event, data=payload))


def raise_unattended_alerts(*, session: Session, now: datetime | None = None) -> list[SocialAlert]:
    """One alert per waiting post per level: a warning when its reply clock (from `thread_clocks`, what the
    queue and the thread page show) comes within the threshold of its due time, a breach at the due time.
    A post first seen past due gets the breach alone."""
    now = as_utc(now or utcnow())
    raised = []
    states = session.exec(select(SocialThreadState).where(
        col(SocialThreadState.awaiting_reply_since).is_not(None), col(SocialThreadState.next_due_at).is_not(None),
        col(SocialThreadState.non_genuine).is_(False), col(SocialThreadState.resolved_at).is_(None))).all()
    for state in states:
        # the clock of the waiting post, read from the same computation the pages show
        clock = next((c for c in thread_clocks(state, now=now)
                      if c.running and c.due_at is not None and c.name in ("first_response", "reply")), None)
        if clock is None or clock.due_at is None:
            continue
        assert state.awaiting_reply_since is not None
        due, since = as_utc(clock.due_at), as_utc(state.awaiting_reply_since)
        config = get_config(session=session, platform=state.platform)
        warn_at = due - timedelta(seconds=config.alert_before_breach_seconds)
        levels = ([(AlertKind.UNATTENDED_BREACH, due, "breached")] if now >= due else
                  [(AlertKind.UNATTENDED_WARNING, warn_at, "due")])
        for kind, starts, label in levels:
            if now < starts:
                continue
            who = state.author_handle or "a customer"
            waiting_post = session.exec(select(Message).where(
                Message.interaction_id == state.interaction_id, Message.author_role == AuthorRole.CUSTOMER,
                col(Message.sent_at) >= since).order_by(col(Message.sent_at))).first()
            text = (f"{state.platform}: post by {who} unanswered since {since:%Y-%m-%d %H:%M} UTC — {clock.label} "
                    f"{'was due' if label == 'breached' else 'due'} at {due:%Y-%m-%d %H:%M} UTC")
            alert = _add_alert(session, kind=kind, platform=state.platform, interaction_id=state.interaction_id,
                               dedupe_key=f"{kind}:{state.interaction_id}:{since.isoformat()}", message=text,
                               created_at=now,
                               details={"waiting_since": since.isoformat(), "reply_due_at": due.isoformat(),
                                        "sla": clock.name, "author_handle": state.author_handle,
                                        "post_url": waiting_post.extra.get("url") if waiting_post else None,
                                        "thread_url": f"/social/threads/{state.interaction_id}"})
            if alert:
                raised.append(alert)
    return raised


@lru_cache(maxsize=1)
def _analyzer() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def is_negative(text: str) -> bool:
    return float(_analyzer().polarity_scores(text)["compound"]) <= NEGATIVE_COMPOUND


def _hour(value: datetime) -> datetime:
    return as_utc(value).replace(minute=0, second=0, microsecond=0)


def detect_negativity_spikes(*, session: Session, since: datetime, until: datetime | None = None,
                             baseline_hours: int = SPIKE_BASELINE_HOURS,
                             include_volume: bool = False) -> list[SocialAlert]:
    """Judge every hour in [since, until) per platform against the trailing baseline; alert on spikes of
    negative customer posts (and, with `include_volume`, of all customer posts)."""
    until = as_utc(until or utcnow())
    start = _hour(since) - timedelta(hours=max(baseline_hours, SHARE_BASELINE_DAYS * 24))
    rows = session.exec(select(Message, Interaction.platform)
                        .join(Interaction, col(Interaction.id) == Message.interaction_id)
                        .where(Interaction.channel == Channel.SOCIAL, Message.author_role == AuthorRole.CUSTOMER,
                               col(Message.sent_at) >= start, col(Message.sent_at) < until)).all()
    negatives: dict[str, dict[datetime, list[Message]]] = {}
    volume: dict[str, dict[datetime, list[Message]]] = {}
    for message, platform in rows:
        volume.setdefault(platform or "", {}).setdefault(_hour(message.sent_at), []).append(message)
        if is_negative(message.text):
            negatives.setdefault(platform or "", {}).setdefault(_hour(message.sent_at), []).append(message)
    hours_total = int((_hour(until) - start).total_seconds() // 3600) + 1
    hours = [start + timedelta(hours=i) for i in range(hours_total)]
    judged_from = int((_hour(since) - start).total_seconds() // 3600)
    raised = _spike_alerts(session, AlertKind.NEGATIVITY_SPIKE, "negative posts", SPIKE_TEST, negatives, hours,
                           baseline_hours, judged_from)
    raised += _daily_share_alerts(session, volume, negatives, since=since, until=until)
    if include_volume:
        raised += _spike_alerts(session, AlertKind.VOLUME_SPIKE, "posts", VOLUME_SPIKE_TEST, volume, hours,
                                baseline_hours, judged_from)
    return raised


def detect_mention_spikes(*, session: Session, since: datetime, until: datetime | None = None,
                          baseline_hours: int = SPIKE_BASELINE_HOURS) -> list[SocialAlert]:
    """Per listening rule (brand or competitor keywords), hours in [since, until) whose count of matching
    customer posts is a spike against the trailing baseline (the same test as the negativity spikes)."""
    rules = listening.list_rules(session=session, active_only=True)
    if not rules:
        return []
    until = as_utc(until or utcnow())
    start = _hour(since) - timedelta(hours=baseline_hours)
    rows = session.exec(select(Message).join(Interaction, col(Interaction.id) == Message.interaction_id)
                        .where(Interaction.channel == Channel.SOCIAL, Message.author_role == AuthorRole.CUSTOMER,
                               col(Message.sent_at) >= start, col(Message.sent_at) < until)).all()
    by_rule: dict[str, dict[datetime, list[Message]]] = {}
    for message in rows:
        for name in listening.matching_rules(message.text, rules):
            by_rule.setdefault(name, {}).setdefault(_hour(message.sent_at), []).append(message)
    hours_total = int((_hour(until) - start).total_seconds() // 3600) + 1
    hours = [start + timedelta(hours=i) for i in range(hours_total)]
    judged_from = int((_hour(since) - start).total_seconds() // 3600)
    kinds = {r.name: r.kind for r in rules}
    raised = []
    for name, by_hour in sorted(by_rule.items()):
        series = [(h, len(by_hour.get(h, []))) for h in hours]
        for spike in detect_spikes(series, baseline_hours=baseline_hours, from_index=judged_from):
            posts = by_hour[spike.hour]
            alert = _add_alert(
                session, kind=AlertKind.MENTION_SPIKE, platform="",
                dedupe_key=f"{AlertKind.MENTION_SPIKE}:{name}:{spike.hour.isoformat()}",
                message=(f"{spike.count} posts mentioning {name} ({kinds[name]}) in the hour from "
                         f"{spike.hour:%Y-%m-%d %H:00} UTC (baseline {spike.baseline_mean:.2f} ± "
                         f"{spike.baseline_sd:.2f} an hour)"),
                details={"rule": name, "rule_kind": kinds[name], "hour": spike.hour.isoformat(),
                         "count": spike.count, "baseline_mean": spike.baseline_mean,
                         "baseline_sd": spike.baseline_sd, "threshold": spike.threshold,
                         "posts": [{"interaction_id": m.interaction_id, "author_handle": m.author_handle,
                                    "text": content.REDACTED.message_text(m)[:280], "sent_at": as_utc(m.sent_at).isoformat()}
                                   for m in posts[:5]]})
            if alert:
                raised.append(alert)
    return raised


def _day(value: datetime) -> datetime:
    return as_utc(value).replace(hour=0, minute=0, second=0, microsecond=0)


def _daily_share_alerts(session: Session, volume: dict[str, dict[datetime, list[Message]]],
                        negatives: dict[str, dict[datetime, list[Message]]], *, since: datetime,
                        until: datetime) -> list[SocialAlert]:
    """Per platform and day: the share of negative posts against the previous days (two-proportion z-test).

    The posts were loaded from SHARE_BASELINE_DAYS before `since`, so every judged day has its full baseline.
    """
    raised = []
    for platform, by_hour in sorted(volume.items()):
        totals: dict[datetime, int] = {}
        negative: dict[datetime, int] = {}
        for hour, posts in by_hour.items():
            totals[_day(hour)] = totals.get(_day(hour), 0) + len(posts)
        for hour, posts in negatives.get(platform, {}).items():
            negative[_day(hour)] = negative.get(_day(hour), 0) + len(posts)
        if not totals:
            continue
        first_day, last_day = min(totals), _day(until)
        days = [first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1)]
        series = [(d, negative.get(d, 0), totals.get(d, 0)) for d in days]
        judged_from = next((i for i, d in enumerate(days) if d >= _day(since)), len(days))
        for spike in detect_share_spikes(series, from_index=judged_from):
            posts = [m for h, ms in negatives.get(platform, {}).items() if _day(h) == spike.day for m in ms]
            alert = _add_alert(
                session, kind=AlertKind.NEGATIVE_SHARE_SPIKE, platform=platform,
                dedupe_key=f"{AlertKind.NEGATIVE_SHARE_SPIKE}:{platform}:{spike.day.date().isoformat()}",
                message=(f"{platform}: {spike.share:.0%} of {spike.total} posts negative on {spike.day:%Y-%m-%d} "
                         f"(baseline {spike.baseline_share:.0%}, z = {spike.z:.1f}, p = {spike.p_value:.1e})"),
                details={"day": spike.day.date().isoformat(), "negatives": spike.negatives, "total": spike.total,
                         "share": spike.share, "baseline_share": spike.baseline_share, "z": spike.z,
                         "p_value": spike.p_value, "test": SHARE_TEST,
                         "posts": [{"interaction_id": m.interaction_id, "author_handle": m.author_handle,
                                    "text": content.REDACTED.message_text(m)[:280],
                                    "sent_at": as_utc(m.sent_at).isoformat()}
                                   for m in posts[:5]]})
            if alert:
                raised.append(alert)
    return raised


def _spike_alerts(session: Session, kind: str, noun: str, test: str, by_platform: dict[str, dict[datetime, list[Message]]],
                  hours: list[datetime], baseline_hours: int, judged_from: int) -> list[SocialAlert]:
    raised = []
    for platform, by_hour in sorted(by_platform.items()):
        series = [(h, len(by_hour.get(h, []))) for h in hours]
        for spike in detect_spikes(series, baseline_hours=baseline_hours, from_index=judged_from):
            posts = by_hour[spike.hour]
            samples = [{"interaction_id": m.interaction_id, "author_handle": m.author_handle,
                        "text": content.REDACTED.message_text(m)[:280],
                        "sent_at": as_utc(m.sent_at).isoformat()} for m in posts[:5]]
            alert = _add_alert(
                session, kind=kind, platform=platform, dedupe_key=f"{kind}:{platform}:{spike.hour.isoformat()}",
                message=(f"{platform}: {spike.count} {noun} in the hour from {spike.hour:%Y-%m-%d %H:00} UTC "
                         f"(baseline {spike.baseline_mean:.2f} ± {spike.baseline_sd:.2f} an hour, "
                         f"threshold {spike.threshold:.2f})"),
                details={"hour": spike.hour.isoformat(), "count": spike.count, "baseline_mean": spike.baseline_mean,
                         "baseline_sd": spike.baseline_sd, "threshold": spike.threshold, "test": test,
                         "posts": samples})
            if alert:
                raised.append(alert)
    return raised


Poster = Callable[[str, dict[str, Any]], None]


def _http_post(url: str, body: dict[str, Any]) -> None:
    response = httpx.post(url, json=body, timeout=WEBHOOK_TIMEOUT_SECONDS)
    response.raise_for_status()


def alert_payload(alert: SocialAlert) -> dict[str, Any]:
    return {"id": alert.id, "kind": alert.kind, "platform": alert.platform, "interaction_id": alert.interaction_id,
            "message": alert.message, "details": alert.details,
            "created_at": as_utc(alert.created_at).isoformat()}


def deliver_alerts(*, session: Session, post: Poster = _http_post, now: datetime | None = None) -> dict[str, int]:
    """POST undelivered alerts to their platform's webhook; failures are counted and retried next time."""
    now = as_utc(now or utcnow())
    sent = failed = 0
    pending = session.exec(select(SocialAlert).where(col(SocialAlert.delivered_at).is_(None),
                                                     SocialAlert.delivery_attempts < MAX_DELIVERY_ATTEMPTS)
                           .order_by(col(SocialAlert.id))).all()
    for alert in pending:
        url = get_config(session=session, platform=alert.platform).webhook_url
        if not url:
            continue
        alert.delivery_attempts += 1
        try:
            post(url, alert_payload(alert))
        except Exception as exc:  # the receiver's problem must never stop the sweep
            alert.delivery_error = f"{type(exc).__name__}: {exc}"[:2000]
            failed += 1
        else:
            alert.delivered_at, alert.delivery_error = now, None
            sent += 1
        session.add(alert)
    session.flush()
    return {"sent": sent, "failed": failed}


def list_alerts(*, session: Session, open_only: bool = True, page: int = 1, per_page: int = 100) -> Page[SocialAlert]:
    """One page of the alerts (open ones only unless `open_only` is False), newest first."""
    query = select(SocialAlert).order_by(col(SocialAlert.created_at).desc(), col(SocialAlert.id).desc())
    if open_only:
        query = query.where(col(SocialAlert.acknowledged_at).is_(None))
    return paginate(query, page=page, per_page=per_page, session=session)


def acknowledge(*, session: Session, alert_id: int, actor: Actor) -> SocialAlert:
    alert = session.get(SocialAlert, alert_id)
    if alert is None:
        raise NotFound(f"alert {alert_id} not found")
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by_id = utcnow(), actor.user_id
        session.add(alert)
        session.commit()
    return alert
