"""PII redaction: cards (Luhn, written and spoken), phones, e-mail, dates of birth, UK postcodes, accounts."""

import pytest

from app.speech.redaction import find_pii, luhn_valid, redact_text, redact_words
from app.speech.turns import TimedWord

CASES = [
    # text, expected kinds in order, substring that must be gone from the redacted text (or None)
    ("my card is 4111 1111 1111 1111 thanks", ["card"], "4111"),
    ("card 4111-1111-1111-1111.", ["card"], "1111"),
    ("5500 0000 0000 0004 is the mastercard", ["card"], "5500"),
    ("amex 3782 822463 10005 ok", ["card"], "822463"),
    ("four one one one one one one one one one one one one one one one", ["card"], "four"),
    ("It's four one one one, one one one one, one one one one, one one one one.", ["card"], "one"),
    ("four one double one, double one one one, one one one one, one one one one", ["card"], "double"),
    ("four one one one, 1111 1111, one one one one", ["card"], "1111"),
    ("the number is 1234 5678 9012 3456", ["account"], "5678"),  # fails Luhn: not a card, still redacted
    ("call me on 07700 900123 please", ["phone"], "900123"),
    ("my number is +44 7700 900123", ["phone"], "7700"),
    ("415-555-0100 is my phone", ["phone"], "555"),
    ("it's (415) 555 0100", ["phone"], "0100"),
    ("my phone number is five five five zero one four two", ["phone"], "five"),
    ("mobile oh seven seven double oh nine double oh one two three", ["phone"], "seven"),
    ("Zero one one eight four nine six zero zero zero zero", ["phone"], "Zero"),
    ("email maria.lopez@example.com now", ["email"], "maria"),
    ("It's maria dot lopez at example dot com.", ["email"], "lopez"),
    ("write to j_smith+bills@mail.example.co.uk", ["email"], "smith"),
    ("my date of birth is 12/03/1985", ["dob"], "1985"),
    ("I was born on the twelfth of March nineteen eighty five.", ["dob"], "eighty"),
    ("Date of birth, March 3rd, 1990.", ["dob"], "1990"),
    ("DOB is the first of June two thousand and one", ["dob"], "June"),
    ("Born 3 May 1979, yes", ["dob"], "1979"),
    ("The postcode is SW1A 1AA.", ["postcode"], "SW1A"),
    ("postcode m1 1ae", ["postcode"], "m1 1ae"),
    ("it's EC1A 1BB and the card 4111111111111111", ["postcode", "card"], "EC1A"),
    ("account number 12345678", ["account"], "12345678"),
    ("reference 9876 5432 1", ["account"], "9876"),
    # nothing to redact
    ("I have one question and two issues", [], None),
    ("Oh, hi there. The bill was 1,250.00 pounds.", [], None),
    ("The meeting is on 12/03/2024 at 10 o'clock", [], None),
    ("Oh no, oh my", [], None),
    ("We spoke on March 3rd about the router", [], None),
    ("It was ninety pounds for two months", [], None),
    ("look at this dot", [], None),
]


@pytest.mark.parametrize(("text", "kinds", "gone"), CASES, ids=[c[0][:40] for c in CASES])
def test_find_pii(text, kinds, gone):
    spans = find_pii(text)
    assert [s.kind for s in spans] == kinds, spans
    redacted = redact_text(text, spans)
    if gone:
        assert gone not in redacted


@pytest.mark.parametrize(("digits", "valid"), [
    ("4111111111111111", True), ("4111111111111112", False), ("79927398713", True), ("79927398710", False),
    ("5500000000000004", True), ("0", False), ("abc", False),
])
def test_luhn(digits, valid):
    assert luhn_valid(digits) is valid


def test_labels_replace_findings():
    assert redact_text("card 4111 1111 1111 1111 and a@b.com") == "card [CARD] and [EMAIL]"


def test_redact_words_flags_words_and_gives_audio_ranges():
    spoken = ["yes", "it", "is", "four", "one", "one", "one", "one", "one", "one", "one", "one", "one", "one", "one", "one", "one", "one", "one", "thanks"]
    words = [TimedWord(text=" " + w, start=i * 0.5, end=i * 0.5 + 0.4) for i, w in enumerate(spoken)]
    result = redact_words(words)
    assert result.flags[:3] == [None, None, None] and result.flags[-1] is None
    assert all(flag == "card" for flag in result.flags[3:-1])
    assert result.ranges == [(1.5, 9.4, "card")]
    assert result.redacted_text == "yes it is [CARD] thanks"


def test_cue_in_the_previous_line_counts():
    # a date without a year is not a date of birth on its own, but is when the agent just asked for one
    answer = [TimedWord(text=" " + w, start=i, end=i + 0.5) for i, w in enumerate(["14th", "of", "March."])]
    assert redact_words(answer).flags == [None] * 3
    result = redact_words(answer, context="Can I take your date of birth please?")
    assert result.flags == ["dob"] * 3 and result.redacted_text == "[DOB]."
    assert result.ranges == [(0, 2.5, "dob")]
    # a full date in a year an adult was born in is one even without the question
    born = [TimedWord(text=" " + w, start=i, end=i + 0.5) for i, w in enumerate(["14th", "of", "March,", "1988."])]
    assert redact_words(born).flags == ["dob"] * 4
    # personal data inside the context belongs to the previous line, not this one
    assert redact_words(answer[:1], context="my card is 4111 1111 1111 1111").flags == [None]


def said(speaker, channel, sentence, start):
    return [TimedWord(text=" " + w, start=start + i * 0.4, end=start + i * 0.4 + 0.3, speaker=speaker,
                      channel=channel) for i, w in enumerate(sentence.split())]


def stereo_call(*lines):
    from app.speech.audio import AudioInfo
    from app.speech.pipeline import build_transcript

    words, start = [], 0.0
    for speaker, sentence in lines:
        words += said(speaker, 0 if speaker == "agent" else 1, sentence, start)
        start += len(sentence.split()) * 0.4 + 1.0
    info = AudioInfo(format="wav", channels=2, sample_rate=16000, duration_seconds=start)
    return build_transcript(words, info=info, duration=start, separation="channels")


def test_agent_reading_the_card_back_is_beeped_on_both_channels():
    import numpy as np

    from app.speech.audio import SAMPLE_RATE, bleep
    from app.speech.redaction import beep_ranges

    transcript = stereo_call(("agent", "Can I take the long number on the card?"),
                             ("customer", "four one one one one one one one one one one one one one one one"),
                             ("agent", "So that's four one one one one one one one one one one one one one one one?"))
    agent_card = [r for r in transcript.redaction_ranges if r["speaker"] == "agent"]
    assert [r["kind"] for r in agent_card] == ["card"] and transcript.lines[2].redacted_text == "So that's [CARD]?"
    plan = beep_ranges(transcript.redaction_ranges)
    assert all(channel is None for _, _, channel in plan)  # None: every channel
    duration = transcript.lines[-1].end + 1
    agent, customer = (np.full(int(duration * SAMPLE_RATE), 0.5, dtype=np.float32) for _ in range(2))
    beeped = bleep([agent, customer], plan)
    start, end = agent_card[0]["start"], agent_card[0]["end"]
    middle = slice(int(start * SAMPLE_RATE) + 100, int(end * SAMPLE_RATE) - 100)
    for channel in beeped:  # the read-back is gone from the customer's side too (echo of the agent's voice)
        assert not np.any(channel[middle] == 0.5)
    assert np.all(beeped[1][: int((transcript.lines[0].end - 0.5) * SAMPLE_RATE)] == 0.5)  # the question stays


def test_beep_ranges_widen_and_merge():
    from app.speech.redaction import BEEP_MARGIN_SECONDS, beep_ranges

    plan = beep_ranges([{"start": 1.0, "end": 2.0, "kind": "card", "channel": 1},
                        {"start": 2.1, "end": 3.0, "kind": "card", "channel": 0},
                        {"start": 0.05, "end": 0.5, "kind": "dob", "channel": 0}])
    assert plan == [(0.0, 0.5 + BEEP_MARGIN_SECONDS, None),
                    (1.0 - BEEP_MARGIN_SECONDS, 3.0 + BEEP_MARGIN_SECONDS, None)]


def test_a_value_given_once_is_redacted_where_it_is_repeated_without_a_cue():
    transcript = stereo_call(("agent", "Can I take your full name please?"),
                             ("customer", "Chan Tai Man, and my mobile is 9123 4567"),
                             ("agent", "Thank you. Okay Chan, I see nine one two three four five six on file"))
    assert transcript.lines[1].redacted_text == "[NAME], and my mobile is [PHONE]"
    last = transcript.lines[2].redacted_text
    assert "Chan" not in last and "nine one two" not in last, last
    assert last == "Thank you. Okay [NAME], I see [PHONE] on file"
    # the agent's own words ("Thank you", "Okay") are not names; four digits read back are not the number
    short = stereo_call(("customer", "my mobile is 9123 4567"), ("agent", "the one ending four five six seven?"))
    assert short.lines[1].redacted_text == "the one ending four five six seven?"


def test_a_short_number_is_a_phone_number_only_when_one_was_asked_for():
    answer = [TimedWord(text=" " + w, start=i, end=i + 0.5)
              for i, w in enumerate(["five", "five", "five", "zero", "one", "four", "two"])]
    assert redact_words(answer).flags == [None] * 7
    asked = redact_words(answer, context="What's the best number to call you back on?")
    assert asked.flags == ["phone"] * 7 and asked.redacted_text == "[PHONE]"
