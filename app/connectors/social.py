"""Social exports → posts, comments and replies for app.ingest's `import_social` (one thread per root post).

Formats followed:
- Facebook Graph API v19+ page feed: GET /{page-id}/feed?fields=id,message,created_time,from,permalink_url,
  comments{id,message,created_time,from,comments} → {"data": [...]}. Posts and comments `from` the page
  itself (its id is the prefix of the post id, or `--page-id`) are the brand's replies (author_role agent).
- X/Twitter account archive `data/tweets.js`: `window.YTD.tweets.part0 = [{"tweet": {id_str, full_text,
  created_at "Wed Oct 10 20:19:24 +0000 2018", in_reply_to_status_id_str, in_reply_to_screen_name}}]`;
  the archive holds the account's own tweets, so every tweet is the brand's (author_role agent), with the
  handle from `account.js` beside it (or `--handle`).
- Instagram Graph API media with comments: {"data": [{id, caption, timestamp, username, permalink,
  comments{data: [{id, text, timestamp, username, replies{data: [...]}}]}}]}; the account's own comments
  (username == the media owner) are the brand's replies.
Records are numbered in reading order (post, its comments, their replies) for the rejection report.
"""

import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from app.connectors.common import parse_time
from app.core.errors import InvalidInput
from app.core.inputs import decode_text, json_document
from app.core.settings import Settings
from app.ingest.models import ImportReport

SocialRecords = Iterator[tuple[int, Any]]
YTD_PREFIX = re.compile(r"^\s*window\.YTD\.[\w.]+\s*=\s*", re.ASCII)


def _numbered(items: list[Any]) -> SocialRecords:
    yield from enumerate(items, start=1)


def _time(value: Any, what: str) -> str | InvalidInput:
    try:
        return parse_time(value, what=what).isoformat()
    except InvalidInput as exc:
        return exc


def _post(platform: str, *, post_id: Any, parent: Any, handle: Any, name: Any, text: Any, created: Any,
          brand: bool, url: Any = None) -> dict[str, Any] | InvalidInput:
    created_at = _time(created, "created_time")
    if isinstance(created_at, InvalidInput):
        return created_at
    if not post_id:
        return InvalidInput("id is missing")
    return {"platform": platform, "post_id": str(post_id), "parent_id": str(parent) if parent else None,
            "author_handle": str(handle or name or "unknown").replace(" ", "_"), "display_name": name,
            "author_role": "agent" if brand else "customer", "text": text or "", "created_at": created_at,
            "url": url}


# ---------------------------------------------------------------- Facebook


def read_facebook(path: Path, *, page_id: str | None = None) -> SocialRecords:
    document = json_document(path.read_bytes(), what=path.name)
    posts = document.get("data") if isinstance(document, dict) else document
    if not isinstance(posts, list):
        raise InvalidInput(f'{path.name}: expected the Graph API shape {{"data": [...]}}')
    items: list[Any] = []

    def walk(node: Any, parent: str | None, page: str | None) -> None:
        if not isinstance(node, dict):
            items.append(InvalidInput("expected an object"))
            return
        author = node.get("from") or {}
        items.append(_post("facebook", post_id=node.get("id"), parent=parent, handle=author.get("id"),
                           name=author.get("name"), text=node.get("message"), created=node.get("created_time"),
                           brand=bool(page) and author.get("id") == page, url=node.get("permalink_url")))
        for child in (node.get("comments") or {}).get("data") or []:
            walk(child, str(node.get("id")), page)

    for post in posts:
        own_page = page_id or (str(post.get("id", "")).split("_")[0] if isinstance(post, dict) else None)
        walk(post, None, own_page)
    return _numbered(items)


# ---------------------------------------------------------------- X / Twitter


def read_ytd(path: Path) -> Any:
    """The JSON inside a `window.YTD.<name>.part0 = [...]` archive file."""
    text = decode_text(path.read_bytes(), what=path.name)
    match = YTD_PREFIX.match(text)
    if match is None:
        raise InvalidInput(f"{path.name} does not start with window.YTD.<name>.partN =")
    try:
        return json.loads(text[match.end():].rstrip().rstrip(";"))
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path.name}: not valid JSON after the window.YTD prefix: {exc.msg} at line "
                           f"{exc.lineno}, column {exc.colno}") from exc
    except RecursionError as exc:
        raise InvalidInput(f"{path.name}: not valid JSON after the window.YTD prefix: nested too deeply") from exc


def _twitter_time(value: Any) -> str | InvalidInput:
    try:
        return datetime.strptime(str(value), "%a %b %d %H:%M:%S %z %Y").isoformat()
    except ValueError:
        return InvalidInput(f"created_at: not a Twitter date: {value!r}")


def read_tweets(path: Path, *, handle: str | None = None) -> SocialRecords:
    if handle is None and (path.parent / "account.js").exists():
        accounts = read_ytd(path.parent / "account.js")
        handle = accounts[0]["account"]["username"] if accounts else None
    items: list[Any] = []
    entries = read_ytd(path)
    if not isinstance(entries, list):
        raise InvalidInput(f"{path.name}: expected a list of tweets after the window.YTD prefix")
    for entry in entries:
        tweet = entry.get("tweet") if isinstance(entry, dict) else None
        if not isinstance(tweet, dict):
            items.append(InvalidInput('expected {"tweet": {...}}'))
            continue
        created = _twitter_time(tweet.get("created_at"))
        if isinstance(created, InvalidInput):
            items.append(created)
            continue
        tweet_id = tweet.get("id_str") or tweet.get("id")
        items.append(InvalidInput("id_str is missing") if not tweet_id else {
            "platform": "twitter", "post_id": str(tweet_id), "parent_id": tweet.get("in_reply_to_status_id_str"),
            "author_handle": handle or "me", "display_name": handle, "author_role": "agent",
            "text": tweet.get("full_text") or tweet.get("text") or "", "created_at": created,
            "url": f"https://x.com/{handle}/status/{tweet_id}" if handle else None})
    return _numbered(items)


# ---------------------------------------------------------------- Instagram


def read_instagram(path: Path) -> SocialRecords:
    document = json_document(path.read_bytes(), what=path.name)
    media_list = document.get("data") if isinstance(document, dict) else document
    if not isinstance(media_list, list):
        raise InvalidInput(f'{path.name}: expected the Graph API shape {{"data": [...]}}')
    items: list[Any] = []
    for media in media_list:
        if not isinstance(media, dict):
            items.append(InvalidInput("expected a media object"))
            continue
        owner = media.get("username")
        items.append(_post("instagram", post_id=media.get("id"), parent=None, handle=owner, name=owner,
                           text=media.get("caption"), created=media.get("timestamp"), brand=True,
                           url=media.get("permalink")))
        for comment in (media.get("comments") or {}).get("data") or []:
            items.append(_post("instagram", post_id=comment.get("id"), parent=media.get("id"),
                               handle=comment.get("username"), name=comment.get("username"),
                               text=comment.get("text"), created=comment.get("timestamp"),
                               brand=comment.get("username") == owner))
            for reply in (comment.get("replies") or {}).get("data") or []:
                items.append(_post("instagram", post_id=reply.get("id"), parent=comment.get("id"),
                                   handle=reply.get("username"), name=reply.get("username"),
                                   text=reply.get("text"), created=reply.get("timestamp"),
                                   brand=reply.get("username") == owner))
    return _numbered(items)


def import_posts(*, session: Session, settings: Settings | None, records: SocialRecords,
                 source: str) -> ImportReport:
    """Records that failed to convert are rejected here with their reason; the rest go to import_social."""
    from app.ingest import service as ingest

    good: list[tuple[int, Any]] = []
    rejected: list[tuple[int, str]] = []
    for number, record in records:
        if isinstance(record, InvalidInput):
            rejected.append((number, record.message))
        else:
            good.append((number, record))
    report = ingest.import_social(session=session, records=good, source=source, settings=settings)
    for number, reason in rejected:
        report.reject(number, reason)
    report.rejected.sort(key=lambda r: r.line)
    return report
