"""Character offsets in a transcript segment → times in the call, from word timings when they can be
aligned with the text, else interpolated over the segment."""

from typing import Any


def align_words(text: str, words: list[dict[str, Any]]) -> list[tuple[int, int, float, float]]:
    """(start_char, end_char, start_time, end_time) for each word found in order in `text`.

    Words are dicts with "word" (or "text"), "start" and "end" (faster-whisper's shape); words that
    cannot be found are skipped.
    """
    aligned, cursor, lowered = [], 0, text.lower()
    for word in words:
        token = str(word.get("word", word.get("text", ""))).strip().lower()
        if not token or "start" not in word or "end" not in word:
            continue
        found = lowered.find(token, cursor)
        if found < 0:
            continue
        aligned.append((found, found + len(token), float(word["start"]), float(word["end"])))
        cursor = found + len(token)
    return aligned


def char_span_times(*, text: str, words: list[dict[str, Any]], start: float, end: float, start_char: int,
                    end_char: int) -> tuple[float, float]:
    """The time range of text[start_char:end_char] in a segment spanning `start`..`end` seconds."""
    inside = [(s, e) for (c0, c1, s, e) in align_words(text, words) if c0 < end_char and start_char < c1]
    if inside:
        return round(min(s for s, _ in inside), 2), round(max(e for _, e in inside), 2)
    length = max(1, len(text))
    return round(start + (end - start) * start_char / length, 2), round(start + (end - start) * end_char / length, 2)
