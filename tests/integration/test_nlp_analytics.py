"""The analytics job, reviews, the agreement report and the API, on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from app.core.hooks import CALL_METRICS
from app.core.models import AuditEvent, Job
from app.interactions import service as interactions
from app.interactions.models import Interaction, Message, Segment
from app.nlp import service
from app.nlp.models import AutoAnswerReview, AutoAnswerRow, CategoryHitRow, InteractionAnalytics, PiiSpanRow
from app.nlp.service import InteractionFilter

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CALL = [
    ("agent", 0.0, 6.0, "thank you for calling acme this call may be recorded for training my name is david how can i help"),
    ("customer", 6.5, 15.0, "hi yeah ive been charged twice its ridiculous im cancelling my contract if this isnt fixed"),
    ("agent", 15.5, 21.0, "im so sorry to hear that can i take the long card number please"),
    ("customer", 21.5, 30.0, "its four one one one one one one one one one one one one one one one"),
    ("agent", 31.0, 35.0, "thanks all sorted is there anything else"),
    ("customer", 35.5, 38.0, "brilliant thank you so much thats great"),
]
RULES = {
    "greeting": {"type": "phrase", "category": "greeting", "within_seconds": 20},
    "disclosure": {"type": "phrase", "category": "recording_disclosure"},
    "empathy": {"type": "empathy_after_negative", "within_seconds": 20},
    "hold": {"type": "metric", "metric": "hold_seconds", "op": "<=", "threshold": 60},
}


def make_call(session, agent_id, external_id="c1", started=START):
    interaction = Interaction(channel="call", started_at=started, external_id=external_id, agent_id=agent_id)
    session.add(interaction)
    session.flush()
    for seq, (speaker, start, end, text) in enumerate(CALL):
        session.add(Segment(interaction_id=interaction.id, seq=seq, speaker=speaker, start=start, end=end, text=text,
                            redacted_text=text))  # the speech pipeline stores both; this call has no PII
    interactions.sync_interaction(session=session, interaction_id=interaction.id)  # participants, as ingest does
    session.commit()
    return interaction


def make_chat(session, agent_id):
    interaction = Interaction(channel="chat", started_at=START, external_id="chat1", agent_id=agent_id)
    session.add(interaction)
    session.flush()
    lines = [("customer", 0, "my card 4111 1111 1111 1111 was charged twice, email me at jo.bloggs@example.com"),
             ("agent", 90, "I'm sorry to hear that, let me check"), ("customer", 200, "thanks that's brilliant")]
    for n, (role, offset, text) in enumerate(lines):
        session.add(Message(interaction_id=interaction.id, external_id=f"m{n}", author_role=role,
                            sent_at=START + timedelta(seconds=offset), text=text))
    session.flush()
    interactions.sync_interaction(session=session, interaction_id=interaction.id)  # redaction and participants
    session.commit()
    return interaction


def counts(session, interaction_id):
    return tuple(len(session.exec(select(t).where(t.interaction_id == interaction_id)).all())
                 for t in (InteractionAnalytics, CategoryHitRow, PiiSpanRow, AutoAnswerRow))


def test_job_analyzes_a_call_idempotently_with_evidence(session, queue, make_user):
    agent = make_user("agent")
    call = make_call(session, agent.id)
    job = service.enqueue_analysis(queue=queue, session=session, interaction_id=call.id, rules=RULES)
    session.expire_all()
    assert session.get(Job, job.id).status == "done", session.get(Job, job.id).error
    first = counts(session, call.id)
    assert first[0] == 1 and first[1] >= 5 and first[2] == 2 and first[3] == 4
    service.enqueue_analysis(queue=queue, session=session, interaction_id=call.id, rules=RULES)
    session.expire_all()
    assert counts(session, call.id) == first

    analytics = session.exec(select(InteractionAnalytics).where(InteractionAnalytics.interaction_id == call.id)).one()
    assert analytics.customer_start < 0 < analytics.customer_end
    assert {"greeting", "recording_disclosure", "cancellation_threat", "empathy"} <= set(analytics.categories)
    segments = {s.id: s for s in session.exec(select(Segment).where(Segment.interaction_id == call.id)).all()}
    for hit in session.exec(select(CategoryHitRow).where(CategoryHitRow.interaction_id == call.id)).all():
        segment = segments[hit.source_id]
        assert segment.text[hit.start_char:hit.end_char] == hit.text
        assert segment.start <= hit.start_time <= hit.end_time <= segment.end
    spans = {s.kind: s for s in session.exec(select(PiiSpanRow).where(PiiSpanRow.interaction_id == call.id))}
    card = spans["CARD"]
    assert segments[spans["PERSON"].source_id].text[spans["PERSON"].start_char:spans["PERSON"].end_char] == "david"
    assert segments[card.source_id].text[card.start_char:card.end_char].startswith("four one")

    answers = {a.question_id: a for a in session.exec(select(AutoAnswerRow).where(AutoAnswerRow.interaction_id == call.id))}
    assert answers["greeting"].value == "yes" and answers["disclosure"].value == "yes"
    assert answers["empathy"].value == "yes" and answers["hold"].value == "na"  # no metrics given
    evidence = answers["greeting"].evidence[0]
    assert segments[evidence["source_id"]].text[evidence["start_char"]:evidence["end_char"]] == evidence["text"]


def test_metric_sources_and_unknown_interaction(session, queue, make_user):
    agent = make_user("agent")
    call = make_call(session, agent.id)
    with CALL_METRICS.handled_by(lambda subject: {"hold_seconds": 75.0}):
        outcome = service.analyze_interaction(session=session, interaction_id=call.id, rules=RULES)
    assert outcome.answers["hold"].value == "no" and outcome.answers["hold"].evidence[0].value == 75.0
    job = queue.enqueue(session=session, kind="nlp.analyze", payload={"interaction_id": 987654})
    session.expire_all()
    failed = session.get(Job, job.id)
    assert failed.status == "failed" and "not found" in failed.error and failed.attempts == 1
    bad_rule = service.enqueue_analysis(queue=queue, session=session, interaction_id=call.id,
                                        rules={"q1": {"type": "phrase"}})
    session.expire_all()
    rejected = session.get(Job, bad_rule.id)
    assert rejected.status == "failed" and "invalid auto-QA rule" in rejected.error and rejected.attempts == 1


def test_chat_messages_get_redacted_text_and_response_time(session, queue, make_user):
    agent = make_user("agent")
    chat = make_chat(session, agent.id)
    outcome = service.analyze_interaction(session=session, interaction_id=chat.id,
                                          rules={"fast": {"type": "response_time", "max_seconds": 120}})
    assert outcome.answers["fast"].value == "yes"
    first = session.exec(select(Message).where(Message.interaction_id == chat.id, Message.external_id == "m0")).one()
    assert first.redacted_text == "my card [CARD] was charged twice, email me at [EMAIL]"


def test_reviews_survive_reanalysis_and_feed_the_agreement_report(session, make_user):
    agent, evaluator = make_user("agent"), make_user("evaluator")
    call = make_call(session, agent.id)
    service.analyze_interaction(session=session, interaction_id=call.id, rules=RULES)
    principal = service_principal(evaluator)
    accepted = service.record_review(session=session, actor=principal, interaction_id=call.id,
                                     question_id="greeting", human_value="yes")
    overridden = service.record_review(session=session, actor=principal, interaction_id=call.id,
                                       question_id="empathy", human_value="no")
    assert (accepted.status, overridden.status) == ("accepted", "overridden")
    service.analyze_interaction(session=session, interaction_id=call.id, rules=RULES)
    assert len(session.exec(select(AutoAnswerReview).where(AutoAnswerReview.interaction_id == call.id)).all()) == 2
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "auto_answer.overridden")).first() is not None
    report = {q.question_id: q for q in service.agreement_report(session=session)}
    assert report["greeting"].accuracy == 1.0 and report["empathy"].accuracy == 0.0
    with pytest.raises(Exception, match="answer must be"):
        service.record_review(session=session, actor=principal, interaction_id=call.id, question_id="greeting",
                              human_value="maybe")


def service_principal(user):
    from app.auth.service import principal_of
    return principal_of(user)


def test_list_filters_and_scope(session, make_user):
    mine, other = make_user("agent", team="a"), make_user("agent", team="b")
    good = make_call(session, mine.id, external_id="c-good")
    bad = make_chat(session, other.id)
    service.analyze_interaction(session=session, interaction_id=good.id, rules=RULES, metrics={"hold_seconds": 95.0})
    service.analyze_interaction(session=session, interaction_id=bad.id)
    admin = service_principal(make_user("admin"))
    everything = service.list_interactions(session=session, principal=admin, filters=InteractionFilter())
    assert {i.id for i, _ in everything.items} == {good.id, bad.id}
    by_category = service.list_interactions(session=session, principal=admin,
                                            filters=InteractionFilter(category="cancellation_threat"))
    assert [i.id for i, _ in by_category.items] == [good.id]
    chats = service.list_interactions(session=session, principal=admin, filters=InteractionFilter(channel="chat"))
    assert [i.id for i, _ in chats.items] == [bad.id]
    scored = service.list_interactions(session=session, principal=admin, filters=InteractionFilter(auto_score_min=0.5))
    assert [(i.id, a.auto_score) for i, a in scored.items] == [(good.id, 0.75)]  # 3 of 4 yes (hold 95 s > 60)
    long_hold = service.list_interactions(session=session, principal=admin, filters=InteractionFilter(
        metric="hold_seconds", metric_min=90))
    assert [i.id for i, _ in long_hold.items] == [good.id]
    assert service.list_interactions(session=session, principal=admin, filters=InteractionFilter(
        metric="hold_seconds", metric_max=60)).total == 0
    none_tomorrow = service.list_interactions(session=session, principal=admin, filters=InteractionFilter(
        date_from=(START + timedelta(days=1)).date()))
    assert none_tomorrow.total == 0
    own = service.list_interactions(session=session, principal=service_principal(mine), filters=InteractionFilter())
    assert [i.id for i, _ in own.items] == [good.id]


def test_api_scope_and_pages(session, client, login, make_user):
    mine, other = make_user("agent", team="a"), make_user("agent", team="b")
    call = make_call(session, mine.id)
    service.analyze_interaction(session=session, interaction_id=call.id, rules=RULES)
    login(mine)
    body = client.get(f"/api/interactions/{call.id}/analytics").json()
    assert body["analyzed"] and body["sentiment"]["customer_end"] > 0
    assert {h["category"] for h in body["hits"]} >= {"greeting", "empathy"}
    assert "text" not in body["pii_spans"][0]  # offsets only
    page = client.get(f"/analytics/interactions/{call.id}")
    assert page.status_code == 200 and "<mark>thank you for calling</mark>" in page.text and "<svg" in page.text
    assert "<script>" not in page.text and "not reviewed" not in page.text  # agents do not review
    panel = client.get(f"/interactions/{call.id}/analytics/panel")
    assert panel.status_code == 200 and "<html" not in panel.text
    login(other)
    assert client.get(f"/api/interactions/{call.id}/analytics").status_code == 404
    assert client.get(f"/interactions/{call.id}/analytics/panel").status_code == 404
    assert client.get("/api/analytics/interactions").json()["total"] == 0
    login(make_user("evaluator"))
    review = client.post(f"/api/interactions/{call.id}/auto-answers/greeting/review", json={"value": "no"})
    assert review.status_code == 200 and review.json()["status"] == "overridden"
    assert "overridden" in client.get(f"/analytics/interactions/{call.id}").text
    form = client.post(f"/analytics/interactions/{call.id}/review", data={"question_id": "disclosure", "value": "yes"},
                       follow_redirects=False)
    assert form.status_code == 303
    assert "accepted" in client.get(f"/analytics/interactions/{call.id}").text
    login(make_user("admin"))
    assert {q["question_id"] for q in client.get("/api/analytics/agreement").json()} == {"disclosure", "greeting"}
    assert "greeting" in client.get("/admin/auto-qa-agreement").text
    assert f"/analytics/interactions/{call.id}" not in client.get("/analytics?side=agent&sentiment_max=-0.5").text
    assert client.get("/api/analytics/interactions?metric=hold_seconds&metric_min=0").json()["total"] == 0
    blank_form = client.get("/analytics?category=&sentiment_min=&sentiment_max=&side=customer&auto_score_min="
                            "&auto_score_max=&metric=&metric_min=&metric_max=&channel=&date_from=&date_to=")
    assert blank_form.status_code == 200 and f"/analytics/interactions/{call.id}" in blank_form.text
    assert client.get("/analytics?sentiment_min=abc").status_code == 422
    assert client.get("/analytics?date_from=yesterday").status_code == 422
    listing = client.get("/analytics?category=greeting&sentiment_min=-1&channel=call&side=overall")
    assert listing.status_code == 200 and f"/analytics/interactions/{call.id}" in listing.text


def test_transcript_text_is_escaped_in_the_panel(session, client, login, make_user):
    agent = make_user("agent")
    interaction = Interaction(channel="chat", started_at=START, external_id="xss", agent_id=agent.id)
    session.add(interaction)
    session.flush()
    session.add(Message(interaction_id=interaction.id, external_id="m", author_role="customer", sent_at=START,
                        text="<script>alert(1)</script> i want to speak to your manager"))
    session.commit()
    service.analyze_interaction(session=session, interaction_id=interaction.id)
    login(agent)
    text = client.get(f"/analytics/interactions/{interaction.id}").text
    assert "<script>alert" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_sweep_analyzes_interactions_never_analyzed(session, queue, make_user):
    agent = make_user("agent")
    call = make_call(session, agent.id)
    empty = Interaction(channel="call", started_at=START, external_id="empty", agent_id=agent.id)
    session.add(empty)
    session.commit()
    assert service.unanalyzed_ids(session=session) == [call.id]
    job = queue.enqueue(session=session, kind="nlp.sweep", payload={})
    session.expire_all()
    assert session.get(Job, job.id).result == {"analyzed": 1, "failed": []}
    assert service.unanalyzed_ids(session=session) == []


def test_home_panel_counts_recent_categories(session, client, login, make_user):
    agent = make_user("agent", team="t")
    from app.core.timeutil import utcnow
    call = make_call(session, agent.id, started=utcnow() - timedelta(days=1))
    service.analyze_interaction(session=session, interaction_id=call.id)
    counts = service.category_counts(session=session, principal=service_principal(make_user("admin")),
                                     since=utcnow() - timedelta(days=7))
    assert counts["cancellation_threat"] == 1 and counts["complaint"] == 1
    login(make_user("evaluator"))
    page = client.get("/")
    assert page.status_code == 200 and "Analytics, last 7 days" in page.text and "Cancellation threat" in page.text


def test_call_metrics_from_speech_feed_metric_rules(session, make_user):
    from app.nlp.sources import rule_from_auto_answer
    from app.speech.models import CallMetrics

    agent = make_user("agent")
    call = make_call(session, agent.id)
    session.add(CallMetrics(interaction_id=call.id, duration_seconds=200.0, agent_talk_seconds=80.0,
                            customer_talk_seconds=90.0, unknown_talk_seconds=0.0, silence_total_seconds=30.0,
                            silence_longest_seconds=12.0, overtalk_total_seconds=10.0, overtalk_count=3, hold_count=1,
                            hold_total_seconds=75.0, interruptions_by_agent=1, interruptions_by_customer=2,
                            turn_count=6, longest_monologue_seconds=20.0))
    session.commit()
    rules = {"hold": rule_from_auto_answer("metric", {"metric": "hold_seconds", "op": "<=", "threshold": 60}),
             "overtalk": rule_from_auto_answer("metric", {"metric": "overtalk_pct", "op": "<", "threshold": 10})}
    outcome = service.analyze_interaction(session=session, interaction_id=call.id, rules=rules)
    assert outcome.answers["hold"].value == "no" and outcome.answers["hold"].evidence[0].value == 75.0
    assert outcome.answers["overtalk"].value == "yes" and outcome.answers["overtalk"].evidence[0].value == 5.0
    long_hold = service.list_interactions(session=session, principal=service_principal(make_user("admin")),
                                          filters=InteractionFilter(metric="hold_seconds", metric_min=60))
    assert [i.id for i, _ in long_hold.items] == [call.id]


def test_published_scorecard_auto_rules_are_answered(session, make_user):
    from pathlib import Path

    from app.scorecards import service as scorecards

    scorecards.load_directory(session=session, directory=Path(__file__).parents[2] / "scorecards")
    session.commit()
    agent = make_user("agent")
    call = make_call(session, agent.id)
    session.add(Segment(interaction_id=call.id, seq=99, speaker="agent", start=40.0, end=44.0,
                        text="before we go on can i take your date of birth please"))
    session.commit()
    outcome = service.analyze_interaction(session=session, interaction_id=call.id)
    answer = outcome.answers["voice_call/identity_verified"]
    assert answer.value == "yes" and answer.evidence[0].text == "date of birth"
    chat = make_chat(session, agent.id)
    assert "voice_call/identity_verified" not in service.analyze_interaction(
        session=session, interaction_id=chat.id).answers
