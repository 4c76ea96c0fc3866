"""THE PII detector, shared by call transcripts (speech redaction), the content gate (chats, e-mails, social
posts, search, exports) and the analysis.

`find_pii(text)` returns non-overlapping `PiiSpan`s whose `start:end` index the ORIGINAL text (so the
cited span always contains the PII); `redact(text, spans)` replaces them with "[CARD]", "[PHONE]", ...

Detectors (the `source` of each span), one module each:
- "digits" (`digits.py`): written and spoken digit runs (`spoken.py`): card numbers passing the Luhn check,
  phone numbers (UK/US/+44 shapes checked with `phonenumbers`), account numbers after a context word.
- "phonenumbers" (`digits.py`): `phonenumbers.PhoneNumberMatcher` on the raw text (GB and US, VALID leniency).
- "regex": e-mail addresses (written and spoken "maria dot lopez at example dot com"), UK postcodes and
  street addresses ("12 High Street") (`contact.py`), dates of birth (`dates.py`), configured account/ID
  patterns (`pii_patterns.yaml`, `options.py`), HKIDs (`ids.py`), names after "my name is", "Mr", ... (`names.py`).
- "ner": spaCy PERSON (names) and GPE/LOC/FAC (LOCATION) (`names.py`).
This module puts them together, with what the previous turn asked for.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from spacy.tokens import Doc

from app.privacy.contact import (
    EMAIL_SPOKEN,
    EMAIL_WRITTEN,
    POSTCODE_CUE,
    POSTCODE_RE,
    spoken_postcode_spans,
    street_spans,
)
from app.privacy.dates import DOB_CUE, dob_spans, year_of
from app.privacy.digits import digit_spans, luhn_ok, matcher_phone_spans
from app.privacy.ids import HKID_CUE, NATIONAL_ID, hkid_ok, hkid_spans
from app.privacy.names import (
    NAME_WORD,
    NOT_NAME,
    answered_name_spans,
    cjk_name_spans,
    name_spans,
    ner_spans,
)
from app.privacy.options import PiiOptions, default_options, load_id_patterns, pii_options
from app.privacy.pipeline import get_ner_nlp
from app.privacy.spans import (
    ACCOUNT,
    ADDRESS,
    CARD,
    DOB,
    EMAIL,
    LOCATION,
    PERSON,
    PHONE,
    POSTCODE,
    PiiSpan,
    redact,
    resolve_overlaps,
)
from app.privacy.spoken import words_of
from app.privacy.timing import char_span_times

__all__ = [  # what callers use: the detector, its options, the span operations and the kinds
    "ACCOUNT", "ADDRESS", "CARD", "DOB", "EMAIL", "LOCATION", "NATIONAL_ID", "NOT_NAME", "PERSON", "PHONE",
    "POSTCODE", "PiiOptions", "PiiSpan", "RedactedSegment", "asked_for", "default_options", "find_pii",
    "find_pii_many", "hkid_ok", "load_id_patterns", "luhn_ok", "pii_options", "redact", "redact_segment",
    "resolve_overlaps", "year_of",
]


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
    spans.extend(dob_spans(text, doc, asked))
    spans.extend(street_spans(text))
    spans.extend(name_spans(text))
    spans.extend(cjk_name_spans(text))
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
    spans = (digit_spans(text, words, options=options, asked=asked)
             + matcher_phone_spans(text, words, region=options.region) + _regex_spans(text, doc, asked)
             + hkid_spans(text, words, asked)
             + spoken_postcode_spans(text, words, POSTCODE in asked or POSTCODE_CUE.search(text) is not None))
    if PERSON in asked:
        spans += answered_name_spans(text)
    if doc is not None:
        spans += ner_spans(doc)
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
