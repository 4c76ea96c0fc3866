"""A call's timeline for the player: who talks when, where both talk at once (overtalk) and where nobody talks
(silence), computed from the transcript's timed lines and drawn as an SVG the player can seek on."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from app.core.hooks import CALL_PLAYER, CallPlayerQuery

SPEAKERS = ("agent", "customer")
MIN_SILENCE_SECONDS = 2.0  # shorter gaps are ordinary pauses between turns, not silence worth showing


@dataclass(frozen=True)
class Span:
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass
class Timeline:
    duration: float
    talk: dict[str, list[Span]] = field(default_factory=dict)  # speaker → merged talk spans
    overtalk: list[Span] = field(default_factory=list)
    silence: list[Span] = field(default_factory=list)
    hold: list[Span] = field(default_factory=list)
    stored: bool = False  # drawn from the figures stored by the speech feature (else from transcript lines)

    def total(self, spans: Sequence[Span]) -> float:
        return round(sum(s.seconds for s in spans), 2)


def _merge(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: s.start):
        if merged and span.start <= merged[-1].end:
            merged[-1] = Span(merged[-1].start, max(merged[-1].end, span.end))
        else:
            merged.append(span)
    return merged


def _intersect(a: list[Span], b: list[Span]) -> list[Span]:
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        start, end = max(a[i].start, b[j].start), min(a[i].end, b[j].end)
        if end > start:
            out.append(Span(start, end))
        if a[i].end < b[j].end:
            i += 1
        else:
            j += 1
    return out


def build(lines: Sequence[tuple[str, float, float]], duration: float | None = None) -> Timeline:
    """The timeline of (speaker, start, end) lines; `duration` (the recording's) extends the trailing silence.
    Speakers other than agent/customer ("unknown" on a mono call) count as talk under their own name."""
    talk: dict[str, list[Span]] = {}
    for speaker, start, end in lines:
        if end > start:
            talk.setdefault(speaker, []).append(Span(float(start), float(end)))
    talk = {speaker: _merge(spans) for speaker, spans in talk.items()}
    end_of_talk = max((s.end for spans in talk.values() for s in spans), default=0.0)
    total = max(float(duration or 0.0), end_of_talk)
    overtalk = _intersect(talk.get("agent", []), talk.get("customer", []))
    anyone = _merge([s for spans in talk.values() for s in spans])
    silence, cursor = [], 0.0
    for span in [*anyone, Span(total, total)]:
        if span.start - cursor >= MIN_SILENCE_SECONDS:
            silence.append(Span(cursor, span.start))
        cursor = max(cursor, span.end)
    return Timeline(duration=total, talk=talk, overtalk=overtalk, silence=silence)


def from_intervals(intervals: dict[str, list[list[float]]], duration: float) -> Timeline:
    """The timeline exactly as the speech feature measured and stored it (CallMetrics.intervals), so the
    page's figures are the stored ones."""
    def spans(name: str) -> list[Span]:
        return [Span(float(start), float(end)) for start, end in intervals.get(name) or []]

    talk = {speaker: spans(speaker) for speaker in (*SPEAKERS, "unknown") if intervals.get(speaker)}
    return Timeline(duration=duration, talk=talk, overtalk=spans("overtalk"), silence=spans("silence"),
                    hold=spans("hold"), stored=True)


@dataclass(frozen=True)
class Bar:
    kind: str  # agent, customer, unknown, overtalk, silence
    x: float
    width: float
    y: float
    height: float
    start: float
    end: float


LANES = {"agent": 4.0, "customer": 22.0, "overtalk": 40.0}
LANE_HEIGHT = 14.0
WIDTH = 1000.0
HEIGHT = 58.0


def bars(timeline: Timeline) -> list[Bar]:
    """Rectangles in a WIDTH × HEIGHT viewBox: agent on the top lane, customer below (other speakers share the
    customer lane), overtalk on the bottom lane, silence shaded across all lanes."""
    if timeline.duration <= 0:
        return []
    scale = WIDTH / timeline.duration

    def bar(kind: str, span: Span, y: float, height: float) -> Bar:
        return Bar(kind, round(span.start * scale, 2), round(max(span.seconds * scale, 0.8), 2), y, height,
                   round(span.start, 2), round(span.end, 2))

    out = [bar("silence", s, 0.0, HEIGHT) for s in timeline.silence]
    out.extend(bar("hold", s, 0.0, HEIGHT) for s in timeline.hold)
    for speaker, spans in timeline.talk.items():
        lane = LANES.get(speaker, LANES["customer"])
        kind = speaker if speaker in SPEAKERS else "unknown"
        out.extend(bar(kind, s, lane, LANE_HEIGHT) for s in spans)
    out.extend(bar("overtalk", s, LANES["overtalk"], LANE_HEIGHT) for s in timeline.overtalk)
    return out


def player_context(*, session: Any, principal: Any, settings: Any, interaction: Any, segments: Sequence[Any],
                   original: bool = False) -> dict[str, Any]:
    """What `interactions/_player.html` needs for a call (nothing for other channels): speech owns the
    recording's player and answers through the core hook CALL_PLAYER (app/speech/hooks.py)."""
    if interaction.channel != "call":
        return {}
    return CALL_PLAYER.ask(CallPlayerQuery(session=session, principal=principal, settings=settings,
                                           interaction_id=interaction.id, original=original,
                                           lines=[(s.speaker, s.start, s.end) for s in segments]))
