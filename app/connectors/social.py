"""Social exports → posts, comments and replies for app.ingest's `import_social` (one thread per root post).

Formats followed:
- Facebook Graph API v19+ page feed: GET /{page-id}/feed?fields=id,message,created_time,from,permalink_url,
  reactions.summary(true),shares,comments{id,message,created_time,from,like_count,comments} → {"data": [...]}.
  Posts and comments `from` the page are the brand's (author_role agent); everyone else's — visitor posts,
  comments, and the posts of GET /{page-id}/tagged (mentions) — are customers'. The page is `--page-id`, or
  the id prefix shared by every post of the file (a feed); a file of mentions needs `--page-id`.
- X/Twitter, two shapes: the account archive `data/tweets.js` (`window.YTD.tweets.part0 = [{"tweet": {id_str,
  full_text, created_at "Wed Oct 10 20:19:24 +0000 2018", in_reply_to_status_id_str, favorite_count,
  retweet_count}}]`) holds the account's own tweets only (the brand's, handle from `account.js` or `--handle`);
  the API v2 answer of GET /2/users/:id/mentions or /2/tweets/search/recent (tweet.fields=created_at,author_id,
  referenced_tweets,public_metrics, expansions=author_id, user.fields=username,name,public_metrics) brings the
  customers' tweets and mentions: {"data": [...], "includes": {"users": [...]}}; a tweet is the brand's when
  its author is `--handle` (or the archive's account).
- Instagram Graph API media with comments: {"data": [{id, caption, timestamp, username, permalink, like_count,
  comments_count, comments{data: [{id, text, timestamp, username, like_count, replies{data: [...]}}]}}]}; the
  account's own media and comments are the brand's, everyone else's the customers' — including media of
  GET /{ig-user-id}/tags (where customers tag the brand). The account is the owner shared by every media of
  the file, or `account`.
Engagement the source reports (reactions, likes, shares, retweets, replies) travels with each post.
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
          brand: bool, url: Any = None, engagement: dict[str, int] | None = None,
          followers: Any = None) -> dict[str, Any] | InvalidInput:
    created_at = _time(created, "created_time")
    if isinstance(created_at, InvalidInput):
        return created_at
    if not post_id:
        return InvalidInput("id is missing")
    return {"platform": platform, "post_id": str(post_id), "parent_id": str(parent) if parent else None,
            "author_handle": str(handle or name or "unknown").replace(" ", "_"), "display_name": name,
            "author_role": "agent" if brand else "customer", "text": text or "", "created_at": created_at,
            "url": url, "engagement": engagement or None, "follower_count": _count(followers)}


def _count(value: Any) -> int | None:
    """A count as the sources send it (a number, a numeric string, or missing)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _engagement(**counts: Any) -> dict[str, int]:
    return {key: count for key, value in counts.items() if (count := _count(value)) is not None}


def _summary_count(node: dict[str, Any], key: str) -> Any:
    value = node.get(key)
    return ((value.get("summary") or {}).get("total_count") if isinstance(value, dict) else None)


def _shared_owner(owners: list[str]) -> str | None:
    """The owner every item of the file shares (an account's own feed), else None (a file of mentions)."""
    distinct = {o for o in owners if o}
    return distinct.pop() if len(distinct) == 1 else None


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
        shares: dict[str, Any] = node["shares"] if isinstance(node.get("shares"), dict) else {}
        items.append(_post("facebook", post_id=node.get("id"), parent=parent, handle=author.get("id"),
                           name=author.get("name"), text=node.get("message"), created=node.get("created_time"),
                           brand=bool(page) and author.get("id") == page, url=node.get("permalink_url"),
                           engagement=_engagement(
                               like_count=_summary_count(node, "reactions") or _summary_count(node, "likes")
                               or node.get("like_count"), share_count=shares.get("count"),
                               reply_count=_summary_count(node, "comments"))))
        for child in (node.get("comments") or {}).get("data") or []:
            walk(child, str(node.get("id")), page)

    own_page = page_id or _shared_owner([str(p.get("id", "")).split("_")[0] for p in posts if isinstance(p, dict)])
    for post in posts:
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
    """The account archive (the brand's own tweets) or an API v2 answer (customers' tweets and mentions)."""
    if handle is None and (path.parent / "account.js").exists():
        accounts = read_ytd(path.parent / "account.js")
        handle = accounts[0]["account"]["username"] if accounts else None
    if not YTD_PREFIX.match(decode_text(path.read_bytes()[:400], what=path.name)):
        return read_x_api(path, handle=handle)
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
            "url": f"https://x.com/{handle}/status/{tweet_id}" if handle else None,
            "engagement": _engagement(like_count=tweet.get("favorite_count"),
                                      retweet_count=tweet.get("retweet_count")) or None})
    return _numbered(items)


def read_x_api(path: Path, *, handle: str | None = None) -> SocialRecords:
    """X API v2 tweets with their authors (`includes.users`): the brand's when the author is `handle`."""
    document = json_document(path.read_bytes(), what=path.name)
    tweets = document.get("data") if isinstance(document, dict) else None
    if not isinstance(tweets, list):
        raise InvalidInput(f'{path.name}: neither an archive (window.YTD...) nor the X API v2 shape '
                           '{"data": [...], "includes": {"users": [...]}}')
    users = {str(u.get("id")): u for u in ((document.get("includes") or {}).get("users") or [])
             if isinstance(u, dict)}
    brand = (handle or "").lstrip("@").lower()
    items: list[Any] = []
    for tweet in tweets:
        if not isinstance(tweet, dict):
            items.append(InvalidInput("expected a tweet object"))
            continue
        author = users.get(str(tweet.get("author_id")), {})
        username = author.get("username") or tweet.get("author_id")
        parent = next((r.get("id") for r in tweet.get("referenced_tweets") or []
                       if isinstance(r, dict) and r.get("type") == "replied_to"), None)
        metrics = tweet.get("public_metrics") or {}
        items.append(_post("twitter", post_id=tweet.get("id"), parent=parent, handle=username,
                           name=author.get("name"), text=tweet.get("text"), created=tweet.get("created_at"),
                           brand=bool(brand) and str(username or "").lower() == brand,
                           url=f"https://x.com/{username}/status/{tweet.get('id')}" if username else None,
                           followers=(author.get("public_metrics") or {}).get("followers_count"),
                           engagement=_engagement(like_count=metrics.get("like_count"),
                                                  retweet_count=metrics.get("retweet_count"),
                                                  reply_count=metrics.get("reply_count"),
                                                  quote_count=metrics.get("quote_count"))))
    return _numbered(items)


# ---------------------------------------------------------------- Instagram


def read_instagram(path: Path, *, account: str | None = None) -> SocialRecords:
    document = json_document(path.read_bytes(), what=path.name)
    media_list = document.get("data") if isinstance(document, dict) else document
    if not isinstance(media_list, list):
        raise InvalidInput(f'{path.name}: expected the Graph API shape {{"data": [...]}}')
    brand = account or _shared_owner([str(m.get("username") or "") for m in media_list if isinstance(m, dict)])
    items: list[Any] = []
    for media in media_list:
        if not isinstance(media, dict):
            items.append(InvalidInput("expected a media object"))
            continue
        owner = media.get("username")
        items.append(_post("instagram", post_id=media.get("id"), parent=None, handle=owner, name=owner,
                           text=media.get("caption"), created=media.get("timestamp"),
                           brand=bool(brand) and owner == brand, url=media.get("permalink"),
                           engagement=_engagement(like_count=media.get("like_count"),
                                                  reply_count=media.get("comments_count"))))
        for comment in (media.get("comments") or {}).get("data") or []:
            items.append(_post("instagram", post_id=comment.get("id"), parent=media.get("id"),
                               handle=comment.get("username"), name=comment.get("username"),
                               text=comment.get("text"), created=comment.get("timestamp"),
                               brand=bool(brand) and comment.get("username") == brand,
                               engagement=_engagement(like_count=comment.get("like_count"))))
            for reply in (comment.get("replies") or {}).get("data") or []:
                items.append(_post("instagram", post_id=reply.get("id"), parent=comment.get("id"),
                                   handle=reply.get("username"), name=reply.get("username"),
                                   text=reply.get("text"), created=reply.get("timestamp"),
                                   brand=bool(brand) and reply.get("username") == brand,
                                   engagement=_engagement(like_count=reply.get("like_count"))))
    return _numbered(items)


def import_posts(*, session: Session, settings: Settings | None, records: SocialRecords,
                 source: str) -> ImportReport:
    """Records that failed to convert are rejected here with their reason; the rest go to import_social."""
    from app.ingest.social import import_social

    good: list[tuple[int, Any]] = []
    rejected: list[tuple[int, str]] = []
    for number, record in records:
        if isinstance(record, InvalidInput):
            rejected.append((number, record.message))
        else:
            good.append((number, record))
    report = import_social(session=session, records=good, source=source, settings=settings)
    for number, reason in rejected:
        report.reject(number, reason)
    report.rejected.sort(key=lambda r: r.line)
    return report
