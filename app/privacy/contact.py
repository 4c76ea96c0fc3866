"""Where a person can be reached: e-mail addresses (written and spoken), UK postcodes (written and read out
letter by letter) and street addresses."""

import re

from spacy.lang.en.stop_words import STOP_WORDS

from app.privacy.dates import NUMBER_VALUES, NUMBER_WORD
from app.privacy.spans import ADDRESS, POSTCODE, PiiSpan
from app.privacy.spoken import DIGIT_WORDS, REPEATERS, adjacent, is_spelled_letter

TLD = r"(?:com|net|org|co|uk|io|ie|edu|gov|info|biz|me|us|de|fr|es|au|ca)"
EMAIL_WRITTEN = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_LOCAL_JOIN = r"(?:\s+(?:dot|underscore|dash|hyphen)\s+|[._-])"
_DOMAIN_JOIN = r"(?:\s+dot\s+|\.)"
# spoken: "maria dot lopez at example dot com"; also an initial before the name ("j smith at ...") and a
# domain the recogniser split in two ("kestrel mail dot co dot uk")
EMAIL_SPOKEN = re.compile(
    rf"\b(?:[a-z]\s+)?[a-z0-9]+(?:{_LOCAL_JOIN}[a-z0-9]+)*\s+(?:at|@)\s+[a-z0-9-]+(?:\s+[a-z0-9-]+)?"
    rf"(?:{_DOMAIN_JOIN}[a-z0-9-]+)*?"
    rf"{_DOMAIN_JOIN}{TLD}(?:{_DOMAIN_JOIN}(?:uk|au|nz|za|in))?\b",
    re.IGNORECASE,
)
# "M1 1AE", "m11ae", and read out with a pause: "M1, 1AE", "G12, 8QQ"
POSTCODE_RE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?(?:\s*,\s*|\s+)?\d[A-Z]{2}\b", re.IGNORECASE)
POSTCODE_SHAPE = re.compile(r"[A-Z]{1,2}\d[A-Z\d]?\d[A-Z]{2}")
POSTCODE_CUE = re.compile(r"\b(?:post\s*code|postal\s+code|zip\s*code)\b", re.IGNORECASE)

STREET_RE = re.compile(
    rf"\b(?:flat\s+\d+[a-z]?,?\s+)?(?:\d{{1,4}}[a-z]?|{NUMBER_WORD})\s+((?:[a-z'-]+\s+){{1,3}})"
    r"(?:street|st|road|rd|avenue|ave|lane|ln|drive|close|way|court|crescent|grove|terrace|gardens|"
    r"boulevard|blvd|square|mews|place|row|parade|walk)\b\.?",
    re.IGNORECASE,
)


def street_spans(text: str) -> list[PiiSpan]:
    spans = []
    for match in STREET_RE.finditer(text):
        middle = match.group(1).split()
        if any(word.lower() in STOP_WORDS for word in middle):
            continue
        spans.append(PiiSpan(match.start(), match.end(), ADDRESS, match.group(0), 0.8, "regex"))
    return spans


def spoken_postcode_spans(text: str, words: list[tuple[str, int, int]], cued: bool) -> list[PiiSpan]:
    """ "S W one A, one A A" / "B nine, four double S" after a postcode cue (here or in the question)."""
    if not cued:
        return []
    pieces: list[tuple[str, int, int]] = []  # (characters, start, end) per word
    for index, (word, start, end) in enumerate(words):
        if word in NUMBER_VALUES and NUMBER_VALUES[word] >= 10:  # districts: "E fourteen", "C F ten"
            value = NUMBER_VALUES[word]
            following = words[index + 1][0] if index + 1 < len(words) else ""
            if value >= 20 and following in DIGIT_WORDS and following not in ("to", "too", "for", "won", "ate"):
                pieces.append((str(value)[0], start, end))  # "twenty two": "2" here, "2" from the next word
            else:
                pieces.append((str(value), start, end))
        elif word != "o" and is_spelled_letter(text, words, index):
            pieces.append((word.upper(), start, end))
        elif word in DIGIT_WORDS and word not in ("to", "too", "for", "won", "ate"):
            pieces.append((DIGIT_WORDS[word], start, end))
        elif word.isdigit() and len(word) <= 2:
            pieces.append((word, start, end))
        elif word in REPEATERS:
            pieces.append(("*" + str(REPEATERS[word]), start, end))
        else:
            pieces.append(("", start, end))
    spans: list[PiiSpan] = []
    i = 0
    while i < len(pieces):
        chars, best = "", None
        j = i
        while j < len(pieces) and pieces[j][0] and len(chars) <= 7:
            if j > i and not adjacent(text, pieces[j - 1][2], pieces[j][1]):
                break
            piece = pieces[j][0]
            if piece.startswith("*"):
                if j + 1 >= len(pieces) or not pieces[j + 1][0] or pieces[j + 1][0].startswith("*"):
                    break
                j += 1
                piece = pieces[j][0] * int(pieces[j - 1][0][1:])
            chars += piece
            if POSTCODE_SHAPE.fullmatch(chars):
                best = j
            j += 1
        if best is not None and chars[:1].isalpha():
            start, end = pieces[i][1], pieces[best][2]
            spans.append(PiiSpan(start, end, POSTCODE, text[start:end], 0.75, "spoken"))
            i = best + 1
        else:
            i += 1
    return spans
