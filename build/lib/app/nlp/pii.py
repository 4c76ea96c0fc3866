"""PII detection shared by call transcripts (speech redaction) and chats, e-mails and social posts.

`find_pii(text)` returns non-overlapping `PiiSpan`s whose `start:end` index the ORIGINAL text (so the
cited span always contains the PII); `redact(text, spans)` replaces them with "[CARD]", "[PHONE]", ...

Detectors (the `source` of each span):
- "digits": written and spoken digit runs (app/nlp/spoken.py): card numbers passing the Luhn check,
  phone numbers (UK/US/+44 shapes checked with `phonenumbers`), account numbers after a context word.
- "phonenumbers": `phonenumbers.PhoneNumberMatcher` on the raw text (GB and US, VALID leniency).
- "regex": e-mail addresses (written and spoken "maria dot lopez at example dot com"), UK postcodes,
  dates of birth (a date near "date of birth", "born", "DOB"), street addresses ("12 High Street"),
  configured account/ID patterns (app/nlp/pii_patterns.yaml), names after "my name is", "Mr", ...
- "ner": spaCy PERSON (names) and GPE/LOC/FAC (LOCATION).
"""

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import phonenumbers
import yaml
from pydantic import BaseModel, Field
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.tokens import Doc

from app.nlp.pipeline import get_ner_nlp
from app.nlp.spoken import DIGIT_WORDS, DigitRun, digit_runs, words_of
from app.nlp.timing import char_span_times

PATTERNS_FILE = Path(__file__).with_name("pii_patterns.yaml")

CARD, PHONE, EMAIL, ACCOUNT, DOB = "CARD", "PHONE", "EMAIL", "ACCOUNT", "DOB"
POSTCODE, ADDRESS, PERSON, LOCATION = "POSTCODE", "ADDRESS", "PERSON", "LOCATION"
# Overlaps are resolved by this order: a card number is never also reported as a phone number.
PRIORITY = [CARD, EMAIL, PHONE, "NATIONAL_ID", ACCOUNT, DOB, POSTCODE, ADDRESS, PERSON, LOCATION]


@dataclass(frozen=True)
class PiiSpan:
    start: int
    end: int
    kind: str
    text: str
    confidence: float
    source: str

    def as_dict(self) -> dict[str, Any]:
        """Without the PII text itself: what may be stored next to redacted text."""
        return {"start": self.start, "end": self.end, "kind": self.kind, "confidence": self.confidence,
                "source": self.source}


class SpokenContext(BaseModel):
    context: list[str]
    digits: list[int]


class IdPattern(BaseModel):
    name: str
    kind: str = ACCOUNT
    pattern: str
    spoken: SpokenContext | None = None
    confidence: float = Field(default=0.9, ge=0, le=1)


@lru_cache(maxsize=4)
def load_id_patterns(path: Path = PATTERNS_FILE) -> tuple[tuple[IdPattern, re.Pattern[str]], ...]:
    """The configured account/ID patterns, compiled (case-insensitive); each must have a `pii` group."""
    entries = yaml.safe_load(path.read_text()) or []
    compiled = []
    for entry in entries:
        item = IdPattern.model_validate(entry)
        regex = re.compile(item.pattern, re.IGNORECASE)
        if "pii" not in regex.groupindex:
            raise ValueError(f"PII pattern {item.name!r} needs a named group (?P<pii>...)")
        compiled.append((item, regex))
    return tuple(compiled)


# ---------------------------------------------------------------- cards and phone numbers from digit runs

CARD_LENGTHS = range(13, 20)
ID_CONTEXT = {"order", "reference", "ref", "invoice", "tracking", "booking", "case", "ticket", "policy",
              "membership", "member", "parcel", "receipt", "transaction", "confirmation"}
PHONE_CONTEXT = {"phone", "number", "mobile", "call", "ring", "reach", "landline", "cell", "text", "contact"}


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _context_words(words: list[tuple[str, int, int]], run: DigitRun, size: int = 4) -> set[str]:
    return {w for w, _, _ in words[max(0, run.token_index - size):run.token_index]}


def _phone_shape(digits: str, plus: bool) -> float:
    """Confidence that a digit string is a phone number (0 when it is not one)."""
    if not plus and digits.startswith("00") and len(digits) >= 11:  # "00 44 ..." international prefix
        digits, plus = digits[2:], True
    try:
        if plus:
            number = phonenumbers.parse("+" + digits, None)
            return 0.95 if phonenumbers.is_possible_number(number) else 0.0
        if len(digits) in (10, 11) and digits[0] == "0":
            number = phonenumbers.parse(digits, "GB")
            return 0.9 if phonenumbers.is_possible_number(number) else 0.0
        if len(digits) == 12 and digits.startswith("44"):
            return 0.85 if phonenumbers.is_possible_number(phonenumbers.parse("+" + digits, None)) else 0.0
        if len(digits) == 10 or (len(digits) == 11 and digits[0] == "1"):
            number = phonenumbers.parse(digits, "US")
            return 0.9 if phonenumbers.is_valid_number(number) else 0.0
    except phonenumbers.NumberParseException:
        return 0.0
    return 0.0


def _digit_spans(text: str, words: list[tuple[str, int, int]]) -> list[PiiSpan]:
    spans: list[PiiSpan] = []
    id_patterns = [p for p, _ in load_id_patterns() if p.spoken is not None]
    for run in digit_runs(text, words):
        context = _context_words(words, run)
        taken: list[tuple[int, int]] = []  # token index ranges used by cards
        # cards: the longest token-aligned window with 13-19 digits passing Luhn
        n = len(run.tokens)
        for size in range(n, 0, -1):
            for first in range(0, n - size + 1):
                last = first + size - 1
                if any(not (last < a or first > b) for a, b in taken):
                    continue
                digits, start, end = run.window(first, last)
                if len(digits) in CARD_LENGTHS and digits[0] in "23456" and luhn_ok(digits):
                    taken.append((first, last))
                    spans.append(PiiSpan(start, end, CARD, text[start:end], 0.95, "digits"))
        # what is left of the run: phone numbers, or IDs after their context word
        for first, last in _free_ranges(n, taken):
            digits, start, end = run.window(first, last)
            plus = run.plus and first == 0
            if plus:
                start = run.start
            matched_id = next((p for p in id_patterns if p.spoken and len(digits) in p.spoken.digits
                               and context & set(p.spoken.context)), None)
            if matched_id is not None:
                spans.append(PiiSpan(start, end, matched_id.kind, text[start:end], 0.8, "digits"))
                continue
            if context & ID_CONTEXT and not plus:
                continue
            confidence = _phone_shape(digits, plus)
            if confidence:
                spans.append(PiiSpan(start, end, PHONE, text[start:end], confidence, "digits"))
    return spans


def _free_ranges(n: int, taken: list[tuple[int, int]]) -> list[tuple[int, int]]:
    free, first = [], 0
    for a, b in sorted(taken):
        if a > first:
            free.append((first, a - 1))
        first = b + 1
    if first < n:
        free.append((first, n - 1))
    return free


def _matcher_phones(text: str, words: list[tuple[str, int, int]]) -> list[PiiSpan]:
    if sum(char.isdigit() for char in text) < 7:  # no written phone number possible: skip the slow matcher
        return []
    ends = [end for _, _, end in words]
    spans = []
    for region in ("GB", "US"):
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
            before = bisect.bisect_right(ends, match.start)
            preceding = {w for w, _, _ in words[max(0, before - 4):before]}
            if preceding & ID_CONTEXT and not preceding & PHONE_CONTEXT:
                continue
            spans.append(PiiSpan(match.start, match.end, PHONE, match.raw_string, 0.95, "phonenumbers"))
    return spans


# ---------------------------------------------------------------- regex detectors

TLD = r"(?:com|net|org|co|uk|io|ie|edu|gov|info|biz|me|us|de|fr|es|au|ca)"
EMAIL_WRITTEN = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_LOCAL_JOIN = r"(?:\s+(?:dot|underscore|dash|hyphen)\s+|[._-])"
_DOMAIN_JOIN = r"(?:\s+dot\s+|\.)"
EMAIL_SPOKEN = re.compile(
    rf"\b[a-z0-9]+(?:{_LOCAL_JOIN}[a-z0-9]+)*\s+(?:at|@)\s+[a-z0-9-]+(?:{_DOMAIN_JOIN}[a-z0-9-]+)*?"
    rf"{_DOMAIN_JOIN}{TLD}(?:{_DOMAIN_JOIN}(?:uk|au|nz|za|in))?\b",
    re.IGNORECASE,
)
POSTCODE_RE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b", re.IGNORECASE)

_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_UNITS = r"(?:one|two|three|four|five|six|seven|eight|nine)"
_ORDINAL = (r"(?:(?:twenty|thirty)[\s-]?(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)|"
            r"first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth|"
            r"fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|thirtieth)")
_TENS = r"(?:ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)"
_YEAR_WORDS = rf"(?:(?:nineteen|twenty)(?:[\s-]+(?:oh[\s-]+{_UNITS}|{_TENS}(?:[\s-]+{_UNITS})?|hundred))|two thousand(?:\s+and)?(?:[\s-]+(?:{_TENS}|{_UNITS}))?)"
_DAY = rf"(?:\d{{1,2}}(?:st|nd|rd|th)?|{_ORDINAL})"
_YEAR = rf"(?:\d{{4}}|'?\d{{2}}|{_YEAR_WORDS})"
DATE_RE = re.compile(
    rf"\b(?:\d{{1,2}}\s*[/.-]\s*\d{{1,2}}\s*[/.-]\s*(?:\d{{4}}|\d{{2}})|\d{{4}}-\d{{2}}-\d{{2}}|"
    rf"(?:the\s+)?{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+{_YEAR})?|"
    rf"{_MONTH}\s+(?:the\s+)?{_DAY}(?:,?\s+{_YEAR})?)\b",
    re.IGNORECASE,
)
DOB_CUE = re.compile(r"\b(?:date\s+of\s+birth|birth\s*date|d\.?o\.?b\b\.?|born|birthday)", re.IGNORECASE)

_NUMBER_WORD = rf"(?:{_UNITS}|{_TENS}(?:[\s-]{_UNITS})?)"
STREET_RE = re.compile(
    rf"\b(?:flat\s+\d+[a-z]?,?\s+)?(?:\d{{1,4}}[a-z]?|{_NUMBER_WORD})\s+((?:[a-z'-]+\s+){{1,3}})"
    r"(?:street|st|road|rd|avenue|ave|lane|ln|drive|close|way|court|crescent|grove|terrace|gardens|"
    r"boulevard|blvd|square|mews|place|row|parade|walk)\b\.?",
    re.IGNORECASE,
)

TITLES = r"(?:mr|mrs|ms|miss|mister|dr|doctor|sir|madam)\.?"
TITLE_ONLY = re.compile(TITLES, re.IGNORECASE)
NAME_CUE = re.compile(
    rf"\b(?:(?P<strong>my\s+name\s+is|my\s+name's|name's|full\s+name\s+is|names\s+is|the\s+name\s+is|"
    rf"speaking\s+(?:with|to)|talking\s+to|{TITLES}|account\s+holder\s+is|in\s+the\s+name\s+of)"
    rf"|(?P<weak>this\s+is|it's|i'm|i\s+am|call\s+me|thank\s+you|regards,?|thanks,?|cheers,?|dear|hi|hello|hey))"
    rf"[ \t]+",
    re.IGNORECASE,
)
NAME_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
NOT_NAME = set(STOP_WORDS) | {
    "calling", "ringing", "speaking", "sorry", "just", "regarding", "about", "okay", "ok", "yes", "yeah", "no",
    "thanks", "thank", "hello", "hi", "please", "customer", "service", "support", "team", "the", "a", "an",
    "there", "here", "good", "fine", "great", "well", "not", "so", "very", "really", "still", "trying",
    "sir", "madam", "agent", "bank", "card", "account", "number", "phone", "everyone", "all", "guys",
    "morning", "afternoon", "evening", "again", "for", "you", "your", "and", "but", "how", "what", "that",
    "mr", "mrs", "ms", "miss", "mister", "dr", "doctor",
    "um", "uh", "er", "erm", "ah", "like", "i'm", "im", "ive", "i've", "id", "dont", "don't", "cant", "can't", "want", "wanted", "need", "got",
    "happy", "unhappy", "angry", "upset", "frustrated", "waiting", "sure", "correct", "right", "done",
}
# Common first names, for lowercase transcripts where NER sees no capital letter. Ambiguous words
# (will, mark, grace, april, bill...) are left out: they only count after a strong cue like "my name is".
_FIRST_NAMES_TEXT = """
aaron adam adrian ahmed aisha alan albert alex alexander alice alison amanda amelia amy andrea andrew angela
anna anne anthony antonio ashley barbara ben benjamin beth brian bruce carl carlos carol caroline catherine
charles charlotte chloe chris christine christopher claire colin craig daniel darren david deborah dennis
diana donna dorothy edward elena elizabeth ellie emily emma eric fatima fiona francesca gary george gillian
graham hannah harry heather helen ian isabella jacob james jane janet jason jennifer jessica joanne john
jonathan jose joseph joshua julia julie karen kate katherine keith kelly kenneth kevin laura lauren linda lisa
lucy luis lynn maria marie martin mary matthew megan melissa michael michelle mohammed muhammad nancy natalie
neil nicholas nicola olivia oliver patricia paul peter priya rachel raj rebecca richard robert ruth ryan
samantha sandra sarah scott sharon simon sophie stephen steven stuart susan thomas timothy tom tony tracy
victoria william yusuf zoe priti anil deepak sanjay wei li chen jamal omar layla nadia sofia lucia marco
giulia pierre hans ingrid olga ivan dmitri kwame amara chidi ngozi
"""
FIRST_NAMES = frozenset(_FIRST_NAMES_TEXT.split())


def _regex_spans(text: str, doc: Doc | None) -> list[PiiSpan]:
    spans: list[PiiSpan] = []
    for match in EMAIL_WRITTEN.finditer(text):
        spans.append(PiiSpan(match.start(), match.end(), EMAIL, match.group(0), 0.99, "regex"))
    for match in EMAIL_SPOKEN.finditer(text):
        if "@" in match.group(0) and EMAIL_WRITTEN.search(match.group(0)):
            continue
        spans.append(PiiSpan(match.start(), match.end(), EMAIL, match.group(0), 0.85, "regex"))
    for match in POSTCODE_RE.finditer(text):
        spans.append(PiiSpan(match.start(), match.end(), POSTCODE, match.group(0), 0.8, "regex"))
    for item, regex in load_id_patterns():
        for match in regex.finditer(text):
            start, end = match.span("pii")
            spans.append(PiiSpan(start, end, item.kind, text[start:end], item.confidence, "regex"))
    spans.extend(_dob_spans(text, doc))
    for match in STREET_RE.finditer(text):
        middle = match.group(1).split()
        if any(word.lower() in STOP_WORDS for word in middle):
            continue
        spans.append(PiiSpan(match.start(), match.end(), ADDRESS, match.group(0), 0.8, "regex"))
    spans.extend(_name_spans(text))
    return spans


def _dob_spans(text: str, doc: Doc | None) -> list[PiiSpan]:
    spans = []
    dates = [(m.start(), m.end()) for m in DATE_RE.finditer(text)]
    if doc is not None:
        dates += [(e.start_char, e.end_char) for e in doc.ents if e.label_ == "DATE" and any(c.isdigit() for c in e.text)]
    for cue in DOB_CUE.finditer(text):
        after = [d for d in dates if 0 <= d[0] - cue.end() <= 40]
        before = [d for d in dates if 0 <= cue.start() - d[1] <= 25]
        chosen = min(after, key=lambda d: d[0]) if after else (max(before, key=lambda d: d[1]) if before else None)
        if chosen is not None:
            overlapping = [d for d in dates if d[0] < chosen[1] and chosen[0] < d[1]]
            start, end = min(d[0] for d in overlapping), max(d[1] for d in overlapping)
            spans.append(PiiSpan(start, end, DOB, text[start:end], 0.85, "regex"))
    return spans


def _name_spans(text: str) -> list[PiiSpan]:
    spans = []
    for cue in NAME_CUE.finditer(text):
        strong = cue.group("strong") is not None
        names: list[re.Match[str]] = []
        position = cue.end()
        for _ in range(3 if strong else 2):
            word = NAME_WORD.match(text, position)
            if word is None or word.group(0).lower() in NOT_NAME or word.group(0).lower() in DIGIT_WORDS:
                break
            value = word.group(0)
            known = value.lower() in FIRST_NAMES
            capitalised = value[0].isupper() and not value.isupper()
            if not names and not (known or capitalised or strong):
                break
            if names and not (known or capitalised or (strong and not text[cue.start():cue.end()][0].isupper())):
                break
            names.append(word)
            gap = re.match(r"[ \t]+", text[word.end():])
            if gap is None:
                break
            position = word.end() + gap.end()
        if names:
            start, end = names[0].start(), names[-1].end()
            spans.append(PiiSpan(start, end, PERSON, text[start:end], 0.75 if strong else 0.6, "regex"))
    for word in NAME_WORD.finditer(text):
        if word.group(0).lower() in FIRST_NAMES:
            spans.append(PiiSpan(word.start(), word.end(), PERSON, word.group(0), 0.55, "regex"))
    return spans


def _ner_spans(doc: Doc) -> list[PiiSpan]:
    spans = []
    for ent in doc.ents:
        if ent.label_ == "PERSON" and any(c.isalpha() for c in ent.text) and ent.text.lower() not in NOT_NAME \
                and not TITLE_ONLY.fullmatch(ent.text):
            spans.append(PiiSpan(ent.start_char, ent.end_char, PERSON, ent.text, 0.8, "ner"))
        elif ent.label_ in ("GPE", "LOC", "FAC"):
            spans.append(PiiSpan(ent.start_char, ent.end_char, LOCATION, ent.text, 0.5, "ner"))
    return spans


# ---------------------------------------------------------------- public API


def _rank(kind: str) -> int:
    return PRIORITY.index(kind) if kind in PRIORITY else PRIORITY.index(ACCOUNT)


def resolve_overlaps(spans: Iterable[PiiSpan]) -> list[PiiSpan]:
    """Merge same-kind overlaps into one span; between kinds the higher-priority kind wins."""
    merged: list[PiiSpan] = []
    for span in sorted(spans, key=lambda s: (s.kind, s.start, -s.end)):
        last = merged[-1] if merged else None
        if last is not None and last.kind == span.kind and span.start < last.end:
            end = max(last.end, span.end)
            merged[-1] = PiiSpan(last.start, end, last.kind, "", max(last.confidence, span.confidence),
                                 last.source if last.confidence >= span.confidence else span.source)
        else:
            merged.append(span)
    kept: list[PiiSpan] = []
    for span in sorted(merged, key=lambda s: (_rank(s.kind), -(s.end - s.start), s.start)):
        if all(span.end <= other.start or span.start >= other.end for other in kept):
            kept.append(span)
    return sorted(kept, key=lambda s: s.start)


def find_pii(text: str, *, doc: Doc | None = None, use_ner: bool = True) -> list[PiiSpan]:
    """Every PII span in `text`, non-overlapping, sorted by start, offsets into `text` itself.

    Pass `doc` when the text was already run through the pipeline (the analytics job does), or
    `use_ner=False` for patterns only (no names/places from the model; much faster).
    """
    if use_ner and doc is None:
        doc = get_ner_nlp()(text)
    words = words_of(text)
    spans = _digit_spans(text, words) + _matcher_phones(text, words) + _regex_spans(text, doc)
    if doc is not None:
        spans += _ner_spans(doc)
    return [PiiSpan(s.start, s.end, s.kind, text[s.start:s.end], s.confidence, s.source)
            for s in resolve_overlaps(spans)]


def find_pii_many(texts: Sequence[str], *, batch_size: int = 64) -> list[list[PiiSpan]]:
    """`find_pii` over many texts, running the model in batches (faster than one by one)."""
    nlp = get_ner_nlp()
    return [find_pii(text, doc=doc) for text, doc in zip(texts, nlp.pipe(texts, batch_size=batch_size),
                                                          strict=True)]


def redact(text: str, spans: Iterable[PiiSpan]) -> str:
    """`text` with each span replaced by its kind in brackets ("[CARD]"); overlapping spans are merged."""
    out, position = [], 0
    for span in resolve_overlaps(spans):
        if span.start < position:
            continue
        out.append(text[position:span.start])
        out.append(f"[{span.kind}]")
        position = span.end
    out.append(text[position:])
    return "".join(out)


@dataclass(frozen=True)
class RedactedSegment:
    text: str  # the redacted text
    spans: list[PiiSpan]  # offsets into the original text
    times: list[tuple[str, float, float]]  # (kind, start, end) in the call, e.g. to bleep the audio


def redact_segment(*, text: str, words: list[dict[str, Any]], start: float, end: float,
                   doc: Doc | None = None) -> RedactedSegment:
    """Redact one transcript segment and give the time range of each PII span (from word timings,
    else interpolated over start..end) — what speech redaction needs for text and audio."""
    spans = find_pii(text, doc=doc)
    times = [(s.kind, *char_span_times(text=text, words=words, start=start, end=end, start_char=s.start,
                                       end_char=s.end)) for s in spans]
    return RedactedSegment(text=redact(text, spans), spans=spans, times=times)
