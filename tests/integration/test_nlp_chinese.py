"""Analytics of a Cantonese/mixed chat on SQLite and PostgreSQL: language per message, categories and
auto-QA rules written in Chinese with their evidence, sentiment "not available" for Chinese turns."""

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from app.interactions.models import Interaction, Message
from app.nlp import service
from app.nlp.models import AutoAnswerRow, CategoryHitRow, InteractionAnalytics

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CHAT = [
    ("agent", 0, "你好，歡迎致電，有咩可以幫到你？"),
    ("customer", 40, "我部router喺旺角成日斷線，我要投訴！再係咁我就取消部電話嘅合約"),
    ("agent", 90, "唔好意思，明白你嘅感受，請稍等，我幫你核實一下身份"),
    ("customer", 200, "thanks, this is terrible service"),
]
RULES = {
    # an auto-QA rule written in Chinese, Simplified, matching the Traditional text of the chat
    "apology": {"type": "phrase", "phrases": ["不好意思", "唔好意思", "对唔住"], "speaker": "agent"},
    "no_threat": {"type": "phrase", "category": "cancellation_threat", "speaker": "customer", "expect": "absent"},
}


def make_chat(session):
    interaction = Interaction(channel="chat", started_at=START, external_id="hk1")
    session.add(interaction)
    session.flush()
    for n, (role, offset, text) in enumerate(CHAT):
        session.add(Message(interaction_id=interaction.id, external_id=f"m{n}", author_role=role,
                            sent_at=START + timedelta(seconds=offset), text=text))
    session.commit()
    return interaction


def test_cantonese_chat_gets_chinese_categories_rules_and_no_false_sentiment(session, queue):
    chat = make_chat(session)
    service.enqueue_analysis(queue=queue, session=session, interaction_id=chat.id, rules=RULES)
    session.expire_all()
    analytics = session.exec(select(InteractionAnalytics).where(InteractionAnalytics.interaction_id == chat.id)).one()
    assert [p["language"] for p in analytics.timeline] == ["yue", "yue", "yue", "en"]
    # VADER reads English only: the Chinese turns are not scored (not 0.0), the English one is
    assert [p["sentiment"] is None for p in analytics.timeline] == [True, True, True, False]
    assert analytics.sentiment_customer is not None and analytics.sentiment_customer < 0  # "terrible service" only
    assert analytics.sentiment_agent is None

    assert {"greeting", "complaint", "cancellation_threat", "empathy", "hold_request", "verification"} <= set(
        analytics.categories)
    messages = {m.id: m for m in session.exec(select(Message).where(Message.interaction_id == chat.id))}
    hits = session.exec(select(CategoryHitRow).where(CategoryHitRow.interaction_id == chat.id)).all()
    for hit in hits:
        assert messages[hit.source_id].text[hit.start_char:hit.end_char] == hit.text  # evidence is the original
    threat = next(h for h in hits if h.category == "cancellation_threat")
    assert (threat.text, threat.phrase, threat.speaker) == ("取消部電話嘅合約", "取消...合約", "customer")

    answers = {a.question_id: a for a in session.exec(select(AutoAnswerRow).where(AutoAnswerRow.interaction_id == chat.id))}
    assert answers["apology"].value == "yes"
    evidence = answers["apology"].evidence[0]
    assert evidence["text"] == "唔好意思" and messages[evidence["source_id"]].author_role == "agent"
    assert answers["no_threat"].value == "no"
    assert answers["no_threat"].evidence[0]["text"] == "取消部電話嘅合約"


def test_panel_says_sentiment_not_available_for_chinese_turns(session, client, login, make_user):
    chat = make_chat(session)
    service.analyze_interaction(session=session, interaction_id=chat.id, rules=RULES)
    login(make_user("admin"))
    panel = client.get(f"/interactions/{chat.id}/analytics/panel")
    assert panel.status_code == 200
    assert "3 of 4 turns: sentiment is scored for English only (these are in yue)" in panel.text
    assert "取消部電話嘅合約" in panel.text  # the Chinese evidence is shown as written
