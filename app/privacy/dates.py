"""Dates of birth: written and spoken dates near a birth cue, in answer to "your date of birth?", or of a year
an adult was born in."""

import re
from datetime import date

from spacy.tokens import Doc

from app.privacy.spans import DOB, PiiSpan
from app.privacy.spoken import digit_runs

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
NUMBER_VALUES = ({word: value for value, word in enumerate(_SMALL_NUMBERS.split())} | {"oh": 0}
                  | {word: 10 * (index + 2) for index, word in enumerate(_TENS_WORDS.split())})
ADULT_AGE = 14  # a full date at least this many years back is taken for a date of birth, even without a cue
NUMBER_WORD = rf"(?:{_UNITS}|{_TENS}(?:[\s-]{_UNITS})?)"


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
        return 2000 + sum(NUMBER_VALUES.get(w, 0) for w in words[2:])
    if words and words[0] in ("nineteen", "twenty") and len(words) > 1:
        rest = words[1:]
        tail = 0 if rest == ["hundred"] else sum(NUMBER_VALUES.get(w, 0) for w in rest)
        return NUMBER_VALUES[words[0]] * 100 + tail
    value = sum(NUMBER_VALUES.get(w, 0) for w in words)
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


def dob_spans(text: str, doc: Doc | None, asked: frozenset[str] = frozenset()) -> list[PiiSpan]:
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
