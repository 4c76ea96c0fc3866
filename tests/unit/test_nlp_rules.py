"""Categories, sentiment and auto-QA rules on messy call and chat text (lowercase, no punctuation,
ASR slips); every cited span must really contain the phrase it stands for."""

import pytest
from pydantic import ValidationError

from app.nlp.categories import default_categories
from app.nlp.rules import Analysis, Unit, evaluate_rule, parse_rule
from app.nlp.sentiment import summarize
from app.nlp.service import analyze_units
from app.privacy.pipeline import get_nlp

CALL = [
    ("agent", 0.0, 6.5, "thank you for calling acme energy this call may be recorded for training purposes my name is "
                        "david how can i help"),
    ("customer", 7.0, 16.0, "yeah hi um ive been charged twice this month and its ridiculous honestly im thinking of "
                            "cancelling my contract"),
    ("agent", 16.5, 22.0, "oh im so sorry to hear that i completely understand can i take your date of birth please"),
    ("customer", 22.5, 25.0, "its the twelfth of march nineteen eighty five"),
    ("agent", 25.5, 30.0, "thank you let me just put you on hold for a moment while i check"),
    ("customer", 95.0, 101.0, "ok thats great thanks so much for sorting it youve been really helpful"),
    ("agent", 101.5, 104.0, "no problem is there anything else i can help with"),
]


def units_of(turns, source_type="segment"):
    units = [Unit(source_type, i + 1, speaker, text, start, end) for i, (speaker, start, end, text) in enumerate(turns)]
    analyze_units(units, with_pii=False)
    return units


@pytest.fixture(scope="module")
def call():
    return Analysis(channel="call", units=units_of(CALL), metrics={"hold_seconds": 65.0, "overtalk_pct": 2.5})


def test_categories_match_lemmas_in_messy_text(call):
    found = {(h.hit.category, h.hit.text) for u in call.units for h in u.hits}
    assert ("cancellation_threat", "cancelling my contract") in found
    assert ("recording_disclosure", "call may be recorded") in found
    assert ("empathy", "sorry to hear") in found and ("hold_request", "put you on hold") in found
    assert ("complaint", "ridiculous") in found and ("verification", "date of birth") in found


def test_every_hit_cites_its_text_and_time(call):
    for unit in call.units:
        for hit in unit.hits:
            assert unit.text[hit.hit.start_char:hit.hit.end_char] == hit.hit.text
            assert unit.start <= hit.start_time <= hit.end_time <= unit.end


def test_word_timings_give_exact_times():
    unit = Unit("segment", 1, "agent", "ok i will put you on hold now", 10.0, 14.0, words=[
        {"word": w, "start": 10.0 + i * 0.5, "end": 10.4 + i * 0.5}
        for i, w in enumerate([" ok", " i", " will", " put", " you", " on", " hold", " now"])])
    analyze_units([unit], with_pii=False)
    [hit] = unit.hits
    assert (hit.start_time, hit.end_time) == (11.5, 13.4)


def test_sentiment_rollup_customer_start_vs_end(call):
    summary = summarize([(u.speaker, u.sentiment) for u in call.units])
    assert summary.customer_start is not None and summary.customer_start < 0 < summary.customer_end
    assert summary.customer_change > 0.5


def test_greeting_within_20_seconds_cites_the_greeting(call):
    answer = evaluate_rule(parse_rule({"type": "phrase", "category": "greeting", "within_seconds": 20}), call)
    assert answer.value == "yes" and answer.confidence >= 0.8
    span = answer.evidence[0]
    text = next(u.text for u in call.units if u.source_id == span.source_id)
    assert text[span.start_char:span.end_char] == span.text == "thank you for calling"
    assert span.start_time <= 20


def test_free_phrase_near_the_end_and_absence(call):
    closing = parse_rule({"type": "phrase", "phrase": "anything else", "anchor": "end", "within_seconds": 10})
    answer = evaluate_rule(closing, call)
    assert answer.value == "yes" and answer.evidence[0].text == "anything else"
    no_supervisor = parse_rule({"type": "phrase", "category": "supervisor_request", "speaker": "customer",
                                "expect": "absent"})
    assert evaluate_rule(no_supervisor, call).value == "yes"
    late = evaluate_rule(parse_rule({"type": "phrase", "category": "hold_request", "within_seconds": 5}), call)
    assert late.value == "no" and late.evidence[1].note == "outside the time window"


def test_metric_thresholds(call):
    hold = evaluate_rule(parse_rule({"type": "metric", "metric": "hold_seconds", "op": "<=", "threshold": 60}), call)
    assert hold.value == "no" and hold.evidence[0].value == 65.0
    overtalk = evaluate_rule(parse_rule({"type": "metric", "metric": "overtalk_pct", "op": "<", "threshold": 5}), call)
    assert overtalk.value == "yes"
    missing = evaluate_rule(parse_rule({"type": "metric", "metric": "silence_pct", "op": "<", "threshold": 5}), call)
    assert missing.value == "na" and missing.confidence == 0


def test_empathy_after_negative_customer_turn(call):
    answer = evaluate_rule(parse_rule({"type": "empathy_after_negative", "within_seconds": 15}), call)
    assert answer.value == "yes"
    agent_span = next(e for e in answer.evidence if e.note == "agent response")
    assert agent_span.category == "empathy" and agent_span.text in CALL[2][3]
    cold = Analysis("call", units_of([CALL[1], ("agent", 16.5, 20.0, "ok whats your account number")]))
    assert evaluate_rule(parse_rule({"type": "empathy_after_negative"}), cold).value == "no"


def test_social_response_time():
    chat = Analysis("social", [Unit("message", 1, "customer", "hello??", 0, 0), Unit("message", 2, "agent", "hi", 1800, 1800),
                               Unit("message", 3, "customer", "still broken", 4000, 4000)])
    first = evaluate_rule(parse_rule({"type": "response_time", "max_seconds": 3600}), chat)
    assert first.value == "yes" and first.evidence[0].value == 1800
    every = evaluate_rule(parse_rule({"type": "response_time", "max_seconds": 3600, "scope": "every"}), chat)
    assert every.value == "no" and every.evidence[-1].note == "unanswered"


def test_rules_are_validated():
    with pytest.raises(ValidationError):
        parse_rule({"type": "phrase"})  # neither category nor phrase
    with pytest.raises(ValidationError):
        parse_rule({"type": "phrase", "phrase": "hello", "phrases": ["hi"]})
    with pytest.raises(ValidationError):
        parse_rule({"type": "metric", "metric": "hold_seconds", "op": "~", "threshold": 1})
    with pytest.raises(ValidationError):
        parse_rule({"type": "phrase", "category": "greeting", "surprise": 1})


def test_asr_messy_chat_lines():
    nlp = get_nlp()
    hits = default_categories().match(nlp("i wanna talk to ur manager rite now this is the worst service"))
    assert {"supervisor_request", "complaint"} <= {h.category for h in hits}


def test_contact_centre_fillers_carry_no_sentiment():
    from app.nlp.sentiment import compound, label

    assert compound("yeah ok please") == 0.0
    assert label(compound("im so sorry to hear that let me check")) != "negative"
    assert label(compound("this is unacceptable i want to cancel")) == "negative"
    assert label(compound("brilliant thank you so much")) == "positive"
