"""Talk metrics of one call, computed from word timings (pure functions, no database).

Talk time is the union of each side's word intervals, with gaps shorter than `bridge` seconds (the
breath between words) counted as talking. Silence is every stretch of at least SILENCE_MIN_SECONDS where
neither side says a word (shorter gaps are ordinary pauses between turns). A hold is a silence between words of at least
`hold_seconds` (EARSHOT_SPEECH_HOLD_SECONDS, 5 s) during which the agent's channel is quiet too (muted, or
music/silence on the customer side); where the agent's channel carries sound but no words were heard, it is
not a hold. Overtalk is where both sides' words overlap, from the word timings themselves (no bridging). An
interruption is a side starting to talk while the other is talking and goes on for at least `min_interrupt`
more seconds.

The intervals behind every figure are kept (`TalkMetrics.intervals`), so the call page draws and totals
exactly what is stored.
"""

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from app.speech.turns import TimedWord, sort_words

Interval = tuple[float, float]

BRIDGE_SECONDS = 0.5
HOLD_SECONDS = 5.0
SILENCE_MIN_SECONDS = 2.0
AGENT_ACTIVE_SHARE = 0.5  # a silence whose agent channel carries sound this much of the time is no hold
MIN_INTERRUPT_SECONDS = 0.5
MIN_OVERTALK_SECONDS = 0.1
AGENT, CUSTOMER = "agent", "customer"


@dataclass(frozen=True)
class TalkMetrics:
    duration_seconds: float
    agent_talk_seconds: float
    customer_talk_seconds: float
    unknown_talk_seconds: float
    agent_talk_ratio: float | None  # agent talk / (agent + customer talk); None when sides are unknown
    silence_total_seconds: float
    silence_longest_seconds: float
    overtalk_total_seconds: float
    overtalk_count: int
    hold_count: int
    hold_total_seconds: float
    interruptions_by_agent: int
    interruptions_by_customer: int
    turn_count: int
    longest_monologue_seconds: float
    longest_monologue_speaker: str | None
    agent_words_per_minute: float | None
    customer_words_per_minute: float | None
    hold_min_seconds: float = HOLD_SECONDS
    # {"agent": [[start, end], ...], "customer", "unknown", "silence", "hold", "overtalk"}
    intervals: dict[str, list[list[float]]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def merge_intervals(intervals: Iterable[Interval], *, bridge: float = 0.0) -> list[Interval]:
    """Sorted, non-overlapping intervals; neighbours closer than `bridge` are joined."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start - merged[-1][1] <= bridge:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def total(intervals: Iterable[Interval]) -> float:
    return sum(end - start for start, end in intervals)


def intersect(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """Where two sorted, non-overlapping interval lists overlap."""
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if end > start:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def gaps(intervals: Sequence[Interval], *, duration: float) -> list[Interval]:
    """The parts of [0, duration] not covered by the sorted, merged `intervals`."""
    out: list[Interval] = []
    cursor = 0.0
    for start, end in intervals:
        if start > cursor:
            out.append((cursor, min(start, duration)))
        cursor = max(cursor, end)
    if duration > cursor:
        out.append((cursor, duration))
    return [(s, e) for s, e in out if e > s]


def talk_intervals(words: Iterable[TimedWord], speaker: str, *, bridge: float = BRIDGE_SECONDS) -> list[Interval]:
    return merge_intervals(((w.start, w.end) for w in words if w.speaker == speaker), bridge=bridge)


def count_interruptions(by: Sequence[Interval], other: Sequence[Interval], *,
                        min_interrupt: float = MIN_INTERRUPT_SECONDS) -> int:
    """Stretches of `by` that start while `other` talks and `other` goes on for `min_interrupt` more."""
    return sum(1 for start, _ in by
               if any(o_start < start and o_end - start >= min_interrupt for o_start, o_end in other))


def monologues(words: Sequence[TimedWord]) -> list[tuple[str, float]]:
    """(speaker, seconds) of each run of one speaker's words in time order."""
    runs: list[tuple[str, float]] = []
    run_start = run_end = 0.0
    speaker: str | None = None
    for word in sort_words(words):
        if word.speaker != speaker:
            if speaker is not None:
                runs.append((speaker, run_end - run_start))
            speaker, run_start, run_end = word.speaker, word.start, word.end
        else:
            run_end = max(run_end, word.end)
    if speaker is not None:
        runs.append((speaker, run_end - run_start))
    return runs


def compute_metrics(words: Sequence[TimedWord], *, duration: float, turn_count: int | None = None,
                    hold_seconds: float = HOLD_SECONDS, bridge: float = BRIDGE_SECONDS,
                    agent_active: Sequence[Interval] | None = None) -> TalkMetrics:
    """All talk metrics of a call from its timed words (`speaker` agent/customer/unknown).

    `duration` is the recording's length; `turn_count` overrides the count of speaker changes (mono calls,
    whose turns come from the recogniser's segments); `agent_active` is where the agent's own channel carries
    sound (stereo calls), which keeps untranscribed agent talk from counting as a hold.
    """
    duration = max(duration, max((w.end for w in words), default=0.0))
    agent = talk_intervals(words, AGENT, bridge=bridge)
    customer = talk_intervals(words, CUSTOMER, bridge=bridge)
    unknown = merge_intervals(((w.start, w.end) for w in words if w.speaker not in (AGENT, CUSTOMER)),
                              bridge=bridge)
    anyone = merge_intervals([*agent, *customer, *unknown])
    silences = [(s, e) for s, e in gaps(anyone, duration=duration) if e - s >= SILENCE_MIN_SECONDS]
    # a hold lies between words (not the ringing before the first nor the wrap-up after the last)
    first, last = (anyone[0][0], anyone[-1][1]) if anyone else (0.0, 0.0)
    holds = [(s, e) for s, e in silences if e - s >= hold_seconds and s >= first and e <= last
             and total(intersect([(s, e)], merge_intervals(agent_active or []))) < AGENT_ACTIVE_SHARE * (e - s)]
    # where words overlap (not the breaths between them), overlaps closer than `bridge` being one episode
    overlaps = intersect(talk_intervals(words, AGENT, bridge=0.0), talk_intervals(words, CUSTOMER, bridge=0.0))
    overtalk = [(s, e) for s, e in merge_intervals(overlaps, bridge=bridge) if e - s >= MIN_OVERTALK_SECONDS]
    agent_time, customer_time = total(agent), total(customer)
    runs = monologues(words)
    longest = max(runs, key=lambda run: run[1], default=None)
    return TalkMetrics(
        duration_seconds=_r(duration),
        agent_talk_seconds=_r(agent_time),
        customer_talk_seconds=_r(customer_time),
        unknown_talk_seconds=_r(total(unknown)),
        agent_talk_ratio=_r(agent_time / (agent_time + customer_time)) if agent_time + customer_time else None,
        silence_total_seconds=_r(total(silences)),
        silence_longest_seconds=_r(max((e - s for s, e in silences), default=0.0)),
        overtalk_total_seconds=_r(total(overtalk)),
        overtalk_count=len(overtalk),
        hold_count=len(holds),
        hold_total_seconds=_r(total(holds)),
        interruptions_by_agent=count_interruptions(agent, customer),
        interruptions_by_customer=count_interruptions(customer, agent),
        turn_count=turn_count if turn_count is not None else len(runs),
        longest_monologue_seconds=_r(longest[1]) if longest else 0.0,
        longest_monologue_speaker=longest[0] if longest else None,
        agent_words_per_minute=_rate(words, AGENT, agent_time),
        customer_words_per_minute=_rate(words, CUSTOMER, customer_time),
        hold_min_seconds=hold_seconds,
        intervals={name: [[_r(s), _r(e)] for s, e in spans] for name, spans in (
            ("agent", agent), ("customer", customer), ("unknown", unknown), ("silence", silences),
            ("hold", holds), ("overtalk", overtalk))},
    )


def _rate(words: Sequence[TimedWord], speaker: str, talk_seconds: float) -> float | None:
    if talk_seconds <= 0:
        return None
    count = sum(1 for w in words if w.speaker == speaker)
    return _r(count * 60.0 / talk_seconds)


def _r(value: float) -> float:
    return round(value, 3)
