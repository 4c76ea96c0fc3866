"""Timed words and speaker turns.

Each channel of a stereo call is transcribed on its own with word timestamps. The words of both channels
are then sorted by time and cut into turns wherever the speaker changes. Grouping whole faster-whisper
segments instead gets the order wrong: with VAD on, one segment can cover several turns of the same speaker
and its start/end stretch over the other party's turns (see shared notes, "Turn order").
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

UNKNOWN = "unknown"
LONG_PAUSE_SECONDS = 5.0  # a turn is also cut at a pause this long (a hold, a long lookup)


@dataclass(frozen=True)
class TimedWord:
    text: str  # as the recogniser wrote it, usually with a leading space
    start: float
    end: float
    probability: float = 1.0
    speaker: str = UNKNOWN
    channel: int | None = None
    segment: int = 0  # the recogniser's segment number within its channel

    def as_json(self) -> dict[str, Any]:
        return {"w": self.text.strip(), "s": round(self.start, 2), "e": round(self.end, 2),
                "p": round(self.probability, 3)}


@dataclass
class Turn:
    speaker: str
    channel: int | None
    words: list[TimedWord] = field(default_factory=list)

    @property
    def start(self) -> float:
        return self.words[0].start

    @property
    def end(self) -> float:
        return max(w.end for w in self.words)

    @property
    def text(self) -> str:
        return join_words(self.words)

    @property
    def confidence(self) -> float:
        return sum(w.probability for w in self.words) / len(self.words)


SENTENCE_END = (".", "?", "!")
STRAY_GAP_SECONDS = 1.0


STACK_WORDS = 3  # this many words or more ...
STACK_SECONDS = 0.1  # ... within this span cannot have been spoken
STACK_PROBABILITY = 0.5  # (kept when the recogniser is sure of them nevertheless: a timing glitch, not made up)


def drop_stacked_words(words: Sequence[TimedWord]) -> list[TimedWord]:
    """Drop runs of words no one could have said: `STACK_WORDS` or more words of one channel timed within
    `STACK_SECONDS` of each other, with a mean word probability under `STACK_PROBABILITY`. Whisper writes such runs when it keeps "reading" past the end of the speech
    (measured on real recordings: "Rear, Center. Rear, Left, Side, Right, Side, Left, Side." with the last five
    words all at the audio's final instant, word probabilities 0.0-0.4)."""
    kept: list[TimedWord] = []
    run: list[TimedWord] = []

    def flush() -> None:
        if len(run) < STACK_WORDS or sum(w.probability for w in run) / len(run) >= STACK_PROBABILITY:
            kept.extend(run)
        run.clear()

    for word in words:
        if run and (word.channel != run[0].channel or word.end - run[0].start > STACK_SECONDS):
            flush()
        run.append(word)
    flush()
    return kept


def repair_stray_words(words: Sequence[TimedWord], *, gap: float = STRAY_GAP_SECONDS) -> list[TimedWord]:
    """Put back a sentence's last word that the recogniser timed after a long silence.

    Whisper often times the final word of an utterance followed by silence at the start of the *next*
    stretch of speech ("won't@7.8 connect.@19.8 Thanks,@20.2"), which would move it into a later turn. A word
    that ends a sentence, following a word of the same channel that does not, after more than `gap`
    seconds, is moved back: the two share the previous word's time span. Runs of words stacked in an instant
    (`drop_stacked_words`) are dropped first.
    """
    repaired: list[TimedWord] = []
    for word in drop_stacked_words(words):
        previous = repaired[-1] if repaired else None
        if (previous is not None and word.channel == previous.channel and word.start - previous.end > gap
                and word.text.strip().endswith(SENTENCE_END) and not previous.text.strip().endswith(SENTENCE_END)
                and not previous.text.strip().endswith(",")):
            # the previous word's timing usually stretches over both words: share it between them
            middle = round((previous.start + previous.end) / 2, 3)
            repaired[-1] = replace(previous, end=middle)
            word = replace(word, start=middle, end=previous.end)
        repaired.append(word)
    return repaired


# Chinese characters and full-width punctuation: written without spaces between words
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def separator(previous: str, piece: str) -> str:
    """What goes between two words of a line: a space, or nothing next to a Chinese character."""
    if not previous or not piece or CJK.match(previous[-1]) or CJK.match(piece[0]):
        return ""
    return " "


def join_words(words: Iterable[TimedWord]) -> str:
    """The words as one line of text (each word carries its own punctuation): spaces between words, none
    next to a Chinese character ("我部router喺旺角", not "我 部 router 喺 旺 角")."""
    line = ""
    for piece in (w.text.strip() for w in words):
        line += separator(line, piece) + piece
    return line


def sort_words(words: Iterable[TimedWord]) -> list[TimedWord]:
    return sorted(words, key=lambda w: (w.start, w.end))


def group_turns(words: Iterable[TimedWord], *, long_pause: float = LONG_PAUSE_SECONDS) -> list[Turn]:
    """Words of all channels → turns in time order.

    A new turn starts when the speaker changes, after a pause of `long_pause` seconds, and — when the
    speaker is unknown (mono calls) — at each of the recogniser's segment boundaries.
    """
    turns: list[Turn] = []
    for word in sort_words(words):
        current = turns[-1] if turns else None
        if (current is None or word.speaker != current.speaker or word.start - current.end >= long_pause
                or (word.speaker == UNKNOWN and word.segment != current.words[-1].segment)):
            turns.append(Turn(speaker=word.speaker, channel=word.channel, words=[word]))
        else:
            current.words.append(word)
    return turns
