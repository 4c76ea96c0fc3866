"""What the detector finds: a `PiiSpan` of a kind, and the two span operations every path shares — resolving
overlaps and replacing the spans by their kind ("[CARD]")."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

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
