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
