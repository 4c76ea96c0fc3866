"""The periodic sweep: refresh open threads' clocks, flag non-genuine complaints, raise and deliver alerts."""

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from app.core.timeutil import as_utc, utcnow
from app.social import alerts, service

SPIKE_LOOKBACK_HOURS = 24


def sweep(*, session: Session, now: datetime | None = None, spikes_since: datetime | None = None,
          post: alerts.Poster | None = None) -> dict[str, Any]:
    """One pass (idempotent: alerts are deduplicated, flags set once). Commits. Returns what it did."""
    now = as_utc(now or utcnow())
    ids = service.open_thread_ids(session=session)
    for interaction_id in ids:
        service.refresh_thread(session=session, interaction_id=interaction_id, now=now)
    flagged = service.mark_non_genuine_where_due(session=session, now=now)
    unattended = alerts.raise_unattended_alerts(session=session, now=now)
    spike_window = spikes_since or now - timedelta(hours=SPIKE_LOOKBACK_HOURS)
    spikes = alerts.detect_negativity_spikes(session=session, since=spike_window, until=now, include_volume=True)
    spikes += alerts.detect_mention_spikes(session=session, since=spike_window, until=now)
    session.commit()
    delivery = alerts.deliver_alerts(session=session, now=now, **({"post": post} if post else {}))
    session.commit()
    return {"threads_refreshed": len(ids), "non_genuine_flagged": flagged, "unattended_alerts": len(unattended),
            "spike_alerts": len(spikes), "webhook": delivery}
