"""Social imports: posts, comments and replies grouped into one interaction per thread (the root post),
joining threads imported earlier; social care is told of every thread written."""

from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from app.core.audit import Actor
from app.core.errors import InvalidInput
from app.core.hooks import SOCIAL_THREAD_WRITTEN, SocialThreadWritten
from app.core.inputs import json_document
from app.core.settings import Settings
from app.core.timeutil import as_utc
from app.ingest import writing
from app.ingest.models import ImportReport, SocialPost
from app.interactions import customers
from app.interactions import service as interactions
from app.interactions.models import Interaction, Message
from app.interactions.service import InteractionData, MessageData, UpsertStatus


def read_social(path: Path) -> list[tuple[int, Any]]:
    """The `posts` of a social.json file as (item number, post). Raises InvalidInput naming the line of the
    first problem when the file is not JSON."""
    return social_records(json_document(path.read_bytes(), what=path.name))


def social_records(document: Any) -> list[tuple[int, Any]]:
    posts = document.get("posts") if isinstance(document, dict) else document
    if not isinstance(posts, list):
        raise InvalidInput('expected {"posts": [...]} or a list of posts')
    return list(enumerate(posts, start=1))


def import_social(*, session: Session, records: Iterable[tuple[int, Any]], source: str = "import",
                  actor: Actor | None = None, settings: Settings | None = None,
                  progress: writing.Progress = writing.no_progress, background: bool = False) -> ImportReport:
    """Posts, comments and replies; a thread (root post and its descendants) is one interaction whose
    external id is the root post's id (the platform is kept in `platform`). Replies to a post imported
    earlier join that thread."""
    report = ImportReport()
    commits = writing.Commits(session, background=background)
    posts: dict[tuple[str, str], tuple[int, SocialPost]] = {}
    for number, raw in records:
        try:
            post = writing.validate_record(SocialPost, raw)
            posts[(post.platform.lower(), post.post_id)] = (number, post)
        except InvalidInput as exc:
            report.reject(number, exc.message)
    threads: OrderedDict[tuple[str, str], list[tuple[int, SocialPost]]] = OrderedDict()
    for (platform, _), (number, post) in sorted(posts.items(), key=lambda kv: (kv[1][1].created_at, kv[1][0])):
        threads.setdefault(_social_thread_key(session, source, platform, post, posts), []).append((number, post))
    resolver = writing.Resolver(session=session, region=writing.phone_region(settings), actor=actor)

    def write(thread: tuple[tuple[str, str], list[tuple[int, SocialPost]]]) -> None:
        key, members = thread
        _import_social_thread(session=session, resolver=resolver, report=report, source=source, key=key,
                              members=members)
        _refresh_care_state(session=session, source=source, external_id=key[1])

    writing.write_in_batches(
        list(threads.items()), commits=commits, report=report, progress=progress, write=write,
        texts=lambda thread: writing.with_previous([post.text for _, post in thread[1]]))
    session.commit()
    return report


def _refresh_care_state(*, session: Session, source: str, external_id: str) -> None:
    """Social care's clocks and flags follow every message written to a thread (social handles the hook)."""
    thread = interactions.get_by_external_id(session=session, source=source, external_id=external_id)
    if thread is not None and thread.id is not None:
        SOCIAL_THREAD_WRITTEN.emit(SocialThreadWritten(session=session, interaction_id=thread.id))


def _social_thread_key(session: Session, source: str, platform: str, post: SocialPost,
                       posts: dict[tuple[str, str], tuple[int, SocialPost]]) -> tuple[str, str]:
    """(platform, external id of the thread): the root post's id, found in this import or an earlier one."""
    seen = set()
    current = post
    while current.parent_id and current.parent_id not in seen:
        seen.add(current.post_id)
        parent = posts.get((platform, current.parent_id))
        if parent is None:
            existing = session.exec(
                select(Interaction.external_id).join(Message, col(Message.interaction_id) == col(Interaction.id))
                .where(Interaction.source == source, Interaction.channel == "social",
                       Interaction.platform == platform, Message.external_id == current.parent_id)).first()
            if existing:
                return platform, existing
            break
        current = parent[1]
    return platform, current.post_id


def _import_social_thread(*, session: Session, resolver: writing.Resolver, report: ImportReport, source: str,
                          key: tuple[str, str], members: list[tuple[int, SocialPost]]) -> None:
    platform, external_id = key
    messages: list[tuple[int, MessageData]] = []
    customer: SocialPost | None = None
    agent_id: int | None = None
    for number, post in members:
        try:
            author_agent = resolver.agent_id(post.agent) if post.author_role == "agent" else None
            handle = customers.normalise_handle(post.author_handle)
        except InvalidInput as exc:
            report.reject(number, exc.message, external_id)
            continue
        if post.author_role == "customer":
            customer = customer or post
        else:
            agent_id = author_agent
        messages.append((number, MessageData(
            external_id=post.post_id, author_role=post.author_role, sent_at=post.created_at, text=post.text,
            author_name=post.display_name, author_handle=handle, agent_id=author_agent, is_public=post.is_public,
            parent_external_id=post.parent_id,
            extra={"follower_count": post.follower_count, "url": post.url, "platform": platform,
                   **(post.engagement or {})})))
    if not messages:
        return
    root = messages[0][1]

    def write() -> UpsertStatus:
        existing = interactions.get_by_external_id(session=session, source=source, external_id=external_id)
        customer_id = None
        if customer is not None:
            customer_id = resolver.customer_id(
                [customers.normalise_identity("social", customer.author_handle, platform)], customer.display_name)
        started = root.sent_at if existing is None else min(as_utc(existing.started_at), root.sent_at)
        extra: dict[str, Any] = {}
        if existing is None or external_id == root.external_id:
            extra = {"url": root.extra.get("url"), "follower_count": root.extra.get("follower_count"),
                     "is_public": root.is_public, "root_post_id": external_id}
        # what this file does not say (no customer post, no agent reply, no url) keeps the stored value
        return interactions.upsert_interaction(session=session, data=InteractionData(
            source=source, external_id=external_id, channel="social", platform=platform, started_at=started,
            ended_at=writing.latest_end([m.sent_at for _, m in messages], existing), customer_id=customer_id,
            agent_id=agent_id, extra=extra, messages=[m for _, m in messages]), stored=existing)[1]

    writing.write_interaction(session, report, [n for n, _ in messages], external_id, write)
