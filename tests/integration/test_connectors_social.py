"""Social connectors: Graph API (Facebook, Instagram) and the X archive imported twice, bad records named."""

import json
from pathlib import Path

from sqlmodel import Session, select

from app.connectors import social
from app.core.settings import Settings
from app.interactions.models import Interaction, Message

FACEBOOK = {"data": [
    {"id": "1044_2001", "message": "Big sale today!", "created_time": "2026-11-20T09:00:00+0000",
     "from": {"name": "Acme", "id": "1044"}, "permalink_url": "https://www.facebook.com/1044/posts/2001",
     "comments": {"data": [
         {"id": "2001_3001", "message": "My order never arrived", "created_time": "2026-11-20T09:10:00+0000",
          "from": {"name": "Jane Customer", "id": "778899"},
          "comments": {"data": [{"id": "2001_3002", "message": "Sorry Jane, DM us", "from": {"name": "Acme",
                                                                                              "id": "1044"},
                                 "created_time": "2026-11-20T09:20:00+0000"}]}},
         {"id": "2001_3003", "message": "broken", "created_time": "whenever", "from": {"id": "5"}}]}},
]}
TWEETS = """window.YTD.tweets.part0 = [ {
  "tweet" : { "id_str" : "1860000000000000001", "full_text" : "@jane we're on it, check your DMs",
    "created_at" : "Fri Nov 20 09:30:00 +0000 2026", "in_reply_to_status_id_str" : "1859999999999999999",
    "in_reply_to_screen_name" : "jane" } },
  { "tweet" : { "id_str" : "1860000000000000002", "full_text" : "Opening hours change on Monday",
    "created_at" : "Fri Nov 20 10:00:00 +0000 2026" } },
  { "tweet" : { "id_str" : "1860000000000000003", "created_at" : "yesterday" } } ]"""
ACCOUNT = 'window.YTD.account.part0 = [ { "account" : { "username" : "AcmeHelp", "accountId" : "42" } } ]'
INSTAGRAM = {"data": [{"id": "17900000000000001", "caption": "New colours!", "timestamp": "2026-11-20T09:00:00+0000",
                       "username": "acme", "permalink": "https://www.instagram.com/p/abc/",
                       "comments": {"data": [
                           {"id": "17800000000000001", "text": "Where is my refund?", "username": "jane.c",
                            "timestamp": "2026-11-20T09:05:00+0000", "replies": {"data": [
                                {"id": "17800000000000002", "text": "@jane.c sent today", "username": "acme",
                                 "timestamp": "2026-11-20T09:15:00+0000"}]}},
                           {"id": "", "text": "no id", "username": "x", "timestamp": "2026-11-20T09:05:00+0000"}]}}]}


def _twice(session: Session, settings: Settings, records: object, read: object, source: str) -> list[int]:
    reports = [social.import_posts(session=session, settings=settings, records=read(), source=source)  # type: ignore[operator]
               for _ in range(2)]
    assert reports[0].created >= 1 and reports[1].created == reports[1].updated == 0
    assert [r.line for r in reports[0].rejected] == [r.line for r in reports[1].rejected]
    return [r.line for r in reports[0].rejected]


def test_facebook_page_feed(session: Session, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(FACEBOOK))
    assert _twice(session, settings, None, lambda: social.read_facebook(path), "facebook") == [4]
    thread = session.exec(select(Interaction).where(Interaction.source == "facebook")).one()
    roles = [m.author_role for m in session.exec(select(Message).where(Message.interaction_id == thread.id)
                                                 .order_by(Message.sent_at)).all()]  # type: ignore[arg-type]
    assert roles == ["agent", "customer", "agent"] and thread.customer_id is not None


def test_twitter_archive(session: Session, settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "tweets.js").write_text(TWEETS)
    (tmp_path / "account.js").write_text(ACCOUNT)
    assert _twice(session, settings, None, lambda: social.read_tweets(tmp_path / "tweets.js"), "twitter") == [3]
    assert len(session.exec(select(Interaction).where(Interaction.source == "twitter")).all()) == 2


def test_instagram_comments(session: Session, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "media.json"
    path.write_text(json.dumps(INSTAGRAM))
    assert _twice(session, settings, None, lambda: social.read_instagram(path), "instagram") == [4]
    thread = session.exec(select(Interaction).where(Interaction.source == "instagram")).one()
    assert len(session.exec(select(Message).where(Message.interaction_id == thread.id)).all()) == 3
