"""Redacting personal data in transcripts: in the text and in the word timings (so the audio can be beeped).

The detection itself is the shared detector below interactions, `app.privacy.pii.find_pii` (cards with a
Luhn check written or spoken, phone numbers, e-mail addresses, account/ID patterns, dates of birth, UK
postcodes, addresses and person names); this module maps its findings onto timed words. Names and places
come from the spaCy pipeline and are redacted in the text too.

Across a call: each line is read with the line before it (the agent's "your date of birth?" makes the reply a
date of birth), and a value found once is found again when either side repeats it (`KnownValues`: the agent
reading a card number or a name back). The beeped copy beeps every finding on every channel
(`beep_ranges`): a stereo recording carries each voice faintly on the other side too.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.privacy import pii as shared_pii
from app.privacy.spoken import digit_runs, words_of
from app.speech.turns import TimedWord, separator

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


def find_pii(text: str, *, context: str = "", options: shared_pii.PiiOptions | None = None) -> list[Span]:
    """Personal data in `text`, as non-overlapping spans in text order (kinds in lower case).

    `context` is the line said just before (see `shared_pii.find_pii`). On top of the shared detector,
    transcripts redact every remaining long digit run: the speech model often garbles a digit of a card or
    phone number, and a garbled card number must not stay readable.
    """
    found = shared_pii.find_pii(text, context=context, options=options)
    spans = [Span(s.start, s.end, _kind(s.kind), text[s.start:s.end]) for s in found]
    phone_asked = shared_pii.PHONE in shared_pii.asked_for(context) if context.strip() else False
    for run in digit_runs(text):
        if len(run.digits) < 7 or any(s.start < run.end and run.start < s.end for s in spans):
            continue
        if any(c in text[run.start:run.end] for c in "/:"):  # dates and times are not account numbers
            continue
        cue = phone_asked or PHONE_CUE.search(text[max(0, run.start - 40):run.start]) is not None
        if cue and len(run.digits) <= 11:
            spans.append(Span(run.start, run.end, PHONE, text[run.start:run.end]))
        elif len(run.digits) >= 8:
            spans.append(Span(run.start, run.end, ACCOUNT, text[run.start:run.end]))
    return sorted(spans, key=lambda s: s.start)


DIGIT_KINDS = {CARD, PHONE, ACCOUNT, "national_id"}
MIN_ECHO_DIGITS = 6  # a read-back of fewer digits ("ending one one one one") is not the number
ECHO_SKIP_WORDS = shared_pii.NOT_NAME | {"street", "road", "lane", "avenue", "flat"}


@dataclass
class KnownValues:
    """Personal data already found in a call, so a repetition is redacted even where nothing cues it:
    the agent reading back "four one one one ..." or calling the customer by the surname given earlier."""
    digits: dict[str, str] = field(default_factory=dict)  # digit string -> kind
    phrases: dict[str, str] = field(default_factory=dict)  # lower-case words -> kind
    names: set[str] = field(default_factory=set)  # single capitalised name words ("Chan", "Priya")

    def remember(self, text: str, spans: Sequence[Span]) -> None:
        for span in spans:
            value = text[span.start:span.end]
            if span.kind in DIGIT_KINDS:
                for run in digit_runs(value):
                    if len(run.digits) >= MIN_ECHO_DIGITS:
                        self.digits[run.digits] = span.kind
                continue
            words = [w for w, _, _ in words_of(value)]
            if len(" ".join(words)) >= 4:
                self.phrases[" ".join(words)] = span.kind
            if span.kind == "person":  # a surname or a first name said alone later, capitalised
                for word in re.findall(r"[A-Z][a-z'-]{2,}", value):
                    if word.lower() not in ECHO_SKIP_WORDS:
                        self.names.add(word)

    def echoes(self, text: str, taken: Sequence[Span]) -> list[Span]:
        """Repetitions in `text` of known values that `taken` does not already cover."""
        found: list[Span] = []

        def free(start: int, end: int) -> bool:
            return not any(s.start < end and start < s.end for s in [*taken, *found])

        for run in digit_runs(text):
            if len(run.digits) < MIN_ECHO_DIGITS or not free(run.start, run.end):
                continue
            kind = next((k for value, k in self.digits.items() if run.digits in value or value in run.digits), None)
            if kind is not None:
                found.append(Span(run.start, run.end, kind, text[run.start:run.end]))
        for phrase, kind in sorted(self.phrases.items(), key=lambda item: -len(item[0])):
            pattern = r"(?<![A-Za-z0-9])" + r"[\s,.-]+".join(map(re.escape, phrase.split())) + r"(?![A-Za-z0-9])"
            for match in re.finditer(pattern, text, re.IGNORECASE):
                if free(match.start(), match.end()):
                    found.append(Span(match.start(), match.end(), kind, match.group(0)))
        for name in sorted(self.names):
            for match in re.finditer(rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])", text):
                sentence_start = re.search(r"(?:^|[.!?]\s+)$", text[:match.start()]) is not None
                if not sentence_start and free(match.start(), match.end()):
                    found.append(Span(match.start(), match.end(), "person", match.group(0)))
        return found


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


def redact_words(words: Sequence[TimedWord], *, context: str = "", known: KnownValues | None = None,
                 options: shared_pii.PiiOptions | None = None) -> WordRedaction:
    """Find personal data in a line of timed words: flag the words and give their audio time ranges.

    `context` is the text said just before (the previous line), so a cue in a question ("your date of
    birth?") counts for the answer; findings inside the context itself are ignored. `known`, shared by the
    lines of one call, adds repetitions of values found in earlier lines and remembers this line's.
    """
    offsets, text = [], ""
    for word in words:
        piece = word.text.strip()
        text += separator(text, piece)
        offsets.append((len(text), len(text) + len(piece)))
        text += piece
    spans = find_pii(text, context=context, options=options)
    if known is not None:
        spans = sorted([*spans, *known.echoes(text, spans)], key=lambda s: s.start)
        known.remember(text, spans)
    flags: list[str | None] = [None] * len(words)
    ranges: list[tuple[float, float, str]] = []
    for span in spans:
        hit = [i for i, (start, end) in enumerate(offsets) if start < span.end and end > span.start]
        for i in hit:
            flags[i] = span.kind
        if hit:
            ranges.append((words[hit[0]].start, max(words[i].end for i in hit), span.kind))
    return WordRedaction(text=text, redacted_text=redact_text(text, spans), flags=flags, ranges=ranges)


BEEP_MARGIN_SECONDS = 0.15  # word timings are approximate: a first or last digit must not slip out


def beep_ranges(redaction_ranges: Sequence[dict[str, object]]) -> list[tuple[float, float, int | None]]:
    """(start, end, channel) ranges for `audio.bleep`: every finding, on EVERY channel (None), widened by a
    small margin and merged. Whoever says it, a stereo recording carries each voice faintly on the other
    side (echo, sidetone, a speakerphone), so a card number read back by the agent is beeped on the
    customer's channel too, and the customer's on the agent's."""
    spans = sorted((max(0.0, float(str(r["start"])) - BEEP_MARGIN_SECONDS),
                    float(str(r["end"])) + BEEP_MARGIN_SECONDS) for r in redaction_ranges)
    merged: list[tuple[float, float]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return [(start, end, None) for start, end in merged]
