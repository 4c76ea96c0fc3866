"""Social imports bring the customers' posts and mentions, not only the brand's, with the engagement the
source reports: X API v2 mentions, Facebook posts tagging the page, Instagram media tagging the account."""

import json
from pathlib import Path

from sqlmodel import Session, select

from app.connectors import social
from app.core.settings import Settings
from app.interactions.models import Interaction, Message
from app.social import service as care

X_MENTIONS = {
    "data": [
        {"id": "1870000000000000001", "text": "@AcmeHelp my broadband has been down since 7am",
         "created_at": "2026-11-20T08:00:00.000Z", "author_id": "901",
         "public_metrics": {"like_count": 12, "retweet_count": 3, "reply_count": 1, "quote_count": 0}},
        {"id": "1870000000000000002", "text": "@jo_down sorry Jo, DM us your account number",
         "created_at": "2026-11-20T08:20:00.000Z", "author_id": "42",
         "referenced_tweets": [{"type": "replied_to", "id": "1870000000000000001"}],
         "public_metrics": {"like_count": 0, "retweet_count": 0, "reply_count": 0, "quote_count": 0}},
        {"id": "1870000000000000003", "text": "Acme again. Switching to Falcon Fibre.", "created_at": "nonsense",
         "author_id": "902"},
    ],
    "includes": {"users": [
        {"id": "901", "username": "jo_down", "name": "Jo", "public_metrics": {"followers_count": 812000}},
        {"id": "42", "username": "AcmeHelp", "name": "Acme Help", "public_metrics": {"followers_count": 48000}},
    ]},
}
FACEBOOK_TAGGED = {"data": [
    {"id": "5551_01", "message": "Thanks @Acme for nothing, third missed engineer visit",
     "created_time": "2026-11-20T09:00:00+0000", "from": {"name": "Pat", "id": "5551"},
     "reactions": {"summary": {"total_count": 40}}, "shares": {"count": 5},
     "comments": {"data": [], "summary": {"total_count": 7}}},
    {"id": "7772_02", "message": "Acme's new tariff looks good", "created_time": "2026-11-20T10:00:00+0000",
     "from": {"name": "Lee", "id": "7772"}},
]}
INSTAGRAM_TAGS = {"data": [
    {"id": "17900000000000011", "caption": "Waiting 3 hours in the @acme shop", "timestamp": "2026-11-20T09:00:00+0000",
     "username": "maria.l", "like_count": 30, "comments_count": 2,
     "comments": {"data": [{"id": "17800000000000011", "text": "So sorry Maria, DM us", "username": "acme",
                            "timestamp": "2026-11-20T09:30:00+0000"}]}},
    {"id": "17900000000000012", "caption": "Love my new @acme phone", "timestamp": "2026-11-20T10:00:00+0000",
     "username": "sam.k", "like_count": 3},
]}


def _messages(session: Session, source: str) -> list[Message]:
    return list(session.exec(select(Message).join(Interaction, Interaction.id == Message.interaction_id)  # type: ignore[arg-type]
                             .where(Interaction.source == source).order_by(Message.sent_at)).all())  # type: ignore[arg-type]


def test_x_mentions_bring_customers_tweets_with_followers_and_engagement(session: Session, settings: Settings,
                                                                         tmp_path: Path) -> None:
    path = tmp_path / "mentions.json"
    path.write_text(json.dumps(X_MENTIONS))
    report = social.import_posts(session=session, settings=settings, records=social.read_tweets(path, handle="AcmeHelp"),
                                 source="x-mentions")
    assert [r.line for r in report.rejected] == [3] and "Twitter date" not in report.rejected[0].reason
    messages = _messages(session, "x-mentions")
    assert [(m.author_role, m.author_handle) for m in messages] == [("customer", "jo_down"), ("agent", "acmehelp")]
    thread = session.exec(select(Interaction).where(Interaction.source == "x-mentions")).one()
    state = care.refresh_thread(session=session, interaction_id=thread.id)
    assert state.follower_count == 812000 and state.engagement == 16 and state.watched
    assert state.first_response_at is not None  # the brand's reply in the same file answers it


def test_facebook_mentions_of_the_page_are_customers_posts(session: Session, settings: Settings,
                                                           tmp_path: Path) -> None:
    path = tmp_path / "tagged.json"
    path.write_text(json.dumps(FACEBOOK_TAGGED))
    report = social.import_posts(session=session, settings=settings, records=social.read_facebook(path),
                                 source="fb-tagged")
    assert report.rejected == []
    messages = _messages(session, "fb-tagged")
    assert [m.author_role for m in messages] == ["customer", "customer"]
    assert messages[0].extra["like_count"] == 40 and messages[0].extra["share_count"] == 5
    assert messages[0].extra["reply_count"] == 7


def test_instagram_media_tagging_the_brand(session: Session, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "tags.json"
    path.write_text(json.dumps(INSTAGRAM_TAGS))
    social.import_posts(session=session, settings=settings, records=social.read_instagram(path, account="acme"),
                        source="ig-tags")
    messages = _messages(session, "ig-tags")
    assert [(m.author_role, m.text[:12]) for m in messages] == [
        ("customer", "Waiting 3 ho"), ("agent", "So sorry Mar"), ("customer", "Love my new ")]
    threads = session.exec(select(Interaction).where(Interaction.source == "ig-tags")).all()
    engagement = {t.external_id: care.refresh_thread(session=session, interaction_id=t.id).engagement for t in threads}
    assert engagement == {"17900000000000011": 32, "17900000000000012": 3}
