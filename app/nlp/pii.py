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
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import phonenumbers
import yaml
from pydantic import BaseModel, Field
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.tokens import Doc

from app.core import hkid, phones
from app.core.settings import Settings
from app.core.vocabulary import DEFAULT_VOCABULARY_FILE, load_vocabulary, parse_vocabulary
from app.nlp.pipeline import get_ner_nlp
from app.nlp.spoken import DIGIT_WORDS, REPEATERS, DigitRun, digit_runs, words_of
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


@dataclass(frozen=True)
class PiiOptions:
    """What a deployment tells the detector: its phone region, and names never to redact.

    `region`: numbers without "+country" are read in it (a bare "9123 4567" is a phone number in HK);
    GB and US shapes are always recognised too. `allow`: the domain vocabulary (brands, products, places,
    app/core/vocabulary.py): a name or place span on one of these terms is not personal data.
    """
    region: str = phones.FALLBACK_REGION
    allow: tuple[str, ...] = ()

    @property
    def allow_re(self) -> re.Pattern[str] | None:
        return _allow_pattern(self.allow)


def pii_options(settings: Settings) -> PiiOptions:
    """The options of a deployment: `EARSHOT_PHONE_DEFAULT_REGION` and the vocabulary's every term."""
    return PiiOptions(region=phones.default_region(settings), allow=load_vocabulary(settings).all_terms())


def default_options() -> PiiOptions:
    """Options for callers not given the app's settings: the environment's and `.env`'s, as Settings reads
    them (cached until they or the vocabulary file change)."""
    settings = phones.settings_from_environment()
    vocabulary_file = settings.vocabulary_file or DEFAULT_VOCABULARY_FILE
    mtime = vocabulary_file.stat().st_mtime if vocabulary_file.exists() else 0.0
    return _default_options(phones.default_region(settings), vocabulary_file, mtime)


@lru_cache(maxsize=8)
def _default_options(region: str, vocabulary_file: Path, mtime: float) -> PiiOptions:
    terms: tuple[str, ...] = ()
    if mtime:
        terms = parse_vocabulary(vocabulary_file.read_text(encoding="utf-8"), source=str(vocabulary_file)).all_terms()
    return PiiOptions(region=region, allow=terms)


@lru_cache(maxsize=16)
def _allow_pattern(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    if not terms:
        return None
    alternatives = sorted((re.escape(term).replace(r"\ ", r"\s+") for term in terms), key=len, reverse=True)
    joined = "|".join(alternatives)
    # the term itself, or a social handle made from it ("@KestrelCare")
    return re.compile(rf"(?<![A-Za-z0-9])(?:{joined})(?![A-Za-z0-9])|@(?:{joined})\w*", re.IGNORECASE)


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
PHONE_CONTEXT = {"phone", "number", "mobile", "call", "ring", "reach", "landline", "cell", "text", "contact", "tel",
                 "telephone", "whatsapp", "sms", "fax"}
STRONG_PHONE_CONTEXT = PHONE_CONTEXT - {"number"}  # "order number 91234567" is an order
# words after which an 8-digit run (a Hong Kong number's length) is an account, not a phone
NOT_PHONE_CONTEXT = ID_CONTEXT | {"account", "acct", "sort", "code", "id", "hkid", "card", "serial", "imei", "iccid",
                                   "sim", "model", "page", "version"}
# amounts ("21,234,567.89", "$38 800 000") are not phone numbers, whatever their length
AMOUNT_RE = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d{2}")
CURRENCY_BEFORE = re.compile(r"(?:[$£€¥]|hk\$|us\$|hkd|usd|gbp|rmb)\s*$", re.IGNORECASE)
# Chinese (Traditional and Simplified) cues, looked for in the few characters before a number: words are not
# separated by spaces there, so the word-set cues above never see them
CJK_PHONE_CUE = re.compile(r"(?:電話|电话|手機|手机|聯絡|联络|聯繫|联系|致電|致电|打俾|打給|打给|短訊|短信)\D{0,6}$")
CJK_ID_CUE = re.compile(r"(?:訂單|订单|單號|单号|編號|编号|參考|参考|帳戶|账户|戶口|户口|個案|个案|發票|发票|序號|序号)\D{0,6}$")


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


CUED_REGIONS = ("HK",)  # bare national numbers also recognised after a phone cue, whatever the region


def _phone_shape(digits: str, plus: bool, *, region: str = phones.FALLBACK_REGION, cued: bool = False) -> float:
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
            if phonenumbers.is_valid_number(number):
                return 0.9
        if region not in ("GB", "US") and phones.is_valid_in(digits, region):
            return 0.9  # e.g. "9123 4567" in a Hong Kong deployment
        code = str(phonenumbers.country_code_for_region(region))
        if digits.startswith(code) and phonenumbers.is_valid_number(phonenumbers.parse("+" + digits, None)):
            return 0.85  # "852 9123 4567": the country code without its "+"
        if cued and any(phones.is_possible_in(digits, other) for other in (region, *CUED_REGIONS)):
            return 0.8  # after "phone", "call me on": a number of the right length, even if not yet issued
    except phonenumbers.NumberParseException:
        return 0.0
    return 0.0


def _digit_spans(text: str, words: list[tuple[str, int, int]], *, options: PiiOptions,
                 asked: frozenset[str] = frozenset()) -> list[PiiSpan]:
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
            before = text[max(0, start - 12):start]
            cjk_phone = CJK_PHONE_CUE.search(before) is not None
            nearest = _nearest_cue(words[max(0, run.token_index - 4):run.token_index])
            if (nearest == "id" or CJK_ID_CUE.search(before) and not cjk_phone) and not plus:
                continue
            if DATE_RE.fullmatch(text[start:end]) or AMOUNT_RE.fullmatch(text[start:end]) \
                    or CURRENCY_BEFORE.search(text[max(0, start - 4):start]):
                continue
            cued = bool(context & PHONE_CONTEXT) or PHONE in asked or cjk_phone
            confidence = _phone_shape(digits, plus, region=options.region, cued=cued)
            if confidence:
                spans.append(PiiSpan(start, end, PHONE, text[start:end], confidence, "digits"))
    return spans


def _nearest_cue(preceding: list[tuple[str, int, int]]) -> str | None:
    """ "phone" or "id", whichever cue word comes closest before a number ("call me about order 1234567" is an
    order; "order problem, call me on 9123 4567" a phone), or None."""
    for word, _, _ in reversed(preceding):
        if word in STRONG_PHONE_CONTEXT:
            return "phone"
        if word in NOT_PHONE_CONTEXT:
            return "id"
    return None


def _free_ranges(n: int, taken: list[tuple[int, int]]) -> list[tuple[int, int]]:
    free, first = [], 0
    for a, b in sorted(taken):
        if a > first:
            free.append((first, a - 1))
        first = b + 1
    if first < n:
        free.append((first, n - 1))
    return free


def _matcher_phones(text: str, words: list[tuple[str, int, int]], *, region: str) -> list[PiiSpan]:
    if sum(char.isdigit() for char in text) < 7:  # no written phone number possible: skip the slow matcher
        return []
    ends = [end for _, _, end in words]
    spans = []
    for matcher_region in dict.fromkeys((region, "GB", "US")):
        for match in phonenumbers.PhoneNumberMatcher(text, matcher_region, leniency=phonenumbers.Leniency.VALID):
            before = bisect.bisect_right(ends, match.start)
            if _nearest_cue(words[max(0, before - 4):before]) == "id":
                continue
            if CJK_ID_CUE.search(text[max(0, match.start - 12):match.start]):
                continue
            if DATE_RE.fullmatch(match.raw_string) or AMOUNT_RE.fullmatch(match.raw_string) \
                    or CURRENCY_BEFORE.search(text[max(0, match.start - 4):match.start]):
                continue
            spans.append(PiiSpan(match.start, match.end, PHONE, match.raw_string, 0.95, "phonenumbers"))
    return spans


# ---------------------------------------------------------------- regex detectors

TLD = r"(?:com|net|org|co|uk|io|ie|edu|gov|info|biz|me|us|de|fr|es|au|ca)"
EMAIL_WRITTEN = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_LOCAL_JOIN = r"(?:\s+(?:dot|underscore|dash|hyphen)\s+|[._-])"
_DOMAIN_JOIN = r"(?:\s+dot\s+|\.)"
# spoken: "maria dot lopez at example dot com"; also an initial before the name ("j smith at ...") and a
# domain the recogniser split in two ("kestrel mail dot co dot uk")
EMAIL_SPOKEN = re.compile(
    rf"\b(?:[a-z]\s+)?[a-z0-9]+(?:{_LOCAL_JOIN}[a-z0-9]+)*\s+(?:at|@)\s+[a-z0-9-]+(?:\s+[a-z0-9-]+)?"
    rf"(?:{_DOMAIN_JOIN}[a-z0-9-]+)*?"
    rf"{_DOMAIN_JOIN}{TLD}(?:{_DOMAIN_JOIN}(?:uk|au|nz|za|in))?\b",
    re.IGNORECASE,
)
# "M1 1AE", "m11ae", and read out with a pause: "M1, 1AE", "G12, 8QQ"
POSTCODE_RE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?(?:\s*,\s*|\s+)?\d[A-Z]{2}\b", re.IGNORECASE)
POSTCODE_SHAPE = re.compile(r"[A-Z]{1,2}\d[A-Z\d]?\d[A-Z]{2}")
POSTCODE_CUE = re.compile(r"\b(?:post\s*code|postal\s+code|zip\s*code)\b", re.IGNORECASE)

_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_UNITS = r"(?:one|two|three|four|five|six|seven|eight|nine)"
_ORDINAL = (r"(?:(?:twenty|thirty)[\s-]?(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)|"
            r"first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth|"
            r"fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|thirtieth)")
_TENS = r"(?:ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)"
_YEAR_WORDS = rf"(?:(?:nineteen|twenty)(?:[\s-]+(?:oh[\s-]+{_UNITS}|{_TENS}(?:[\s-]+{_UNITS})?|hundred))|two thousand(?:\s+and)?(?:[\s-]+(?:{_TENS}|{_UNITS}))?)"
_DAY = rf"(?:\d{{1,2}}(?:st|nd|rd|th)?|{_ORDINAL})"
_YY_WORDS = rf"(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[\s-]+{_UNITS})?)"  # "eighty-four"
_YEAR = rf"(?:\d{{4}}|'?\d{{2}}|{_YEAR_WORDS}|{_YY_WORDS})"
_MONTH_ORDINAL = (r"(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|"
                  r"\d{1,2}(?:st|nd|rd|th))")
DATE_RE = re.compile(
    rf"\b(?:\d{{1,2}}\s*[/.-]\s*\d{{1,2}}\s*[/.-]\s*(?:\d{{4}}|\d{{2}})|\d{{4}}-\d{{2}}-\d{{2}}|"
    rf"\d{{1,2}}\s*[/.-]\s*{_MONTH}\s*[/.-]\s*(?:\d{{4}}|\d{{2}})|"  # "7-Aug-1969"
    rf"(?:the\s+)?{_DAY}\s+of\s+the\s+{_MONTH_ORDINAL},?\s+{_YEAR}|"  # "the twelfth of the third eighty five"
    rf"(?:the\s+)?{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+{_YEAR})?|"
    rf"{_MONTH}\s+(?:the\s+)?{_DAY}(?:,?\s+{_YEAR})?)\b",
    re.IGNORECASE,
)
DOB_CUE = re.compile(r"\b(?:date\s+of\s+birth|birth\s*date|d\.?o\.?b\b\.?|d\s+o\s+b\b|born|birthday)"
                     r"|出生|生日|出世", re.IGNORECASE)
CJK_DATE_RE = re.compile(r"(?<!\d)(?P<year>\d{4})\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*[日號号]?")  # 1985年3月12日
YEAR_AT_END = re.compile(rf"(?:(?P<four>\d{{4}})|[/.-]\s*(?P<two>\d{{2}})|'?(?P<short>\d{{2}})|(?P<words>{_YEAR_WORDS}|"
                         rf"{_YY_WORDS}))\s*$", re.IGNORECASE)
ISO_YEAR = re.compile(r"^(\d{4})-\d{2}-\d{2}$")
_SMALL_NUMBERS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
                  "sixteen seventeen eighteen nineteen")
_TENS_WORDS = "twenty thirty forty fifty sixty seventy eighty ninety"
_NUMBER_VALUES = ({word: value for value, word in enumerate(_SMALL_NUMBERS.split())} | {"oh": 0}
                  | {word: 10 * (index + 2) for index, word in enumerate(_TENS_WORDS.split())})
ADULT_AGE = 14  # a full date at least this many years back is taken for a date of birth, even without a cue

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


def _regex_spans(text: str, doc: Doc | None, asked: frozenset[str] = frozenset()) -> list[PiiSpan]:
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
    spans.extend(_dob_spans(text, doc, asked))
    for match in STREET_RE.finditer(text):
        middle = match.group(1).split()
        if any(word.lower() in STOP_WORDS for word in middle):
            continue
        spans.append(PiiSpan(match.start(), match.end(), ADDRESS, match.group(0), 0.8, "regex"))
    spans.extend(_name_spans(text))
    spans.extend(_cjk_name_spans(text))
    return spans


def year_of(date_text: str, *, today: date | None = None) -> int | None:
    """The year a date mentions ("12/03/85" -> 1985, "nineteen eighty-eight" -> 1988), or None."""
    today = today or date.today()
    iso = ISO_YEAR.match(date_text.strip()) or CJK_DATE_RE.match(date_text.strip())
    if iso:
        return int(iso.group(1))
    found = YEAR_AT_END.search(date_text.strip())
    if found is None:
        return None
    if found.group("four"):
        return int(found.group("four"))
    two = found.group("two") or found.group("short")
    if two is None:
        return _year_from_words(found.group("words"), today=today)
    value = int(two)
    return 1900 + value if value > today.year % 100 else 2000 + value


def _year_from_words(text: str, *, today: date) -> int | None:
    words = [w for w in re.split(r"[\s-]+", text.lower()) if w and w != "and"]
    if words[:2] == ["two", "thousand"]:
        return 2000 + sum(_NUMBER_VALUES.get(w, 0) for w in words[2:])
    if words and words[0] in ("nineteen", "twenty") and len(words) > 1:
        rest = words[1:]
        tail = 0 if rest == ["hundred"] else sum(_NUMBER_VALUES.get(w, 0) for w in rest)
        return _NUMBER_VALUES[words[0]] * 100 + tail
    value = sum(_NUMBER_VALUES.get(w, 0) for w in words)
    return 1900 + value if value > today.year % 100 else 2000 + value


def _digits_are_a_date(digits: str) -> bool:
    """ "one two, oh three, eighty five" -> "120385": a day, a month and a 2- or 4-digit year."""
    if len(digits) not in (6, 8):
        return False
    day, month, year = int(digits[:2]), int(digits[2:4]), int(digits[4:])
    if len(digits) == 8 and not 1900 <= year <= date.today().year:
        return False
    return 1 <= day <= 31 and 1 <= month <= 12


YEAR_AFTER = re.compile(rf"[\s,]*(?:{_YEAR_WORDS}|{_YY_WORDS}|\d{{4}}|\d{{2}})\b", re.IGNORECASE)


def _spoken_numeric_dates(text: str) -> list[tuple[int, int]]:
    """Dates read out as numbers: "one two oh three eight five", "one two, oh three, eighty five"."""
    found = []
    for run in digit_runs(text):
        if _digits_are_a_date(run.digits):
            found.append((run.start, run.end))
        elif len(run.digits) == 4 and _digits_are_a_date(run.digits + "00"):
            year = YEAR_AFTER.match(text, run.end)
            if year is not None:
                found.append((run.start, year.end()))
    return found


def _dob_spans(text: str, doc: Doc | None, asked: frozenset[str] = frozenset()) -> list[PiiSpan]:
    """Dates near a birth cue; every date when the previous turn asked for the date of birth; and any full
    date of a year an adult was born in (an ID check is where callers say such dates)."""
    spans = []
    written = [(m.start(), m.end()) for m in DATE_RE.finditer(text)]
    written += [(m.start(), m.end()) for m in CJK_DATE_RE.finditer(text)]
    dates = list(written)
    if doc is not None:
        dates += [(e.start_char, e.end_char) for e in doc.ents
                  if e.label_ == "DATE" and any(c.isdigit() for c in e.text)]
    chosen_dates: list[tuple[tuple[int, int], float]] = []
    for cue in DOB_CUE.finditer(text):
        after = [d for d in dates if 0 <= d[0] - cue.end() <= 40]
        before = [d for d in dates if 0 <= cue.start() - d[1] <= 25]
        chosen = min(after, key=lambda d: d[0]) if after else (max(before, key=lambda d: d[1]) if before else None)
        if chosen is not None:
            chosen_dates.append((chosen, 0.85))
    if DOB in asked:
        chosen_dates += [(d, 0.8) for d in written]
        chosen_dates += [(span, 0.75) for span in _spoken_numeric_dates(text)]
    latest = date.today().year - ADULT_AGE
    for start, end in written:
        year = year_of(text[start:end])
        if year is not None and 1900 <= year <= latest:
            chosen_dates.append(((start, end), 0.7))
    for chosen, confidence in chosen_dates:
        overlapping = [chosen] + [d for d in dates if d[0] < chosen[1] and chosen[0] < d[1]]
        start, end = min(d[0] for d in overlapping), max(d[1] for d in overlapping)
        spans.append(PiiSpan(start, end, DOB, text[start:end], confidence, "regex"))
    return spans


# ---------------------------------------------------------------- Hong Kong identity card numbers

NATIONAL_ID = "NATIONAL_ID"
HKID_RE = re.compile(r"(?<![A-Za-z0-9])(?P<letters>[A-Z]{1,2})(?P<digits>\d{6})\s?"
                     r"(?:\(\s?(?P<bracketed>[0-9A])\s?\)|(?P<bare>[0-9A]))(?![A-Za-z0-9])")
HKID_CUE = re.compile(r"\b(?:hkid|hk\s*id|id\s*card|identity\s*card|id\s*(?:number|no\.?))|身份證|身分證|身份证",
                      re.IGNORECASE)
BRACKET_WORDS = {"bracket", "brackets", "in"}


def hkid_ok(letters: str, digits: str, check: str) -> bool:
    """The HKID check digit is right (app/core/hkid.py)."""
    return hkid.check_digit_ok(letters, digits, check)


def _hkid_spans(text: str, words: list[tuple[str, int, int]], asked: frozenset[str]) -> list[PiiSpan]:
    """HKIDs written ("A123456(3)", "A1234563" after an ID cue) or read out ("A one two three four five six,
    bracket three"); only numbers whose check digit is right count."""
    spans = []
    cued_text = NATIONAL_ID in asked
    for match in HKID_RE.finditer(text):
        check = match.group("bracketed") or match.group("bare")
        if not hkid_ok(match.group("letters"), match.group("digits"), check):
            continue
        near_cue = HKID_CUE.search(text[max(0, match.start() - 40):match.start()]) is not None
        if match.group("bracketed") or near_cue or cued_text:
            spans.append(PiiSpan(match.start(), match.end(), NATIONAL_ID, match.group(0), 0.9, "regex"))
    for run in digit_runs(text, words):
        first = run.token_index
        candidates = [[j, first - 1] for j in (first - 2,) if _is_letter(text, words, j)
                      and _adjacent(text, words[j][2], words[first - 1][1])] + [[first - 1]]
        if not _is_letter(text, words, first - 1) or not _adjacent(text, words[first - 1][2], run.tokens[0].start):
            continue
        digits, end = run.digits, run.end
        if len(digits) == 7:
            check = digits[6]
        elif len(digits) == 6:
            after = [w for w in words if w[1] >= run.end][:3]
            while after and after[0][0] in BRACKET_WORDS:
                after = after[1:]
            if not after or not (after[0][0] in DIGIT_WORDS or after[0][0].isdigit() or after[0][0] == "a"):
                continue
            check = "A" if after[0][0] == "a" else DIGIT_WORDS.get(after[0][0], after[0][0])
            end = after[0][2]
        else:
            continue
        for letters_at in candidates:
            letters = "".join(words[j][0] for j in letters_at).upper()
            if hkid_ok(letters, digits[:6], check):
                start = words[letters_at[0]][1]
                spans.append(PiiSpan(start, end, NATIONAL_ID, text[start:end], 0.8, "digits"))
                break
    return spans


def _is_letter(text: str, words: list[tuple[str, int, int]], j: int) -> bool:
    """A letter said on its own ("A", "P"), not the "s" of "it's"."""
    if j < 0:
        return False
    word, start, _ = words[j]
    return len(word) == 1 and word.isascii() and word.isalpha() and (start == 0 or text[start - 1] not in "'’")


def _adjacent(text: str, end: int, start: int) -> bool:
    return 0 <= start - end <= 3 and text[end:start].strip(" ,.-") == ""


# ---------------------------------------------------------------- postcodes read out letter by letter

def _spoken_postcodes(text: str, words: list[tuple[str, int, int]], cued: bool) -> list[PiiSpan]:
    """ "S W one A, one A A" / "B nine, four double S" after a postcode cue (here or in the question)."""
    if not cued:
        return []
    pieces: list[tuple[str, int, int]] = []  # (characters, start, end) per word
    for index, (word, start, end) in enumerate(words):
        if word in _NUMBER_VALUES and _NUMBER_VALUES[word] >= 10:  # districts: "E fourteen", "C F ten"
            value = _NUMBER_VALUES[word]
            following = words[index + 1][0] if index + 1 < len(words) else ""
            if value >= 20 and following in DIGIT_WORDS and following not in ("to", "too", "for", "won", "ate"):
                pieces.append((str(value)[0], start, end))  # "twenty two": "2" here, "2" from the next word
            else:
                pieces.append((str(value), start, end))
        elif word != "o" and _is_letter(text, words, index):
            pieces.append((word.upper(), start, end))
        elif word in DIGIT_WORDS and word not in ("to", "too", "for", "won", "ate"):
            pieces.append((DIGIT_WORDS[word], start, end))
        elif word.isdigit() and len(word) <= 2:
            pieces.append((word, start, end))
        elif word in REPEATERS:
            pieces.append(("*" + str(REPEATERS[word]), start, end))
        else:
            pieces.append(("", start, end))
    spans: list[PiiSpan] = []
    i = 0
    while i < len(pieces):
        chars, best = "", None
        j = i
        while j < len(pieces) and pieces[j][0] and len(chars) <= 7:
            if j > i and not _adjacent(text, pieces[j - 1][2], pieces[j][1]):
                break
            piece = pieces[j][0]
            if piece.startswith("*"):
                if j + 1 >= len(pieces) or not pieces[j + 1][0] or pieces[j + 1][0].startswith("*"):
                    break
                j += 1
                piece = pieces[j][0] * int(pieces[j - 1][0][1:])
            chars += piece
            if POSTCODE_SHAPE.fullmatch(chars):
                best = j
            j += 1
        if best is not None and chars[:1].isalpha():
            start, end = pieces[i][1], pieces[best][2]
            spans.append(PiiSpan(start, end, POSTCODE, text[start:end], 0.75, "spoken"))
            i = best + 1
        else:
            i += 1
    return spans


# ---------------------------------------------------------------- what the previous turn asked for

ASKED = {
    DOB: DOB_CUE,
    POSTCODE: POSTCODE_CUE,
    PHONE: re.compile(r"\b(?:phone|mobile|landline|(?:contact|best|good|your|a)\s+number|number\s+to\s+(?:call|reach)|"
                      r"call\s+you\s+back|reach\s+you)\b|電話|电话|手機|手机|聯絡|联络", re.IGNORECASE),
    PERSON: re.compile(r"(?:\b(?:your|the|full|first|last)\s+name|\bsurname|\bwho\s+am\s+i\s+speaking|"
                       r"\bspeaking\s+(?:with|to)\s*\?|\baccount\s+holder)|咩名|乜名|什麼名|什么名|貴姓|贵姓|全名|"
                       r"姓名|名字|姓咩|姓乜", re.IGNORECASE),
    NATIONAL_ID: HKID_CUE,
}


def asked_for(context: str) -> frozenset[str]:
    """The kinds of personal data the previous turn asked for ("what's your date of birth?" -> DOB)."""
    tail = context[-240:]
    return frozenset(kind for kind, cue in ASKED.items() if cue.search(tail))


ANSWER_LEAD = re.compile(
    r"^\s*(?:(?:yes|yeah|yep|sure|ok|okay|um|uh|er|erm|so|it's|its|it\s+is|that's|that\s+is|my\s+name\s+is|"
    r"my\s+name's|this\s+is|i'm|i\s+am|the\s+name's|mine's|mine\s+is)\b[\s,.-]*)*", re.IGNORECASE)


def _answered_name_spans(text: str) -> list[PiiSpan]:
    """The name given in reply to "can I take your name?": the first words of the answer."""
    position = ANSWER_LEAD.match(text)
    cursor = position.end() if position else 0
    cursor += len(text[cursor:]) - len(text[cursor:].lstrip("我叫係是姓:：,， "))  # "我叫陳大文" / "姓陳"
    chinese = _cjk_name_at(text, cursor, surname_only=True)
    if chinese is not None:
        return [chinese]
    names: list[re.Match[str]] = []
    while len(names) < 4:
        word = NAME_WORD.match(text, cursor)
        if word is None or word.group(0).lower() in NOT_NAME or word.group(0).lower() in DIGIT_WORDS:
            break
        if not (word.group(0)[0].isupper() or text.islower()):
            break
        names.append(word)
        gap = re.match(r"[ \t]+", text[word.end():])
        if gap is None:
            break
        cursor = word.end() + gap.end()
    if not names:
        return []
    return [PiiSpan(names[0].start(), names[-1].end(), PERSON, text[names[0].start():names[-1].end()], 0.7,
                    "context")]


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


CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


# Common Hong Kong and mainland surnames (Traditional and Simplified): a Chinese name is a surname and one or
# two more characters; only looked for after a cue ("我叫", "我姓", "my name is") or as the answer to "your name?"
CJK_SURNAMES = frozenset(
    "陳陈李張张黃黄何林吳吴劉刘梁王鄭郑楊杨馮冯謝谢郭麥麦曾羅罗蔡鄧邓許许葉叶蕭萧袁譚谭盧卢余朱潘彭姚鍾钟蘇苏"
    "周徐胡莫杜馬马趙赵孫孙高關关鄺邝區区冼簡简文方施石丁范雷唐溫温江歐欧伍韋韦")
CJK_NAME_CUE = re.compile(r"(?:我叫|我係|我是|我姓|姓名|名字係|名字是|名字叫|叫我|my\s+name\s+is|my\s+name's|i'm|i\s+am|"
                          r"this\s+is|speaking\s+(?:with|to)|mr\.?|mrs\.?|ms\.?|miss)[\s:：,，]*", re.IGNORECASE)
CJK_NAME = re.compile(r"[\u3400-\u9fff]{1,3}")


def _cjk_name_at(text: str, position: int, *, surname_only: bool = False) -> PiiSpan | None:
    """A Chinese name starting at `position`: a known surname and up to two more characters."""
    match = CJK_NAME.match(text, position)
    if match is None or match.group(0)[0] not in CJK_SURNAMES:
        return None
    if len(match.group(0)) == 1 and not surname_only:
        return None
    return PiiSpan(match.start(), match.end(), PERSON, match.group(0), 0.7, "regex")


def _cjk_name_spans(text: str) -> list[PiiSpan]:
    if not CJK.search(text):
        return []
    spans = []
    for cue in CJK_NAME_CUE.finditer(text):
        found = _cjk_name_at(text, cue.end(), surname_only=cue.group(0).startswith("我姓"))
        if found is not None:
            spans.append(found)
    return spans


FIELD_LABEL_AFTER = re.compile(r"(?:[ \t]+[a-z]+){0,2}[ \t]*:")


def _field_label(text: str, start: int, end: int) -> bool:
    """A form field's label the model took for a name: "Email: ...", "Daytime phone: ..." at a line start.
    Speaker labels of a pasted transcript ("Maria: hi", "Grace Okafor: ...") stay names."""
    word = text[start:end]
    if " " in word or word.lower() in FIRST_NAMES:
        return False
    at_line_start = not text[:start].strip() or text[:start].rstrip(" \t").endswith(("\n", "\r"))
    return at_line_start and FIELD_LABEL_AFTER.match(text, end) is not None


def _ner_spans(doc: Doc) -> list[PiiSpan]:
    spans = []
    for ent in doc.ents:
        if CJK.search(ent.text):  # the English model cannot read Chinese: its entities there are noise
            continue
        if ent.label_ == "PERSON" and any(c.isalpha() for c in ent.text) and ent.text.lower() not in NOT_NAME \
                and not TITLE_ONLY.fullmatch(ent.text) and not any(c.isdigit() for c in ent.text) \
                and not _field_label(doc.text, ent.start_char, ent.end_char):
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


def find_pii(text: str, *, doc: Doc | None = None, use_ner: bool = True, context: str = "",
             options: PiiOptions | None = None) -> list[PiiSpan]:
    """Every PII span in `text`, non-overlapping, sorted by start, offsets into `text` itself.

    Pass `doc` when the text was already run through the pipeline (the analytics job does), or
    `use_ner=False` for patterns only (no names/places from the model; much faster). `context` is the
    previous turn or message: when it asked for a date of birth, a name, a postcode, a phone or ID number,
    the answer here is read as one ("12/03/1985" after "what's your date of birth?"). `options` carry the
    deployment's phone region and never-redacted vocabulary (`pii_options(settings)`; default: the
    environment's, `default_options()`).
    """
    options = options or default_options()
    if use_ner and doc is None:
        doc = get_ner_nlp()(text)
    asked = asked_for(context) if context.strip() else frozenset()
    words = words_of(text)
    spans = (_digit_spans(text, words, options=options, asked=asked)
             + _matcher_phones(text, words, region=options.region) + _regex_spans(text, doc, asked)
             + _hkid_spans(text, words, asked)
             + _spoken_postcodes(text, words, POSTCODE in asked or POSTCODE_CUE.search(text) is not None))
    if PERSON in asked:
        spans += _answered_name_spans(text)
    if doc is not None:
        spans += _ner_spans(doc)
    spans = _allowed_removed(text, spans, options)
    return [PiiSpan(s.start, s.end, s.kind, text[s.start:s.end], s.confidence, s.source)
            for s in resolve_overlaps(spans)]


NEVER_PERSONAL = (PERSON, LOCATION)  # kinds a vocabulary term (a brand, a shop's district) cancels


def _allowed_removed(text: str, spans: list[PiiSpan], options: PiiOptions) -> list[PiiSpan]:
    """Name and place spans without the vocabulary's terms: "SmarTone" and "Mong Kok" are not personal data;
    "Kestrel Mobile Helen Yip" keeps "Helen Yip"."""
    pattern = options.allow_re
    if pattern is None:
        return spans
    terms = [(m.start(), m.end()) for m in pattern.finditer(text)]
    if not terms:
        return spans
    kept = []
    for span in spans:
        if span.kind not in NEVER_PERSONAL or not any(a < span.end and span.start < b for a, b in terms):
            kept.append(span)
            continue
        cursor = span.start
        for a, b in sorted(terms) + [(span.end, span.end)]:
            if b <= cursor or a < span.start and b <= span.start:
                continue
            piece_start, piece_end = cursor, min(a, span.end)
            cursor = max(cursor, b)
            while piece_start < piece_end and not text[piece_start].isalpha():
                piece_start += 1
            while piece_end > piece_start and not text[piece_end - 1].isalpha():
                piece_end -= 1
            words = NAME_WORD.findall(text[piece_start:piece_end])
            if words and any(w.lower() not in NOT_NAME for w in words) and piece_end - piece_start >= 2:
                kept.append(PiiSpan(piece_start, piece_end, span.kind, text[piece_start:piece_end],
                                    span.confidence, span.source))
            if cursor >= span.end:
                break
    return kept


def find_pii_many(texts: Sequence[str], *, contexts: Sequence[str] | None = None,
                  options: PiiOptions | None = None, batch_size: int = 64) -> list[list[PiiSpan]]:
    """`find_pii` over many texts (each with its previous turn in `contexts`, if given), running the model
    in batches (faster than one by one)."""
    nlp = get_ner_nlp()
    contexts = list(contexts) if contexts is not None else [""] * len(texts)
    options = options or default_options()
    return [find_pii(text, doc=doc, context=context, options=options)
            for text, doc, context in zip(texts, nlp.pipe(texts, batch_size=batch_size), contexts, strict=True)]


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
                   doc: Doc | None = None, context: str = "", options: PiiOptions | None = None) -> RedactedSegment:
    """Redact one transcript segment and give the time range of each PII span (from word timings,
    else interpolated over start..end) — what speech redaction needs for text and audio."""
    spans = find_pii(text, doc=doc, context=context, options=options)
    times = [(s.kind, *char_span_times(text=text, words=words, start=start, end=end, start_char=s.start,
                                       end_char=s.end)) for s in spans]
    return RedactedSegment(text=redact(text, spans), spans=spans, times=times)
