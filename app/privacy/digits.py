"""Cards and phone numbers from written and spoken digit runs (app/privacy/spoken.py), and written phone
numbers found by `phonenumbers`."""

import bisect
import re

import phonenumbers

from app.core import phones
from app.privacy.dates import DATE_RE
from app.privacy.options import PiiOptions, load_id_patterns
from app.privacy.spans import CARD, PHONE, PiiSpan
from app.privacy.spoken import DigitRun, digit_runs

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


def digit_spans(text: str, words: list[tuple[str, int, int]], *, options: PiiOptions,
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


def matcher_phone_spans(text: str, words: list[tuple[str, int, int]], *, region: str) -> list[PiiSpan]:
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
