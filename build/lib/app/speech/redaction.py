"""Redacting personal data in transcripts: in the text and in the word timings (so the audio can be beeped).

The detection itself is the shared detector of the analytics feature, `app.nlp.pii.find_pii` (cards with a
Luhn check written or spoken, phone numbers, e-mail addresses, account/ID patterns, dates of birth, UK
postcodes, addresses and person names); this module maps its findings onto timed words. Names and places
come from the spaCy pipeline and are redacted in the text too.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from app.nlp import pii as shared_pii
from app.nlp.spoken import digit_runs
from app.speech.turns import TimedWord

CARD, PHONE, EMAIL, DOB, POSTCODE, ACCOUNT = "card", "phone", "email", "dob", "postcode", "account"
LABELS = {CARD: "[CARD]", PHONE: "[PHONE]", EMAIL: "[EMAIL]", DOB: "[DOB]", POSTCODE: "[POSTCODE]",
          ACCOUNT: "[NUMBER]", "person": "[NAME]", "address": "[ADDRESS]", "location": "[PLACE]",
          "national_id": "[ID]"}


@dataclass(frozen=True)
class Span:
    start: int  # character offsets in the text
    end: int
    kind: str
    value: str  # the matched text


PHONE_CUE = re.compile(r"\b(phone|number|mobile|cell|landline|tel|reach me|call me)\b", re.IGNORECASE)


def luhn_valid(digits: str) -> bool:
    return digits.isdigit() and len(digits) >= 2 and shared_pii.luhn_ok(digits)


def find_pii(text: str) -> list[Span]:
    """Personal data in `text`, as non-overlapping spans in text order (kinds in lower case).

    On top of the shared detector, transcripts redact every remaining long digit run: the speech model
    often garbles a digit of a card or phone number, and a garbled card number must not stay readable.
    """
    spans = [Span(s.start, s.end, _kind(s.kind), text[s.start:s.end]) for s in shared_pii.find_pii(text)]
    for run in digit_runs(text):
        if len(run.digits) < 7 or any(s.start < run.end and run.start < s.end for s in spans):
            continue
        if any(c in text[run.start:run.end] for c in "/:"):  # dates and times are not account numbers
            continue
        cue = PHONE_CUE.search(text[max(0, run.start - 40):run.start]) is not None
        if cue and len(run.digits) <= 11:
            spans.append(Span(run.start, run.end, PHONE, text[run.start:run.end]))
        elif len(run.digits) >= 8:
            spans.append(Span(run.start, run.end, ACCOUNT, text[run.start:run.end]))
    return sorted(spans, key=lambda s: s.start)


def _kind(shared_kind: str) -> str:
    kind = shared_kind.lower()
    return kind if kind in LABELS else ACCOUNT


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
