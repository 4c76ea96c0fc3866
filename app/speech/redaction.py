"""Finding personal data in transcript text, and redacting it in text and in word timings.

`find_pii(text)` is the one entry point (the analytics feature can reuse or move it). It knows:
- card numbers: 13-19 digits passing the Luhn check, written ("4111 1111 1111 1111") or spoken
  ("four one one one ...", "double one", "oh" for zero), also mixed;
- phone numbers: `phonenumbers` on the raw text (GB and US formats), plus digit runs that look like a UK
  or US number, or 7+ digits right after "phone"/"number"/"mobile"/...;
- account numbers: any other run of 8 or more digits (a 16-digit number failing Luhn lands here);
- e-mail addresses, written or spoken ("maria dot lopez at example dot com");
- dates of birth: a date within a few words after "date of birth", "born", "DOB", "birthday";
- UK postcodes ("SW1A 1AA").
Overlapping findings keep the longest; on a tie the most specific kind
(card > phone > email > date of birth > postcode > account).
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import phonenumbers

from app.speech.turns import TimedWord

CARD, PHONE, EMAIL, DOB, POSTCODE, ACCOUNT = "card", "phone", "email", "dob", "postcode", "account"
PRIORITY = {CARD: 0, PHONE: 1, EMAIL: 2, DOB: 3, POSTCODE: 4, ACCOUNT: 5}
LABELS = {CARD: "[CARD]", PHONE: "[PHONE]", EMAIL: "[EMAIL]", DOB: "[DOB]", POSTCODE: "[POSTCODE]",
          ACCOUNT: "[NUMBER]"}

DIGIT_WORDS = {"zero": "0", "oh": "0", "o": "0", "nought": "0", "one": "1", "two": "2", "three": "3",
               "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9"}
REPEATERS = {"double": 2, "triple": 3}
PHONE_CUES = re.compile(r"\b(phone|number|mobile|cell|call|reach|contact|landline|tel)\b", re.IGNORECASE)
OTHER_NUMBER_CUES = re.compile(r"\b(account|reference|order|policy|membership|customer|card|sort)\b", re.IGNORECASE)

_TOKEN = re.compile(r"[A-Za-z]+|\d+")
_RUN_SEPARATOR = re.compile(r"^[\s,.\-–—()+]*$")  # what may stand between the digits of one number
_EMAIL = re.compile(r"\b[\w.%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
_SPOKEN_EMAIL = re.compile(
    r"\b[a-z0-9]+(?:\s+(?:dot|underscore|dash)\s+[a-z0-9]+)*\s+at\s+[a-z0-9]+(?:\s+dot\s+[a-z]{2,})+\b",
    re.IGNORECASE)
_POSTCODE = re.compile(r"\b(?:GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2})\b", re.IGNORECASE)
_DOB_CUE = re.compile(r"\b(?:date of birth|birth ?date|birthday|born|d\.?o\.?b\.?)\b", re.IGNORECASE)
_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
          r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_NUMBER_WORD = (r"(?:\d+(?:st|nd|rd|th)?|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|"
                r"eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|"
                r"twentieth|thirtieth|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
                r"twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|hundred|thousand|oh|and)\b")
_DATE = re.compile(
    r"\b(?:\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}"
    rf"|(?:the\s+)?{_NUMBER_WORD}(?:[\s-]+{_NUMBER_WORD})?\s+(?:of\s+)?{_MONTH}\b(?:,?\s+{_NUMBER_WORD}){{0,4}}"
    rf"|{_MONTH}\s+(?:the\s+)?{_NUMBER_WORD}(?:[\s-]+{_NUMBER_WORD})?(?:,?\s+{_NUMBER_WORD}){{0,4}})",
    re.IGNORECASE)
DOB_WINDOW = 40  # characters between the cue and the date


@dataclass(frozen=True)
class Span:
    start: int  # character offsets in the text
    end: int
    kind: str
    value: str  # the matched text (digits normalised for numbers)


def luhn_valid(digits: str) -> bool:
    if not digits.isdigit() or len(digits) < 2:
        return False
    checksum = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        checksum += value
    return checksum % 10 == 0


def find_pii(text: str) -> list[Span]:
    """Personal data in `text`, as non-overlapping spans in text order."""
    found: list[Span] = []
    found += _digit_run_spans(text)
    found += _phone_matcher_spans(text)
    found += [Span(m.start(), m.end(), EMAIL, m.group()) for m in _EMAIL.finditer(text)]
    found += [Span(m.start(), m.end(), EMAIL, m.group()) for m in _SPOKEN_EMAIL.finditer(text)]
    found += _dob_spans(text)
    found += [Span(m.start(), m.end(), POSTCODE, m.group().upper()) for m in _POSTCODE.finditer(text)
              if any(c.isdigit() for c in m.group())]
    return _resolve_overlaps(found)


def redact_text(text: str, spans: Sequence[Span] | None = None) -> str:
    """`text` with each finding replaced by its label, e.g. "[CARD]"."""
    spans = find_pii(text) if spans is None else spans
    out, cursor = [], 0
    for span in sorted(spans, key=lambda s: s.start):
        out.append(text[cursor:span.start])
        out.append(LABELS[span.kind])
        cursor = span.end
    out.append(text[cursor:])
    return "".join(out)


@dataclass(frozen=True)
class WordRedaction:
    text: str  # the line, as joined from the words
    redacted_text: str
    flags: list[str | None]  # per word: the kind of personal data it is part of, or None
    ranges: list[tuple[float, float, str]]  # (start, end, kind) audio time ranges to mute or beep


def redact_words(words: Sequence[TimedWord], *, context: str = "") -> WordRedaction:
    """Find personal data in a line of timed words: flag the words and give their audio time ranges.

    `context` is the text said just before (the previous line), so a cue in a question ("your date of
    birth?") counts for the answer; findings inside the context itself are ignored.
    """
    prefix = f"{context.strip()} | " if context.strip() else ""  # "|" stops a number running across lines
    pieces, offsets, cursor = [], [], len(prefix)
    for index, word in enumerate(words):
        piece = word.text.strip()
        if index:
            cursor += 1
        offsets.append((cursor, cursor + len(piece)))
        pieces.append(piece)
        cursor += len(piece)
    text = " ".join(pieces)
    spans = [Span(span.start - len(prefix), span.end - len(prefix), span.kind, span.value)
             for span in find_pii(prefix + text) if span.end > len(prefix)]
    spans = [replace(span, start=max(0, span.start)) for span in spans]
    offsets = [(start - len(prefix), end - len(prefix)) for start, end in offsets]
    flags: list[str | None] = [None] * len(words)
    ranges: list[tuple[float, float, str]] = []
    for span in spans:
        hit = [i for i, (start, end) in enumerate(offsets) if start < span.end and end > span.start]
        for i in hit:
            flags[i] = span.kind
        if hit:
            ranges.append((words[hit[0]].start, max(words[i].end for i in hit), span.kind))
    return WordRedaction(text=text, redacted_text=redact_text(text, spans), flags=flags, ranges=ranges)


# ---------------------------------------------------------------- numbers


@dataclass
class _Run:
    start: int
    end: int
    digits: str


def _digit_runs(text: str) -> list[_Run]:
    """Maximal runs of written digits and spoken digit words ("four one one one", "double two")."""
    runs: list[_Run] = []
    current: _Run | None = None
    repeat = 1
    for match in _TOKEN.finditer(text):
        token = match.group()
        lowered = token.lower()
        digits = token if token.isdigit() else DIGIT_WORDS.get(lowered)
        joinable = current is not None and _RUN_SEPARATOR.match(text[current.end:match.start()]) is not None
        if lowered in REPEATERS:
            if current is None or not joinable:
                current = _Run(match.start(), match.end(), "")
                runs.append(current)
            current.end = match.end()
            repeat = REPEATERS[lowered]
            continue
        if digits is None:
            current, repeat = None, 1
            continue
        if current is None or not joinable:
            current = _Run(match.start(), match.end(), "")
            runs.append(current)
        current.digits += digits * repeat
        current.end = match.end()
        repeat = 1
    return [run for run in runs if run.digits]


def _digit_run_spans(text: str) -> list[Span]:
    spans: list[Span] = []
    for run in _digit_runs(text):
        digits = run.digits
        # "oh"/"o" alone (an interjection) or short numbers are not personal data
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            kind: str | None = CARD
        elif _looks_like_phone(digits) or (7 <= len(digits) <= 11 and _phone_cue_before(text, run.start)):
            kind = PHONE
        elif len(digits) >= 8:
            kind = ACCOUNT
        else:
            kind = None
        if kind is not None:
            spans.append(Span(run.start, run.end, kind, digits))
    return spans


def _looks_like_phone(digits: str) -> bool:
    if digits.startswith("0") and len(digits) in (10, 11):
        return True  # UK national format
    if digits.startswith("44") and len(digits) == 12:
        return True
    if digits.startswith("1") and len(digits) == 11:
        return True
    if len(digits) == 10 and digits[0] in "23456789":  # North American number
        try:
            return phonenumbers.is_possible_number(phonenumbers.parse(digits, "US"))
        except phonenumbers.NumberParseException:
            return False
    return False


def _phone_cue_before(text: str, position: int, window: int = 40) -> bool:
    before = text[max(0, position - window):position]
    return PHONE_CUES.search(before) is not None and OTHER_NUMBER_CUES.search(before) is None


def _phone_matcher_spans(text: str) -> list[Span]:
    spans = []
    for region in ("GB", "US"):
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE):
            digits = re.sub(r"\D", "", match.raw_string)
            if len(digits) >= 7 and OTHER_NUMBER_CUES.search(text[max(0, match.start - 40):match.start]) is None:
                spans.append(Span(match.start, match.end, PHONE, digits))
    return spans


def _dob_spans(text: str) -> list[Span]:
    spans = []
    for cue in _DOB_CUE.finditer(text):
        window = text[cue.end():cue.end() + DOB_WINDOW + 60]
        match = _DATE.search(window)
        if match and match.start() <= DOB_WINDOW:
            start = cue.end() + match.start()
            value = text[start:cue.end() + match.end()].rstrip(" ,.")
            spans.append(Span(start, start + len(value), DOB, value))
    return spans


def _resolve_overlaps(spans: list[Span]) -> list[Span]:
    chosen: list[Span] = []
    # the longest finding wins (a phone-like piece of a card number must not hide the rest of it)
    for span in sorted(spans, key=lambda s: (-(s.end - s.start), PRIORITY[s.kind], s.start)):
        if all(span.end <= other.start or span.start >= other.end for other in chosen):
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)
