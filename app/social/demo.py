"""Demo: compute the care state of every social thread, then run the sweep (non-genuine flags, alerts).

The interaction importer loads demo/social.json (order 10); when it has not (no demo social thread in the
store), this loader records the threads itself with the same keys (source "demo", root post id), so a
later import never doubles them.
"""

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from app.auth.models import User
from app.core.db import session_scope
from app.core.jobs import Runtime
from app.core.timeutil import utcnow
from app.interactions.models import Channel, Interaction
from app.social import listening, service
from app.social.models import ListeningRule
from app.social.sweep import sweep
from app.social.threads import Post, record_thread

DEMO_ORDER = 50
DEMO_SOURCE = "demo"


def threads_of(posts: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Group posts by their root post (a post's root is found by following parent ids)."""
    by_id = {str(p["post_id"]): p for p in posts}
    groups: dict[str, list[dict[str, Any]]] = {}
    for post in posts:
        root, seen = post, set()
        while root.get("parent_id") and str(root["parent_id"]) in by_id and str(root["post_id"]) not in seen:
            seen.add(str(root["post_id"]))
            root = by_id[str(root["parent_id"])]
        groups.setdefault(str(root["post_id"]), []).append(post)
    return groups


def record_demo_threads(*, session: Session, path: Path) -> int:
    data = json.loads(path.read_text(encoding="utf-8"))
    agents = {u.username: u.id for u in session.exec(select(User)).all()}
    count = 0
    for root_id, posts in threads_of(data.get("posts", [])).items():
        items = [Post(post_id=str(p["post_id"]), author_role=p.get("author_role", "customer"), text=p.get("text", ""),
                      sent_at=datetime.fromisoformat(p["created_at"]), author_handle=p.get("author_handle"),
                      is_public=bool(p.get("is_public", True)), follower_count=p.get("follower_count"),
                      parent_id=p.get("parent_id"), url=p.get("url"), agent_id=agents.get(p.get("agent") or ""),
                      extra={"display_name": p.get("display_name")} if p.get("display_name") else {})
                 for p in posts]
        record_thread(session=session, platform=str(posts[0].get("platform", "twitter")), posts=items,
                      source=DEMO_SOURCE, root_post_id=root_id)
        count += 1
    return count


def load_demo(*, runtime: Runtime, log: Callable[[str], None]) -> None:
    path = runtime.settings.demo_dir / "social.json"
    with session_scope(runtime.sessions) as session:
        has_demo_threads = session.exec(select(Interaction.id).where(
            Interaction.channel == Channel.SOCIAL, Interaction.source == DEMO_SOURCE)).first() is not None
        if not has_demo_threads and path.exists():
            log(f"demo: social: {record_demo_threads(session=session, path=path)} thread(s) recorded from {path.name}")
        if not listening.list_rules(session=session):  # the demo brand's names, so the queue shows mentions
            session.add(ListeningRule(name="Kestrel", kind="brand", terms=["Kestrel", "KestrelHelp"]))
            session.add(ListeningRule(name="Switching", kind="competitor", terms=["switch", "switching", "leaving"]))
            session.flush()
        ids = service.social_thread_ids(session=session)
        for interaction_id in ids:
            service.refresh_thread(session=session, interaction_id=interaction_id)
        session.commit()
        first = min((s.first_customer_post_at for s in (service.get_state(session=session, interaction_id=i)
                                                         for i in ids) if s.first_customer_post_at), default=None)
        result = sweep(session=session, spikes_since=first or utcnow())
    log(f"demo: social: {len(ids)} thread(s) refreshed; {len(result['non_genuine_flagged'])} marked non-genuine, "
        f"{result['unattended_alerts']} unattended and {result['spike_alerts']} spike alert(s)")
